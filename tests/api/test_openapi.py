"""The OpenAPI document as client generators and readers meet it: every operation has a short,
unique lowerCamelCase id, a one-line summary and a tag; every error it declares is a problem
document, the 503 of a database outage included, which every operation the edge may refuse
declares (with ``Retry-After``) and answers so; ``info.version`` is the installed package's."""

import re
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import create_app
from api.middleware import OUTAGE_EXEMPT
from api.openapi import OPERATION_IDS, PROBLEM_SCHEMA, operation_id, summary_of
from infra.settings import Settings
from models.identity import Role
from tests.factories import make_principal

METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}
# On the OAuth endpoints, the answers that come from the edge (413, 500) and the rate limiter
# (429): problems, as everywhere else, not RFC 6749 errors.
OAUTH_PROBLEMS = {"413", "429", "500", "503"}
OAUTH_FORMS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/authorize"]


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_operation_ids_are_short_unique_lower_camel_case(app: FastAPI) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(app)]
    assert len(ids) > 50
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for operation_id_ in ids:
        assert re.fullmatch(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*", operation_id_), operation_id_
        assert len(operation_id_) <= 30, operation_id_
    # The names the issue asked for, as a client generator would expose them.
    assert {"getResults", "submitApplication", "uploadDocument", "issueToken"} <= set(ids)


def test_every_operation_has_a_one_line_summary_and_a_tag(app: FastAPI) -> None:
    for method, path, operation in operations(app):
        summary = operation.get("summary", "")
        assert summary.strip(), (method, path)
        assert "\n" not in summary, (method, path, summary)
        assert len(summary) <= 60, (method, path, summary)
        assert summary == summary_of(operation["operationId"])
        assert operation.get("tags"), (method, path)
        assert all(tag.strip() for tag in operation["tags"]), (method, path)


def test_every_override_names_a_route(app: FastAPI) -> None:
    """A renamed endpoint would silently change a client's method name: an override that names
    no route fails here, so whoever renamed it decides the operation id."""
    ids = {operation["operationId"] for _, _, operation in operations(app)}
    stale = {name for name in OPERATION_IDS if OPERATION_IDS[name] not in ids}
    assert not stale, stale


def test_ids_come_from_the_endpoint_name() -> None:
    def endpoint() -> None: ...

    route = APIRoute("/x", endpoint, name="get_round_results_csv")
    assert operation_id(route) == "getRoundResultsCsv"
    assert summary_of("getRoundResultsCsv") == "Get round results CSV"
    assert summary_of("listOauthClients") == "List OAuth clients"
    route = APIRoute("/x", endpoint, name="post_submit")
    assert operation_id(route) == "submitApplication"


def test_errors_are_problems_and_the_version_is_the_package(app: FastAPI) -> None:
    document = app.openapi()
    assert document["info"]["version"] == version("shortlist")
    problem = {"$ref": "#/components/schemas/Problem"}
    for method, path, operation in operations(app):
        responses = operation["responses"]
        errors = {code for code in responses if code[0] in "45"}
        assert "500" in errors, (method, path)
        for code in errors:
            content = responses[code].get("content", {})
            if path.startswith("/oauth/") and code not in OAUTH_PROBLEMS:
                continue  # RFC 6749 errors, declared by the OAuth routes themselves
            assert content["application/problem+json"]["schema"] == problem, (method, path, code)
        if operation.get("security"):
            assert {"401", "403"} <= errors, (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)


def _is_problem(body: Any, status: int) -> bool:
    """``body`` has PROBLEM_SCHEMA's required members, of its types, and says ``status``."""
    types = {"string": str, "integer": int}
    properties = PROBLEM_SCHEMA["properties"]
    return (
        isinstance(body, dict)
        and all(
            isinstance(body.get(name), types[properties[name]["type"]])
            for name in PROBLEM_SCHEMA["required"]
        )
        and body["status"] == status
    )


def test_every_operation_declares_and_answers_the_outage_503(
    app: FastAPI, client: TestClient
) -> None:
    """API.md ("Conventions"): while the database is unreachable a request gets 503 with
    ``Retry-After``; the document says so of every operation but the few served regardless."""
    problem = {"$ref": "#/components/schemas/Problem"}
    refused = []
    (database,) = app.state.outages
    database.down = True  # as the first failed request marks it (no probe runs: it stays down)
    try:
        for method, path, operation in operations(app):
            declared = operation["responses"].get("503")
            if path.startswith(OUTAGE_EXEMPT):
                assert declared is None or "headers" not in declared, (method, path)
                continue
            assert declared["content"]["application/problem+json"]["schema"] == problem
            header = declared["headers"]["Retry-After"]
            assert header["required"] is True
            assert header["schema"]["type"] == "integer"
            url = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)
            response = client.request(method.upper(), url)
            if not (
                response.status_code == 503
                and response.headers["content-type"] == "application/problem+json"
                and _is_problem(response.json(), 503)
                and int(response.headers["retry-after"]) >= 0
            ):
                refused.append(f"{method.upper()} {path}: {response.status_code}")
    finally:
        database.down = False
    assert not refused, refused
    # The exempt ones still answer.
    assert client.get("/healthz").status_code == 200


def test_every_operation_the_rate_limiter_may_refuse_declares_429_with_retry_after(
    settings: Settings,
) -> None:
    """The rate limiter answers 429 with ``Retry-After`` on every authenticated write
    (api/security.py) and on the OAuth form endpoints (api/routes/oauth.py ``_limit``): the
    document declares that 429, with the header as for the outage 503, there and nowhere else."""
    app = create_app(settings.model_copy(update={"rate_limit_writes_per_minute": 1}))
    try:
        problem = {"$ref": "#/components/schemas/Problem"}
        undeclared, unlimited = [], []
        for method, path, operation in operations(app):
            declared = operation["responses"].get("429")
            may_limit = (
                method in {"post", "put", "patch", "delete"} and bool(operation.get("security"))
            ) or (method == "post" and path in OAUTH_FORMS)
            if not may_limit:
                if declared is not None:
                    unlimited.append(f"{method.upper()} {path}")
                continue
            if declared is None or "Retry-After" not in declared.get("headers", {}):
                undeclared.append(f"{method.upper()} {path}")
                continue
            assert declared["content"]["application/problem+json"]["schema"] == problem
            header = declared["headers"]["Retry-After"]
            assert header["required"] is True
            assert header["schema"]["type"] == "integer"
        assert not undeclared, undeclared
        assert not unlimited, unlimited
        # And a real 429 on an authenticated write carries it.
        with TestClient(app) as client:
            _, headers = make_principal(app, roles=[Role.admin])
            answers = [
                client.post(
                    "/api/v1/users",
                    json={"email": f"rl{i}@example.org", "name": "R"},
                    headers=headers,
                )
                for i in range(2)
            ]
            assert [a.status_code for a in answers] == [201, 429], answers[-1].text
            assert answers[-1].headers["content-type"] == "application/problem+json"
            assert int(answers[-1].headers["retry-after"]) >= 1
            assert _is_problem(answers[-1].json(), 429), answers[-1].text
    finally:
        app.state.engine.dispose()
        app.state.reader.dispose()


def test_oauth_413_and_429_are_declared_and_answered_as_problems(settings: Settings) -> None:
    """Issue 17: the OAuth form endpoints declared their 413 and 429 without a body, while the
    edge (body cap) and the rate limiter answer them as problems."""
    app = create_app(settings.model_copy(update={"rate_limit_token_per_minute": 1}))
    try:
        document = app.openapi()["paths"]
        problem = {"$ref": "#/components/schemas/Problem"}
        too_big = {"grant_type": "x" * (settings.max_body_bytes + 1)}
        with TestClient(app) as client:
            for path in OAUTH_FORMS:
                responses = document[path]["post"]["responses"]
                for code in ("413", "429"):
                    assert list(responses[code]["content"]) == ["application/problem+json"]
                    assert responses[code]["content"]["application/problem+json"]["schema"] == (
                        problem
                    ), (path, code)
                    assert responses[code]["description"] != "Error", (path, code)
                assert responses["429"]["headers"]["Retry-After"]["required"] is True, path
                refused = client.post(path, data=too_big)
                assert refused.status_code == 413, (path, refused.text)
                assert refused.headers["content-type"] == "application/problem+json"
                assert _is_problem(refused.json(), 413), refused.text
                # One request a minute per address and endpoint family: the second is refused.
                limited = [client.post(path, data={"grant_type": "client_credentials"})]
                limited.append(client.post(path, data={"grant_type": "client_credentials"}))
                assert limited[-1].status_code == 429, (path, limited[-1].text)
                assert limited[-1].headers["content-type"] == "application/problem+json"
                assert int(limited[-1].headers["retry-after"]) >= 1
                assert _is_problem(limited[-1].json(), 429), limited[-1].text
    finally:
        app.state.engine.dispose()
        app.state.reader.dispose()


def test_every_reference_points_into_the_documents_components(app: FastAPI) -> None:
    """A schema declared by hand (``openapi_extra``) keeps no ``#/$defs/...`` reference, which
    would point nowhere (ReDoc refuses the whole document): ``api.openapi.inlined_schema``."""
    document = app.openapi()
    references: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                references.append(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    assert references
    components = document["components"]["schemas"]
    for ref in references:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in components, ref
    body = document["paths"]["/api/v1/rounds/{round_id}/affinities"]["put"]["requestBody"]
    assert "$defs" not in str(body)
