"""Non-finite numbers in JSON bodies: a hostile client sends ``NaN``, ``Infinity``, ``-Infinity``
(literals Python's ``json`` reads although JSON has none) or ``1e999`` (a double's overflow) to
every route that takes a JSON body, read from the app's own OpenAPI document so that a route
added later is attacked too. Each is 422 naming the number's place, and nothing is stored.
"""

import math
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import SQLModel

from infra.db import open_session
from models.reviewers import ReviewIn
from models.rounds import RoundCreate
from tests.factories import round_config
from tests.security.scenario import Principal, Scenario, build_scenario, review_body, round_body
from tests.security.test_authorization_matrix import PATH_VALUES

P = Principal
LITERALS = ("NaN", "Infinity", "-Infinity", "1e999", "-1E+400", "1" + "0" * 400 + ".5")
NOT_FINITE = "Input should be a finite number"
PROBLEM = "application/problem+json"
MARK = "__NOT_FINITE__"
"""Stands in the Python value for where the raw literal goes in the JSON text."""


@pytest.fixture
def scenario(app: FastAPI, client: Any) -> Scenario:
    return build_scenario(app, client)


def raw_json(value: Any, literal: str) -> bytes:
    """``value`` as JSON text, with each ``MARK`` replaced by the literal as written."""
    import json

    return json.dumps(value).replace(f'"{MARK}"', literal).encode()


def row_counts(app: FastAPI) -> dict[str, int]:
    session = open_session(app.state.engine, write=False)
    try:
        return {
            table.name: int(
                session.connection()
                .execute(sa.select(sa.func.count()).select_from(table))
                .scalar_one()
            )
            for table in SQLModel.metadata.sorted_tables
        }
    finally:
        session.close()


def json_body_operations(app: FastAPI) -> list[tuple[str, str, list[str]]]:
    """(method, path, top-level property names) of every operation with a JSON request body."""
    document = app.openapi()
    schemas = document["components"]["schemas"]
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = content["application/json"].get("schema", {})
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
            found.append((method.upper(), path, sorted(schema.get("properties", {})) or ["value"]))
    return found


def url_of(s: Scenario, path: str) -> str:
    for name in (part.split("}")[0] for part in path.split("{")[1:]):
        if name == "user_id":
            value = s.user_id(P.assigned_reviewer)
        elif name == "client_id":
            value = "sl_unknown"
        else:
            value = getattr(s, PATH_VALUES[name])
        path = path.replace("{" + name + "}", value)
    return path


def send(s: Scenario, method: str, url: str, body: bytes, who: Principal = P.admin) -> Any:
    headers = {**s.headers(who), "Content-Type": "application/json", "If-Match": "*"}
    return s.client.request(method, url, content=body, headers=headers)


def assert_refused(response: Any, *locs: list[Any]) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "validation-error", problem
    named = [e["loc"] for e in problem["errors"] if e["msg"] == NOT_FINITE]
    for loc in locs:
        assert loc in named, (loc, problem)
    assert ".".join(str(p) for p in locs[0]) in problem["detail"], problem


def test_every_json_body_route_refuses_non_finite_numbers(app: FastAPI, scenario: Scenario) -> None:
    s = scenario
    operations = json_body_operations(app)
    # Every JSON-body route the API has, wherever it was declared.
    assert {"PUT /api/v1/assignments/{assignment_id}/review"} <= {
        f"{m} {p}" for m, p, _ in operations
    }
    assert len(operations) >= 15, operations
    # The scenario makes some objects when first asked for (a webhook endpoint): all of them
    # exist before the rows are counted.
    targets = [(method, url_of(s, path), properties) for method, path, properties in operations]
    before = row_counts(app)
    for method, url, properties in targets:
        field = properties[0]
        for literal in LITERALS:
            top = send(s, method, url, raw_json({field: MARK}, literal))
            assert_refused(top, ["body", field])
            nested = {field: {"deep": [1, {"x": MARK}]}, "other": [MARK]}
            deep = send(s, method, url, raw_json(nested, literal))
            assert_refused(deep, ["body", field, "deep", 1, "x"], ["body", "other", 0])
    assert row_counts(app) == before


def test_a_review_with_a_nan_score_is_refused_and_not_stored(scenario: Scenario) -> None:
    s = scenario
    url = f"/api/v1/assignments/{s.recusable_assignment}/review"
    for literal in ("NaN", "Infinity", "-Infinity", "1e999"):
        body = review_body()
        body["scores"]["tech"] = MARK
        response = send(s, "PUT", url, raw_json(body, literal), P.assigned_reviewer)
        assert_refused(response, ["body", "scores", "tech"])
    stored = s.client.get(url, headers=s.headers(P.assigned_reviewer))
    assert stored.status_code == 404, stored.text
    # The same review with finite scores is taken: only the numbers were wrong.
    fine = send(s, "PUT", url, raw_json(review_body(), "0"), P.assigned_reviewer)
    assert fine.status_code == 201, fine.text


def test_round_rules_with_infinite_weights_or_totals_are_refused(
    app: FastAPI, scenario: Scenario
) -> None:
    s = scenario
    before = row_counts(app)
    body = round_body("Stage 2")
    body["criteria"][0]["weight"] = MARK
    body["criteria"][0]["min"] = MARK
    body["criteria"][1]["threshold"] = MARK
    body["shortlist"]["min_total"] = MARK
    for literal in ("Infinity", "-Infinity", "NaN", "1e999"):
        response = send(
            s, "POST", f"/api/v1/programs/{s.program_id}/rounds", raw_json(body, literal)
        )
        assert_refused(
            response,
            ["body", "criteria", 0, "weight"],
            ["body", "criteria", 0, "min"],
            ["body", "criteria", 1, "threshold"],
            ["body", "shortlist", "min_total"],
        )
    panel = {"user_id": str(s.spare_reviewer.id), "max_assignments": MARK, "expertise": []}
    response = send(s, "POST", f"/api/v1/rounds/{s.round_id}/reviewers", raw_json(panel, "1e999"))
    assert_refused(response, ["body", "max_assignments"])
    assert row_counts(app) == before


def test_a_number_inside_a_string_is_only_text(scenario: Scenario) -> None:
    """The words and exponents that make a number non-finite are fine inside strings."""
    s = scenario
    body = {"name": "NaN Infinity 1e999", "description": "-Infinity 9" * 40}
    response = send(s, "POST", "/api/v1/programs", raw_json(body, "0"))
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "NaN Infinity 1e999"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_input_models_refuse_non_finite_numbers_from_any_caller(value: float) -> None:
    """The models refuse them too, for callers that do not come through HTTP."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="finite number"):
        ReviewIn.model_validate({"scores": {"tech": value}})
    config = round_config()
    config["criteria"][0]["weight"] = value
    with pytest.raises(ValidationError, match="finite number"):
        RoundCreate.model_validate(config)
