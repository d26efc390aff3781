"""The OpenAPI document: every error is declared as RFC 9457 problem details, and every creating
``POST`` links to the operations on what it created."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A stable slug such as round-not-open"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "msg": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    "400": "Bad request",
    "401": "Missing or invalid access token (see WWW-Authenticate)",
    "403": "Insufficient scope, or the caller's role may not do this",
    "404": "Not found, or not visible to the caller",
    "409": "Conflict with the resource's current state",
    "412": "The If-Match precondition failed",
    "413": "The request body is too large",
    "415": "Unsupported media type",
    "422": "Validation error (see errors)",
    "428": "If-Match is required",
    "429": "Too many requests (see Retry-After)",
    "500": "Unexpected error (quote the X-Request-ID)",
}
_WRITE = {"post", "put", "patch", "delete"}
API_PREFIX = "/api/v1"


def _problem_response(code: str) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS.get(code, "Error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def problem_openapi(app: FastAPI) -> dict[str, Any]:
    """Generate once, then declare problem+json for every error response: the common ones
    (401/403 on authenticated routes, 422, 413 and 429 on writes, 500) and each route's own."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    schemas = schema["components"]["schemas"]
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _WRITE | {"get", "head", "options"}:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if path.startswith("/oauth/"):
                # OAuth endpoints answer RFC 6749 errors, declared by their routes.
                responses["500"] = _problem_response("500")
                continue
            codes = {"500"}
            if operation.get("parameters") or operation.get("requestBody"):
                codes.add("422")
            if method in _WRITE:
                codes |= {"413", "422"}
            if operation.get("security"):
                codes |= {"401", "403"}
                if method in _WRITE:
                    codes.add("429")
            if "{" in path:
                codes.add("404")
            for code in sorted(codes | {c for c in responses if c[0] in "45"}):
                existing = responses.get(code, {})
                problem = _problem_response(code)
                if existing.get("description") and existing["description"] != "Error":
                    problem["description"] = existing["description"]
                responses[code] = problem
    add_resource_links(schema.get("paths", {}))
    app.openapi_schema = schema
    return schema


def add_resource_links(paths: dict[str, Any]) -> None:
    """OpenAPI links (FastAPI emits none) from each creating ``POST`` (201) to the operations
    on the resource it created: what ``POST .../things`` creates lives at
    ``/api/v1/things/{thing_id}``, its id being the answer's ``id``. Clients, and the stateful
    phase of API fuzzers, follow them from create to read, change and act."""
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        collection = path.rstrip("/").rsplit("/", 1)[-1]
        if created is None or not collection.endswith("s"):
            continue
        parameter = f"{collection[:-1]}_id"
        canonical = f"{API_PREFIX}/{collection}/{{{parameter}}}"
        links = {
            operation["operationId"]: {
                "operationId": operation["operationId"],
                "parameters": {parameter: "$response.body#/id"},
                "description": f"{method.upper()} {target} with the created resource's id",
            }
            for target, target_operations in paths.items()
            if target == canonical or target.startswith(f"{canonical}/")
            for method, operation in target_operations.items()
            if method in _WRITE | {"get"} and "operationId" in operation
        }
        if links:
            created.setdefault("links", {}).update(links)


def install_openapi(app: FastAPI) -> None:
    app.openapi = lambda: problem_openapi(app)  # type: ignore[method-assign]
