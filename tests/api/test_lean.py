"""The lean path of the hottest reads (``api/lean.py``): it answers exactly what FastAPI answers,
serves the successful reads itself, hands everything else to FastAPI, and refuses to serve a
marked route it could not serve faithfully."""

import uuid
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, FastAPI, Query
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from api.lean import LeanRoutes, NotLean, lean, lean_plans
from api.security import AnyActor, ApplicationsRead
from models.identity import MePublic, Role, User
from tests.factories import (
    NOW,
    make_application,
    make_principal,
    make_round,
    make_token,
)

API = "/api/v1"
VOLATILE = {"x-request-id", "date"}


def _lean_layer(app: FastAPI) -> LeanRoutes:
    layer: Any = app.middleware_stack
    while layer is not None and not isinstance(layer, LeanRoutes):
        layer = getattr(layer, "app", None)
    assert isinstance(layer, LeanRoutes), "LeanRoutes is not in the app's middleware"
    return layer


class _Counting:
    """The app behind the lean layer, counting the requests that reach it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)


@pytest.fixture
def reached_fastapi(client: TestClient) -> Iterator[list[str]]:
    """The paths of the requests that went through FastAPI's routing (not the lean path)."""
    assert client.get("/healthz").status_code == 200  # builds the middleware stack
    layer = _lean_layer(client.app)  # type: ignore[arg-type]
    counting = _Counting(layer.app)
    layer.app = counting
    try:
        yield counting.paths
    finally:
        layer.app = counting.app


def _no_override() -> None:
    """A dependency override on nothing: its presence makes the lean path stand aside."""


def _answer(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    response = client.request(method, path, headers=headers)
    return (
        response.status_code,
        response.content,
        sorted((k, v) for k, v in response.headers.items() if k not in VOLATILE),
    )


def test_lean_answers_are_fastapis_answers(
    client: TestClient, session: Session, reached_fastapi: list[str]
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    applicant, owner = make_principal(app, roles=[Role.applicant])
    _, stranger = make_principal(app, roles=[Role.applicant])
    _, admin = make_principal(app, roles=[Role.admin])
    user = session.get(User, applicant.id)
    assert user is not None
    application = make_application(session, make_round(session), user)
    path = f"{API}/applications/{application.id}"
    narrow = {"Authorization": f"Bearer {make_token(app, user, scopes=['reviews:read'])}"}
    cases = [
        ("GET", path, owner),
        ("GET", path, admin),  # sealed: id, title, status, organizations only
        ("GET", path, stranger),  # 404
        ("GET", path, {}),  # 401
        ("GET", path, {"Authorization": "Bearer not-a-token"}),  # 401
        ("GET", path, narrow),  # 403: the token lacks applications:read
        ("GET", f"{API}/applications/{uuid.uuid4()}", owner),  # 404
        ("GET", f"{API}/applications/not-a-uuid", owner),  # 422
        ("GET", f"{path}?unknown=1", owner),  # query parameters are ignored, as by FastAPI
        ("HEAD", path, owner),  # 405, as FastAPI answers it
        ("GET", f"{API}/me", owner),
        ("GET", f"{API}/me", narrow),  # any valid token may read /me
        ("GET", f"{API}/me", {}),  # 401
    ]
    lean = [_answer(client, *case) for case in cases]
    app.dependency_overrides[_no_override] = _no_override
    try:
        full = [_answer(client, *case) for case in cases]
    finally:
        app.dependency_overrides.clear()
    for case, got, expected in zip(cases, lean, full, strict=True):
        assert got == expected, case
    statuses = [status for status, _, _ in lean]
    assert statuses == [200, 200, 404, 401, 401, 403, 404, 422, 200, 405, 200, 200, 401]
    assert f'"id":"{applicant.id}"' in lean[10][1].decode()
    assert '"summary"' in lean[0][1].decode()
    assert '"summary"' not in lean[1][1].decode()
    assert any(name == "etag" for name, _ in lean[0][2])


def test_reads_and_their_handled_errors_skip_fastapi_and_the_rest_go_through_it(
    client: TestClient, session: Session, reached_fastapi: list[str]
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    applicant, owner = make_principal(app, roles=[Role.applicant])
    user = session.get(User, applicant.id)
    assert user is not None
    application = make_application(session, make_round(session), user, now=NOW)
    path = f"{API}/applications/{application.id}"
    for _ in range(3):
        assert client.get(path, headers=owner).status_code == 200
        assert client.get(f"{API}/me", headers=owner).status_code == 200
    assert reached_fastapi == []
    # Handled errors are answered by the same handlers without going through FastAPI again.
    assert client.get(f"{API}/applications/{uuid.uuid4()}", headers=owner).status_code == 404
    assert client.get(path).status_code == 401
    assert reached_fastapi == []
    # A path parameter that does not validate, and everything else, goes through FastAPI.
    malformed = f"{API}/applications/not-a-uuid"
    assert client.get(malformed, headers=owner).status_code == 422
    assert client.patch(path, json={}, headers=owner).status_code in {400, 412, 422, 428}
    assert client.get(f"{API}/applications", headers=owner).status_code == 200
    assert reached_fastapi == [malformed, path, f"{API}/applications"]


def _app_with(router: APIRouter) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    return app


def test_a_marked_route_must_qualify() -> None:
    shadowed = APIRouter(prefix="/things")

    @shadowed.get("/{thing_id}", response_model=MePublic)
    async def any_thing(thing_id: str, actor: AnyActor) -> MePublic:
        raise NotImplementedError

    @shadowed.get("/{thing_id}", response_model=MePublic)
    @lean
    async def one_thing(thing_id: uuid.UUID, actor: AnyActor) -> MePublic:
        raise NotImplementedError

    with pytest.raises(NotLean, match="is tried first"):
        lean_plans(_app_with(shadowed))

    queried = APIRouter()

    @queried.get("/q", response_model=MePublic)
    @lean
    async def with_query(actor: ApplicationsRead, q: Annotated[str, Query()]) -> MePublic:
        raise NotImplementedError

    with pytest.raises(NotLean, match="only path parameters"):
        lean_plans(_app_with(queried))

    written = APIRouter()

    @written.post("/w", response_model=MePublic)
    @lean
    async def write(actor: AnyActor) -> MePublic:
        raise NotImplementedError

    with pytest.raises(NotLean, match="only GET"):
        lean_plans(_app_with(written))

    blocking = APIRouter()

    @blocking.get("/s", response_model=MePublic)
    @lean
    def sync_read(actor: AnyActor) -> MePublic:
        raise NotImplementedError

    with pytest.raises(NotLean, match="must be async"):
        lean_plans(_app_with(blocking))

    anonymous = APIRouter()

    @anonymous.get("/a", response_model=MePublic)
    @lean
    async def open_read() -> MePublic:
        raise NotImplementedError

    with pytest.raises(NotLean, match="exactly one dependency"):
        lean_plans(_app_with(anonymous))


def test_the_apps_lean_routes_qualify(app: FastAPI) -> None:
    paths = [plan.route.path for plan in lean_plans(app)]
    assert paths == ["/api/v1/applications/{application_id}", "/api/v1/me"]


def test_requests_that_fastapis_telemetry_observes_go_through_fastapi(
    client: TestClient, session: Session
) -> None:
    import asyncio

    app: FastAPI = client.app  # type: ignore[assignment]
    applicant, owner = make_principal(app, roles=[Role.applicant])
    user = session.get(User, applicant.id)
    assert user is not None
    application = make_application(session, make_round(session), user)
    path = f"{API}/applications/{application.id}"
    assert client.get(path, headers=owner).status_code == 200  # the lean path would answer it
    seen: list[str] = []

    async def fastapi_router(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["path"])

    async def nothing() -> Any:
        raise AssertionError("not read")

    async def answered(message: Any) -> None:
        raise AssertionError("answered by the lean path")

    layer = LeanRoutes(fastapi_router)
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "headers": [(b"authorization", owner["Authorization"].encode())],
        "app": app,
        "state": {},
        "fastapi.telemetry": object(),
    }
    asyncio.run(layer(scope, nothing, answered))
    assert seen == [path]
