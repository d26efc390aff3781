"""The OpenAPI document: short operation ids and one-line summaries (what client generators name
their methods after), every error declared as RFC 9457 problem details, and every creating
``POST`` linked to the operations on what it created."""

import re
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from api.errors import PROBLEM_JSON
from api.middleware import OUTAGE_EXEMPT

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
    "503": "The database is unreachable or busy (nothing was changed): retry after Retry-After",
}
# While a dependency is down, the edge answers every operation but OUTAGE_EXEMPT's with a 503
# problem and this header (API.md, "Conventions"; api/middleware.py); the rate limiter's 429
# carries it too (infra/ratelimit.py).
RETRY_AFTER_HEADER: dict[str, Any] = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}
_WRITE = {"post", "put", "patch", "delete"}
# On the OAuth endpoints, the codes whose answers are problems, not RFC 6749 errors.
_OAUTH_PROBLEMS = {"413", "429", "500", "503"}
API_PREFIX = "/api/v1"


# Operation ids by endpoint name, where the name itself (in lowerCamelCase) would not say what the
# operation does; every other endpoint's id is its name in lowerCamelCase. Client generators name
# their methods after these, so they stay stable once released.
OPERATION_IDS = {
    "healthz": "getLiveness",
    "readyz": "getReadiness",
    # applications
    "get_applications": "listApplications",
    "patch_application": "updateApplication",
    "post_confirm": "confirmMember",
    "post_decline": "declineMember",
    "post_submit": "submitApplication",
    "post_reopen": "reopenApplication",
    "post_withdraw": "withdrawApplication",
    "post_application": "createApplication",
    # identity and OAuth
    "read_me": "getMe",
    "oauth_metadata": "getOauthMetadata",
    "openid_configuration": "getOpenidConfiguration",
    "jwks": "getJwks",
    "token": "issueToken",
    "revoke": "revokeToken",
    "introspect": "introspectToken",
    "authorize_submit": "submitLogin",
    "post_user": "createUser",
    "post_user_deactivate": "deactivateUser",
    "post_oauth_client": "createOauthClient",
    "get_oauth_clients": "listOauthClients",
    # organizations
    "post_organization": "createOrganization",
    "get_organizations": "listOrganizations",
    "post_member": "addOrganizationMember",
    "post_email_domain_verification": "verifyEmailDomain",
    # programs and rounds
    "post_program": "createProgram",
    "get_programs": "listPrograms",
    "get_one_program": "getProgram",
    "post_round": "createRound",
    "get_rounds": "listRounds",
    "get_one_round": "getRound",
    "patch_round": "updateRound",
    "post_open": "openRound",
    "post_start_review": "startReview",
    # documents
    "post_document": "uploadDocument",
    "get_application_documents": "listDocuments",
    "delete_document_version": "deleteDocument",
    "get_document_content": "downloadDocument",
    # reviewers, assignments and reviews
    "post_round_reviewer": "addRoundReviewer",
    "get_round_reviewers": "listRoundReviewers",
    "put_reviewer_profile": "replaceReviewerProfile",
    "get_round_conflicts": "listConflicts",
    "post_round_conflict": "declareConflict",
    "post_auto_assignments": "autoAssign",
    "get_round_assignments": "listRoundAssignments",
    "post_round_assignment": "createAssignment",
    "delete_round_assignment": "deleteAssignment",
    "post_recusal": "recuse",
    "get_my_assignments": "listMyAssignments",
    "put_assignment_review": "writeReview",
    "get_assignment_review": "getReview",
    "post_review_submit": "submitReview",
    # results and audit
    "post_close": "closeRound",
    "post_publish": "publishResults",
    "get_preview": "previewShortlist",
    # the program officer's desk
    "get_round_progress": "getRoundProgress",
    "get_round_report": "getRoundReport",
    "get_round_results_xlsx": "getResultsXlsx",
    "get_decision_record": "getDecisionRecord",
    "get_audit_events": "listAuditEvents",
    "get_audit_verification": "verifyAuditChain",
}
# Words a summary spells its own way (the summary is the operation id in words).
_SPELLING = {
    "oauth": "OAuth",
    "openid": "OpenID",
    "jwks": "JWKS",
    "csv": "CSV",
    "xlsx": "XLSX",
    "me": "me",
}


def operation_id(route: APIRoute) -> str:
    """FastAPI's ``generate_unique_id_function``: the operation id of a route, from its
    endpoint's name (``get_results`` -> ``getResults``) unless ``OPERATION_IDS`` names it."""
    if route.name in OPERATION_IDS:
        return OPERATION_IDS[route.name]
    head, *rest = route.name.strip("_").split("_")
    return head.lower() + "".join(word.capitalize() for word in rest)


def summary_of(operation_id: str) -> str:
    """The one-line summary of an operation: its id in words (``listMyAssignments`` ->
    ``List my assignments``)."""
    words = [w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", operation_id)]
    words = [_SPELLING.get(w, w) for w in words]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def api_version() -> str:
    """The installed package's version, which ``info.version`` announces."""
    return version("shortlist")


def inlined_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its ``$defs`` written in place, for a request body declared
    by hand (``openapi_extra``): such a schema sits outside the document's components, where
    ``#/$defs/...`` would point nowhere (ReDoc refuses the whole document for it). The one place
    for such fixes of the document."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    inlined: dict[str, Any] = resolve(schema)
    return inlined


def _problem_response(code: str) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS.get(code, "Error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _declare_retry_after(responses: dict[str, Any], edge: set[str]) -> None:
    """The outage 503 (the edge's, for every operation it may refuse) and the rate limiter's 429
    (wherever it may answer one) carry ``Retry-After``."""
    if "503" in edge:
        responses["503"]["headers"] = RETRY_AFTER_HEADER
    if "429" in responses:
        responses["429"]["headers"] = RETRY_AFTER_HEADER


def problem_openapi(app: FastAPI) -> dict[str, Any]:
    """Generate once, then declare problem+json for every error response: the common ones
    (401/403 on authenticated routes, 422, 413 and 429 on writes, 500, and 503 with
    ``Retry-After`` while the database is down) and each route's own."""
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
            operation["summary"] = summary_of(operation["operationId"])
            responses: dict[str, Any] = operation.setdefault("responses", {})
            edge = {"500", "503"} if not path.startswith(OUTAGE_EXEMPT) else {"500"}
            if path.startswith("/oauth/"):
                # OAuth endpoints answer RFC 6749 errors, declared by their routes; what the edge
                # (413, 500, 503) and the rate limiter (429) answer there is a problem as anywhere.
                for code in sorted(_OAUTH_PROBLEMS & {*responses, *edge}):
                    problem = _problem_response(code)
                    problem["description"] = responses.get(code, problem)["description"]
                    responses[code] = problem
                _declare_retry_after(responses, edge)
                continue
            codes = set(edge)
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
            _declare_retry_after(responses, edge)
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
