"""The remembered answers of ``GET /api/v1/applications/{id}`` (``api.application_answers``):
given again only while the application's read stamp, kept by database triggers, is unchanged.

- a differential scenario: after every kind of write (and the clock passing the deadline), each
  viewer's answer with the cache is byte for byte the answer without it;
- a write through one app is seen by the very next read of another app (another process);
- each table's trigger bumps the stamp for a write by plain SQL, past the ORM;
- the remembered answer never reaches another caller (anonymous, wrong scope, stranger)."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from api.app import create_app
from api.application_answers import ApplicationAnswers
from infra.db import open_session
from infra.settings import Settings
from models.applications import Application
from models.documents import DocumentStatus
from models.identity import ALL_SCOPES, MemberRole, OrganizationMember, Role
from models.reviewers import Assignment, AssignmentStatus
from tests.api.intake import Person, World, build_world, headers_for, person
from tests.factories import NOW, make_application, make_document

US = timedelta(microseconds=1)
PROPOSAL = {
    "kind": "proposal",
    "title": "Proposal",
    "content_types": ["application/pdf"],
    "max_bytes": 1000,
}


def _answer(response: Response) -> tuple[int, bytes, str | None, str]:
    return (
        response.status_code,
        response.content,
        response.headers.get("etag"),
        response.headers["content-type"],
    )


def _uncached(app: FastAPI, read: Callable[..., Response], *args: Any, **kwargs: Any) -> Response:
    """``read(...)`` with the app's remembered answers switched off (the read as it was)."""
    answers = app.state.application_answers
    app.state.application_answers = None
    try:
        return read(*args, **kwargs)
    finally:
        app.state.application_answers = answers


def _stamp(app: FastAPI, application_id: uuid.UUID) -> int:
    with app.state.engine.connect() as connection:
        stamp: int = connection.execute(
            sa.text("SELECT read_stamp FROM application WHERE id = :id"),
            {"id": application_id.hex if _sqlite(app) else application_id},
        ).scalar_one()
    return stamp


def _sqlite(app: FastAPI) -> bool:
    return bool(app.state.engine.dialect.name == "sqlite")


@pytest.fixture
def world(app: FastAPI, client: TestClient) -> World:
    return build_world(app, required_documents=[PROPOSAL])


class Scenario:
    """Two applications of one round and every kind of viewer, each viewer's answer compared
    with the cache and without after every step."""

    def __init__(self, app: FastAPI, client: TestClient, world: World) -> None:
        self.app, self.client, self.world = app, client, world
        self.other_reviewer = person(app, [Role.reviewer])
        session = open_session(app.state.engine, write=True)
        try:
            self.second = make_application(
                session,
                world.round,
                world.stranger.user,
                organization=world.stranger_org,
                title="Second bid",
                now=world.clock.now,
            )
            self.second_id = self.second.id
            # A third, listing the partner organization, which will decline it.
            self.third_id = make_application(
                session,
                world.round,
                world.applicant.user,
                members=[world.partner_org],
                title="Third bid",
                now=world.clock.now,
            ).id
        finally:
            session.close()
        self.viewers: dict[str, Person] = {
            "lead owner": world.applicant,
            "member org owner": world.partner,
            "member org member": world.partner_member,
            "stranger": world.stranger,
            "reviewer (assigned later)": world.reviewer,
            "reviewer (never assigned)": self.other_reviewer,
            "admin": world.admin,
        }
        self.steps = 0
        self.seen: set[tuple[str, str]] = set()
        """(path, viewer) pairs that were answered 200 at some step."""
        self.hits_seen = 0

    def paths(self) -> list[str]:
        return [
            f"/api/v1/applications/{self.world.application.id}",
            f"/api/v1/applications/{self.second_id}",
            f"/api/v1/applications/{self.third_id}",
        ]

    def check(self, step: str) -> None:
        """Every viewer's first read after the step (possibly a remembered answer), and a
        second (remembered now when the first was a 200), against the read without the cache."""
        self.steps += 1
        answers: ApplicationAnswers = self.app.state.application_answers
        # Tokens valid at the clock's time (it moves past the deadline).
        tokens = {name: p.headers for name, p in self.viewers.items()}
        for path in self.paths():
            for name, headers in tokens.items():
                hits = answers.hits
                first = self.client.get(path, headers=headers)
                self.hits_seen += answers.hits - hits
                second = self.client.get(path, headers=headers)
                plain = _uncached(self.app, self.client.get, path, headers=headers)
                where = f"after {step!r}, {name} reading {path}"
                assert _answer(first) == _answer(plain), where
                assert _answer(second) == _answer(plain), where
                if plain.status_code == 200:
                    self.seen.add((path, name))

    def ok(self, response: Response, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def etag(self, path: str, who: Person) -> str:
        return str(
            _uncached(self.app, lambda: self.client.get(path, headers=who.headers)).headers["etag"]
        )

    def sql(self, statement: str, **params: Any) -> None:
        """A write by plain SQL, as a bulk statement or another program would make it."""
        if _sqlite(self.app):
            params = {k: v.hex if isinstance(v, uuid.UUID) else v for k, v in params.items()}
        with self.app.state.engine.begin() as connection:
            connection.execute(sa.text(statement), params)


def test_cached_answers_are_the_uncached_answers_after_every_kind_of_write(
    app: FastAPI, client: TestClient, world: World
) -> None:
    s = Scenario(app, client, world)
    admin, applicant, partner = world.admin, world.applicant, world.partner
    app_path, second_path, third_path = s.paths()
    round_path = f"/api/v1/rounds/{world.round.id}"
    s.check("nothing yet")

    tag = s.etag(app_path, applicant)
    s.ok(
        client.patch(
            app_path, json={"title": "New title"}, headers={**applicant.headers, "If-Match": tag}
        )
    )
    s.check("patch")

    confirm = f"{app_path}/members/{world.partner_org.id}/confirm"
    s.ok(client.post(confirm, headers=partner.headers))
    s.check("member confirms")
    decline = f"{third_path}/members/{world.partner_org.id}/decline"
    s.ok(client.post(decline, headers=partner.headers), 204)
    s.check("member declines the third application")

    session = open_session(app.state.engine, write=True)
    try:
        organization = session.get(type(world.partner_org), world.partner_org.id)
        assert organization is not None
        organization.name = "Partner Lab Renamed"
        session.commit()
    finally:
        session.close()
    s.check("organization renamed (ORM)")

    session = open_session(app.state.engine, write=True)
    try:
        membership = OrganizationMember(
            organization_id=world.partner_org.id,
            user_id=world.stranger.user.id,
            role=MemberRole.member,
            created_at=world.clock.now,
        )
        session.add(membership)
        session.commit()
        membership_id = membership.id
    finally:
        session.close()
    s.check("stranger becomes a member of the partner organization")
    s.sql("DELETE FROM organization_member WHERE id = :id", id=membership_id)
    s.check("stranger's membership removed (SQL)")

    session = open_session(app.state.engine, write=True)
    try:
        for application_id in (world.application.id, s.second_id):
            application = session.get(Application, application_id)
            assert application is not None
            make_document(session, application, status=DocumentStatus.clean, now=world.clock.now)
    finally:
        session.close()
    s.check("documents")

    s.ok(client.post(f"{app_path}/submit", headers=applicant.headers))
    s.check("submit (a receipt)")
    s.ok(client.post(f"{second_path}/submit", headers=world.stranger.headers))
    s.check("second submitted")
    s.ok(client.post(f"{app_path}/reopen", headers=applicant.headers))
    s.check("reopen (receipt voided)")
    s.ok(client.post(f"{app_path}/submit", headers=applicant.headers))
    s.check("submitted again")
    # Writes by plain SQL to rows the answer shows, touching no application row.
    s.sql(
        "UPDATE application_organization SET role = 'co-applicant' "
        "WHERE application_id = :id AND is_lead = :lead",
        id=world.application.id,
        lead=False,
    )
    s.check("a member's role in the application changed (SQL)")
    s.sql(
        "UPDATE receipt SET application_sha256 = :sha WHERE application_id = :id "
        "AND voided_at IS NULL",
        sha="0" * 64,
        id=world.application.id,
    )
    s.check("the receipt's digest rewritten (SQL)")

    round_tag = str(client.get(round_path, headers=admin.headers).headers["etag"])
    s.ok(
        client.patch(
            round_path,
            json={"grace_seconds": 30},
            headers={**admin.headers, "If-Match": round_tag},
        )
    )
    s.check("round's grace changed")
    session = open_session(app.state.engine, write=True)
    try:
        round = session.get(type(world.round), world.round.id)
        assert round is not None
        round.submission_deadline = round.submission_deadline + timedelta(hours=1)
        session.commit()
    finally:
        session.close()
    s.check("round's deadline moved an hour later")

    s.ok(client.post(f"{second_path}/withdraw", headers=world.stranger.headers))
    s.check("second withdrawn")

    world.clock.now = world.round.submission_deadline + timedelta(hours=1, seconds=30) + US
    s.check("the clock passes the deadline (no write)")

    s.ok(client.post(f"{round_path}/start-review", headers=admin.headers))
    s.check("start review")

    session = open_session(app.state.engine, write=True)
    try:
        assignment = Assignment(
            round_id=world.round.id,
            application_id=world.application.id,
            reviewer_id=world.reviewer.user.id,
            created_at=world.clock.now,
        )
        session.add(assignment)
        session.commit()
        assignment_id = assignment.id
    finally:
        session.close()
    s.check("assignment added")
    s.sql("UPDATE round SET blind = :blind WHERE id = :id", blind=True, id=world.round.id)
    s.check("round made blind (SQL): the assigned reviewer's view loses the organizations")
    # The answer depends on the caller's roles (no trigger: they are in the cache's key).
    reviewer = world.reviewer.user.id
    s.sql("UPDATE \"user\" SET roles = '[]' WHERE id = :id", id=reviewer)
    s.check("the assigned reviewer loses the reviewer role")
    s.sql('UPDATE "user" SET roles = \'["reviewer"]\' WHERE id = :id', id=reviewer)
    s.check("the assigned reviewer has it again")
    s.sql(
        "UPDATE assignment SET status = :status WHERE id = :id",
        status=AssignmentStatus.recused.value,
        id=assignment_id,
    )
    s.check("assignment ended (SQL)")
    s.sql(
        "UPDATE assignment SET status = :status WHERE id = :id",
        status=AssignmentStatus.active.value,
        id=assignment_id,
    )
    s.check("assignment active again (SQL)")
    s.sql("DELETE FROM assignment WHERE id = :id", id=assignment_id)
    s.check("assignment removed (SQL)")

    s.ok(
        client.post(
            f"{round_path}/close", json={"allow_missing_reviews": True}, headers=admin.headers
        )
    )
    s.check("closing")
    s.ok(client.post(f"{round_path}/publish", headers=admin.headers))
    s.check("publish")

    # The scenario exercised the remembered answers, not only the full read, and every viewer
    # but the never-assigned reviewer saw the main application at some step.
    assert s.hits_seen > 20, s.hits_seen
    assert {name for path, name in s.seen if path == app_path} == set(s.viewers) - {
        "reviewer (never assigned)"
    }


def test_a_write_through_one_app_is_seen_by_the_next_read_of_another(
    settings: Settings, client: TestClient, world: World
) -> None:
    other = create_app(settings)
    other.state.clock = world.clock
    path = f"/api/v1/applications/{world.application.id}"
    try:
        with TestClient(other) as reader:
            headers = world.applicant.headers
            before = reader.get(path, headers=headers)
            assert reader.get(path, headers=headers).json() == before.json()
            assert other.state.application_answers.hits == 1
            response = client.patch(
                path,
                json={"summary": "Changed elsewhere"},
                headers={**headers, "If-Match": before.headers["etag"]},
            )
            assert response.status_code == 200, response.text
            after = reader.get(path, headers=headers)
            assert after.json()["summary"] == "Changed elsewhere"
            assert after.headers["etag"] == response.headers["etag"]
            # A membership removed through the first app: gone for the other at once.
            partner = world.partner_member.headers
            assert reader.get(path, headers=partner).status_code == 200
            assert reader.get(path, headers=partner).status_code == 200
            client.post(
                f"{path}/members/{world.partner_org.id}/decline", headers=world.partner.headers
            ).raise_for_status()
            assert reader.get(path, headers=partner).status_code == 404
    finally:
        other.state.engine.dispose()


def test_each_tables_trigger_bumps_the_stamp_for_a_plain_sql_write(
    app: FastAPI, client: TestClient, world: World
) -> None:
    s = Scenario(app, client, world)
    application_id = world.application.id
    statements: list[tuple[str, str, dict[str, Any]]] = [
        (
            "application",
            "UPDATE application SET summary = 'x' WHERE round_id = :id",
            {"id": world.round.id},
        ),
        (
            "round status",
            "UPDATE round SET status = 'closed' WHERE id = :id",
            {"id": world.round.id},
        ),
        (
            "round status back",
            "UPDATE round SET status = 'open' WHERE id = :id",
            {"id": world.round.id},
        ),
        (
            "round grace",
            "UPDATE round SET grace_seconds = 7 WHERE id = :id",
            {"id": world.round.id},
        ),
        (
            "round blind",
            "UPDATE round SET blind = :b WHERE id = :id",
            {"id": world.round.id, "b": True},
        ),
        (
            "organization name",
            "UPDATE organization SET name = 'Renamed' WHERE id = :id",
            {"id": world.partner_org.id},
        ),
        (
            "member removed",
            "DELETE FROM organization_member WHERE organization_id = :id",
            {"id": world.partner_org.id},
        ),
        (
            "part changed",
            "UPDATE application_organization SET role = 'other' WHERE application_id = :id",
            {"id": application_id},
        ),
        (
            "part removed",
            "DELETE FROM application_organization WHERE application_id = :id AND is_lead = :f",
            {"id": application_id, "f": False},
        ),
    ]
    for what, statement, params in statements:
        before = _stamp(app, application_id)
        s.sql(statement, **params)
        assert _stamp(app, application_id) > before, what
    # Nothing the read shows: no bump (the round's name).
    before = _stamp(app, application_id)
    s.sql("UPDATE round SET name = 'Another name' WHERE id = :id", id=world.round.id)
    assert _stamp(app, application_id) == before


def test_receipt_member_and_assignment_inserts_bump_the_stamp(
    app: FastAPI, client: TestClient, world: World
) -> None:
    s = Scenario(app, client, world)
    application_id = world.application.id
    now = world.clock.now.replace(tzinfo=None).isoformat(sep=" ")

    receipt, member, assignment = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    writes: list[tuple[str, str, dict[str, Any]]] = [
        (
            "receipt",
            "INSERT INTO receipt (id, application_id, received_at, application_sha256, documents,"
            " audit_seq, audit_hash) VALUES (:id, :app, :now, 'x', '[]', 1, 'y')",
            {"id": receipt, "app": application_id, "now": now},
        ),
        (
            "receipt voided",
            "UPDATE receipt SET voided_at = :now WHERE id = :id",
            {"id": receipt, "now": now},
        ),
        ("receipt deleted", "DELETE FROM receipt WHERE id = :id", {"id": receipt}),
        (
            "member added",
            "INSERT INTO organization_member (id, organization_id, user_id, role, created_at)"
            " VALUES (:id, :org, :user, 'member', :now)",
            {"id": member, "org": world.lead.id, "user": world.stranger.user.id, "now": now},
        ),
        (
            "member's role",
            "UPDATE organization_member SET role = 'admin' WHERE id = :id",
            {"id": member},
        ),
        (
            "assignment",
            "INSERT INTO assignment (id, round_id, application_id, reviewer_id, affinity, status,"
            " source, created_at) VALUES (:id, :round, :app, :user, 0, 'active', 'manual', :now)",
            {
                "id": assignment,
                "round": world.round.id,
                "app": application_id,
                "user": world.reviewer.user.id,
                "now": now,
            },
        ),
        ("assignment deleted", "DELETE FROM assignment WHERE id = :id", {"id": assignment}),
    ]
    for what, statement, params in writes:
        before = _stamp(app, application_id)
        s.sql(statement, **params)
        assert _stamp(app, application_id) > before, what


def test_a_remembered_answer_reaches_no_other_caller(
    app: FastAPI, client: TestClient, world: World
) -> None:
    path = f"/api/v1/applications/{world.application.id}"
    owner = world.applicant.headers
    assert client.get(path, headers=owner).status_code == 200
    assert client.get(path, headers=owner).status_code == 200  # remembered
    assert app.state.application_answers.hits == 1
    assert client.get(path).status_code == 401
    narrowed = headers_for(
        app, world.applicant.user, [s for s in ALL_SCOPES if s != "applications:read"]
    )
    assert client.get(path, headers=narrowed).status_code == 403
    assert client.get(path, headers=world.stranger.headers).status_code == 404
    assert client.get(path, headers=world.reviewer.headers).status_code == 404
    # The admin, before the deadline, sees the sealed view, not the owner's answer.
    sealed = client.get(path, headers=world.admin.headers)
    assert sealed.status_code == 200
    assert set(sealed.json()) == {"id", "title", "status", "organizations"}
    assert "etag" not in sealed.headers
    # Another application's path with the owner's token: not the remembered one.
    assert client.get(f"/api/v1/applications/{uuid.uuid4()}", headers=owner).status_code == 404


def test_the_cache_is_bounded() -> None:
    answers = ApplicationAnswers(2)
    from api.application_answers import Remembered

    entry = Remembered(1, NOW, True, b"{}", None)
    keys = [(uuid.uuid4(), uuid.uuid4(), frozenset({"applicant"})) for _ in range(3)]
    for key in keys:
        answers.put(key, entry)
    assert len(answers) == 2
    assert answers.get(keys[0], NOW) is None
    assert answers.get(keys[2], NOW) is entry
    # Past the closing time the sealed answer is not given again.
    assert answers.get(keys[2], NOW + US) is None
