"""What authlib sees of ours: ``FormRequest`` (an ``OAuth2Request`` built from parameters the HTTP
edge already parsed), ``ClientAdapter`` (an ``OAuthClient`` row through authlib's
``ClientMixin``), and ``ServerContext``, the part of the per-request server that the grants and
endpoints use (``identity.oauth.server`` builds the server from them; they never import it).
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from sqlmodel import Session

from identity.accounts import secret_matches
from identity.oauth.errors import check_basic_credentials, check_parameters, safe_description
from identity.tokens import TokenVerifier
from models.identity import OAuthClient

CONFIDENTIAL_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
"""Both are accepted from every confidential client, whatever it registered."""
PUBLIC_AUTH_METHOD = "none"


class ServerContext(Protocol):
    """The per-request server as the grants and endpoints use it."""

    session: Session
    now: datetime
    verifier: TokenVerifier
    keep_changes: bool
    """Set when a refusal must still be committed (a replayed code or refresh token revokes
    its family even though the request fails)."""
    auth_time: datetime | None
    """When the person behind the tokens being issued signed in (set by the grants)."""


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
