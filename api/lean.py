"""A lean way through the app for the hottest reads: the same route, less machinery per request.

A route marked ``@lean`` is declared, documented and checked like any other: it stays in
FastAPI's router and in the OpenAPI document, and the authorization tests call it through the
app. What changes is how a request for it is served. ``LeanRoutes``,
the app's innermost middleware, recognizes it by the route's own path pattern, validates the
path parameters with the route's own fields, resolves the caller with the route's own security
dependency and scopes, calls the endpoint and serializes its answer with the route's response
field. It skips FastAPI's per-request work around that (matching the path against router after
router, solving the dependency graph afresh, two exit stacks, the exception middleware), which
cost a point read more CPU than the read itself (issue 8).

An endpoint may return a ``Response`` (a remembered answer, ``api.application_answers``): it is
sent as it is, as FastAPI sends one. An exception is answered by the handler FastAPI would call
for it (a 401, 403 or 404 problem), the same one. Anything else is not answered here: a path
parameter that does not validate, an exception no handler takes. The request then goes on
through FastAPI exactly as if this path did not exist. That is why only GET routes qualify,
whose work changes nothing (such a request runs twice), and why the lean path stands aside
whenever dependency overrides are set (tests) or FastAPI's own telemetry observes the request
(``SHORTLIST_OTEL``).
"""

import inspect
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from fastapi import FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.security import SecurityScopes
from fastapi.utils import is_body_allowed_for_status_code
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.security import ActorScheme

_LEAN: set[Callable[..., Any]] = set()
F = TypeVar("F", bound=Callable[..., Any])


def lean(endpoint: F) -> F:
    """Mark an endpoint for the lean path (apply below the route decorator). The app checks
    at its first request that the route qualifies (``LeanRoutes``)."""
    _LEAN.add(endpoint)
    return endpoint


class NotLean(Exception):
    """A route marked ``@lean`` that the lean path cannot serve faithfully."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """What serving one lean route takes, worked out once."""

    route: APIRoute
    path_fields: list[tuple[str, str, TypeAdapter[Any]]]
    response: TypeAdapter[Any]
    path_regex: re.Pattern[str]
    convertors: dict[str, Any]
    security: Dependant
    security_scopes: SecurityScopes
    actor_name: str
    request_name: str | None
    response_name: str | None
    member_dumps: dict[type, Callable[..., bytes]]

    async def serve(self, scope: Scope, receive: Receive, params: dict[str, Any]) -> Response:
        route = self.route
        values: dict[str, Any] = {}
        try:
            for alias, name, adapter in self.path_fields:
                values[name] = adapter.validate_python(params.get(alias), from_attributes=True)
        except ValidationError:
            raise NotLean("a path parameter does not validate") from None
        request = Request({**scope, "path_params": params, "route": route}, receive)
        call: Any = self.security.call
        values[self.actor_name] = await call(request, self.security_scopes)
        # As FastAPI's sub-response: no headers, no status until the endpoint sets them.
        sub_response = Response.__new__(Response)
        sub_response.raw_headers = []
        sub_response.status_code = None  # type: ignore[assignment]
        sub_response.background = None
        sub_response.body = b""
        if self.request_name:
            values[self.request_name] = request
        if self.response_name:
            values[self.response_name] = sub_response
        raw = await route.endpoint(**values)
        if isinstance(raw, Response):
            return raw  # as FastAPI passes a returned response through
        try:
            answer = self.response.validate_python(raw, from_attributes=True)
        except ValidationError:
            raise NotLean("the response does not validate") from None
        status = sub_response.status_code or route.status_code or 200
        if not is_body_allowed_for_status_code(status):
            raise NotLean("a status without a body")  # FastAPI's own rules for it
        # A union's serializer finds the member an answer is, then serializes it as that
        # member's own does: for an answer that is exactly one of them, straight to it.
        dump: Callable[..., bytes] = self.member_dumps.get(type(answer), self.response.dump_json)
        content = dump(
            answer,
            include=route.response_model_include,
            exclude=route.response_model_exclude,
            by_alias=route.response_model_by_alias,
            exclude_unset=route.response_model_exclude_unset,
            exclude_defaults=route.response_model_exclude_defaults,
            exclude_none=route.response_model_exclude_none,
        )
        return _Answer(content, status, sub_response.raw_headers)


class _Answer(Response):
    """What ``JSONResponse(content)`` with the sub-response's headers would send (its content
    already JSON), made without Starlette's header set-up."""

    def __init__(self, body: bytes, status_code: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.body = body
        self.status_code = status_code
        self.background = None
        self.raw_headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            *headers,
        ]


def _plan(context: Any, route: APIRoute) -> _Plan:
    dependant = route.dependant
    where = f"GET {context.path}"
    if route.methods != {"GET"}:
        raise NotLean(f"{where}: only GET routes qualify")
    if not isinstance(route.response_class, DefaultPlaceholder) or (
        route.response_class.value is not JSONResponse
    ):
        raise NotLean(f"{where}: only the default JSON response class qualifies")
    if route.response_field is None:
        raise NotLean(f"{where}: needs a response model")
    if dependant.query_params or dependant.header_params or dependant.cookie_params:
        raise NotLean(f"{where}: only path parameters qualify")
    if dependant.body_params or dependant.background_tasks_param_name:
        raise NotLean(f"{where}: no body, no background tasks")
    if route.dependencies or len(dependant.dependencies) != 1:
        raise NotLean(f"{where}: exactly one dependency, the caller")
    (security,) = dependant.dependencies
    if not isinstance(security.call, ActorScheme) or security.name is None:
        raise NotLean(f"{where}: the one dependency must be the actor scheme")
    if not inspect.iscoroutinefunction(route.endpoint):
        raise NotLean(f"{where}: the endpoint must be async (it runs on the event loop)")
    # Each value validated and each answer validated and serialized as FastAPI's own fields do
    # (a pydantic ``TypeAdapter`` of the declared type, ``from_attributes``).
    path_fields = [
        (field.alias, field.name, _adapter(field.field_info.annotation, field.field_info.metadata))
        for field in dependant.path_params
    ]
    if {alias for alias, _, _ in path_fields} != set(context.param_convertors):
        raise NotLean(f"{where}: each path parameter is one plain value")
    return _Plan(
        route=route,
        path_fields=path_fields,
        response=_adapter(route.response_model, []),
        path_regex=context.path_regex,
        convertors=context.param_convertors,
        security=security,
        security_scopes=SecurityScopes(_oauth_scopes(security)),
        actor_name=security.name,
        request_name=dependant.request_param_name,
        response_name=dependant.response_param_name,
        member_dumps=_member_dumps(route.response_model),
    )


def _adapter(annotation: Any, metadata: list[Any]) -> TypeAdapter[Any]:
    form: Any = Annotated[(annotation, *metadata)] if metadata else annotation
    return TypeAdapter(form)


def _oauth_scopes(security: Dependant) -> list[str]:
    """The scopes the security dependency is called with, as FastAPI gathers them: those of
    the routes and routers above it, then its own, each once, in order."""
    scopes = list(security.parent_oauth_scopes or [])
    scopes += [s for s in dict.fromkeys(security.own_oauth_scopes or []) if s not in scopes]
    return scopes


def _route_path(scope: Scope) -> str:
    """The path the router matches: the request's path less the app's ``root_path`` (as
    Starlette's router takes it)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if not root_path or not path.startswith(root_path):
        return path
    if path == root_path:
        return ""
    return path[len(root_path) :] if path[len(root_path)] == "/" else path


def _lookup_handler(handlers: Mapping[Any, Any], exc: Exception) -> Any:
    """The handler registered for the nearest of ``exc``'s classes, as Starlette looks it up."""
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None


def _member_dumps(annotation: Any) -> dict[type, Callable[..., bytes]]:
    """For a response model that is a union of pydantic models (``A | B``), each member's own
    JSON serializer (taking ``dump_json``'s options), by class; empty for anything else: the
    route's response type then serializes."""
    members = get_args(annotation)
    if get_origin(annotation) not in (Union, UnionType) or not all(
        isinstance(member, type) and issubclass(member, BaseModel) for member in members
    ):
        return {}
    return {member: TypeAdapter(member).dump_json for member in members}


def lean_plans(app: FastAPI) -> list[_Plan]:
    """The plans of the app's lean routes, in the router's order; ``NotLean`` when a marked
    route does not qualify, or when a route the router tries earlier could answer its paths.

    Reads the routes only up to the last lean one: FastAPI builds a route's parameters and
    models when first asked for its context (a few hundred milliseconds for all of them), and
    the lean routes come first."""
    contexts: list[RouteContext] = []
    plans = []
    found: set[Callable[..., Any]] = set()
    for context in iter_route_contexts(app.routes):
        if found == _LEAN:
            break
        contexts.append(context)
        index = len(contexts) - 1
        route = context.original_route
        if not isinstance(route, APIRoute) or route.endpoint not in _LEAN:
            continue
        found.add(route.endpoint)
        plan = _plan(context, route)
        sample = str(context.path_format).format(
            **{name: str(uuid.UUID(int=0)) for name in context.param_convertors}
        )
        for earlier in contexts[:index]:
            if "GET" in (earlier.methods or ()) and earlier.path_regex.match(sample):
                raise NotLean(f"GET {context.path}: {earlier.path} is tried first")
        plans.append(plan)
    return plans


class LeanRoutes:
    """The app's innermost middleware: serves requests for ``@lean`` routes (their successes and
    their handled errors), and passes every other request to FastAPI."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.plans: list[_Plan] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fastapi: FastAPI = scope.get("app")  # type: ignore[assignment]
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or fastapi.dependency_overrides
            # FastAPI's telemetry (SHORTLIST_OTEL) observes this request: its spans name the
            # route FastAPI's router selects.
            or scope.get("fastapi.telemetry") is not None
        ):
            await self.app(scope, receive, send)
            return
        plans = self.plans
        if plans is None:
            plans = self.plans = lean_plans(fastapi)
        path = _route_path(scope)
        response: Response | None = None
        for plan in plans:
            match = plan.path_regex.match(path)
            if match is None:
                continue
            params = {
                name: plan.convertors[name].convert(value)
                for name, value in match.groupdict().items()
            }
            try:
                response = await plan.serve(scope, receive, params)
            except NotLean:
                response = None  # FastAPI renders it (a path parameter's 422, say)
            except Exception as exc:
                # A 401, 403 or 404: answered by the handler FastAPI would call, rather than
                # doing the work again; an exception no handler takes goes through FastAPI.
                response = await self._handled(fastapi, scope, receive, exc)
            break
        if response is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = plan.route  # as FastAPI's router records it (the metrics' route label)
        await response(scope, receive, send)

    @staticmethod
    async def _handled(
        fastapi: FastAPI, scope: Scope, receive: Receive, exc: Exception
    ) -> Response | None:
        """``exc`` answered as Starlette's exception middleware inside FastAPI would: by the
        handler registered for its status (an HTTPException) or for the nearest of its classes;
        ``None`` when none is, or the handler is not a coroutine."""
        # FastAPI hands its exception middleware every handler but those for 500 and Exception.
        handlers: dict[Any, Any] = {
            key: value
            for key, value in fastapi.exception_handlers.items()
            if key not in (500, Exception)
        }
        handler: Any = None
        if isinstance(exc, StarletteHTTPException):
            handler = handlers.get(exc.status_code)
        if handler is None:
            handler = _lookup_handler(handlers, exc)
        if handler is None or not inspect.iscoroutinefunction(handler):
            return None
        response: Response = await handler(Request(scope, receive), exc)
        exc.__traceback__ = None  # as Starlette does: no traceback kept with a reused exception
        return response
