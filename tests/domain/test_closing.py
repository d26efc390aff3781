"""Closing a round in the domain layer, with an injected clock: the shortlist and its count,
ties settled by the published chain, gates failed by a majority, reviews of conflicted
assignments left out, missing reviews, the preview, the stored hashes and their verification,
and publication."""

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from models.applications import Application, ApplicationStatus
from models.audit import AuditEvent
from models.errors import DomainError
from models.identity import User
from models.reviewers import Assignment, AssignmentStatus, DeclaredConflictRow, RoundResult
from models.rounds import Round, RoundStatus
from reviewers.closing import (
    close_round,
    compute_from_inputs,
    preview,
    publish_round,
    results,
    results_csv,
    sha256_of,
    verify_result,
)
from reviewers.decision import ScoringInputError
from submissions.audit import verify
from submissions.canonical import canonical_json
from tests.domain.evaluation import (
    REVIEWING,
    assign,
    panel_of,
    refusal,
    submitted_bids,
    to_review,
    write_review,
)
from tests.factories import NOW, actor_of, make_admin, make_round, make_user

CLOSING = NOW + timedelta(days=15)
Score = tuple[float, float, str]
"""One review: impact, team and the ``legal`` gate's verdict."""


def reviewed_round(
    session: Session,
    reviews: list[list[Score]],
    *,
    minutes_apart: int = 0,
    **overrides: Any,
) -> tuple[Round, User, list[Application], list[User]]:
    """A round in review with one bid per entry of ``reviews``, the k-th review of each bid
    written and submitted by the k-th reviewer (the default round: impact weight 2, team weight 1
    with threshold 3, one gate, shortlist size 2, ties by impact, then submission time, then id)."""
    admin = make_admin(session)
    round_ = make_round(session, admin=admin, **overrides)
    bids = submitted_bids(session, round_, len(reviews), minutes_apart=minutes_apart)
    round_ = to_review(session, round_, admin)
    reviewers = panel_of(session, round_, admin, max(map(len, reviews)))
    for bid, scores in zip(bids, reviews, strict=True):
        for reviewer, (impact, team, gate) in zip(reviewers, scores, strict=False):
            assignment = assign(session, round_, admin, bid, reviewer)
            write_review(
                session,
                assignment,
                reviewer,
                scores={"impact": impact, "team": team},
                gates={"legal": gate},
                comment=f"to {bid.title}",
            )
    return round_, admin, bids, reviewers


def close(session: Session, round_: Round, admin: User, *, allow_missing: bool = False) -> Round:
    closed = close_round(
        session=session,
        actor=actor_of(admin),
        round_id=round_.id,
        allow_missing_reviews=allow_missing,
        now=CLOSING,
    )
    session.commit()
    return closed


def stored_rows(session: Session, round_: Round) -> list[dict[str, Any]]:
    stored = session.get(RoundResult, round_.id)
    assert stored is not None
    rows: list[dict[str, Any]] = stored.result["rows"]
    return rows


def outcome(
    rows: list[dict[str, Any]], bids: list[Application]
) -> list[tuple[int, int | None, str, str | None, str | None]]:
    """Each row as (bid index, rank, reason, total, margin), in result order."""
    index = {str(b.id): i for i, b in enumerate(bids)}
    return [
        (index[r["application_id"]], r["rank"], r["reason"], r["total"], r["margin"]) for r in rows
    ]


def statuses(session: Session, bids: list[Application]) -> list[ApplicationStatus]:
    for bid in bids:
        session.refresh(bid)
    return [bid.status for bid in bids]


# --- the shortlist ----------------------------------------------------------------------------


def test_closing_ranks_shortlists_and_sets_every_outcome(session: Session) -> None:
    round_, admin, bids, _ = reviewed_round(
        session,
        [
            [(4, 4, "pass"), (2, 4, "pass")],  # impact 3, team 4: (2*3 + 4) / 3
            [(8, 8, "pass"), (8, 6, "pass")],  # impact 8, team 7: 23 / 3
            [(6, 6, "pass"), (6, 6, "pass")],  # 6
        ],
    )
    closed = close(session, round_, admin)
    assert closed.status == RoundStatus.closed
    assert closed.closed_at == CLOSING
    assert outcome(stored_rows(session, round_), bids) == [
        (1, 1, "shortlisted", "7.666666666667", "4.333333333334"),
        (2, 2, "shortlisted", "6.000000000000", "2.666666666667"),
        (0, 3, "below_cutoff", "3.333333333333", "2.666666666667"),
    ]
    assert statuses(session, bids) == [
        ApplicationStatus.not_selected,
        ApplicationStatus.shortlisted,
        ApplicationStatus.shortlisted,
    ]
    event = session.exec(
        select(AuditEvent)
        .where(AuditEvent.object_id == str(round_.id))
        .order_by(col(AuditEvent.seq).desc())
    ).first()
    assert event is not None
    assert event.action == "round.closed"
    assert event.data["shortlisted"] == [str(bids[1].id), str(bids[2].id)]
    assert event.data["missing_reviews"] == 0
    assert event.data["conflicted_assignments"] == 0
    assert verify(session=session).ok


def test_the_stored_hashes_are_those_of_the_stored_canonical_forms(session: Session) -> None:
    round_, admin, _, _ = reviewed_round(
        session, [[(7, 5, "pass"), (6, 5, "pass")], [(3, 9, "pass"), (5, 5, "pass")]]
    )
    close(session, round_, admin)
    stored = session.get(RoundResult, round_.id)
    assert stored is not None
    assert stored.inputs_sha256 == hashlib.sha256(canonical_json(stored.inputs)).hexdigest()
    assert stored.result_sha256 == hashlib.sha256(canonical_json(stored.result)).hexdigest()
    assert stored.closed_by == admin.id
    assert verify_result(session=session, round_id=round_.id)["ok"] is True


def test_verification_finds_tampered_inputs(session: Session) -> None:
    round_, admin, _, _ = reviewed_round(
        session, [[(7, 5, "pass"), (6, 5, "pass")], [(3, 9, "pass"), (5, 5, "pass")]]
    )
    close(session, round_, admin)
    stored = session.get(RoundResult, round_.id)
    assert stored is not None
    reviews = [dict(r) for r in stored.inputs["reviews"]]
    reviews[0]["scores"] = {**reviews[0]["scores"], "impact": "10"}
    stored.inputs = {**stored.inputs, "reviews": reviews}
    session.add(stored)
    session.commit()
    report = verify_result(session=session, round_id=round_.id)
    assert report["inputs_intact"] is False
    assert report["ok"] is False
    assert report["recomputed_result_sha256"] != report["stored_result_sha256"]


@pytest.mark.parametrize(
    ("size", "shortlisted"),
    [(None, [True, True, True]), (0, [False, False, False]), (1, [True, False, False])],
)
def test_the_shortlist_size_decides_how_many_ranked_rows_are_in(
    session: Session, size: int | None, shortlisted: list[bool]
) -> None:
    round_, admin, bids, _ = reviewed_round(
        session,
        [[(9, 9, "pass")], [(7, 7, "pass")], [(5, 5, "pass")]],
        shortlist={"size": size, "tie_break": ["id"]},
    )
    close(session, round_, admin)
    rows = stored_rows(session, round_)
    assert [r["application_id"] for r in rows] == [str(b.id) for b in bids]
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert [r["shortlisted"] for r in rows] == shortlisted
    assert statuses(session, bids) == [
        ApplicationStatus.shortlisted if s else ApplicationStatus.not_selected for s in shortlisted
    ]
    cutoff = session.get(RoundResult, round_.id)
    assert cutoff is not None
    assert cutoff.result["n_shortlisted"] == sum(shortlisted)
    assert cutoff.result["cutoff_total"] == (
        None if not any(shortlisted) else rows[sum(shortlisted) - 1]["total"]
    )


def test_a_size_beyond_the_ranked_rows_shortlists_every_ranked_row(session: Session) -> None:
    round_, admin, bids, _ = reviewed_round(
        session,
        [[(9, 9, "pass")], [(7, 1, "pass")], [(5, 5, "pass")]],  # the second is below team's 3
        shortlist={"size": 5, "tie_break": ["id"]},
    )
    close(session, round_, admin)
    assert [
        (i, rank, reason) for i, rank, reason, *_ in outcome(stored_rows(session, round_), bids)
    ] == [
        (0, 1, "shortlisted"),
        (2, 2, "shortlisted"),
        (1, None, "below_threshold"),
    ]


# --- ties ---------------------------------------------------------------------------------------


def test_equal_totals_tie_and_the_chain_decides_by_impact_first(session: Session) -> None:
    # (2 * 6 + 6) / 3 == (2 * 5 + 8) / 3 == 6: exactly equal, whatever the rounding.
    round_, admin, bids, _ = reviewed_round(
        session,
        [[(5, 8, "pass")], [(6, 6, "pass")]],
        shortlist={"size": 1, "tie_break": ["criterion:impact", "submitted_at", "id"]},
    )
    close(session, round_, admin)
    assert outcome(stored_rows(session, round_), bids) == [
        (1, 1, "shortlisted", "6.000000000000", "0.000000000000"),
        (0, 2, "below_cutoff", "6.000000000000", "0.000000000000"),
    ]


def test_identical_scores_are_settled_by_the_earlier_submission(session: Session) -> None:
    round_, admin, bids, _ = reviewed_round(
        session,
        [[(6, 6, "pass")], [(6, 6, "pass")], [(6, 6, "pass")]],
        minutes_apart=-10,  # each bid submitted ten minutes before the one before it
        shortlist={"size": 1, "tie_break": ["submitted_at", "id"]},
    )
    close(session, round_, admin)
    rows = outcome(stored_rows(session, round_), bids)
    assert [(i, rank, reason) for i, rank, reason, *_ in rows] == [
        (2, 1, "shortlisted"),
        (1, 2, "below_cutoff"),
        (0, 3, "below_cutoff"),
    ]


def test_identical_bids_without_a_chain_are_ordered_by_id(session: Session) -> None:
    round_, admin, bids, _ = reviewed_round(
        session,
        [[(6, 6, "pass")], [(6, 6, "pass")], [(6, 6, "pass")]],
        shortlist={"size": 2, "tie_break": []},
    )
    close(session, round_, admin)
    by_id = sorted(range(3), key=lambda i: bids[i].id.int)
    rows = outcome(stored_rows(session, round_), bids)
    assert [i for i, *_ in rows] == by_id
    assert [rank for _, rank, *_ in rows] == [1, 2, 3]


# --- gates, thresholds, minimum total ---------------------------------------------------------


def test_a_gate_failed_by_a_majority_fails_the_row_and_half_does_not(session: Session) -> None:
    round_, admin, bids, _ = reviewed_round(
        session,
        [
            [(9, 9, "fail"), (9, 9, "fail"), (9, 9, "pass")],  # 2 of 3 fail
            [(8, 8, "fail"), (8, 8, "pass")],  # 1 of 2: not a majority
            [(5, 5, "pass"), (5, 5, "pass")],
        ],
        shortlist={"size": 1, "tie_break": ["id"]},
    )
    close(session, round_, admin)
    rows = stored_rows(session, round_)
    by_bid = {r["application_id"]: r for r in rows}
    failed = by_bid[str(bids[0].id)]
    assert (failed["reason"], failed["rank"], failed["gates_passed"]) == (
        "gate_failed",
        None,
        False,
    )
    assert failed["failed_gates"] == ["legal"]
    assert failed["total"] == "9.000000000000"  # shown, though not ranked
    half = by_bid[str(bids[1].id)]
    assert (half["reason"], half["rank"], half["gates_passed"]) == ("shortlisted", 1, True)
    assert statuses(session, bids) == [
        ApplicationStatus.not_selected,
        ApplicationStatus.shortlisted,
        ApplicationStatus.not_selected,
    ]


def test_a_minimum_total_leaves_rows_below_it_unranked(session: Session) -> None:
    round_, admin, bids, _ = reviewed_round(
        session,
        [[(9, 9, "pass")], [(4, 4, "pass")]],
        shortlist={"size": 2, "min_total": 5, "tie_break": ["id"]},
    )
    close(session, round_, admin)
    assert [
        (i, rank, reason) for i, rank, reason, *_ in outcome(stored_rows(session, round_), bids)
    ] == [
        (0, 1, "shortlisted"),
        (1, None, "below_min_total"),
    ]


# --- conflicts and missing reviews ------------------------------------------------------------


def test_a_review_whose_assignment_is_conflicted_at_close_is_left_out(session: Session) -> None:
    round_, admin, bids, reviewers = reviewed_round(
        session,
        [[(9, 9, "pass"), (1, 5, "pass")], [(6, 6, "pass"), (6, 6, "pass")]],
        shortlist={"size": 1, "tie_break": ["id"]},
    )
    # A conflict that came about without ending the assignment (written by other means): the
    # low review of bid 0 by reviewer 1 must not count, so bid 0 (9, 9) beats bid 1 (6, 6).
    session.add(
        DeclaredConflictRow(
            round_id=round_.id,
            reviewer_id=reviewers[1].id,
            application_id=bids[0].id,
            reason="a late declaration",
            declared_by=admin.id,
            created_at=REVIEWING,
        )
    )
    session.commit()
    # Without that review bid 0 ranks first; with it, (2*5 + 7) / 3 = 5.67 < 6.
    previewed = preview(session=session, actor=actor_of(admin), round_id=round_.id).model_dump(
        mode="json"
    )
    assert [r["application_id"] for r in previewed["ranking"]] == [str(bids[0].id), str(bids[1].id)]
    assert [r["n_reviews"] for r in previewed["ranking"]] == [1, 2]
    close(session, round_, admin)
    rows = stored_rows(session, round_)
    assert [(r["application_id"], r["n_reviews"], r["shortlisted"]) for r in rows] == [
        (str(bids[0].id), 1, True),
        (str(bids[1].id), 2, False),
    ]
    stored = session.get(RoundResult, round_.id)
    assert stored is not None
    assert [
        r["reviewer_id"] for r in stored.inputs["reviews"] if r["application_id"] == str(bids[0].id)
    ] == [str(reviewers[0].id)]
    ended = session.exec(
        select(Assignment).where(
            Assignment.application_id == bids[0].id, Assignment.reviewer_id == reviewers[1].id
        )
    ).one()
    assert (ended.status, ended.ended_at) == (AssignmentStatus.conflicted, CLOSING)
    closed_event = session.exec(
        select(AuditEvent).where(
            AuditEvent.object_id == str(round_.id), AuditEvent.action == "round.closed"
        )
    ).one()
    assert closed_event.data["conflicted_assignments"] == 1
    assert previewed["inputs_sha256"] == stored.inputs_sha256
    assert previewed["result_sha256"] == stored.result_sha256


def test_missing_reviews_refuse_the_close_and_change_nothing(session: Session) -> None:
    round_, admin, bids, _ = reviewed_round(session, [[(7, 7, "pass")], [(6, 6, "pass")]])
    (late,) = panel_of(session, round_, admin, 1)
    pending = assign(session, round_, admin, bids[1], late)
    write_review(session, pending, late, scores={"impact": 1}, submit=False)  # a draft only
    with pytest.raises(DomainError) as refused:
        close(session, round_, admin)
    session.rollback()
    assert refusal(refused.value) == (409, "reviews-missing")
    assert refused.value.errors == [
        {"loc": ["assignments", str(pending.id)], "msg": "review not submitted"}
    ]
    session.refresh(round_)
    assert round_.status == RoundStatus.review
    assert session.get(RoundResult, round_.id) is None
    assert statuses(session, bids) == [ApplicationStatus.submitted] * 2


def test_allowing_missing_reviews_leaves_an_unreviewed_bid_unranked(session: Session) -> None:
    admin = make_admin(session)
    round_ = make_round(session, admin=admin)
    bids = submitted_bids(session, round_, 2)
    round_ = to_review(session, round_, admin)
    (reviewer,) = panel_of(session, round_, admin, 1)
    write_review(
        session,
        assign(session, round_, admin, bids[0], reviewer),
        reviewer,
        scores={"impact": 5, "team": 5},
    )
    assign(session, round_, admin, bids[1], reviewer)
    close(session, round_, admin, allow_missing=True)
    rows = {r["application_id"]: r for r in stored_rows(session, round_)}
    unreviewed = rows[str(bids[1].id)]
    assert (unreviewed["n_reviews"], unreviewed["total"], unreviewed["criteria"]) == (0, None, {})
    assert (unreviewed["rank"], unreviewed["reason"]) == (None, "below_threshold")
    assert rows[str(bids[0].id)]["shortlisted"] is True
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.object_id == str(round_.id), AuditEvent.action == "round.closed"
        )
    ).one()
    assert event.data["missing_reviews"] == 1


# --- who closes, and when ---------------------------------------------------------------------


def test_only_an_admin_closes_and_only_a_round_in_review(session: Session) -> None:
    admin = make_admin(session)
    round_ = make_round(session, admin=admin)
    applicant = make_user(session)
    with pytest.raises(DomainError) as refused:
        close(session, round_, applicant)
    assert refusal(refused.value)[0] == 403
    with pytest.raises(DomainError) as refused:
        close(session, round_, admin)  # still open
    assert refusal(refused.value) == (409, "invalid-transition")
    session.rollback()
    with pytest.raises(DomainError) as refused:
        close_round(
            session=session,
            actor=actor_of(admin),
            round_id=uuid.uuid4(),
            allow_missing_reviews=True,
            now=CLOSING,
        )
    assert refusal(refused.value)[0] == 404


def test_a_second_close_is_refused(session: Session) -> None:
    round_, admin, _, _ = reviewed_round(session, [[(7, 7, "pass")]])
    close(session, round_, admin)
    with pytest.raises(DomainError) as refused:
        close(session, round_, admin)
    assert refusal(refused.value) == (409, "invalid-transition")


# --- the preview ------------------------------------------------------------------------------


def test_the_preview_is_what_closing_decides_and_stores_nothing(session: Session) -> None:
    round_, admin, bids, _ = reviewed_round(
        session, [[(4, 4, "pass")], [(8, 8, "pass")], [(6, 6, "pass")]]
    )
    previewed = preview(session=session, actor=actor_of(admin), round_id=round_.id).model_dump(
        mode="json"
    )
    assert previewed["closed_at"] is None
    assert previewed["missing_reviews"] == 0
    assert session.get(RoundResult, round_.id) is None
    assert statuses(session, bids) == [ApplicationStatus.submitted] * 3
    close(session, round_, admin)
    stored = session.get(RoundResult, round_.id)
    assert stored is not None
    assert (previewed["inputs_sha256"], previewed["result_sha256"]) == (
        stored.inputs_sha256,
        stored.result_sha256,
    )
    assert [r["application_id"] for r in previewed["ranking"]] == [
        r["application_id"] for r in stored.result["rows"]
    ]


def test_the_preview_counts_missing_reviews_and_is_for_admins_in_review(session: Session) -> None:
    round_, admin, bids, reviewers = reviewed_round(session, [[(7, 7, "pass")], [(6, 6, "pass")]])
    assign(session, round_, admin, bids[1], panel_of(session, round_, admin, 1)[0])
    previewed = preview(session=session, actor=actor_of(admin), round_id=round_.id).model_dump(
        mode="json"
    )
    assert previewed["missing_reviews"] == 1
    with pytest.raises(DomainError) as refused:
        preview(session=session, actor=actor_of(reviewers[0]), round_id=round_.id)
    assert refusal(refused.value)[0] == 403
    close(session, round_, admin, allow_missing=True)
    with pytest.raises(DomainError) as refused:
        preview(session=session, actor=actor_of(admin), round_id=round_.id)
    assert refusal(refused.value) == (409, "round-not-in-review")


# --- results and publication ------------------------------------------------------------------


def test_applicants_see_their_own_rows_only_once_published(session: Session) -> None:
    round_, admin, bids, _ = reviewed_round(session, [[(8, 8, "pass")], [(6, 6, "pass")]])
    close(session, round_, admin)
    owner = session.get(User, bids[1].created_by)
    assert owner is not None
    with pytest.raises(DomainError) as refused:
        results(session=session, actor=actor_of(owner), round_id=round_.id)
    assert refusal(refused.value) == (403, "not-published")
    published = publish_round(
        session=session, actor=actor_of(admin), round_id=round_.id, now=CLOSING
    )
    session.commit()
    assert published.status == RoundStatus.published
    own = results(session=session, actor=actor_of(owner), round_id=round_.id).model_dump(
        mode="json"
    )
    assert [r["application_id"] for r in own["ranking"]] == [str(bids[1].id)]
    (row,) = own["ranking"]
    assert "stable" not in row
    assert "margin" not in row
    assert row["comments_to_applicant"] == ["to Bid 1"]
    assert row["shortlisted"] is True  # size 2: both are in
    whole = results(session=session, actor=actor_of(admin), round_id=round_.id).model_dump(
        mode="json"
    )
    assert [r["application_id"] for r in whole["ranking"]] == [str(bids[0].id), str(bids[1].id)]
    assert whole["result_sha256"] == sha256_of(
        session.get(RoundResult, round_.id).result  # type: ignore[union-attr]
    )


def test_the_results_csv_spells_exact_decimals(session: Session) -> None:
    round_, admin, bids, _ = reviewed_round(session, [[(8, 7, "pass")], [(6, 6, "pass")]])
    close(session, round_, admin)
    lines = results_csv(session=session, actor=actor_of(admin), round_id=round_.id).splitlines()
    assert lines[0].split(",")[-2:] == ["criterion:impact", "criterion:team"]
    first = lines[1].split(",")
    assert first[:4] == ["1", str(bids[0].id), "Bid 0", "7.666666666667"]
    assert first[-2:] == ["8.000000000000", "7.000000000000"]
    with pytest.raises(DomainError) as refused:
        results_csv(session=session, actor=actor_of(make_user(session)), round_id=round_.id)
    assert refusal(refused.value)[0] == 403


def test_a_closed_round_has_a_result_and_an_open_one_has_none(session: Session) -> None:
    admin = make_admin(session)
    round_ = make_round(session, admin=admin)
    with pytest.raises(DomainError) as refused:
        results(session=session, actor=actor_of(admin), round_id=round_.id)
    assert refusal(refused.value) == (409, "round-not-closed")
    with pytest.raises(DomainError) as refused:
        verify_result(session=session, round_id=round_.id)
    assert refusal(refused.value)[0] == 404


def test_only_submitted_assignments_count_in_the_inputs(session: Session) -> None:
    """A reviewer's draft never reaches the inputs: only submitted reviews are read."""
    round_, admin, bids, reviewers = reviewed_round(session, [[(7, 7, "pass")]])
    draft_of = assign(session, round_, admin, bids[0], panel_of(session, round_, admin, 1)[0])
    assert draft_of.status == AssignmentStatus.active
    close(session, round_, admin, allow_missing=True)
    stored = session.get(RoundResult, round_.id)
    assert stored is not None
    assert [r["reviewer_id"] for r in stored.inputs["reviews"]] == [str(reviewers[0].id)]


def test_inputs_the_core_refuses_are_a_422_problem_of_the_domain(session: Session) -> None:
    """The decision core is pure and raises its own error; closing gives it as the domain's
    422 problem with the same type and locations."""
    round_, admin, _, _ = reviewed_round(session, [[(7, 7, "pass")]])
    close(session, round_, admin)
    stored = session.get(RoundResult, round_.id)
    assert stored is not None
    with pytest.raises(DomainError) as refused:
        compute_from_inputs({**stored.inputs, "scoring": "shortlist-scoring/0"})
    assert refusal(refused.value) == (422, "invalid-scoring-input")
    assert isinstance(refused.value.__cause__, ScoringInputError)
    broken = {**stored.inputs, "rules": {**stored.inputs["rules"], "size": -1}}
    with pytest.raises(DomainError) as refused:
        compute_from_inputs(broken)
    assert refusal(refused.value) == (422, "invalid-scoring-input")
    assert refused.value.errors == [
        {"loc": ["shortlist", "size"], "msg": "size is null or an integer >= 0"}
    ]
