"""Hostile review of the remembered answers of ``GET /api/v1/applications/{id}``
(``api.application_answers``): every attempt compares the answer a remembering app gives with
the answer of the read without the cache (``SHORTLIST_APPLICATION_CACHE_SIZE=0``); any
difference is a hole. What ``tests/api/test_application_answers.py`` covers (each kind of write
through the API and by SQL, another process's write, another caller, the bound) is not repeated.

- a whole table emptied at once (PostgreSQL ``TRUNCATE`` fires no row trigger);
- the caller's token revoked, or the caller deactivated, after the answer was remembered;
- the clock moving backwards across the closing time (a server's clock set back);
- a cache of one entry shared by callers who alternate;
- the request served by FastAPI's own path (the lean path standing aside);
- an If-Match carrying the tag of a remembered answer after another process's write."""

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from api.app import create_app
from infra.settings import Settings
from models.identity import Role
from tests.api.intake import Person, World, build_world, person
from tests.security.conftest import BASE_URL

US = timedelta(microseconds=1)


def _answer(response: Response) -> tuple[int, bytes, str | None, str | None]:
    return (
        response.status_code,
        response.content,
        response.headers.get("etag"),
        response.headers.get("content-type"),
    )


def _uncached(app: FastAPI, read: Callable[[], Response]) -> Response:
    answers = app.state.application_answers
    app.state.application_answers = None
    try:
        return read()
    finally:
        app.state.application_answers = answers


def _sqlite(app: FastAPI) -> bool:
    return bool(app.state.engine.dialect.name == "sqlite")


def _sql(app: FastAPI, statement: str, **params: Any) -> None:
    if _sqlite(app):
        params = {k: v.hex if isinstance(v, uuid.UUID) else v for k, v in params.items()}
    with app.state.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


class Reads:
    """Reads of one path by one app, each compared with the uncached read of the same caller
    (the same token) at the same moment."""

    def __init__(self, app: FastAPI, client: TestClient, path: str) -> None:
        self.app, self.client, self.path = app, client, path

    def same(self, headers: dict[str, str], where: str) -> Response:
        first = self.client.get(self.path, headers=headers)
        second = self.client.get(self.path, headers=headers)
        plain = _uncached(self.app, lambda: self.client.get(self.path, headers=headers))
        assert _answer(first) == _answer(plain), where
        assert _answer(second) == _answer(plain), where
        return plain

    def remember(self, headers: dict[str, str]) -> None:
        """Read twice: the second read is the remembered answer (a hit)."""
        hits = self.app.state.application_answers.hits
        assert self.client.get(self.path, headers=headers).status_code == 200
        assert self.client.get(self.path, headers=headers).status_code == 200
        assert self.app.state.application_answers.hits > hits


@pytest.fixture
def world(app: FastAPI, client: TestClient) -> World:
    return build_world(app)


@pytest.fixture
def reads(app: FastAPI, client: TestClient, world: World) -> Reads:
    return Reads(app, client, f"/api/v1/applications/{world.application.id}")


def _empty(app: FastAPI, table: str) -> None:
    """A whole table emptied at once, as an operator would: ``TRUNCATE`` on PostgreSQL (no row
    trigger fires), a ``DELETE`` with no condition on SQLite (which has no ``TRUNCATE``)."""
    if _sqlite(app):
        _sql(app, f'DELETE FROM "{table}"')
    else:
        _sql(app, f'TRUNCATE "{table}" CASCADE')


def test_emptying_the_members_table_ends_the_remembered_answers(
    app: FastAPI, reads: Reads, world: World
) -> None:
    partner = world.partner_member.headers
    owner = world.applicant.headers
    reads.remember(partner)
    reads.remember(owner)
    _empty(app, "organization_member")
    assert reads.same(partner, "members emptied, a member organization's member").status_code == 404
    assert reads.same(owner, "members emptied, the lead's owner").status_code == 404


def test_emptying_the_assignments_ends_a_reviewers_remembered_answer(
    app: FastAPI, client: TestClient, reads: Reads, world: World
) -> None:
    world.clock.now = world.round.submission_deadline + timedelta(seconds=1)
    _sql(app, "UPDATE round SET status = 'review' WHERE id = :id", id=world.round.id)
    _sql(
        app,
        "INSERT INTO assignment (id, round_id, application_id, reviewer_id, affinity, status,"
        " source, created_at)"
        " VALUES (:id, :round, :application, :user, 0, 'active', 'manual', :now)",
        id=uuid.uuid4(),
        round=world.round.id,
        application=world.application.id,
        user=world.reviewer.user.id,
        now=world.clock.now.replace(tzinfo=None).isoformat(sep=" "),
    )
    reviewer = world.reviewer.headers
    reads.remember(reviewer)
    _empty(app, "assignment")
    assert reads.same(reviewer, "assignments emptied").status_code == 404


def test_emptying_the_receipts_ends_the_remembered_receipt(
    app: FastAPI, client: TestClient, reads: Reads, world: World
) -> None:
    now = world.clock.now.replace(tzinfo=None).isoformat(sep=" ")
    _sql(
        app,
        "INSERT INTO receipt (id, application_id, received_at, application_sha256, documents,"
        " audit_seq, audit_hash) VALUES (:id, :application, :now, 'x', '[]', 1, 'y')",
        id=uuid.uuid4(),
        application=world.application.id,
        now=now,
    )
    owner = world.applicant.headers
    reads.remember(owner)
    assert client.get(reads.path, headers=owner).json()["receipt"] is not None
    _empty(app, "receipt")
    assert reads.same(owner, "receipts emptied").json()["receipt"] is None


def _jti(headers: dict[str, str]) -> str:
    token = headers["Authorization"].split(" ", 1)[1]
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return str(claims["jti"])


def test_a_revoked_token_gets_no_remembered_answer(
    app: FastAPI, reads: Reads, world: World
) -> None:
    headers = world.applicant.headers
    reads.remember(headers)
    _sql(
        app,
        "INSERT INTO revoked_token (jti, expires_at) VALUES (:jti, :at)",
        jti=_jti(headers),
        at=(world.clock.now + timedelta(days=1)).replace(tzinfo=None).isoformat(sep=" "),
    )
    assert reads.same(headers, "token revoked").status_code == 401
    # The user's other token still reads it (the remembered answer is the user's, not the token's).
    assert reads.same(world.applicant.headers, "another token").status_code == 200


def test_a_deactivated_user_gets_no_remembered_answer(
    app: FastAPI, reads: Reads, world: World
) -> None:
    headers = world.partner_member.headers
    reads.remember(headers)
    _sql(
        app,
        'UPDATE "user" SET is_active = :f WHERE id = :id',
        f=False,
        id=world.partner_member.user.id,
    )
    assert reads.same(headers, "user deactivated").status_code == 401


def test_the_clock_set_back_across_the_closing_time_seals_the_bid_again(
    app: FastAPI, reads: Reads, world: World
) -> None:
    admin: Person = world.admin
    close_at = world.round.submission_deadline + timedelta(seconds=world.round.grace_seconds)
    start = world.clock.now
    world.clock.now = close_at + US
    reads.remember(admin.headers)
    assert "summary" in reads.same(admin.headers, "after the closing time").json()
    # A server's clock set back (NTP step, faketime): the sealed view again, no tag.
    world.clock.now = start
    sealed = reads.same(admin.headers, "clock set back before the closing time")
    assert set(sealed.json()) == {"id", "title", "status", "organizations"}
    assert "etag" not in sealed.headers
    # Exactly at the closing time it is still sealed; one microsecond later it is not.
    world.clock.now = close_at
    assert "summary" not in reads.same(admin.headers, "at the closing time").json()
    world.clock.now = close_at + US
    assert "summary" in reads.same(admin.headers, "just after").json()
    world.clock.now = start - timedelta(days=5 * 365)
    assert "summary" not in reads.same(admin.headers, "five years back").json()


@pytest.fixture
def one_entry_app(settings: Settings, world: World) -> Iterator[FastAPI]:
    app = create_app(settings.model_copy(update={"application_cache_size": 1}))
    app.state.clock = world.clock
    yield app
    app.state.engine.dispose()


def test_a_cache_of_one_entry_never_gives_one_callers_answer_to_another(
    one_entry_app: FastAPI, client: TestClient, world: World
) -> None:
    with TestClient(one_entry_app, base_url=BASE_URL) as other:
        reads = Reads(one_entry_app, other, f"/api/v1/applications/{world.application.id}")
        admin = world.admin
        callers: list[Person] = [
            world.applicant,
            admin,
            world.partner_member,
            world.stranger,
            world.reviewer,
            person(one_entry_app, [Role.admin, Role.reviewer]),
        ]
        for _ in range(2):
            for caller in callers:
                reads.same(caller.headers, f"one entry, {caller.user.roles}")
        assert len(one_entry_app.state.application_answers) == 1
        _sql(
            one_entry_app,
            "UPDATE organization SET name = 'Renamed' WHERE id = :id",
            id=world.partner_org.id,
        )
        for caller in callers:
            reads.same(caller.headers, "after a rename")


def test_the_size_zero_app_has_no_cache(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"application_cache_size": 0}))
    try:
        assert app.state.application_answers is None
    finally:
        app.state.engine.dispose()
    with pytest.raises(ValueError):
        settings.model_validate({**settings.model_dump(), "application_cache_size": -1})


def test_fastapis_own_path_gives_the_same_answers(
    app: FastAPI, client: TestClient, reads: Reads, world: World
) -> None:
    """With the lean path standing aside (dependency overrides; telemetry), the remembered
    answer goes through FastAPI: the same bytes and headers as its own serialization."""
    app.dependency_overrides[_sentinel] = _sentinel
    try:
        others = [world.applicant, world.admin, world.stranger, world.partner_member]
        for caller in others:
            reads.same(caller.headers, "FastAPI's path")
        reads.remember(world.applicant.headers)
        world.clock.now = (
            world.round.submission_deadline + timedelta(seconds=world.round.grace_seconds) + US
        )
        for caller in others:
            reads.same(caller.headers, "FastAPI's path, after the closing time")
    finally:
        app.dependency_overrides.clear()


def _sentinel() -> None:
    return None


def test_a_remembered_tag_fails_if_match_after_another_process_writes(
    settings: Settings, app: FastAPI, client: TestClient, reads: Reads, world: World
) -> None:
    owner = world.applicant.headers
    reads.remember(owner)
    old_tag = client.get(reads.path, headers=owner).headers["etag"]
    other = create_app(settings)
    other.state.clock = world.clock
    try:
        with TestClient(other, base_url=BASE_URL) as writer:
            changed = writer.patch(
                reads.path, json={"summary": "Elsewhere"}, headers={**owner, "If-Match": old_tag}
            )
            assert changed.status_code == 200, changed.text
    finally:
        other.state.engine.dispose()
    # This process's next answer carries the new tag, and the old one no longer matches.
    fresh = reads.same(owner, "after another process's write")
    assert fresh.headers["etag"] == changed.headers["etag"] != old_tag
    stale = client.patch(
        reads.path, json={"summary": "Lost update"}, headers={**owner, "If-Match": old_tag}
    )
    assert stale.status_code == 412, stale.text
    assert client.get(reads.path, headers=owner).json()["summary"] == "Elsewhere"


def test_an_application_row_restored_with_an_older_stamp_is_not_answered_from_memory(
    app: FastAPI, reads: Reads, world: World
) -> None:
    """An operator restores the application from a backup (its rows deleted and inserted
    again, the backup's older ``read_stamp`` with them): the writes that follow bring the stamp
    back to a value a process remembers, for other content. An inserted row starts from a
    stamp no process can have remembered."""
    owner = world.applicant.headers
    reads.remember(owner)
    with app.state.engine.begin() as connection:
        id = world.application.id.hex if _sqlite(app) else world.application.id
        parts = connection.execute(
            sa.text("SELECT count(*) FROM application_organization WHERE application_id = :id"),
            {"id": id},
        ).scalar_one()
        for statement in (
            "CREATE TEMPORARY TABLE saved_application AS SELECT * FROM application WHERE id = :id",
            "CREATE TEMPORARY TABLE saved_parts AS "
            "SELECT * FROM application_organization WHERE application_id = :id",
            "DELETE FROM application_organization WHERE application_id = :id",
            "DELETE FROM application WHERE id = :id",
            # The backup's row: another title, and the stamp it had before its parts were added.
            "UPDATE saved_application SET title = 'Restored from backup', "
            f"read_stamp = read_stamp - {parts}",
            "INSERT INTO application SELECT * FROM saved_application",
            "INSERT INTO application_organization SELECT * FROM saved_parts",
            "DROP TABLE saved_application",
            "DROP TABLE saved_parts",
        ):
            connection.execute(sa.text(statement), {"id": id})
    restored = reads.same(owner, "application restored from a backup")
    assert restored.json()["title"] == "Restored from backup"


def _race(app: FastAPI, first: str, second: str, read: Callable[[], object], **params: Any) -> None:
    """``first`` run and left uncommitted; ``second`` run and committed in another transaction
    meanwhile (or waiting on ``first``, which then commits); ``read`` runs once ``second`` has
    committed or is waiting, before ``first`` commits. PostgreSQL only (SQLite writes one at a
    time)."""
    results: dict[str, Any] = {}

    def run_second() -> None:
        with app.state.engine.begin() as connection:
            results["pid"] = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            for statement in second.split(";"):
                connection.execute(sa.text(statement), params)

    with app.state.engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(sa.text(first), params)
        thread = threading.Thread(target=run_second)
        thread.start()
        while thread.is_alive():
            pid = results.get("pid")
            if (
                pid is not None
                and connection.execute(
                    sa.text(
                        "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"
                    ),
                    {"pid": pid},
                ).scalar()
            ):
                break
            time.sleep(0.005)
        read()
        transaction.commit()
    thread.join()


# SQLite writes one transaction at a time: the race needs PostgreSQL.
@pytest.mark.postgres
def test_a_member_removed_while_their_organization_joins_the_application(
    app: FastAPI, reads: Reads, world: World
) -> None:
    """Removing a member bumps the applications its organization takes part in as its own
    transaction sees them: not the one the organization joins in a concurrent transaction, which
    commits first. The former member's answer, read in between, must not be given again."""
    stranger = world.stranger
    _race(
        app,
        "DELETE FROM organization_member WHERE organization_id = :org AND user_id = :user",
        "INSERT INTO application_organization (id, application_id, round_id, organization_id,"
        " role, is_lead) VALUES (:id, :application, :round, :org, 'member', false)",
        lambda: reads.client.get(reads.path, headers=stranger.headers),
        org=world.stranger_org.id,
        user=stranger.user.id,
        id=uuid.uuid4(),
        application=world.application.id,
        round=world.round.id,
    )
    assert reads.same(stranger.headers, "member removed during the join").status_code == 404


# SQLite writes one transaction at a time: the race needs PostgreSQL.
@pytest.mark.postgres
def test_a_deadline_moved_while_an_application_is_created(
    app: FastAPI, client: TestClient, world: World
) -> None:
    """Moving the deadline bumps the round's applications as its own transaction sees them: not
    one created meanwhile. An admin's answer read in between (full, by the old deadline) must
    not be given again once the new deadline seals the bids."""
    close_at = world.round.submission_deadline + timedelta(seconds=world.round.grace_seconds)
    world.clock.now = close_at + timedelta(minutes=1)
    new_id = uuid.uuid4()
    reads = Reads(app, client, f"/api/v1/applications/{new_id}")
    admin = world.admin.headers
    columns = (
        "title, status, round_id, lead_organization_id, summary, keywords, version, created_by,"
        " created_at, updated_at, submitted_at, withdrawn_at"
    )
    _race(
        app,
        "UPDATE round SET submission_deadline = submission_deadline + interval '1 day'"
        " WHERE id = :round",
        f"INSERT INTO application (id, {columns}) SELECT :id, {columns} FROM application"
        " WHERE id = :application;"
        " INSERT INTO application_organization (id, application_id, round_id, organization_id,"
        " role, is_lead, confirmed_at) VALUES (:part, :id, :round, :org, 'lead', true, now())",
        lambda: reads.client.get(reads.path, headers=admin),
        id=new_id,
        part=uuid.uuid4(),
        application=world.application.id,
        round=world.round.id,
        org=world.stranger_org.id,
    )
    sealed = reads.same(admin, "deadline moved during the creation")
    assert set(sealed.json()) == {"id", "title", "status", "organizations"}


# SQLite writes one transaction at a time: the race needs PostgreSQL.
@pytest.mark.postgres
def test_an_organization_renamed_while_it_joins_the_application(
    app: FastAPI, reads: Reads, world: World
) -> None:
    """The rename bumps the applications the organization takes part in as its transaction
    sees them; the join, committed first, is one of them (the advisory lock on the
    organization), so no one keeps the old name."""
    owner = world.applicant.headers
    _race(
        app,
        "UPDATE organization SET name = 'Renamed Inc' WHERE id = :org",
        "INSERT INTO application_organization (id, application_id, round_id, organization_id,"
        " role, is_lead) VALUES (:id, :application, :round, :org, 'member', false)",
        lambda: reads.client.get(reads.path, headers=owner),
        org=world.stranger_org.id,
        id=uuid.uuid4(),
        application=world.application.id,
        round=world.round.id,
    )
    names = [
        o["name"] for o in reads.same(owner, "renamed during the join").json()["organizations"]
    ]
    assert "Renamed Inc" in names


def test_a_head_request_answers_as_the_get_without_the_cache(
    app: FastAPI, client: TestClient, reads: Reads, world: World
) -> None:
    for caller in (world.applicant, world.admin, world.stranger):
        headers = caller.headers
        if caller is world.applicant:
            reads.remember(headers)
        head = client.head(reads.path, headers=headers)
        plain = _uncached(app, partial(client.head, reads.path, headers=headers))
        assert (head.status_code, head.headers.get("etag"), head.content) == (
            plain.status_code,
            plain.headers.get("etag"),
            plain.content,
        )
