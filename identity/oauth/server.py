"""authlib's ``AuthorizationServer``, framework-free.

authlib ships no FastAPI integration, and needs none here: ``ShortlistAuthorizationServer``
takes a ``FormRequest`` (``identity.oauth.adapters``) built by the HTTP edge, implements
``query_client``, ``save_token`` and ``handle_response``, issues RFC 9068 access tokens, and
answers with an ``OAuthResponse`` that the edge (``api.routes.oauth``) sends as it is. A server
is built per request around that request's session; the route commits once.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidClientError,
    OAuth2Error,
    UnsupportedResponseTypeError,
)
from sqlmodel import Session

from identity.accounts import get_active_client
from identity.oauth import store
from identity.oauth.adapters import ClientAdapter, FormRequest
from identity.oauth.endpoints import IntrospectionEndpoint, RevocationEndpoint
from identity.oauth.errors import safe_description
from identity.oauth.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
    S256CodeChallenge,
)
from identity.oauth.keys import BuiltinKeys
from identity.oauth.tokens import issue_access_token
from identity.tokens import TokenVerifier
from infra.settings import Settings
from models.identity import ALL_SCOPES, User


@dataclass(frozen=True)
class OAuthResponse:
    """An answer of the server, for the HTTP edge to send as it is: JSON when ``body`` is a
    dict, else the body's bytes (a redirect's is empty)."""

    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


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
    ) -> OAuthResponse:
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
        return OAuthResponse(status, body, out)

    def error_response(self, error: OAuth2Error) -> OAuthResponse:
        """RFC 6749 error JSON, or a redirect to the client when its redirect URI is known."""
        response: OAuthResponse = self.handle_error_response(None, error)
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
