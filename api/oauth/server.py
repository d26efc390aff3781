"""authlib's ``AuthorizationServer`` behind a small FastAPI adapter.

authlib ships no FastAPI integration. The adapter is three pieces: ``FormRequest`` (an
``OAuth2Request`` built from what Starlette parsed), ``ClientAdapter`` (our ``OAuthClient`` row
seen through authlib's ``ClientMixin``), and ``ShortlistAuthorizationServer``, which implements
``query_client``, ``save_token`` and ``handle_response`` and issues RFC 9068 access tokens. A
server is built per request around that request's session; the route commits once.
"""

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidClientError,
    InvalidRequestError,
    OAuth2Error,
    OAuth2Request,
    UnsupportedResponseTypeError,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from api.auth import TokenVerifier
from api.oauth import store
from api.oauth.errors import check_basic_credentials, check_parameters, safe_description
from api.oauth.keys import BuiltinKeys
from api.oauth.tokens import issue_access_token
from infra.settings import Settings
from models.identity import ALL_SCOPES, OAuthClient, User
from submissions.accounts import get_active_client, secret_matches

CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
"""Both are accepted from every confidential client, whatever it registered."""
PUBLIC_AUTH_METHOD = "none"


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """An authlib request from parameters Starlette already parsed: the query of a GET, or the
    form body of a POST (never both, so a query string cannot smuggle in token parameters)."""

    def __init__(
        self,
        *,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        params: Sequence[tuple[str, str]],
    ) -> None:
        super().__init__(method, uri, headers=headers)
        # Before anything quotes them: no client, code, token or user holds anything else.
        check_parameters(params)
        counts = Counter(name for name, _ in params)
        repeated = sorted(name for name, count in counts.items() if count > 1)
        data = dict(params)
        self.payload = BasicOAuth2Payload(data)
        self._form = data
        if repeated:
            # RFC 6749 section 3.1 and 3.2: parameters MUST NOT be included more than once.
            names = safe_description(", ".join(repeated))
            raise InvalidRequestError(f"repeated parameter: {names}")
        check_basic_credentials(headers.get("authorization", ""))
        basic = headers.get("authorization", "").lower().startswith("basic ")
        if basic and "client_secret" in data:
            # RFC 6749 section 2.3: a client uses one authentication method per request.
            raise InvalidRequestError("use HTTP Basic or client_secret, not both")

    @property
    def args(self) -> dict[str, str]:
        return self._form if self.method == "GET" else {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


class ClientAdapter(ClientMixin):  # type: ignore[misc]
    """An ``OAuthClient`` row as authlib sees it. Redirect URIs match exactly; scopes asked
    for must be a subset of the client's (none asked: all of them)."""

    def __init__(self, row: OAuthClient) -> None:
        self.row = row

    @property
    def client_id(self) -> str:
        return self.row.client_id

    @property
    def is_public(self) -> bool:
        return self.row.secret_hash is None

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        # The redirect_uri parameter is required: nothing is ever inferred.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        allowed = set(self.row.scopes)
        if not scope:
            return " ".join(sorted(allowed))
        requested = set(scope.split())
        if not requested <= allowed:
            return None
        return " ".join(sorted(requested))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(self.row.secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:  # noqa: ARG002
        if self.is_public:
            return method == PUBLIC_AUTH_METHOD
        return method in CONFIDENTIAL_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.row.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.row.grant_types


@dataclass
class IssuedTokens:
    """What the last token response carried, for ``save_token``."""

    jti: str
    user_id: uuid.UUID


class ShortlistAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(
        self,
        *,
        session: Session,
        settings: Settings,
        keys: BuiltinKeys,
        verifier: TokenVerifier,
        now: datetime,
    ) -> None:
        super().__init__(scopes_supported=list(ALL_SCOPES))
        self.session = session
        self.settings = settings
        self.keys = keys
        self.verifier = verifier
        self.now = now
        self.keep_changes = False
        """Set when a refusal must still be committed (a replayed code or refresh token revokes
        its family even though the request fails)."""
        self.issued: IssuedTokens | None = None
        self.auth_time: datetime | None = None
        """When the person behind the tokens being issued signed in (set by the grants: the
        code's sign-in, or the refreshed family's); ``None`` for client credentials."""
        self.register_token_generator("default", self._generate_token)

        from api.oauth.endpoints import IntrospectionEndpoint, RevocationEndpoint
        from api.oauth.grants import (
            AuthorizationCodeGrant,
            ClientCredentialsGrant,
            RefreshTokenGrant,
            S256CodeChallenge,
        )

        self.register_grant(ClientCredentialsGrant)
        self.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_endpoint(RevocationEndpoint)
        self.register_endpoint(IntrospectionEndpoint)

    # --- what authlib asks of a framework integration ------------------------------------------

    def query_client(self, client_id: str) -> ClientAdapter | None:
        if "\x00" in client_id:  # from HTTP Basic, which FormRequest does not see
            return None
        row = get_active_client(session=self.session, client_id=client_id)
        return ClientAdapter(row) if row is not None else None

    def create_oauth2_request(self, request: Any) -> FormRequest:
        if not isinstance(request, FormRequest):
            raise TypeError("build a FormRequest first")
        return request

    def get_authorization_grant(self, request: FormRequest) -> Any:
        """authlib's lookup, whose refusal quotes the response type: refused here without it,
        and told to the client only at a redirect URI registered for it (RFC 6749 4.1.2.1)."""
        if request.payload.response_type == "code":
            return super().get_authorization_grant(request)
        redirect_uri = None
        client = self.query_client(request.payload.client_id or "")
        if client is not None and client.check_redirect_uri(request.payload.redirect_uri or ""):
            redirect_uri = request.payload.redirect_uri
        # Its description names the response type: in the characters a description may hold.
        raise UnsupportedResponseTypeError(
            safe_description(request.payload.response_type or ""), redirect_uri=redirect_uri
        )

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("no JSON endpoints")

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """authlib's hook for framework signals; nothing listens."""

    def handle_response(
        self, status: int, body: Any, headers: Sequence[tuple[str, str]]
    ) -> Response:
        out = dict(headers)
        if status in (301, 302, 303) and "Location" in out:
            # RFC 9207: the authorization response names its issuer (mix-up defence).
            out["Location"] = _add_query(out["Location"], "iss", self.settings.issuer)
        out.setdefault("Cache-Control", "no-store")
        out.setdefault("Pragma", "no-cache")
        if isinstance(body, dict):
            out.pop("Content-Type", None)
            if isinstance(body.get("error_description"), str):
                body = {**body, "error_description": safe_description(body["error_description"])}
            return JSONResponse(body, status_code=status, headers=out)
        return Response(body or b"", status_code=status, headers=out)

    def error_response(self, error: OAuth2Error) -> Response:
        """RFC 6749 error JSON, or a redirect to the client when its redirect URI is known."""
        response: Response = self.handle_error_response(None, error)
        return response

    def save_token(self, token: dict[str, Any], request: FormRequest) -> None:
        issued = self.issued
        refresh = token.get("refresh_token")
        if issued is None or not refresh:
            return
        previous = request.refresh_token
        if previous is not None:
            family_id, expires_at = previous.row.family_id, previous.row.expires_at
        else:
            family_id = uuid.uuid4()
            expires_at = self.now + timedelta(seconds=self.settings.refresh_token_ttl)
            code = request.authorization_code
            if code is not None:
                code.row.family_id = family_id
                self.session.add(code.row)
        store.save_refresh_token(
            session=self.session,
            value=refresh,
            family_id=family_id,
            client_id=request.client.client_id,
            user_id=issued.user_id,
            scope=token.get("scope", ""),
            access_jti=issued.jti,
            now=self.now,
            expires_at=expires_at,
            auth_time=self.auth_time,
        )

    # --- tokens --------------------------------------------------------------------------------

    def _generate_token(
        self,
        grant_type: str,  # noqa: ARG002
        client: ClientAdapter,
        user: User | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        owner = user or self.session.get(User, client.row.user_id)
        if owner is None or not owner.is_active:
            raise InvalidClientError(description="the client's owner is not an active user")
        ttl = min(expires_in or self.settings.access_token_ttl, self.settings.access_token_ttl)
        access = issue_access_token(
            keys=self.keys,
            issuer=self.settings.issuer,
            audience=self.settings.audience,
            user_id=owner.id,
            client_id=client.client_id,
            scopes=(scope or "").split(),
            now=self.now,
            ttl=ttl,
            auth_time=self.auth_time,
        )
        self.issued = IssuedTokens(jti=access.jti, user_id=owner.id)
        token: dict[str, Any] = {
            "access_token": access.access_token,
            "token_type": "Bearer",
            "expires_in": access.expires_in,
            "scope": access.scope,
        }
        if include_refresh_token:
            token["refresh_token"] = store.new_secret()
        return token


def _add_query(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(query)))
