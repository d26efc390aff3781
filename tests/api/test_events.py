"""The outbox and the event feed: every change of API.md's event types writes its event in the
change's transaction; the feed gives each reader what they may read, in order, under the seals;
long polling and server-sent events resume with nothing missed and nothing repeated."""

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from infra.db import open_session, session_scope
from infra.events import EventSignal
from models.documents import DocumentStatus
from models.events import Event, EventAudience, EventType
from submissions import outbox
from submissions.documents import record_scan
from submissions.scanning import ScanResult, ScanVerdict
from tests.api.intake import assert_problem, build_world, headers_for
from tests.api.test_review_flow import T0, Round, submit_review
from tests.factories import make_document, ok

FEED = "/api/v1/events"


def feed(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """The whole feed a caller reads, page by page."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        query = {"limit": 7, **params, **({"after": after} if after else {})}
        page = ok(client.get(FEED, params=query, headers=headers))
        items += page["items"]
        if not page["items"]:
            return items
        after = page["next_cursor"]
        assert after == page["items"][-1]["id"]


def types_of(items: list[dict[str, Any]]) -> list[str]:
    return [item["type"] for item in items]


@pytest.fixture
def competition(app: FastAPI, client: TestClient) -> Round:
    return Round(app, client)


def run_round(c: Round, client: TestClient) -> None:
    """Review, one recusal, every review submitted, close and publish."""
    c.start_review()
    c.panel()
    ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": False}, headers=c.admin
        )
    )
    for _user_id, headers in c.reviewers:
        for assignment in ok(client.get("/api/v1/me/assignments", headers=headers))["items"]:
            i = c.apps.index(assignment["application_id"])
            submit_review(
                client,
                assignment,
                headers,
                {
                    "scores": {"tech": 9 - i, "team": 5},
                    "gates": {"independent": "pass"},
                    "comment_to_applicant": f"feedback {i}",
                    "confidential_comment": "secret note",
                },
            )
    ok(client.post(f"/api/v1/rounds/{c.rid}/close", headers=c.admin))


def test_every_change_writes_its_event_in_order(competition: Round, client: TestClient) -> None:
    c = competition
    run_round(c, client)
    ok(client.post(f"/api/v1/rounds/{c.rid}/publish", headers=c.admin))
    items = feed(client, c.admin)
    kinds = types_of(items)
    assert kinds[0] == "round.opened"
    assert kinds[1:6] == ["application.submitted"] * 5
    assert kinds[6] == "round.review_started"
    assert kinds.count("assignment.created") == 10
    assert kinds.count("review.submitted") == 10
    assert kinds[-2:] == ["round.closed", "round.published"]
    assert all(item["round_id"] == c.rid for item in items)
    assert len({item["id"] for item in items}) == len(items)
    created = [i for i in items if i["type"] == "assignment.created"]
    assert {i["data"]["reviewer_id"] for i in created} <= {uid for uid, _ in c.reviewers}
    # Each event is in the transaction of its change: as many as the audit log's changes.
    with open_session(c.app.state.engine) as session:
        seqs = list(session.exec(select(Event.seq).order_by(col(Event.seq))).all())
    assert seqs == list(range(1, len(items) + 1))


def test_reopen_withdraw_and_scans_write_events(app: FastAPI, client: TestClient) -> None:
    world = build_world(app, required_documents=[])
    headers = world.applicant.headers
    aid = str(world.application.id)
    for org in (world.partner_org,):
        ok(
            client.post(
                f"/api/v1/applications/{aid}/members/{org.id}/confirm",
                headers=world.partner.headers,
            )
        )
    ok(client.post(f"/api/v1/applications/{aid}/submit", headers=headers))
    ok(client.post(f"/api/v1/applications/{aid}/reopen", headers=headers))
    with session_scope(app.state.engine) as session:
        document = make_document(session, world.application, status=DocumentStatus.pending_scan)
        record_scan(
            session=session,
            document_id=document.id,
            result=ScanResult(verdict=ScanVerdict.CLEAN, signature=None),
            now=world.clock.now,
        )
    ok(client.post(f"/api/v1/applications/{aid}/withdraw", headers=headers))
    mine = feed(client, headers)
    assert types_of(mine) == [
        "round.opened",
        "application.submitted",
        "application.reopened",
        "document.scanned",
        "application.withdrawn",
    ]
    assert all(item["application_id"] == aid for item in mine[1:])
    # The partner's members read their application's events too; a stranger nothing.
    assert types_of(feed(client, world.partner_member.headers)) == types_of(mine)
    assert feed(client, world.stranger.headers) == []
    assert feed(client, world.reviewer.headers) == []


def test_feed_guards(app: FastAPI, client: TestClient) -> None:
    world = build_world(app)
    response = client.get(FEED)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="shortlist"'
    narrowed = headers_for(app, world.admin.user, ["audit:read"])
    response = client.get(FEED, headers=narrowed)
    assert_problem(response, 403, "insufficient-scope")
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    # An admin whose token lacks rounds:admin reads no more than any other person.
    as_applicant = headers_for(app, world.admin.user, ["applications:read"])
    assert feed(client, as_applicant) == []
    assert_problem(
        client.get(FEED, params={"types": "round.opened,nope"}, headers=world.admin.headers), 422
    )
    assert_problem(
        client.get(FEED, params={"after": str(uuid.uuid4())}, headers=world.admin.headers),
        422,
        "unknown-event",
    )
    assert_problem(client.get(FEED, params={"after": "1 OR 1=1"}, headers=world.admin.headers), 422)
    assert_problem(client.get(FEED, params={"wait": 31}, headers=world.admin.headers), 422)
    assert_problem(client.get(FEED, params={"limit": 0}, headers=world.admin.headers), 422)


class ParkedReaders:
    """The app's event signal as the feed's route sees it (``app.state.event_signal``, read per
    request; the background work keeps its own reference), telling when a reader has read,
    found nothing and is about to wait."""

    def __init__(self, signal: EventSignal) -> None:
        self.signal = signal
        self.parked = threading.Event()

    @property
    def version(self) -> int:
        return self.signal.version

    async def wait(self, *, since: int, timeout: float) -> bool:
        self.parked.set()
        return await self.signal.wait(since=since, timeout=timeout)


def test_long_poll_wakes_on_a_commit(competition: Round, client: TestClient) -> None:
    c = competition
    head = feed(client, c.admin)[-1]["id"]
    c.clock.now = T0 + timedelta(hours=2)
    headers = c.admin
    readers = ParkedReaders(c.app.state.event_signal)
    c.app.state.event_signal = readers
    parked: list[bool] = []

    def later() -> None:
        # Commit once the poll waits (a commit between its read and its wait wakes it too:
        # it passes the version it read with).
        parked.append(readers.parked.wait(timeout=20))
        ok(client.post(f"/api/v1/rounds/{c.rid}/start-review", headers=headers))

    thread = threading.Thread(target=later)
    thread.start()
    page = ok(client.get(FEED, params={"after": head, "wait": 20}, headers=headers))
    thread.join()
    c.app.state.event_signal = readers.signal
    assert parked == [True]
    assert types_of(page["items"]) == ["round.review_started"]
    # Nothing new: the call comes back empty at its time, keeping the position.
    empty = ok(client.get(FEED, params={"after": page["next_cursor"], "wait": 1}, headers=headers))
    assert empty == {"items": [], "next_cursor": page["next_cursor"]}


def _sse_events(lines: Iterator[str], stop_after: int | None) -> list[tuple[str, str]]:
    """(id, type) of each event read from a stream, stopping after ``stop_after`` events."""
    seen: list[tuple[str, str]] = []
    current: dict[str, str] = {}
    for line in lines:
        if not line:
            if "id" in current:
                data = json.loads(current["data"])
                assert (data["id"], data["type"]) == (current["id"], current["event"])
                seen.append((current["id"], current["event"]))
                if stop_after is not None and len(seen) >= stop_after:
                    return seen
            current = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(": ")
        current[name] = value
    return seen


def test_reconnecting_during_a_burst_sees_each_event_once(
    competition: Round, client: TestClient
) -> None:
    c = competition
    engine = c.app.state.engine
    rid = uuid.UUID(c.rid)
    writers, per_writer = 4, 40

    def write(n: int) -> None:
        for k in range(per_writer):
            with session_scope(engine) as session:
                outbox.record(
                    session=session,
                    type=EventType.round_opened,
                    round_id=rid,
                    audience=EventAudience.round,
                    now=c.clock.now,
                    data={"writer": n, "k": k},
                )
                # Hold the transaction open a moment after taking a seq.
                time.sleep(0.001 * (k % 3))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    seen: list[tuple[str, str]] = []
    last: str | None = None
    rounds = 0
    while True:
        done = not any(t.is_alive() for t in threads)
        headers = {**c.admin, "Accept": "text/event-stream"}
        if last:
            headers["Last-Event-ID"] = last
        rounds += 1
        with client.stream("GET", FEED, params={"limit": 5}, headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            # Drop the connection after a few events, as a flaky network would.
            got = _sse_events(response.iter_lines(), stop_after=None if done else 3)
        seen += got
        if got:
            last = got[-1][0]
        if done and not got:
            break
    for thread in threads:
        thread.join()
    ids = [i for i, _ in seen]
    assert len(ids) == len(set(ids)), "an event was repeated"
    with open_session(engine) as session:
        stored = [str(e) for e in session.exec(select(Event.id).order_by(col(Event.seq))).all()]
    assert ids == stored, "an event was missed or out of order"
    assert len(stored) == 6 + writers * per_writer
    assert rounds > 3
