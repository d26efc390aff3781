"""Token revocation (RFC 7009) and introspection (RFC 7662): a client acts on its own tokens.

Access tokens are JWTs and are recognised by their signature (the one verifier, built-in issuer
only); refresh tokens by their digest. A token of another client is ``active: false`` to
introspection, and refused by revocation as RFC 7009 section 2.1 says.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from identity.accounts import (
    get_active_client,
    is_access_token_revoked,
    revoke_access_token,
    revoke_family,
)
from identity.oauth import store
from identity.oauth.adapters import ClientAdapter, FormRequest, ServerContext
from identity.oauth.errors import UnsupportedTokenTypeError
from identity.tokens import AuthError, VerifiedToken
from models.identity import RefreshToken, User

TOKEN_TYPE_HINTS = ("access_token", "refresh_token")


@dataclass
class AccessTokenRecord:
    verified: VerifiedToken
    revoked: bool

    def check_client(self, client: ClientAdapter) -> bool:
        return self.verified.client_id == client.client_id

    def is_expired(self) -> bool:
        return False  # the verifier refused it otherwise

    def is_revoked(self) -> bool:
        return self.revoked

    def revoke(self, server: ServerContext) -> None:
        revoke_access_token(
            session=server.session,
            jti=self.verified.jti,
            expires_at=datetime.fromtimestamp(self.verified.expires_at, UTC),
            now=server.now,
        )

    def introspection(self) -> dict[str, Any]:
        claims = self.verified.claims
        out = {
            "active": True,
            "token_type": "Bearer",
            "scope": " ".join(sorted(self.verified.scopes)),
            "client_id": self.verified.client_id,
            "sub": self.verified.subject,
            "aud": claims.get("aud"),
            "iss": self.verified.issuer.issuer,
            "exp": self.verified.expires_at,
            "iat": claims.get("iat"),
            "nbf": claims.get("nbf"),
            "jti": self.verified.jti,
        }
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class RefreshTokenRecord:
    row: RefreshToken
    now: datetime
    user_active: bool

    def check_client(self, client: ClientAdapter) -> bool:
        return self.row.client_id == client.client_id

    def is_expired(self) -> bool:
        return self.row.expires_at <= self.now

    def is_revoked(self) -> bool:
        row = self.row
        return row.revoked_at is not None or row.used_at is not None or not self.user_active

    def revoke(self, server: ServerContext) -> None:
        # RFC 7009 section 2.1: revoking a refresh token also ends the grant's access tokens.
        revoke_family(session=server.session, family_id=self.row.family_id, now=server.now)

    def introspection(self) -> dict[str, Any]:
        return {
            "active": True,
            "scope": self.row.scope,
            "client_id": self.row.client_id,
            "sub": str(self.row.user_id),
            "exp": int(self.row.expires_at.timestamp()),
            "iat": int(self.row.issued_at.timestamp()),
        }


TokenRecord = AccessTokenRecord | RefreshTokenRecord


def find_token(server: ServerContext, value: str) -> TokenRecord | None:
    """The built-in server's token with this value (hints are not needed: the forms differ)."""
    if value.count(".") == 2:
        try:
            verified = server.verifier.verify(value)
        except AuthError:
            return None
        if not verified.issuer.builtin:
            return None
        revoked = (
            is_access_token_revoked(session=server.session, jti=verified.jti)
            or not _user_active(server, verified.subject)
            or get_active_client(session=server.session, client_id=verified.client_id) is None
        )
        return AccessTokenRecord(verified=verified, revoked=revoked)
    row = store.find_refresh_token(session=server.session, value=value)
    if row is None:
        return None
    return RefreshTokenRecord(
        row=row, now=server.now, user_active=_user_active(server, str(row.user_id))
    )


def _user_active(server: ServerContext, subject: str) -> bool:
    try:
        user = server.session.get(User, uuid.UUID(subject))
    except ValueError:
        return False
    return user is not None and user.is_active


def check_token_params(request: FormRequest) -> None:
    """A token to act on, and a hint (if any) naming a kind of token this server issues: else
    ``invalid_request``, or ``unsupported_token_type`` (400, as RFC 7009 section 2.2.1 says)."""
    if "token" not in request.form:
        raise InvalidRequestError("missing token")
    hint = request.form.get("token_type_hint")
    if hint and hint not in TOKEN_TYPE_HINTS:
        raise UnsupportedTokenTypeError("the token_type_hint is access_token or refresh_token")


class RevocationEndpoint(_RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    server: ServerContext

    def check_params(self, request: FormRequest, client: ClientAdapter) -> None:  # noqa: ARG002
        check_token_params(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:  # noqa: ARG002
        return find_token(self.server, token_string)

    def revoke_token(self, token: TokenRecord, request: FormRequest) -> None:  # noqa: ARG002
        token.revoke(self.server)


class IntrospectionEndpoint(_IntrospectionEndpoint):  # type: ignore[misc]
    # Introspection needs a client that can authenticate: public clients cannot.
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    server: ServerContext

    def check_params(self, request: FormRequest, client: ClientAdapter) -> None:  # noqa: ARG002
        check_token_params(request)

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenRecord | None:  # noqa: ARG002
        return find_token(self.server, token_string)

    def check_permission(
        self,
        token: TokenRecord,
        client: ClientAdapter,
        request: FormRequest,  # noqa: ARG002
    ) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: TokenRecord) -> dict[str, Any]:
        return token.introspection()
