"""The authorization matrix: every route of the app, for each of eight principals, against one
shared scenario (``tests.security.scenario``: a round in review with organizations, two bids,
a document, assignments, a conflict and a submitted review).

``MATRIX`` below declares, once per route, what each principal gets: ``401``, ``403``, ``404``
or ``OK`` (a 2xx, or a business refusal such as 409/412/422/428 that only a caller who passed
every authorization check can reach). The routes are read from the app itself, so a route that
is added without a row here fails ``test_every_route_is_in_the_matrix``.

Every principal's token holds every scope: scopes are covered route by route in
``tests/api/test_oauth_route_guards.py``; here only roles and ownership may refuse. Each route
acts on one object of the scenario (``PATH_VALUES``, overridden per row), and a few rows change
it for good (withdraw, recuse, remove an assignment, close): they run last, each principal's
refusal before the one allowed call.
"""

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.security.scenario import (
    CSV,
    T0,
    Principal,
    Scenario,
    build_scenario,
    organization_body,
    review_body,
    round_body,
)

OK = "OK"
BUSINESS = frozenset({409, 412, 422, 428})
"""Refusals that come after authorization: state, preconditions, validation."""
PROBLEM = "application/problem+json"
P = Principal
Expect = int | str
Body = Callable[[Scenario], Any]


def row(tokens: Expect, *, anonymous: Expect = 401, **cells: Expect) -> dict[Principal, Expect]:
    """Every principal with a token gets ``tokens`` unless named in ``cells``."""
    expected: dict[Principal, Expect] = dict.fromkeys(Principal, tokens)
    expected[P.anonymous] = anonymous
    for name, value in cells.items():
        expected[Principal(name)] = value
    return expected


ADMIN_ONLY = row(403, admin=OK)
ANY_TOKEN = row(OK)
PUBLIC = row(OK, anonymous=OK)
# The main bid: its participants and (in review) its assigned reviewer read it; an admin reads
# it once the deadline has passed; anyone else may not learn that it exists.
READ_BID = row(404, applicant=OK, member_owner=OK, assigned_reviewer=OK, admin=OK)
# Changes to the bid and its documents are the lead organization's: a member organization's
# owner, an admin and the assigned reviewer see it but may not change it (403).
CHANGE_BID = row(404, applicant=OK, member_owner=403, assigned_reviewer=403, admin=403)
# A member organization's own answer to its listing: an owner of that organization.
ANSWER_LISTING = row(404, applicant=403, member_owner=OK, assigned_reviewer=403, admin=403)
# The assigned reviewer's own assignment: an admin may read it but not act as the reviewer.
OWN_ASSIGNMENT = row(404, assigned_reviewer=OK, admin=403)


@dataclass(frozen=True)
class Case:
    expect: dict[Principal, Expect]
    json: Body | None = None
    upload: bool = False
    params: dict[str, str] = field(default_factory=dict)
    """Path parameters that name another object of the scenario than ``PATH_VALUES``."""
    if_match: bool = False
    last: bool = False
    """The allowed call changes the scenario for good: run after every other row."""


def _fresh_round(s: Scenario) -> dict[str, Any]:
    body = round_body("Stage 2")
    body["opens_at"] = (T0 + timedelta(days=30)).isoformat()
    body["submission_deadline"] = (T0 + timedelta(days=40)).isoformat()
    body["review_deadline"] = (T0 + timedelta(days=50)).isoformat()
    return body


MATRIX: dict[str, Case] = {
    # --- health, discovery, docs: no authentication at all
    "GET /healthz": Case(PUBLIC),
    "GET /readyz": Case(PUBLIC),
    # Not from loopback (the test client's address is "testclient") and no metrics token set:
    # off for everyone, whatever their token (tests/security/test_metrics_access.py).
    "GET /metrics": Case(row(404, anonymous=404)),
    "GET /openapi.json": Case(PUBLIC),
    "GET /docs": Case(PUBLIC),
    "GET /docs/oauth2-redirect": Case(PUBLIC),
    "GET /redoc": Case(PUBLIC),
    "GET /.well-known/oauth-authorization-server": Case(PUBLIC),
    "GET /.well-known/openid-configuration": Case(PUBLIC),
    "GET /oauth/jwks": Case(PUBLIC),
    # --- the authorization server authenticates clients, never by a bearer token
    "POST /oauth/token": Case(row(401, anonymous=401)),
    "POST /oauth/revoke": Case(row(401, anonymous=401)),
    "POST /oauth/introspect": Case(row(401, anonymous=401)),
    "GET /oauth/authorize": Case(row(400, anonymous=400)),
    "POST /oauth/authorize": Case(row(400, anonymous=400)),
    # --- identity
    "GET /api/v1/me": Case(ANY_TOKEN),
    "POST /api/v1/users": Case(
        ADMIN_ONLY,
        json=lambda s: {"email": f"new-{uuid.uuid4().hex[:8]}@example.org", "name": "New"},
    ),
    # A client for the applicant: the applicant themself (signed in just now) or an admin.
    "POST /api/v1/oauth-clients": Case(
        row(403, applicant=OK, admin=OK),
        json=lambda s: {
            "name": "matrix",
            "scopes": ["applications:read"],
            "user_id": s.user_id(P.applicant),
        },
    ),
    # Each lists their own clients (an admin: anyone's, with ?user_id=).
    "GET /api/v1/oauth-clients": Case(ANY_TOKEN),
    # A client of the applicant: the applicant or an admin deletes it; to anyone else it does
    # not exist. (A new one for each call.)
    "DELETE /api/v1/oauth-clients/{client_id}": Case(
        row(404, applicant=OK, admin=OK), params={"client_id": "fresh_client"}
    ),
    "POST /api/v1/users/{user_id}/deactivate": Case(ADMIN_ONLY, params={"user_id": "fresh_user"}),
    # --- organizations
    "POST /api/v1/organizations": Case(
        row(OK, assigned_reviewer=403, unassigned_reviewer=403, conflicted_reviewer=403),
        json=lambda s: organization_body(f"Org {uuid.uuid4().hex[:6]}"),
    ),
    "GET /api/v1/organizations": Case(ANY_TOKEN),
    "GET /api/v1/organizations/{organization_id}": Case(row(404, applicant=OK, admin=OK)),
    "POST /api/v1/organizations/{organization_id}/members": Case(
        row(404, applicant=OK, admin=403),
        json=lambda s: {"user_id": str(s.spare_user.id), "role": "member"},
    ),
    "POST /api/v1/organizations/{organization_id}/email-domains/verify": Case(
        ADMIN_ONLY, json=lambda s: {"domain": "lead.example.com"}
    ),
    # --- programs and rounds
    "POST /api/v1/programs": Case(
        ADMIN_ONLY, json=lambda s: {"name": "Another", "description": "program"}
    ),
    "GET /api/v1/programs": Case(ADMIN_ONLY),
    "GET /api/v1/programs/{program_id}": Case(ADMIN_ONLY),
    "POST /api/v1/programs/{program_id}/rounds": Case(ADMIN_ONLY, json=_fresh_round),
    "GET /api/v1/programs/{program_id}/rounds": Case(ADMIN_ONLY),
    "GET /api/v1/rounds/{round_id}": Case(ADMIN_ONLY),
    "PATCH /api/v1/rounds/{round_id}": Case(
        ADMIN_ONLY,
        json=lambda s: {"review_deadline": (T0 + timedelta(days=11)).isoformat()},
        if_match=True,
    ),
    "POST /api/v1/rounds/{round_id}/open": Case(ADMIN_ONLY),
    "POST /api/v1/rounds/{round_id}/start-review": Case(ADMIN_ONLY),
    # --- applications
    "POST /api/v1/rounds/{round_id}/applications": Case(
        row(403, applicant=OK),
        json=lambda s: {"title": "Another bid", "lead_organization_id": s.lead_org},
    ),
    "GET /api/v1/applications": Case(ANY_TOKEN),
    "GET /api/v1/applications/{application_id}": Case(READ_BID),
    "PATCH /api/v1/applications/{application_id}": Case(
        CHANGE_BID, json=lambda s: {"title": "Renamed"}, if_match=True
    ),
    # Only an owner of the member organization confirms its participation.
    "POST /api/v1/applications/{application_id}/members/{organization_id}/confirm": Case(
        ANSWER_LISTING, params={"organization_id": "member_org"}
    ),
    # The round is in review: the member owner's decline is refused (409) and changes nothing.
    "POST /api/v1/applications/{application_id}/members/{organization_id}/decline": Case(
        ANSWER_LISTING, params={"organization_id": "member_org"}
    ),
    "POST /api/v1/applications/{application_id}/submit": Case(CHANGE_BID),
    "POST /api/v1/applications/{application_id}/reopen": Case(CHANGE_BID),
    "POST /api/v1/applications/{application_id}/withdraw": Case(CHANGE_BID, last=True),
    # --- documents
    "POST /api/v1/applications/{application_id}/documents": Case(CHANGE_BID, upload=True),
    "GET /api/v1/applications/{application_id}/documents": Case(READ_BID),
    "GET /api/v1/documents/{document_id}": Case(READ_BID),
    "GET /api/v1/documents/{document_id}/content": Case(READ_BID),
    "DELETE /api/v1/documents/{document_id}": Case(CHANGE_BID),
    # --- reviewers and conflicts
    "POST /api/v1/rounds/{round_id}/reviewers": Case(
        ADMIN_ONLY,
        json=lambda s: {"user_id": str(s.spare_reviewer.id), "max_assignments": 2},
    ),
    "GET /api/v1/rounds/{round_id}/reviewers": Case(ADMIN_ONLY),
    # The assigned reviewer's own profile: they or an admin; other reviewers may not learn of
    # it (404); applicants are refused by role (403).
    "PUT /api/v1/reviewers/{user_id}/profile": Case(
        row(
            403,
            assigned_reviewer=OK,
            unassigned_reviewer=404,
            conflicted_reviewer=404,
            admin=OK,
        ),
        json=lambda s: {"affiliations": [], "email_domains": [], "expertise": ["llm"]},
    ),
    "GET /api/v1/rounds/{round_id}/conflicts": Case(ADMIN_ONLY),
    "POST /api/v1/rounds/{round_id}/conflicts": Case(
        ADMIN_ONLY,
        json=lambda s: {
            "reviewer_id": s.user_id(P.conflicted_reviewer),
            "application_id": s.application,
            "reason": "advised the consortium",
        },
    ),
    # --- assignments
    "POST /api/v1/rounds/{round_id}/assignments/auto": Case(
        ADMIN_ONLY, json=lambda s: {"dry_run": True}
    ),
    "GET /api/v1/rounds/{round_id}/assignments": Case(ADMIN_ONLY),
    "POST /api/v1/rounds/{round_id}/assignments": Case(
        ADMIN_ONLY,
        json=lambda s: {
            "application_id": s.application,
            "reviewer_id": s.user_id(P.conflicted_reviewer),
        },
    ),
    "GET /api/v1/me/assignments": Case(
        row(403, assigned_reviewer=OK, unassigned_reviewer=OK, conflicted_reviewer=OK)
    ),
    "POST /api/v1/assignments/{assignment_id}/recuse": Case(
        OWN_ASSIGNMENT,
        json=lambda s: {"reason": "I advised this consortium"},
        params={"assignment_id": "recusable_assignment"},
        last=True,
    ),
    "DELETE /api/v1/assignments/{assignment_id}": Case(
        ADMIN_ONLY, params={"assignment_id": "removable_assignment"}, last=True
    ),
    # --- affinities and preferences: scores are the admin's; the panel states preferences on
    # the bids it is not conflicted with (the conflicted reviewer cannot learn the main bid).
    "GET /api/v1/rounds/{round_id}/affinities": Case(ADMIN_ONLY),
    "PUT /api/v1/rounds/{round_id}/affinities": Case(ADMIN_ONLY, json=lambda s: {"items": []}),
    "GET /api/v1/rounds/{round_id}/applications-for-preference": Case(
        row(403, assigned_reviewer=OK, unassigned_reviewer=OK, conflicted_reviewer=OK)
    ),
    "PUT /api/v1/rounds/{round_id}/preferences/{application_id}": Case(
        row(403, assigned_reviewer=OK, unassigned_reviewer=OK, conflicted_reviewer=404),
        json=lambda s: {"preference": "willing"},
    ),
    "GET /api/v1/rounds/{round_id}/preferences": Case(
        row(403, assigned_reviewer=OK, unassigned_reviewer=OK, conflicted_reviewer=OK, admin=OK)
    ),
    # --- reviews
    "PUT /api/v1/assignments/{assignment_id}/review": Case(
        OWN_ASSIGNMENT, json=lambda s: review_body()
    ),
    "GET /api/v1/assignments/{assignment_id}/review": Case(
        row(404, assigned_reviewer=OK, admin=OK)
    ),
    "POST /api/v1/assignments/{assignment_id}/review/submit": Case(OWN_ASSIGNMENT),
    # --- closing and results (the round is in review: results are not published)
    "GET /api/v1/rounds/{round_id}/shortlist/preview": Case(ADMIN_ONLY),
    "POST /api/v1/rounds/{round_id}/publish": Case(ADMIN_ONLY),
    "GET /api/v1/rounds/{round_id}/results": Case(ADMIN_ONLY),
    "GET /api/v1/rounds/{round_id}/results.csv": Case(ADMIN_ONLY),
    # --- the program officer's desk (in review: progress; the report and workbook are 409)
    "GET /api/v1/rounds/{round_id}/progress": Case(ADMIN_ONLY),
    "GET /api/v1/rounds/{round_id}/report": Case(ADMIN_ONLY),
    "GET /api/v1/rounds/{round_id}/results.xlsx": Case(ADMIN_ONLY),
    # In review the admin's answer is 409 round-not-closed; everyone else's 403 not-published.
    # Its scope is the results' (applications:read): tests/security/test_decision_record_scope.py.
    "GET /api/v1/rounds/{round_id}/decision-record": Case(ADMIN_ONLY),
    "POST /api/v1/rounds/{round_id}/close": Case(
        ADMIN_ONLY, json=lambda s: {"allow_missing_reviews": True}, last=True
    ),
    # --- audit
    "GET /api/v1/audit": Case(ADMIN_ONLY),
    "GET /api/v1/audit/verify": Case(ADMIN_ONLY),
    # --- events (each reads what they may: tests/api/test_events.py) and webhooks (admins)
    "GET /api/v1/events": Case(ANY_TOKEN),
    "POST /api/v1/webhooks": Case(
        ADMIN_ONLY,
        json=lambda s: {"url": "https://93.184.216.34/hook", "event_types": ["document.scanned"]},
    ),
    "GET /api/v1/webhooks": Case(ADMIN_ONLY),
    "GET /api/v1/webhooks/{webhook_id}": Case(ADMIN_ONLY),
    "PATCH /api/v1/webhooks/{webhook_id}": Case(ADMIN_ONLY, json=lambda s: {"description": "m"}),
    "POST /api/v1/webhooks/{webhook_id}/rotate-secret": Case(ADMIN_ONLY),
    "GET /api/v1/webhooks/{webhook_id}/deliveries": Case(ADMIN_ONLY),
    "POST /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry": Case(ADMIN_ONLY),
    "DELETE /api/v1/webhooks/{webhook_id}": Case(ADMIN_ONLY, last=True),
}

PATH_VALUES = {
    "organization_id": "lead_org",
    "program_id": "program_id",
    "round_id": "round_id",
    "application_id": "application",
    "document_id": "document",
    "assignment_id": "assignment",
    "webhook_id": "webhook",
    "delivery_id": "webhook_delivery",
}


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path) the app answers, however its routers are nested (HEAD aside)."""
    try:
        from fastapi.routing import iter_route_contexts

        routes: Iterable[Any] = iter_route_contexts(app.routes)
    except ImportError:  # FastAPI before routers were kept nested
        routes = app.routes
    for route in routes:
        path = getattr(route, "path", None)
        for method in sorted(getattr(route, "methods", None) or ()):
            if path is not None and method != "HEAD":
                yield method, path


def key(method: str, path: str) -> str:
    return f"{method} {path}"


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = {key(m, p) for m, p in app_routes(app)}
    assert len(routes) > 60, routes
    assert not routes - MATRIX.keys(), f"routes without a row in MATRIX: {routes - MATRIX.keys()}"
    assert not MATRIX.keys() - routes, f"rows for routes that are gone: {MATRIX.keys() - routes}"
    documented = {
        key(method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
    }
    assert {r for r in routes if r.split(" ")[1].startswith("/api/")} <= documented


@dataclass
class Outcome:
    route: str
    principal: Principal
    expected: Expect
    status: int
    detail: str


def _url(s: Scenario, path: str, case: Case) -> str:
    names = {**PATH_VALUES, **case.params}
    url = path
    for name in (part.split("}")[0] for part in path.split("{")[1:]):
        if name == "user_id" and name not in case.params:
            value = s.user_id(P.assigned_reviewer)
        else:
            value = getattr(s, names[name])
        url = url.replace("{" + name + "}", value)
    return url


def _call(s: Scenario, route: str, case: Case, principal: Principal) -> Any:
    method, path = route.split(" ", 1)
    headers = s.headers(principal)
    if case.if_match:
        headers["If-Match"] = "*"
    kwargs: dict[str, Any] = {"headers": headers}
    if case.json is not None:
        kwargs["json"] = case.json(s)
    if case.upload:
        kwargs["data"] = {"kind": "budget"}
        kwargs["files"] = {"file": ("budget.csv", CSV, "text/csv")}
    if route == "POST /oauth/token":
        kwargs["data"] = {"grant_type": "client_credentials"}
    elif route in ("POST /oauth/revoke", "POST /oauth/introspect"):
        kwargs["data"] = {"token": s.headers(P.admin)["Authorization"].split(" ", 1)[1]}
    return s.client.request(method, _url(s, path, case), **kwargs)


def _check(
    route: str, principal: Principal, expected: Expect, response: Any, declared: set[str] | None
) -> Outcome | None:
    status = response.status_code
    problems = []
    if expected == OK:
        if not (200 <= status < 300 or status in BUSINESS):
            problems.append("not allowed")
    elif status != expected:
        problems.append("wrong status")
    api = route.split(" ")[1].startswith("/api/")
    challenge = response.headers.get("www-authenticate", "")
    if api and status == 401 and not challenge.startswith("Bearer"):
        problems.append("401 without a Bearer challenge")
    if api and status >= 400 and response.headers.get("content-type") != PROBLEM:
        problems.append("not problem+json")
    if declared is not None and str(status) not in declared:
        problems.append(f"{status} is not documented (documented: {sorted(declared)})")
    if status >= 500:
        problems.append("server error")
    if not problems:
        return None
    return Outcome(route, principal, expected, status, "; ".join(problems) + f": {response.text}")


def _order(case: Case) -> list[Principal]:
    """Refusals first, so that the allowed call (which may change things) comes last."""
    return sorted(Principal, key=lambda p: case.expect[p] == OK)


@pytest.fixture
def scenario(app: FastAPI, client: TestClient) -> Scenario:
    return build_scenario(app, client)


def test_authorization_matrix(app: FastAPI, scenario: Scenario) -> None:
    paths = app.openapi()["paths"]
    routes = {key(m, p) for m, p in app_routes(app)}
    rows = [r for r in MATRIX if r in routes and not MATRIX[r].last]
    rows += [r for r in MATRIX if r in routes and MATRIX[r].last]
    wrong: list[Outcome] = []
    calls = 0
    for route in rows:
        case = MATRIX[route]
        method, path = route.split(" ", 1)
        operation = paths.get(path, {}).get(method.lower())
        declared = set(operation["responses"]) if operation else None
        for principal in _order(case):
            response = _call(scenario, route, case, principal)
            calls += 1
            outcome = _check(route, principal, case.expect[principal], response, declared)
            if outcome is not None:
                wrong.append(outcome)
    assert calls == len(rows) * len(Principal)
    assert not wrong, "\n".join(
        f"{o.route} as {o.principal}: expected {o.expected}, got {o.status} ({o.detail[:300]})"
        for o in wrong
    )


def test_every_allowed_call_on_a_closed_then_published_round_answers_without_error(
    app: FastAPI, scenario: Scenario
) -> None:
    """The matrix's allowed calls again, once the round is closed and again once published:
    refusals are documented 4xx problems (a round that is over is a 409), never a 500."""
    s = scenario
    paths = app.openapi()["paths"]
    admin = s.headers(P.admin)
    close = s.client.post(
        f"/api/v1/rounds/{s.round_id}/close", json={"allow_missing_reviews": True}, headers=admin
    )
    assert close.status_code == 200, close.text
    wrong: list[str] = []
    for phase in ("closed", "published"):
        if phase == "published":
            # The closed phase's own publish row may have published it already.
            s.client.post(f"/api/v1/rounds/{s.round_id}/publish", headers=admin)
            state = s.client.get(f"/api/v1/rounds/{s.round_id}", headers=admin).json()
            assert state["status"] == "published", state
        for route, case in MATRIX.items():
            method, path = route.split(" ", 1)
            if not path.startswith("/api/") or case.last:
                continue
            declared = set(paths[path][method.lower()]["responses"])
            for principal in (p for p in Principal if case.expect[p] == OK):
                response = _call(s, route, case, principal)
                status = response.status_code
                if status >= 500 or str(status) not in declared:
                    wrong.append(f"{phase}: {route} as {principal}: {status} {response.text[:200]}")
        results = s.client.get(f"/api/v1/rounds/{s.round_id}/results", headers=admin)
        assert results.status_code == 200, results.text
    own = s.client.get(f"/api/v1/rounds/{s.round_id}/results", headers=s.headers(P.applicant))
    assert own.status_code == 200, own.text
    assert [r["application_id"] for r in own.json()["ranking"]] == [s.application]
    assert not wrong, "\n".join(wrong)


# --- the authorization server's forms, with anything in them ------------------------------------

OAUTH_FORMS = ("/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/authorize")
OAUTH_REDIRECT = "http://localhost:9999/callback"
OAUTH_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "unsupported_token_type",
    "unsupported_response_type",
    "access_denied",
}
RFC6749_DESCRIPTION = frozenset(
    chr(c) for c in (0x20, 0x21, *range(0x23, 0x5C), *range(0x5D, 0x7F))
)


def _oauth_fields(app: FastAPI, path: str, method: str) -> list[str]:
    """The fields the OpenAPI document declares for an OAuth endpoint's form or query."""
    operation = app.openapi()["paths"][path][method]
    if method == "get":
        return [p["name"] for p in operation["parameters"]]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]
    return list(form["schema"]["properties"])


def _check_oauth_answer(path: str, method: str, response: Any) -> str | None:
    """What is wrong with an OAuth endpoint's answer, if anything."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if path == "/oauth/authorize":
        if status == 302:
            query = dict(
                pair.split("=", 1)
                for pair in response.headers["location"].split("?", 1)[1].split("&")
            )
            return None if "code" in query or query.get("error") in OAUTH_ERRORS else "bad redirect"
        return None if status in (200, 400) else f"unexpected {status}"
    if status == 429:
        return "rate limited (the test must lift the limit)"
    if not response.headers.get("content-type", "").startswith("application/json"):
        return f"not JSON: {response.headers.get('content-type')}"
    body = response.json()
    if status >= 400:
        if body.get("error") not in OAUTH_ERRORS:
            return f"not an OAuth error: {body}"
        if not set(body.get("error_description", "")) <= RFC6749_DESCRIPTION:
            return f"description outside RFC 6749's characters: {body}"
    return None


def test_oauth_endpoints_answer_any_form_as_every_principal(
    app: FastAPI, scenario: Scenario
) -> None:
    """Every OAuth form and query field, as declared in the OpenAPI document, filled with
    arbitrary Unicode (or with real values, to reach past the client check), sent with each
    principal's token: an OAuth error (or the login page, or a redirect to the client), never
    a 5xx. The token is not what these endpoints authenticate, so it changes nothing."""
    import hypothesis
    from hypothesis import strategies as st

    from infra.db import open_session
    from tests.factories import make_oauth_client, pkce_pair

    s = scenario
    app.state.settings = app.state.settings.model_copy(update={"rate_limit_token_per_minute": 0})
    session = open_session(app.state.engine, write=True)
    try:
        owner = s.users[P.applicant]
        confidential, secret = make_oauth_client(session, owner, redirect_uris=[OAUTH_REDIRECT])
        public, _ = make_oauth_client(session, owner, public=True, redirect_uris=[OAUTH_REDIRECT])
    finally:
        session.close()
    real = [
        confidential,
        secret or "",
        public,
        OAUTH_REDIRECT,
        pkce_pair()[1],
        "S256",
        "code",
        "client_credentials",
        "authorization_code",
        "refresh_token",
        "access_token",
        "applications:read",
        s.headers(P.admin)["Authorization"].split(" ", 1)[1],
    ]
    value = st.one_of(
        st.text(max_size=40),
        st.sampled_from(real),
        st.sampled_from(real).map(lambda v: v + '\u00e9"\\\x01'),
    )
    targets = [
        (principal, path, method, _oauth_fields(app, path, method))
        for principal in Principal
        for path in OAUTH_FORMS
        for method in (("get", "post") if path == "/oauth/authorize" else ("post",))
    ]
    wrong: list[str] = []

    @hypothesis.settings(
        max_examples=12 * len(targets),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(data=st.data())
    def attack(data: Any) -> None:
        principal, path, method, fields = data.draw(st.sampled_from(targets))
        form = data.draw(st.dictionaries(st.sampled_from(fields), value))
        more = data.draw(
            st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=2)
        )
        sent = {**more, **form}
        headers = s.headers(principal)
        if method == "get":
            response = s.client.get(path, params=sent, headers=headers)
        else:
            response = s.client.post(path, data=sent, headers=headers)
        problem = _check_oauth_answer(path, method, response)
        if problem:
            wrong.append(f"{method.upper()} {path} as {principal}: {problem} {sent!r}")

    attack()
    assert {(t[0], t[1]) for t in targets} == {(p, f) for p in Principal for f in OAUTH_FORMS}
    assert not wrong, "\n".join(wrong[:20])
