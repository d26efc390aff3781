"""Every successful JSON answer has a named, typed schema in the OpenAPI document: no route
answers a free-form object (``dict[str, Any]``), and none answers 2xx with no schema at all."""

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import SQLModel

NO_BODY = {"204", "205"}
FREE_FORM_ALLOWED = {
    # An audit event records what its action did: each action its own data, by design (API.md
    # "Audit"); its hash covers the data as stored, whatever its shape.
    "AuditEventPublic.data",
    # An event carries what its type says (API.md "Events, webhooks and email"): each type its
    # own fields, written once by the outbox and sealed the same way for every reader.
    "EventPublic.data",
}
UNTYPED_KEYS = {"title", "description", "default", "examples"}


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _free_form(schema: dict[str, Any]) -> bool:
    """An object whose members are anything (no properties, any additional ones), or a value
    with no type at all."""
    if not {k: v for k, v in schema.items() if k not in UNTYPED_KEYS}:
        return True
    return (
        schema.get("type") == "object"
        and not schema.get("properties")
        and schema.get("additionalProperties", True) in (True, {})
    )


def _named(schema: dict[str, Any]) -> bool:
    """A component, a list of components, or a choice between components (one per role)."""
    if _ref_name(schema):
        return True
    if schema.get("type") == "array":
        return _named(schema.get("items", {}))
    choices: list[dict[str, Any]] = schema.get("anyOf") or schema.get("oneOf") or []
    return bool(choices) and all(_named(choice) for choice in choices)


def _walk(schema: Any, where: str, components: dict[str, Any], seen: set[str]) -> Iterator[str]:
    """Each place under ``schema`` (components followed once) that is free-form."""
    if isinstance(schema, list):
        for item in schema:
            yield from _walk(item, where, components, seen)
        return
    if not isinstance(schema, dict):
        return
    name = _ref_name(schema)
    if name is not None:
        if name not in seen:
            seen.add(name)
            yield from _walk(components[name], name, components, seen)
        return
    if _free_form(schema) and where not in FREE_FORM_ALLOWED:
        yield where
    for field, sub in schema.get("properties", {}).items():
        yield from _walk(sub, f"{where}.{field}", components, seen)
    for key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), dict | list):
            yield from _walk(schema[key], where, components, seen)


def untyped_responses(spec: dict[str, Any]) -> list[str]:
    """Every 2xx response of the document without a named, typed JSON schema."""
    components = spec.get("components", {}).get("schemas", {})
    found: list[str] = []
    seen: set[str] = set()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for code, response in operation.get("responses", {}).items():
                if not code.startswith("2") or code in NO_BODY:
                    continue
                at = f"{method.upper()} {path} {code}"
                content = response.get("content")
                if not content:
                    found.append(f"{at}: no content")
                    continue
                for media_type, body in content.items():
                    if "json" not in media_type:
                        continue
                    schema = body.get("schema")
                    if not schema:
                        found.append(f"{at} {media_type}: no schema")
                    elif not _named(schema):
                        found.append(f"{at} {media_type}: not a named schema")
                    found.extend(
                        f"{at} {media_type}: free-form at {place}"
                        for place in _walk(schema or {}, at, components, seen)
                    )
    return found


def test_every_success_has_a_named_typed_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert untyped_responses(spec) == []


def test_results_and_preview_have_one_schema_per_role(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]

    def ok_schema(path: str) -> dict[str, Any]:
        result: dict[str, Any] = paths[path]["get"]["responses"]["200"]["content"][
            "application/json"
        ]["schema"]
        return result

    results = ok_schema("/api/v1/rounds/{round_id}/results")
    assert sorted(_ref_name(s) or "" for s in results["anyOf"]) == [
        "ResultsAdmin",
        "ResultsApplicant",
    ]
    assert _ref_name(ok_schema("/api/v1/rounds/{round_id}/shortlist/preview")) == (
        "ShortlistPreview"
    )
    admin_row = set(schemas["RankingRowAdmin"]["properties"])
    applicant_row = set(schemas["RankingRowApplicant"]["properties"])
    # What only admins see never appears in an applicant's row, and the other way round.
    assert {"margin", "stable"} <= admin_row - applicant_row
    assert applicant_row - admin_row == {"comments_to_applicant"}
    assert set(schemas["ResultsApplicant"]["properties"]) == {
        "closed_at",
        "published_at",
        "ranking",
    }
    assert {"inputs_sha256", "result_sha256", "cutoff_total"} <= set(
        schemas["ResultsAdmin"]["properties"]
    )


class _Named(SQLModel):
    value: int


class _Loose(SQLModel):
    extra: dict[str, Any]


def test_the_check_catches_what_it_forbids() -> None:
    """A planted free-form answer, a nested one and a missing one are each reported."""
    app = FastAPI()

    @app.get("/named", response_model=_Named)
    def named() -> _Named:
        return _Named(value=1)

    @app.get("/free", response_model=dict[str, Any])
    def free() -> dict[str, Any]:
        return {}

    @app.get("/nested", response_model=_Loose)
    def nested() -> _Loose:
        return _Loose(extra={})

    @app.get("/none", responses={201: {"description": "Made"}})
    def none() -> _Named:
        return _Named(value=1)

    found = untyped_responses(app.openapi())
    assert not [f for f in found if "/named " in f]
    assert any(f.startswith("GET /free 200") and "not a named schema" in f for f in found)
    assert any(f.startswith("GET /free 200") and "free-form" in f for f in found)
    assert "GET /nested 200 application/json: free-form at _Loose.extra" in found
    assert "GET /none 201: no content" in found
