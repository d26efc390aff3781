"""Support for the intake API tests: a settable clock, people with tokens, and a small world (a
program with an open round and a consortium's draft) made through the domain factories."""

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from infra.db import open_session
from models.applications import Application
from models.identity import ALL_SCOPES, MemberRole, Organization, Role, User
from models.rounds import Program, Round
from submissions.audit import verify
from tests.factories import (
    Clock,
    bearer,
    make_application,
    make_organization,
    make_program,
    make_round,
    make_token,
    make_user,
)

PROBLEM = "application/problem+json"


def headers_for(
    app: FastAPI, user: User, scopes: list[str] | tuple[str, ...] = ALL_SCOPES
) -> dict[str, str]:
    """A bearer header valid at the app's clock (it verifies tokens by that clock)."""
    return bearer(make_token(app, user, scopes=scopes))


@dataclass
class Person:
    app: FastAPI
    user: User

    @property
    def id(self) -> str:
        return str(self.user.id)

    @property
    def headers(self) -> dict[str, str]:
        return headers_for(self.app, self.user)


def person(app: FastAPI, roles: list[Role] | None = None) -> Person:
    session = open_session(app.state.engine, write=True)
    try:
        user = make_user(session, roles=roles)
    finally:
        session.close()
    return Person(app, user)


@dataclass
class World:
    app: FastAPI
    clock: Clock
    admin: Person
    applicant: Person
    partner: Person
    partner_member: Person
    stranger: Person
    reviewer: Person
    lead: Organization
    partner_org: Organization
    stranger_org: Organization
    program: Program
    round: Round
    application: Application


def build_world(app: FastAPI, **round_overrides: Any) -> World:
    """Admin, applicant (lead org owner), partner (partner org owner) with a plain member,
    a stranger with an organization of their own, a reviewer; a program with an open round
    (from an hour ago for a week) and the applicant's draft with the partner as member.
    The world's clock stands where the app's stood (``NOW`` unless the test set another)."""
    clock = Clock(app.state.clock().replace(microsecond=0))
    app.state.clock = clock
    now = clock.now
    session = open_session(app.state.engine, write=True)
    try:
        users = {
            name: make_user(session, roles=roles)
            for name, roles in (
                ("admin", [Role.admin]),
                ("applicant", [Role.applicant]),
                ("partner", [Role.applicant]),
                ("partner_member", [Role.applicant]),
                ("stranger", [Role.applicant]),
                ("reviewer", [Role.reviewer]),
            )
        }
        lead = make_organization(session, users["applicant"], name="Lead Co", now=now)
        partner_org = make_organization(
            session,
            users["partner"],
            name="Partner Lab",
            members=[(users["partner_member"], MemberRole.member)],
            now=now,
        )
        stranger_org = make_organization(session, users["stranger"], name="Else Inc", now=now)
        program = make_program(session, admin=users["admin"], now=now)
        round = make_round(
            session, program=program, admin=users["admin"], now=now, **round_overrides
        )
        application = make_application(
            session, round, users["applicant"], organization=lead, members=[partner_org], now=now
        )
    finally:
        session.close()
    people = {name: Person(app, user) for name, user in users.items()}
    return World(
        app=app,
        clock=clock,
        lead=lead,
        partner_org=partner_org,
        stranger_org=stranger_org,
        program=program,
        round=round,
        application=application,
        **people,
    )


def assert_problem(response: Response, status: int, type: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    if type is not None:
        assert body["type"] == type, body
    return body


def assert_guarded(
    client: TestClient,
    world: World,
    method: str,
    path: str,
    *,
    scope: str,
    caller: Person,
    json: Any = None,
    headers: dict[str, str] | None = None,
    wrong_role: Person | None = None,
    foreign_path: str | None = None,
    outsider: Person | None = None,
) -> None:
    """The four refusals every route owes: anonymous 401, missing scope 403, wrong role 403,
    foreign object 404 (another object's path, or an outsider on this one)."""
    extra = headers or {}
    response = client.request(method, path, json=json, headers=extra)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="shortlist"'

    narrowed = headers_for(world.app, caller.user, [s for s in ALL_SCOPES if s != scope])
    response = client.request(method, path, json=json, headers={**narrowed, **extra})
    assert_problem(response, 403)
    assert f'error="insufficient_scope", scope="{scope}"' in response.headers["www-authenticate"]

    if wrong_role is not None:
        response = client.request(method, path, json=json, headers={**wrong_role.headers, **extra})
        assert_problem(response, 403)
    if foreign_path is not None:
        response = client.request(
            method, foreign_path, json=json, headers={**caller.headers, **extra}
        )
        assert_problem(response, 404)
    if outsider is not None:
        response = client.request(method, path, json=json, headers={**outsider.headers, **extra})
        assert_problem(response, 404)


def assert_audit_chain_ok(app: FastAPI) -> None:
    session = open_session(app.state.engine)
    try:
        result = verify(session=session)
    finally:
        session.close()
    assert result.ok, result


def random_id() -> str:
    return str(uuid.uuid4())
