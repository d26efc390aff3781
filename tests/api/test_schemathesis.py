"""Property-based API fuzzing over the app's own OpenAPI schema, in process, once per role (a
token of an admin, of an applicant with an organization, of a reviewer on a round's panel): no
5xx, every response conforming to the schema (status code documented, body and headers as
declared), and the stateful phase, which chains calls along the schema's links (create, then
read, change and act on what was created).

Bounded for ``make test`` by ``SHORTLIST_FUZZ_EXAMPLES`` (default 5): the fuzzed examples per
operation and role; four times as many stateful scenarios per role. The coverage phase
(schemathesis's deterministic boundary and negative cases: about a minute and a half on a loaded
2-core machine) runs once, with the admin's token, when ``SHORTLIST_FUZZ_COVERAGE=1``; ``.ci/run``
sets both for its longer run on SQLite.
"""

import contextlib
import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.db import open_session
from models.identity import Role
from models.reviewers import RoundReviewerCreate
from reviewers.pool import add_reviewer
from tests.factories import actor_of, make_organization, make_principal, make_round, make_user

MAX_EXAMPLES = int(os.environ.get("SHORTLIST_FUZZ_EXAMPLES", "5"))
COVERAGE = os.environ.get("SHORTLIST_FUZZ_COVERAGE") == "1"
STEPS = 6
SCENARIOS = 4 * MAX_EXAMPLES
ROLES = {"admin": Role.admin, "applicant": Role.applicant, "reviewer": Role.reviewer}
# Requests that are valid by the schema may still be refused for business reasons (unknown ids,
# reserved email domains, a round not open): what matters is no 5xx and a documented,
# conforming answer.
EXCLUDED = [positive_data_acceptance]


def fuzz_settings(max_examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        derandomize=True,
        database=None,
    )


def _seed(app: FastAPI, role: str) -> dict[str, str]:
    """The role's principal in a small world: an open round (made by an admin), and the
    applicant's own organization or the reviewer's place on the round's panel."""
    user, headers = make_principal(app, roles=[ROLES[role]])
    session = open_session(app.state.engine, write=True)
    try:
        round = make_round(session, now=app.state.clock())
        if role == "applicant":
            make_organization(session, user, now=app.state.clock())
        if role == "reviewer":
            admin = make_user(session, roles=[Role.admin])
            add_reviewer(
                session=session,
                actor=actor_of(admin),
                round_id=round.id,
                data=RoundReviewerCreate(user_id=user.id, max_assignments=5),
                now=app.state.clock(),
            )
            session.commit()
    finally:
        session.close()
    return headers


@pytest.fixture(params=sorted(ROLES))
def role(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def api_schema(app: FastAPI, role: str) -> Any:
    app.state.fuzz_headers = _seed(app, role)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # The coverage phase is deterministic and costly: once, with the admin's token, when asked.
    schema.config.phases.coverage.enabled = COVERAGE and role == "admin"
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@fuzz_settings(MAX_EXAMPLES)
def test_api_never_fails_and_conforms(case: Any, app: FastAPI) -> None:
    response = case.call(headers=app.state.fuzz_headers)
    assert response.status_code < 500, response.text
    case.validate_response(response, excluded_checks=EXCLUDED)


def test_creating_operations_link_to_what_they_created(app: FastAPI) -> None:
    paths = app.openapi()["paths"]

    def linked(path: str) -> set[str]:
        links = paths[path]["post"]["responses"]["201"]["links"].values()
        return {link["operationId"] for link in links}

    def operation(path: str, method: str) -> str:
        operation_id: str = paths[path][method]["operationId"]
        return operation_id

    expected = {
        "/api/v1/organizations": [("/api/v1/organizations/{organization_id}", "get")],
        "/api/v1/programs": [("/api/v1/programs/{program_id}", "get")],
        "/api/v1/programs/{program_id}/rounds": [
            ("/api/v1/rounds/{round_id}", "get"),
            ("/api/v1/rounds/{round_id}", "patch"),
            ("/api/v1/rounds/{round_id}/open", "post"),
        ],
        "/api/v1/rounds/{round_id}/applications": [
            ("/api/v1/applications/{application_id}", "get"),
            ("/api/v1/applications/{application_id}", "patch"),
            ("/api/v1/applications/{application_id}/submit", "post"),
        ],
        "/api/v1/applications/{application_id}/documents": [
            ("/api/v1/documents/{document_id}", "get"),
            ("/api/v1/documents/{document_id}", "delete"),
        ],
        "/api/v1/rounds/{round_id}/assignments": [
            ("/api/v1/assignments/{assignment_id}/review", "put"),
            ("/api/v1/assignments/{assignment_id}/review", "get"),
        ],
    }
    for creator, targets in expected.items():
        assert {operation(p, m) for p, m in targets} <= linked(creator), creator


def test_stateful_sequences_never_fail_and_conform(app: FastAPI, api_schema: Any) -> None:
    """``SCENARIOS`` scenarios of up to ``STEPS`` calls along the links: what one call creates,
    the next reads, changes or acts on."""
    headers = app.state.fuzz_headers
    machine = api_schema.as_state_machine()
    failures: list[str] = []
    scenarios: list[int] = []

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            try:
                assert response.status_code < 500, response.text
                case.validate_response(
                    response,
                    additional_checks=additional_checks,
                    excluded_checks=EXCLUDED,
                    transport_kwargs=kwargs or None,
                    recorder=getattr(self, "recorder", None),
                )
            except Exception as exc:
                failures.append(f"{case.method} {case.formatted_path}: {exc}")
                raise

        def teardown(self) -> None:
            scenarios.append(1)
            super().teardown()

    # Hypothesis replays choices it made before, and against a database that earlier scenarios
    # changed a replay may take another path: it then gives up, calling the test flaky. Like
    # schemathesis's own runner, judge by the failures seen, and carry on (with fresh choices)
    # until the scenarios are done.
    for attempt in range(5):
        if failures or len(scenarios) >= SCENARIOS:
            break
        settings = hypothesis.settings(
            fuzz_settings(SCENARIOS - len(scenarios)),
            phases=[hypothesis.Phase.generate],
            stateful_step_count=STEPS,
            derandomize=attempt == 0,
        )
        with contextlib.suppress(hypothesis.errors.Flaky):
            Workflow.run(settings=settings)
    assert not failures, "\n".join(failures)
