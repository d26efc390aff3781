"""The grants the built-in server offers: client_credentials, authorization_code with PKCE S256
(required of every client), and refresh_token with rotation and reuse detection. No password
grant, no implicit grant.
"""

from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    grants,
)
from authlib.oauth2.rfc7636 import CodeChallenge

from identity.accounts import revoke_family
from identity.oauth import store
from identity.oauth.adapters import ClientAdapter, FormRequest, ServerContext
from models.identity import AuthorizationCode, RefreshToken, User

CONFIDENTIAL = ["client_secret_basic", "client_secret_post"]
ANY_CLIENT = [*CONFIDENTIAL, "none"]


@dataclass
class CodeRecord:
    """An authorization code row as authlib's ``AuthorizationCodeMixin``."""

    row: AuthorizationCode

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    @property
    def code_challenge(self) -> str:
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.row.code_challenge_method


@dataclass
class RefreshRecord:
    """A refresh token row (authlib's ``TokenMixin`` subset that grants use)."""

    row: RefreshToken

    def check_client(self, client: ClientAdapter) -> bool:
        return self.row.client_id == client.client_id

    def get_scope(self) -> str:
        return self.row.scope


class _Grant:
    """Typed access to the per-request server (authlib's attributes are untyped)."""

    server: ServerContext
    request: FormRequest

    def _active_user(self, user_id: Any) -> User | None:
        user = self.server.session.get(User, user_id)
        return user if user is not None and user.is_active else None

    def _refuse_replay(self, family_id: Any, what: str) -> InvalidGrantError:
        """A spent code or refresh token came back: someone holds a copy. Revoke everything it
        led to, keep that revocation although the request fails, and refuse."""
        if family_id is not None:
            revoke_family(session=self.server.session, family_id=family_id, now=self.server.now)
            self.server.keep_changes = True
        return InvalidGrantError(
            f"the {what} was already used; every token issued from it is revoked"
        )


class ClientCredentialsGrant(_Grant, grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL

    def validate_token_request(self) -> None:
        super().validate_token_request()
        scope = self.request.client.get_allowed_scope(self.request.payload.scope)
        if scope is None:
            raise InvalidScopeError("the client may not ask for these scopes")
        self.request.scope = scope

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        token = self.generate_token(scope=self.request.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE (RFC 7636), required of every client, S256 only: ``plain`` and a missing method
    (which RFC 7636 reads as ``plain``) are refused."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(_Grant, grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ANY_CLIENT

    @staticmethod
    def validate_authorization_redirect_uri(request: FormRequest, client: ClientAdapter) -> str:
        """authlib's check, without quoting the URI in the error (which may hold characters an
        error description may not): required, and registered exactly."""
        redirect_uri: str | None = request.payload.redirect_uri
        if not redirect_uri:
            raise InvalidRequestError("missing redirect_uri", state=request.payload.state)
        if not client.check_redirect_uri(redirect_uri):
            raise InvalidRequestError("the redirect_uri is not registered for this client")
        return redirect_uri

    def save_authorization_code(self, code: str, request: FormRequest) -> None:
        data = request.payload.data
        store.save_authorization_code(
            session=self.server.session,
            code=code,
            client_id=request.client.client_id,
            user_id=request.user.id,
            redirect_uri=data["redirect_uri"],
            scope=request.scope or "",
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            now=self.server.now,
        )

    def query_authorization_code(self, code: str, client: ClientAdapter) -> CodeRecord | None:
        session, now = self.server.session, self.server.now
        row = store.find_authorization_code(session=session, code=code)
        if row is None or row.client_id != client.client_id:
            return None
        if row.used_at is not None:
            raise self._refuse_replay(row.family_id, "authorization code")
        if row.expires_at <= now:
            return None
        # Claimed now; a failure later in this request rolls the claim back with the rest.
        if not store.claim_authorization_code(session=session, row=row, now=now):
            session.refresh(row)
            raise self._refuse_replay(row.family_id, "authorization code")
        return CodeRecord(row)

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        """Already spent when it was claimed."""

    def authenticate_user(self, authorization_code: CodeRecord) -> User | None:
        # The code was made the moment the person signed in: that is the tokens' auth_time.
        self.server.auth_time = authorization_code.row.created_at
        return self._active_user(authorization_code.row.user_id)


class RefreshTokenGrant(_Grant, grants.RefreshTokenGrant):  # type: ignore[misc]
    """Every refresh rotates: the old token is spent, a new one of the same family is issued
    (the family keeps its original expiry). A spent token presented again revokes the family."""

    TOKEN_ENDPOINT_AUTH_METHODS = ANY_CLIENT
    INCLUDE_NEW_REFRESH_TOKEN = True

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("the client may not use grant_type=refresh_token")
        value = self.request.form.get("refresh_token")
        if not value:
            raise InvalidRequestError("missing refresh_token")
        session, now = self.server.session, self.server.now
        row = store.find_refresh_token(session=session, value=value)
        if row is None or row.client_id != client.client_id:
            raise InvalidGrantError("unknown refresh token")
        if row.revoked_at is not None:
            raise InvalidGrantError("the refresh token was revoked")
        if row.used_at is not None:
            raise self._refuse_replay(row.family_id, "refresh token")
        if row.expires_at <= now:
            raise InvalidGrantError("the refresh token has expired")
        requested = self.request.payload.scope
        if requested and not set(requested.split()) <= set(row.scope.split()):
            raise InvalidScopeError("a refresh cannot widen the scope")
        if not store.claim_refresh_token(session=session, row=row, now=now):
            # Lost a race against another use of the same token: that is reuse too.
            raise self._refuse_replay(row.family_id, "refresh token")
        self.request.client = client
        self.request.refresh_token = RefreshRecord(row)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        record: RefreshRecord = self.request.refresh_token
        user = self._active_user(record.row.user_id)
        if user is None:
            raise InvalidGrantError("the refresh token's user is no longer active")
        # A refresh is no new sign-in: the family keeps the one it started with.
        self.server.auth_time = record.row.auth_time
        granted = set((self.request.payload.scope or record.row.scope).split())
        scope = " ".join(sorted(granted & set(self.request.client.row.scopes)))
        token = self.generate_token(user=user, scope=scope, include_refresh_token=True)
        self.request.user = user
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
