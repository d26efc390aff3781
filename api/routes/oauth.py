"""The built-in OAuth 2 authorization server's endpoints and discovery documents (its keys,
``/oauth/jwks``, are served in every mode: ``api/routes/jwks.py``).

Errors here are RFC 6749 JSON (``error``, ``error_description``), not problem+json: that is what
OAuth clients parse. Token, revocation and introspection answers are never cached.
"""

from collections.abc import Callable
from typing import Annotated, Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.deps import NowDep, SessionDep, SigningKeysDep
from api.http.routing import SessionRoute
from identity.accounts import authenticate_password
from identity.oauth.adapters import FormRequest
from identity.oauth.errors import UNSPEAKABLE, safe_description
from identity.oauth.login import (
    AUTHORIZE_PARAMS,
    CSRF_FIELD,
    CSRF_MAX_AGE,
    csrf_cookie_name,
    csrf_valid,
    error_page,
    login_page,
    new_csrf_token,
    security_headers,
)
from identity.oauth.metadata import authorization_server_metadata
from identity.oauth.server import OAuthResponse, ShortlistAuthorizationServer
from infra.logging import log
from infra.ratelimit import enforce
from infra.settings import Settings
from models.identity import (
    AuthorizationServerMetadata,
    OAuthErrorResponse,
    OAuthIntrospection,
    OAuthRevoked,
    OAuthTokenResponse,
)

router = APIRouter(route_class=SessionRoute, tags=["oauth"])

FORM = "application/x-www-form-urlencoded"
Params = list[tuple[str, str]]


async def form_params(request: Request) -> Params | None:
    """The form body's fields (``None`` when the body is not form-encoded)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM:
        return None
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


FormParams = Annotated[Params | None, Depends(form_params)]


def _server(
    request: Request,
    keys: SigningKeysDep,
    session: SessionDep,
    now: NowDep,
) -> ShortlistAuthorizationServer:
    state = request.app.state
    return ShortlistAuthorizationServer(
        session=session,
        settings=state.settings,
        keys=keys,
        verifier=state.token_verifier,
        now=now,
    )


ServerDep = Annotated[ShortlistAuthorizationServer, Depends(_server)]


def _oauth_request(request: Request, params: Params | None) -> FormRequest:
    settings: Settings = request.app.state.settings
    if params is None:
        raise InvalidRequestError(f"the body must be {FORM}")
    # authlib refuses plain http; it judges the public URL clients use (so TLS may end at a
    # proxy), which is https in production and may be http only on a loopback host.
    return FormRequest(
        method=request.method,
        uri=settings.issuer + request.url.path,
        headers=request.headers,
        params=params,
    )


def _http(answer: OAuthResponse) -> Response:
    """The server's answer as it goes out: JSON for a dict body, else the bytes as they are."""
    if isinstance(answer.body, dict):
        return JSONResponse(answer.body, status_code=answer.status_code, headers=answer.headers)
    return Response(answer.body or b"", status_code=answer.status_code, headers=answer.headers)


def _login_page(
    settings: Settings,
    oauth_request: FormRequest,
    client_name: str,
    *,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The login page, with a fresh CSRF token in its form and in its cookie."""
    params = oauth_request.payload.data
    csrf_token = new_csrf_token(settings)
    html = login_page(
        params=params,
        client_name=client_name,
        scopes=(oauth_request.scope or "").split(),
        csrf_token=csrf_token,
        email=email,
        error=error,
    )
    response = HTMLResponse(
        html, status_code=status_code, headers=security_headers(params.get("redirect_uri"))
    )
    response.set_cookie(
        csrf_cookie_name(settings),
        csrf_token,
        max_age=CSRF_MAX_AGE,
        path="/",
        secure=settings.issuer.startswith("https://"),
        httponly=True,
        samesite="strict",
    )
    return response


def _finish(server: ShortlistAuthorizationServer, response: Response) -> Response:
    """Commit what a success (or a refusal that revoked a token family) changed; else nothing."""
    if response.status_code < 400 or server.keep_changes:
        server.session.commit()
    else:
        server.session.rollback()
    return response


def _limit(request: Request, bucket: str) -> None:
    settings: Settings = request.app.state.settings
    client = request.client.host if request.client else "unknown"
    enforce(
        request.app.state.rate_limiter,
        f"{bucket}:{client}",
        limit=settings.rate_limit_token_per_minute,
    )


def _unspeakable(request: Request, exc: ValueError) -> InvalidRequestError:
    """authlib could not build the error it meant to answer (its description would quote
    characters RFC 6749 forbids there): the request is answered ``invalid_request`` instead,
    and the gap logged (without the request's values) so that it can be closed."""
    log.warning("oauth_error_unspeakable", path=request.url.path, error_type=type(exc).__name__)
    return InvalidRequestError(UNSPEAKABLE)


def _endpoint(
    request: Request,
    server: ShortlistAuthorizationServer,
    params: Params | None,
    respond: Callable[[FormRequest], OAuthResponse],
) -> Response:
    """Token, revocation, introspection: every refusal is RFC 6749 error JSON, never a 500."""
    _limit(request, "oauth")
    try:
        response = _http(respond(_oauth_request(request, params)))
    except OAuth2Error as error:
        response = _http(server.error_response(error))
    except ValueError as exc:
        response = _http(server.error_response(_unspeakable(request, exc)))
    return _finish(server, response)


# --- OpenAPI declarations ----------------------------------------------------------------------


def _json(model: type[Any], description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _json(OAuthErrorResponse, "OAuth error (RFC 6749 section 5.2)"),
    401: _json(OAuthErrorResponse, "Client authentication failed (invalid_client)"),
    413: {"description": "The request body is too large"},
    429: {"description": "Too many requests (see Retry-After)"},
}


def _form_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {name: {"type": "string", **extra} for name, extra in properties.items()},
        "required": required,
    }
    return {"requestBody": {"required": True, "content": {FORM: {"schema": schema}}}}


_CLIENT_AUTH = {
    "client_id": {"description": "client_secret_post, or a public client"},
    "client_secret": {"description": "client_secret_post (or use HTTP Basic)"},
}
_TOKEN_PARAMS = {
    "token": {"description": "An access token or a refresh token"},
    "token_type_hint": {"enum": ["access_token", "refresh_token"]},
    **_CLIENT_AUTH,
}
_AUTHORIZE_REQUIRED = ("response_type", "client_id", "redirect_uri", "code_challenge")
_AUTHORIZE_QUERY = [
    {
        "name": name,
        "in": "query",
        "required": name in _AUTHORIZE_REQUIRED,
        "schema": {"type": "string", **({"enum": [enum]} if enum else {})},
    }
    for name, enum in [
        ("response_type", "code"),
        ("client_id", None),
        ("redirect_uri", None),
        ("scope", None),
        ("state", None),
        ("code_challenge", None),
        ("code_challenge_method", "S256"),
    ]
]
_HTML = {"text/html": {"schema": {"type": "string"}}}


# --- discovery ---------------------------------------------------------------------------------


def _metadata(request: Request) -> JSONResponse:
    metadata = authorization_server_metadata(request.app.state.settings)
    return JSONResponse(
        metadata.model_dump(mode="json", exclude_none=True),
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/.well-known/oauth-authorization-server", response_model=AuthorizationServerMetadata)
def oauth_metadata(request: Request) -> JSONResponse:
    """Authorization server metadata (RFC 8414)."""
    return _metadata(request)


@router.get("/.well-known/openid-configuration", response_model=AuthorizationServerMetadata)
def openid_configuration(request: Request) -> JSONResponse:
    """The same metadata at the OpenID Connect discovery location."""
    return _metadata(request)


# --- token, revocation, introspection ----------------------------------------------------------


@router.post(
    "/oauth/token",
    response_model=OAuthTokenResponse,
    responses=OAUTH_ERRORS,
    openapi_extra=_form_body(
        {
            "grant_type": {"enum": ["client_credentials", "authorization_code", "refresh_token"]},
            "scope": {"description": "Space-separated; default: all of the client's scopes"},
            "code": {},
            "redirect_uri": {},
            "code_verifier": {"description": "PKCE (S256), required with a code"},
            "refresh_token": {},
            **_CLIENT_AUTH,
        },
        ["grant_type"],
    ),
)
def token(request: Request, params: FormParams, server: ServerDep) -> Response:
    """Issue an access token (client_credentials, authorization_code with PKCE, refresh_token);
    a refresh token is spent when used, and reusing a spent one revokes its whole family."""
    return _endpoint(request, server, params, server.create_token_response)


@router.post(
    "/oauth/revoke",
    response_model=OAuthRevoked,
    responses=OAUTH_ERRORS,
    openapi_extra=_form_body(_TOKEN_PARAMS, ["token"]),
)
def revoke(request: Request, params: FormParams, server: ServerDep) -> Response:
    """Revoke one of the calling client's tokens (RFC 7009); unknown tokens are a no-op."""
    return _endpoint(
        request, server, params, lambda r: server.create_endpoint_response("revocation", r)
    )


@router.post(
    "/oauth/introspect",
    response_model=OAuthIntrospection,
    response_model_exclude_none=True,
    responses=OAUTH_ERRORS,
    openapi_extra=_form_body(_TOKEN_PARAMS, ["token"]),
)
def introspect(request: Request, params: FormParams, server: ServerDep) -> Response:
    """Describe one of the calling client's tokens (RFC 7662); any other is ``active: false``."""
    return _endpoint(
        request, server, params, lambda r: server.create_endpoint_response("introspection", r)
    )


# --- authorization endpoint and login page -----------------------------------------------------

AUTHORIZE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The login page", "content": _HTML},
    302: {"description": "Back to the client's registered redirect URI with a code or error"},
    400: {"description": "The request cannot go back to the client", "content": _HTML},
    413: {"description": "The request body is too large"},
}
# Only the login form is rate limited (``_limit(request, "login")``); showing the page is not.
LOGIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTHORIZE_RESPONSES,
    429: {"description": "Too many requests (see Retry-After)"},
}


def _authorization_error(server: ShortlistAuthorizationServer, error: OAuth2Error) -> Response:
    if error.redirect_uri:
        # The client and its exact, registered redirect URI were validated: tell the client.
        return _http(server.error_response(error))
    description = safe_description(str(error.get_error_description() or ""))
    return HTMLResponse(
        error_page(error=str(error.error), description=description),
        status_code=400,
        headers=security_headers(None),
    )


@router.get(
    "/oauth/authorize",
    response_class=HTMLResponse,
    responses=AUTHORIZE_RESPONSES,
    openapi_extra={"parameters": _AUTHORIZE_QUERY},
)
def authorize(request: Request, server: ServerDep) -> Response:
    """Start an authorization code + PKCE (S256) flow: validate the request, then show the
    login page."""
    settings = server.settings
    try:
        oauth_request = _oauth_request(request, list(request.query_params.multi_items()))
        grant = server.get_consent_grant(request=oauth_request, end_user=None)
    except OAuth2Error as error:
        return _authorization_error(server, error)
    except ValueError as exc:
        return _authorization_error(server, _unspeakable(request, exc))
    return _login_page(settings, oauth_request, grant.client.row.name)


@router.post(
    "/oauth/authorize",
    response_class=HTMLResponse,
    responses=LOGIN_RESPONSES,
    openapi_extra=_form_body(
        {
            **{name: {} for name in AUTHORIZE_PARAMS},
            CSRF_FIELD: {},
            "email": {},
            "password": {"format": "password"},
            "action": {"enum": ["allow", "deny"]},
        },
        ["client_id", "redirect_uri", CSRF_FIELD],
    ),
)
def authorize_submit(request: Request, params: FormParams, server: ServerDep) -> Response:
    """The login form: check the CSRF token and the password, then redirect to the client
    with a single-use code (or with access_denied)."""
    _limit(request, "login")
    settings = server.settings
    fields = dict(params or [])
    try:
        oauth_request = _oauth_request(
            request, [(k, v) for k, v in params or [] if k in AUTHORIZE_PARAMS]
        )
        grant = server.get_consent_grant(request=oauth_request, end_user=None)
    except OAuth2Error as error:
        return _authorization_error(server, error)
    except ValueError as exc:
        return _authorization_error(server, _unspeakable(request, exc))
    email = fields.get("email", "")[:320]

    def again(message: str) -> Response:
        server.session.rollback()
        return _login_page(
            settings,
            oauth_request,
            grant.client.row.name,
            email=email,
            error=message,
            status_code=400,
        )

    cookie = request.cookies.get(csrf_cookie_name(settings))
    if not csrf_valid(settings, cookie, fields.get(CSRF_FIELD)):
        return again("This form has expired. Please sign in again.")
    if "\x00" in email:  # no account has such an address (nor could any be stored)
        return again("Wrong email or password.")
    user = None
    if fields.get("action") != "deny":
        user = authenticate_password(
            session=server.session, email=email, password=fields.get("password", "")[:1024]
        )
        if user is None:
            return again("Wrong email or password.")
    try:
        # No user: the person denied, and the client is told access_denied.
        response = _http(
            server.create_authorization_response(
                request=oauth_request, grant_user=user, grant=grant
            )
        )
    except ValueError as exc:
        response = _authorization_error(server, _unspeakable(request, exc))
    return _finish(server, response)
