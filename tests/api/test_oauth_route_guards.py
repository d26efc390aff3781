"""Every ``/api/v1`` operation, present and future, is guarded: it declares its OAuth scopes and
its 401/403 answers in the OpenAPI document, refuses an anonymous caller with 401 and a bare
``Bearer`` challenge, and refuses a token that lacks its scope with 403 ``insufficient_scope``.

The operations are read from the app's own OpenAPI document, so a new route is covered the
moment it is added.
"""

import re
import uuid
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.identity import ALL_SCOPES, Role
from tests.factories import make_principal

API = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    scopes: tuple[str, ...]
    declared: dict[str, object]

    @property
    def url(self) -> str:
        # Any id will do: authentication and scope come before any lookup.
        return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), self.path)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


def api_operations(app: FastAPI) -> list[Operation]:
    operations = []
    for path, item in app.openapi()["paths"].items():
        if not path.startswith(API):
            continue
        for method in METHODS:
            if method in item:
                op = item[method]
                scopes: list[str] = []
                for requirement in op.get("security", []):
                    for names in requirement.values():
                        scopes.extend(names)
                operations.append(Operation(method, path, tuple(sorted(set(scopes))), op))
    return operations


def test_there_are_api_operations(app: FastAPI) -> None:
    paths = {op.path for op in api_operations(app)}
    assert {f"{API}/me", f"{API}/users", f"{API}/oauth-clients"} <= paths


def test_every_operation_declares_its_security(app: FastAPI) -> None:
    missing = [
        str(op)
        for op in api_operations(app)
        if not op.declared.get("security")
        or not {"401", "403"} <= set(op.declared.get("responses", {}))  # type: ignore[call-overload]
    ]
    assert not missing, f"without security or 401/403 in OpenAPI: {missing}"


def test_every_operation_refuses_anonymous_callers(client: TestClient, app: FastAPI) -> None:
    wrong = []
    for op in api_operations(app):
        response = client.request(op.method.upper(), op.url)
        challenge = response.headers.get("www-authenticate")
        if response.status_code != 401 or challenge != 'Bearer realm="shortlist"':
            wrong.append(f"{op}: {response.status_code} {challenge!r}")
    assert not wrong, wrong


def test_every_operation_refuses_a_token_without_its_scope(
    client: TestClient, app: FastAPI
) -> None:
    wrong = []
    scoped = [op for op in api_operations(app) if op.scopes]
    assert scoped
    for op in scoped:
        others = [s for s in ALL_SCOPES if s not in op.scopes]
        _, headers = make_principal(
            app, roles=[Role.admin, Role.reviewer, Role.applicant], scopes=others
        )
        response = client.request(op.method.upper(), op.url, headers=headers)
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code != 403 or 'error="insufficient_scope"' not in challenge:
            wrong.append(f"{op}: {response.status_code} {challenge!r}")
    assert not wrong, wrong


def test_every_operation_refuses_a_forged_token(client: TestClient, app: FastAPI) -> None:
    wrong = []
    for op in api_operations(app):
        response = client.request(
            op.method.upper(), op.url, headers={"Authorization": "Bearer not.a.token"}
        )
        challenge = response.headers.get("www-authenticate", "")
        if response.status_code != 401 or 'error="invalid_token"' not in challenge:
            wrong.append(f"{op}: {response.status_code} {challenge!r}")
    assert not wrong, wrong
