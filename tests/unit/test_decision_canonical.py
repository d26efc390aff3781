"""The canonical form of a decision (``reviewers.decision.canonical``): one order and spelling
whatever the inputs' order and spelling, the submission times spelled as the audit log spells
every time, and the hashes of a fixed round pinned: the audit chain and every stored result
depend on these bytes, so a change to them must be deliberate (a new ``SCORING_VERSION``)."""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewers.decision import (
    SCORING_VERSION,
    Aggregate,
    Calibration,
    Candidate,
    Criterion,
    ReviewInput,
    ScoringInputError,
    ShortlistRules,
    canonical_inputs,
    compute_shortlist,
    inputs_from_canonical,
    result_to_dict,
)
from reviewers.decision.canonical import _rfc3339
from submissions.canonical import canonical_json, rfc3339

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal


def fixed_round(
    aggregate: Aggregate = "mean", calibration: Calibration = "none"
) -> tuple[ShortlistRules, list[Candidate], list[ReviewInput]]:
    """Eight bids, five reviewers (each reviewing at least three bids), two criteria with a
    threshold, a gate; scores with up to two decimal places."""
    rules = ShortlistRules(
        criteria=(
            Criterion(key="team", weight=D("1"), min=D("0"), max=D("10"), threshold=D("3")),
            Criterion(key="impact", weight=D("2.5"), min=D("0"), max=D("10")),
        ),
        gates=("legal",),
        size=3,
        min_total=D("2"),
        aggregate=aggregate,
        calibration=calibration,
        tie_break=("criterion:impact", "submitted_at", "id"),
    )
    candidates = [
        Candidate(
            application_id=uuid.UUID(int=0xA000 + n), submitted_at=T0 + timedelta(minutes=7 * n)
        )
        for n in range(8)
    ]
    reviews = []
    for app in range(8):
        for k in range(3):
            reviewer = (app + 2 * k) % 5
            reviews.append(
                ReviewInput(
                    application_id=uuid.UUID(int=0xA000 + app),
                    reviewer_id=uuid.UUID(int=0xB000 + reviewer),
                    scores={
                        "impact": D((app * 7 + reviewer * 3) % 21) / 2,
                        "team": D((app * 5 + reviewer * 11) % 41) / 4,
                    },
                    gates={"legal": "fail" if (app + reviewer) % 7 == 0 else "pass"},
                )
            )
    return rules, candidates, reviews


def sha256(value: object) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


# Computed with reviewers/scoring.py before it was split into reviewers/decision/ (commit
# 29c2693): the split changed no byte.
PINNED = {
    ("mean", "none"): (
        "423c348fe60c45950291f89b06b956f3ef5eb6058df4821769d1cf7f00d79a3a",
        "e540cbac72a5ccff83e1ed546a405601fe3ee33f59b2891dd4be4a350925b86b",
    ),
    ("median", "none"): (
        "10fc572a51bd465b265a7171ced2ecb74850f9624541feb5a9ae4e62dd05c879",
        "a67070193c765884c93dd3265a252146a8cff4fca35b846d116d441788ddb1da",
    ),
    ("mean", "zscore"): (
        "2cab9ac4574c5aea4ac1cb4ce054228b5eae3c6ab85f5884e88011ddbd8fa06c",
        "e7c147e5500b93da4711eb4e2aadaca719aeef238b182de5380c2fcecb8e87d9",
    ),
    ("median", "zscore"): (
        "e4c4ad1e6256fb8f192b097393e5bfae928e3a3d549fe94cef51c5a4fcd3e7f2",
        "4b09cb0b35b94898464c9cb3e65a63b77b19cae01eae4868461b3e42f57d62dd",
    ),
}


@pytest.mark.parametrize(("aggregate", "calibration"), list(PINNED))
def test_the_canonical_inputs_and_result_of_a_fixed_round_are_pinned(
    aggregate: Aggregate, calibration: Calibration
) -> None:
    rules, candidates, reviews = fixed_round(aggregate, calibration)
    inputs = canonical_inputs(rules=rules, candidates=candidates, reviews=reviews)
    result = result_to_dict(
        result=compute_shortlist(rules=rules, candidates=candidates, reviews=reviews)
    )
    assert (sha256(inputs), sha256(result)) == PINNED[(aggregate, calibration)]


def test_order_and_spelling_of_the_inputs_do_not_change_the_canonical_form() -> None:
    rules, candidates, reviews = fixed_round()
    inputs = canonical_inputs(rules=rules, candidates=candidates, reviews=reviews)
    shuffled = canonical_inputs(
        rules=ShortlistRules(
            criteria=tuple(reversed(rules.criteria)),
            gates=rules.gates,
            size=rules.size,
            min_total=D("2.000"),
            tie_break=rules.tie_break,
        ),
        candidates=list(reversed(candidates)),
        reviews=[
            ReviewInput(
                application_id=r.application_id,
                reviewer_id=r.reviewer_id,
                scores={k: v.quantize(D("0.0001")) for k, v in reversed(list(r.scores.items()))},
                gates=r.gates,
            )
            for r in reversed(reviews)
        ],
    )
    assert canonical_json(shuffled) == canonical_json(inputs)
    assert [c["key"] for c in inputs["rules"]["criteria"]] == ["impact", "team"]
    assert inputs["rules"]["criteria"][0]["weight"] == "2.5"
    assert inputs["rules"]["min_total"] == "2"
    assert inputs["rules"]["tie_break"] == ["criterion:impact", "submitted_at", "id"]
    assert inputs["scoring"] == SCORING_VERSION
    ids = [uuid.UUID(a["application_id"]).int for a in inputs["applications"]]
    assert ids == sorted(ids)
    keys = [
        (uuid.UUID(r["application_id"]).int, uuid.UUID(r["reviewer_id"]).int)
        for r in inputs["reviews"]
    ]
    assert keys == sorted(keys)


def test_the_tie_break_chain_keeps_its_order() -> None:
    rules, candidates, reviews = fixed_round()
    inputs = canonical_inputs(rules=rules, candidates=candidates, reviews=reviews)
    reordered = ShortlistRules(
        criteria=rules.criteria,
        gates=rules.gates,
        size=rules.size,
        min_total=rules.min_total,
        tie_break=("id", "submitted_at", "criterion:impact"),
    )
    other = canonical_inputs(rules=reordered, candidates=candidates, reviews=reviews)
    assert other["rules"]["tie_break"] == ["id", "submitted_at", "criterion:impact"]
    assert sha256(other) != sha256(inputs)


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 2),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-3, minutes=-30))]
        ),
    )
)
def test_submission_times_are_spelled_as_the_audit_log_spells_them(moment: datetime) -> None:
    """The core spells times itself (it imports nothing of the house); it must be the very
    spelling of ``submissions.canonical.rfc3339``."""
    assert _rfc3339(moment) == rfc3339(moment)
    (spelled,) = canonical_inputs(
        rules=fixed_round()[0],
        candidates=[Candidate(application_id=uuid.UUID(int=1), submitted_at=moment)],
        reviews=[],
    )["applications"]
    assert spelled["submitted_at"] == rfc3339(moment)
    assert datetime.fromisoformat(spelled["submitted_at"]) == moment


def test_reading_back_gives_equal_values_and_refuses_another_version() -> None:
    rules, candidates, reviews = fixed_round("median", "zscore")
    inputs = canonical_inputs(rules=rules, candidates=candidates, reviews=reviews)
    parsed = inputs_from_canonical(data=inputs)
    assert parsed.rules == ShortlistRules(
        criteria=tuple(sorted(rules.criteria, key=lambda c: c.key)),
        gates=rules.gates,
        size=rules.size,
        min_total=rules.min_total,
        aggregate=rules.aggregate,
        calibration=rules.calibration,
        tie_break=rules.tie_break,
    )
    assert sorted(parsed.candidates, key=lambda c: c.application_id.int) == candidates
    assert {(r.application_id, r.reviewer_id): r.scores for r in parsed.reviews} == {
        (r.application_id, r.reviewer_id): r.scores for r in reviews
    }
    with pytest.raises(ScoringInputError) as refused:
        inputs_from_canonical(data={**inputs, "scoring": "shortlist-scoring/2"})
    assert (refused.value.status, refused.value.type) == (422, "invalid-scoring-input")


def test_the_result_spells_every_published_value_with_twelve_places() -> None:
    rules, candidates, reviews = fixed_round()
    result = result_to_dict(
        result=compute_shortlist(rules=rules, candidates=candidates, reviews=reviews)
    )
    assert result["scoring"] == SCORING_VERSION
    assert result["n_rows"] == len(result["rows"]) == 8
    for row in result["rows"]:
        for text in (row["total"], row["margin"], *row["criteria"].values()):
            if text is not None:
                assert len(text.split(".")[1]) == 12, text
        assert list(row["criteria"]) == sorted(row["criteria"])
    assert len(result["cutoff_total"].split(".")[1]) == 12
