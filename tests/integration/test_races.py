"""Races on PostgreSQL, with real parallel requests (a live uvicorn, a connection per request),
each repeated for several fresh rounds, and every invariant of ``tests.integration.invariants``
checked after each:

- submits racing the submission deadline and ``start-review`` (``DEADLINE_RACES`` rounds of
  ``BIDS`` submits and ``STARTS`` start-review attempts): every submit is either whole with
  ``received_at`` within the deadline plus grace and before the review started, or refused with
  nothing written; exactly one start-review succeeds, after the deadline plus grace;
- closes racing closes and late reviews (``CLOSE_RACES`` rounds of ``CLOSES`` closes and a late
  submit of every draft review): one close succeeds, the others are 409, and a review submitted
  while closing is either in the stored result or refused;
- a spent refresh token replayed while its successor is being rotated (``REFRESH_RACES``
  families): the family ends revoked whoever wins, including any token the rotation issued.
  (``tests/api/test_oauth.py`` covers the same token refreshed in parallel.)
"""

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, col, select

from identity.oauth import store
from infra.db import open_session
from infra.settings import Settings
from models.applications import Application, ApplicationStatus, Receipt
from models.identity import Organization, RefreshToken, Role, User
from models.reviewers import Review, ReviewStatus, RoundResult
from models.rounds import Round, RoundStatus
from tests.factories import (
    Clock,
    bearer,
    make_application,
    make_oauth_client,
    make_organization,
    make_round,
    make_token,
    make_user,
)
from tests.integration.invariants import all_violations
from tests.integration.live import Call, race, served
from tests.integration.review_rounds import round_in_review

pytestmark = pytest.mark.postgres

DEADLINE_RACES, BIDS, STARTS = 3, 10, 12
CLOSE_RACES, CLOSES = 5, 4
REFRESH_RACES = 10
LEAD = 2.0  # seconds from the start of a deadline race to the deadline plus grace
STEP = 0.35  # seconds between its submits


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # OAuth answers only on https or a loopback public URL; the rate limits are not under test.
    return settings.model_copy(
        update={
            "public_url": "http://127.0.0.1",
            "rate_limit_writes_per_minute": 0,
            "rate_limit_token_per_minute": 0,
        }
    )


@pytest.fixture
def live(app: FastAPI) -> Iterator[str]:
    with served(app) as url:
        yield url


def session_of(app: FastAPI, write: bool = False) -> Session:
    return open_session(app.state.engine, write=write)


def assert_invariants(app: FastAPI) -> None:
    session = session_of(app)
    try:
        wrong = all_violations(session)
    finally:
        session.close()
    assert not wrong, wrong


# --- submits racing the deadline and start-review ------------------------------------------------


def post(path: str, headers: dict[str, str]) -> Call:
    return lambda client: client.post(path, headers=headers)


def deadline_race(app: FastAPI, live: str, admin: User) -> Counter[str]:
    """``BIDS`` drafts submitted ``STEP`` apart across the deadline plus grace, which the server
    clock reaches ``LEAD`` seconds into the race, while ``STARTS`` start-review attempts come
    from just before it on."""
    clock = app.state.clock = Clock(app.state.clock())
    now = clock.now
    session = session_of(app, write=True)
    try:
        round = make_round(session, admin=admin, now=now, grace_seconds=1)
        applicants = [make_user(session) for _ in range(BIDS)]
        bids = [make_application(session, round, a, now=now) for a in applicants]
    finally:
        session.close()
    close_at = round.submissions_close_at

    def flow() -> None:
        """The server clock runs from now on, reaching close_at LEAD seconds later."""
        clock.run_from(close_at - timedelta(seconds=LEAD))

    flow()  # roughly (tokens are valid by that clock); exactly when the race starts
    admin_headers = bearer(make_token(app, admin))
    calls = [
        post(f"/api/v1/applications/{bid.id}/submit", bearer(make_token(app, applicant)))
        for bid, applicant in zip(bids, applicants, strict=True)
    ]
    calls += [post(f"/api/v1/rounds/{round.id}/start-review", admin_headers)] * STARTS
    delays = [i * STEP for i in range(BIDS)]
    delays += [LEAD - 0.45 + i * 0.15 for i in range(STARTS)]
    responses = race(live, calls, delays=delays, on_release=flow)
    submitted, started = responses[:BIDS], responses[BIDS:]

    assert [r.status_code for r in started].count(200) == 1, [r.text for r in started]
    for refused in (r for r in started if r.status_code != 200):
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"] in {"deadline-not-passed", "invalid-transition"}
    session = session_of(app)
    try:
        stored = session.get(Round, round.id)
        receipts = {
            r.application_id: r
            for r in session.exec(
                select(Receipt).where(col(Receipt.application_id).in_([b.id for b in bids]))
            )
        }
        rows = {
            a.id: a
            for a in session.exec(select(Application).where(Application.round_id == round.id))
        }
    finally:
        session.close()
    assert stored is not None
    assert stored.status == RoundStatus.review
    assert stored.review_started_at is not None
    assert stored.review_started_at > close_at
    outcomes: Counter[str] = Counter()
    for bid, response in zip(bids, submitted, strict=True):
        if response.status_code == 200:
            received = datetime.fromisoformat(response.json()["receipt"]["received_at"])
            assert received <= close_at
            assert received < stored.review_started_at
            assert receipts[bid.id].received_at == received
            assert rows[bid.id].status == ApplicationStatus.submitted
            outcomes["submitted"] += 1
        else:
            assert response.status_code == 409, response.text
            assert response.json()["type"] in {"deadline-passed", "round-not-open"}
            assert rows[bid.id].status == ApplicationStatus.draft
            assert bid.id not in receipts
            outcomes[response.json()["type"]] += 1
    assert_invariants(app)
    return outcomes


def test_submits_race_the_deadline_and_start_review(app: FastAPI, live: str) -> None:
    session = session_of(app, write=True)
    try:
        admin = make_user(session, roles=[Role.admin])
    finally:
        session.close()
    outcomes: Counter[str] = Counter()
    for _ in range(DEADLINE_RACES):
        outcomes += deadline_race(app, live, admin)
    print(f"\nsubmits racing the deadline and start-review: {dict(outcomes)}")
    # The races did straddle the deadline.
    assert outcomes["submitted"], outcomes
    assert outcomes["deadline-passed"] + outcomes["round-not-open"], outcomes


# --- closes racing closes and late reviews -------------------------------------------------------


def close_race(
    app: FastAPI,
    live: str,
    admin: User,
    reviewers: tuple[User, User],
    bidders: list[tuple[User, Organization]],
) -> Counter[str]:
    """``CLOSES`` closes of a round in review at once with the late submit of every draft
    review (the early reviewer's are all submitted, the late one's all drafts)."""
    early, late = reviewers
    session = session_of(app, write=True)
    try:
        made = round_in_review(
            session,
            admin=admin,
            bidders=bidders,
            reviewers=[(early, True), (late, False)],
            reviewed=len(bidders),
            now=app.state.clock(),
        )
    finally:
        session.close()
    close = lambda client: client.post(  # noqa: E731
        f"/api/v1/rounds/{made.round_id}/close",
        json={"allow_missing_reviews": True},
        headers=bearer(make_token(app, admin)),
    )
    late_headers = bearer(make_token(app, late))
    late_assignments = [made.assignments[late.id, bid] for bid in made.bids]
    submits = [
        post(f"/api/v1/assignments/{a}/review/submit", late_headers) for a in late_assignments
    ]
    responses = race(live, [close] * CLOSES + submits)
    closes, reviews = responses[:CLOSES], responses[CLOSES:]

    assert sorted(r.status_code for r in closes) == [200] + [409] * (CLOSES - 1), [
        r.text for r in closes
    ]
    assert all(r.json()["type"] == "invalid-transition" for r in closes if r.status_code == 409)
    session = session_of(app)
    try:
        result = session.get(RoundResult, made.round_id)
        drafts = {
            r.assignment_id: r
            for r in session.exec(
                select(Review).where(col(Review.assignment_id).in_(late_assignments))
            )
        }
    finally:
        session.close()
    assert result is not None
    counted = {
        (uuid.UUID(r["reviewer_id"]), uuid.UUID(r["application_id"]))
        for r in result.inputs["reviews"]
    }
    assert {(early.id, bid) for bid in made.bids} <= counted
    outcomes: Counter[str] = Counter()
    for bid, assignment_id, response in zip(made.bids, late_assignments, reviews, strict=True):
        review = drafts[assignment_id]
        if response.status_code == 200:
            # Accepted while the round was closing: then the result counts it.
            assert review.status == ReviewStatus.submitted
            assert (late.id, bid) in counted, "a review accepted during the close is missing"
            outcomes["counted"] += 1
        else:
            assert response.status_code == 409, response.text
            assert response.json()["type"] == "round-not-in-review"
            assert review.status == ReviewStatus.draft
            assert (late.id, bid) not in counted
            outcomes["refused"] += 1
    assert_invariants(app)
    return outcomes


def test_closes_race_closes_and_late_reviews(app: FastAPI, live: str) -> None:
    session = session_of(app, write=True)
    try:
        admin = make_user(session, roles=[Role.admin])
        reviewers = (
            make_user(session, roles=[Role.reviewer]),
            make_user(session, roles=[Role.reviewer]),
        )
        bidders = []
        for _ in range(4):
            user = make_user(session)
            bidders.append((user, make_organization(session, user)))
    finally:
        session.close()
    outcomes: Counter[str] = Counter()
    for _ in range(CLOSE_RACES):
        outcomes += close_race(app, live, admin, reviewers, bidders)
    print(f"\nlate reviews racing the close: {dict(outcomes)}")


# --- refresh-token reuse racing rotation ---------------------------------------------------------


def refresh(client: httpx.Client, client_id: str, token: str) -> httpx.Response:
    return client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id},
    )


def refresh_race(app: FastAPI, live: str, user: User, client_id: str) -> str:
    """A family whose first token was rotated once; then the spent first token is replayed
    while the second is rotated. Returns how the rotation ended."""
    first = store.new_secret()
    family = uuid.uuid4()
    session = session_of(app, write=True)
    try:
        now = app.state.clock()
        store.save_refresh_token(
            session=session,
            value=first,
            family_id=family,
            client_id=client_id,
            user_id=user.id,
            scope="reviews:read",
            access_jti=None,
            now=now,
            expires_at=now + timedelta(days=1),
        )
        session.commit()
    finally:
        session.close()
    with httpx.Client(base_url=live, timeout=30) as client:
        rotated = refresh(client, client_id, first)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["refresh_token"]

    replay, rotation = race(
        live,
        [lambda c: refresh(c, client_id, first), lambda c: refresh(c, client_id, second)],
    )
    assert replay.status_code == 400, replay.text
    assert replay.json()["error"] == "invalid_grant"
    assert rotation.status_code in (200, 400), rotation.text

    session = session_of(app)
    try:
        tokens = session.exec(select(RefreshToken).where(RefreshToken.family_id == family)).all()
    finally:
        session.close()
    alive = [t.id for t in tokens if t.revoked_at is None]
    assert not alive, f"refresh tokens of a replayed family still valid: {alive}"
    with httpx.Client(base_url=live, timeout=30) as client:
        for issued in (rotated, rotation):
            if issued.status_code == 200:
                me = client.get("/api/v1/me", headers=bearer(issued.json()["access_token"]))
                assert me.status_code == 401, me.text
                again = refresh(client, client_id, issued.json()["refresh_token"])
                assert again.status_code == 400, again.text
    return f"rotation {rotation.status_code}"


def test_refresh_token_reuse_racing_rotation_revokes_the_whole_family(
    app: FastAPI, live: str
) -> None:
    """The legitimate client rotates its refresh token while a thief replays the spent one:
    whichever request the server takes first, the family ends revoked - every refresh token,
    the one this rotation issued included, and every access token issued with them."""
    session = session_of(app, write=True)
    try:
        user = make_user(session, roles=[Role.reviewer])
        client_id, _ = make_oauth_client(
            session, user, public=True, redirect_uris=["http://127.0.0.1:1/cb"]
        )
    finally:
        session.close()
    outcomes = Counter(refresh_race(app, live, user, client_id) for _ in range(REFRESH_RACES))
    assert_invariants(app)
    print(f"\nrotation racing the replay: {dict(outcomes)}")
