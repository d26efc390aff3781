"""Statement counts of the read endpoints: a fixed number per request, whatever the page holds
(no N+1), and the hot single reads in the fewest statements (the token's user with its
revocation check is one, the application or the caller's profile one more).

Statements are counted on both of the app's engines (the request sessions' and the event loop
reader's) with a ``before_cursor_execute`` listener, and on the prepared hot reads, which run
on the DBAPI cursor (``Prepared.listeners``); transaction control (SQLite's ``BEGIN``,
``COMMIT``, ``ROLLBACK``) is not counted.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from infra.prepared import Prepared
from models.identity import Organization, Role, User
from models.reviewers import Assignment
from models.rounds import Round
from tests.factories import (
    NOW,
    make_admin,
    make_application,
    make_organization,
    make_principal,
    make_round,
    make_user,
)

_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


@contextmanager
def counting(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not _CONTROL.match(statement):
            statements.append(statement)

    def record_prepared(statement: str) -> None:
        record(None, None, statement)

    engines = [app.state.engine]
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", record)
    Prepared.listeners.append(record_prepared)
    try:
        yield statements
    finally:
        Prepared.listeners.remove(record_prepared)
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", record)


def count(client: TestClient, path: str, headers: dict[str, str]) -> int:
    # The first request warms per-process caches (the signing keys, the verified token).
    assert client.get(path, headers=headers).status_code == 200
    app: FastAPI = client.app  # type: ignore[assignment]
    with counting(app) as statements:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return len(statements)


def _consortium(session: Session, applicant: User, round: Round, members: int) -> None:
    partners: list[Organization] = [
        make_organization(session, applicant, name=f"Partner {i}") for i in range(members)
    ]
    make_application(session, round, applicant, members=partners)


def test_one_application_is_two_statements(client: TestClient, session: Session) -> None:
    applicant, headers = make_principal(client.app, roles=[Role.applicant])  # type: ignore[arg-type]
    round = make_round(session)
    owner = session.get(User, applicant.id)
    assert owner is not None
    partners = [make_organization(session, owner, name=f"Partner {i}") for i in range(3)]
    application = make_application(session, round, owner, members=partners)
    # The token's user and revocation, then the application with its organizations.
    assert count(client, f"/api/v1/applications/{application.id}", headers) == 2


def test_me_is_two_statements(client: TestClient, session: Session) -> None:
    applicant, headers = make_principal(client.app, roles=[Role.applicant])  # type: ignore[arg-type]
    owner = session.get(User, applicant.id)
    assert owner is not None
    for i in range(3):
        make_organization(session, owner, name=f"Org {i}")
    assert count(client, "/api/v1/me", headers) == 2


def test_application_list_does_not_grow_with_the_page(client: TestClient, session: Session) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    applicant, applicant_headers = make_principal(app, roles=[Role.applicant])
    _admin, admin_headers = make_principal(app, roles=[Role.admin])
    owner = session.get(User, applicant.id)
    assert owner is not None
    round = make_round(session)
    _consortium(session, owner, round, members=2)
    one_admin = count(client, "/api/v1/applications?limit=50", admin_headers)
    one_applicant = count(client, "/api/v1/applications?limit=50", applicant_headers)

    # 50 more applications in two rounds, each of its own consortium (the caller's organizations
    # lead them, so the applicant sees them all too).
    other_round = make_round(session)
    for i in range(50):
        _consortium(session, owner, round if i % 2 else other_round, members=1 + i % 3)
    page = client.get("/api/v1/applications?limit=50", headers=admin_headers).json()
    assert len(page["items"]) == 50
    assert page["next_cursor"]
    assert count(client, "/api/v1/applications?limit=50", admin_headers) == one_admin
    assert count(client, "/api/v1/applications?limit=50", applicant_headers) == one_applicant
    # Auth, the page, then rounds, organizations, receipts, the caller's memberships.
    assert one_admin <= 6
    assert one_applicant <= 6


def _assign(session: Session, round: Round, reviewer: User, count: int) -> None:
    applicant = make_user(session, roles=[Role.applicant])
    for _ in range(count):
        application = make_application(session, round, applicant)
        session.add(
            Assignment(
                round_id=round.id,
                application_id=application.id,
                reviewer_id=reviewer.id,
                created_at=NOW,
            )
        )
        session.commit()
        # Each application needs its own lead organization (one live bid per organization).
        applicant = make_user(session, roles=[Role.applicant])


def test_assignment_lists_do_not_grow_with_the_page(client: TestClient, session: Session) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    reviewer, reviewer_headers = make_principal(app, roles=[Role.reviewer])
    _admin, admin_headers = make_principal(app, roles=[Role.admin])
    stored_reviewer = session.get(User, reviewer.id)
    assert stored_reviewer is not None
    round = make_round(session, admin=make_admin(session))
    _assign(session, round, stored_reviewer, 1)
    round_path = f"/api/v1/rounds/{round.id}/assignments?limit=50"
    own_path = "/api/v1/me/assignments?limit=50"
    one_round = count(client, round_path, admin_headers)
    one_own = count(client, own_path, reviewer_headers)

    _assign(session, round, stored_reviewer, 30)
    assert len(client.get(round_path, headers=admin_headers).json()["items"]) == 31
    assert count(client, round_path, admin_headers) == one_round
    assert count(client, own_path, reviewer_headers) == one_own
    # Auth, the round, the page; for a reviewer also the applications as they may see them.
    assert one_round <= 3
    assert one_own <= 8
