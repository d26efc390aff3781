"""The one token verifier: RFC 9068 access tokens from the built-in issuer or an external OpenID
Connect provider, and the errors that say why one is refused.

The verifier trusts only keys it fetched itself (never ``jku``/``jwk``/``x5u`` headers), an
algorithm allow-list (never ``none``; never HMAC), ``typ: at+jwt``, and checks iss/aud/exp/nbf
with a leeway.
"""

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key
from joserfc.jwt import JWTClaimsRegistry

from models.errors import DomainError

LEEWAY_SECONDS = 30
VERIFIED_CACHE_SECONDS = 60.0
"""The longest a verified signature is trusted without checking it again (it is checked again
sooner whenever the issuer's key set is reloaded)."""
VERIFIED_CACHE_SIZE = 10_000
ASYMMETRIC_ALGS = frozenset(
    {
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
        "Ed25519",
    }
)
FORBIDDEN_HEADERS = ("jku", "jwk", "x5u", "x5c", "crit")
REALM = "shortlist"


class AuthError(DomainError):
    """401 with the RFC 6750 challenge."""

    status = 401
    type = "invalid-token"
    title = "Unauthorized"

    def __init__(self, detail: str, *, error: str | None = "invalid_token") -> None:
        challenge = f'Bearer realm="{REALM}"'
        if error:
            safe = detail.replace('"', "'")
            challenge += f', error="{error}", error_description="{safe}"'
        super().__init__(
            detail,
            type="invalid-token" if error else "unauthorized",
            headers={"WWW-Authenticate": challenge},
        )


class InsufficientScope(DomainError):
    status = 403
    type = "insufficient-scope"
    title = "Forbidden"

    def __init__(self, scope: str) -> None:
        super().__init__(
            f"this action needs the scope {scope}",
            headers={
                "WWW-Authenticate": (
                    f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
                )
            },
        )


class KeyProvider(Protocol):
    def public_key(self, kid: str) -> Key | None:
        """The issuer's key with this kid, refetched (rate-limited) when unknown."""

    def cached_key(self, kid: str) -> Key | None:
        """The key with this kid if the provider's cached key set is fresh, without loading
        anything (``None``: unknown, or the set needs loading)."""


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    audience: str
    keys: KeyProvider
    algorithms: frozenset[str]
    builtin: bool
    roles_claim: str | None = None
    role_map: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifiedToken:
    issuer: TrustedIssuer
    subject: str
    client_id: str
    scopes: frozenset[str]
    jti: str
    expires_at: int
    claims: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Verified:
    at: float
    token: VerifiedToken
    kid: str
    key: Key


class TokenVerifier:
    """Verifies access tokens. A token whose signature verified is remembered (``recall``), so
    a client's next requests skip parsing and the signature check, for as long as the issuer's
    cached key set still holds the very key that verified it (at most
    ``VERIFIED_CACHE_SECONDS``); the claims (exp, nbf, iss, aud) are checked again on every use."""

    def __init__(self, issuers: list[TrustedIssuer], *, now: Callable[[], float] = time.time):
        self._issuers = {i.issuer: i for i in issuers}
        self._now = now
        self._verified: dict[str, _Verified] = {}
        self._lock = threading.Lock()

    def recall(self, token: str) -> VerifiedToken | None:
        """The token as verified before, with its claims checked against now (401 once
        expired); ``None`` when it must be verified in full (``verify``), which may load keys."""
        found = self._verified.get(token)
        if found is None:
            return None
        fresh = time.monotonic() - found.at <= VERIFIED_CACHE_SECONDS
        if not fresh or found.token.issuer.keys.cached_key(found.kid) is not found.key:
            with self._lock:
                self._verified.pop(token, None)
            return None
        # iss, aud and sub were checked when it was verified and cannot have changed since;
        # only time can make it invalid now.
        now = self._now()
        token_ = found.token
        if token_.expires_at + LEEWAY_SECONDS < now:
            raise AuthError("the token is not valid: The token is expired")
        not_before = token_.claims.get("nbf")
        if isinstance(not_before, int | float) and not_before - LEEWAY_SECONDS > now:
            raise AuthError("the token is not valid: The token is not valid yet")
        return found.token

    def verify(self, token: str) -> VerifiedToken:
        verified, kid, key = self._verify(token)
        with self._lock:
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                # Forget the oldest entry (dicts keep insertion order).
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = _Verified(time.monotonic(), verified, kid, key)
        return verified

    def _validate_claims(self, trusted: TrustedIssuer, claims: Mapping[str, Any]) -> None:
        try:
            JWTClaimsRegistry(
                now=int(self._now()),
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": trusted.issuer},
                aud={"essential": True, "value": trusted.audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(dict(claims))
        except JoseError as exc:
            raise AuthError(f"the token is not valid: {exc.description or exc.error}") from exc

    def _verify(self, token: str) -> tuple[VerifiedToken, str, Key]:
        try:
            compact = jws.extract_compact(token.encode("ascii"))
        except (JoseError, ValueError, UnicodeError) as exc:
            raise AuthError("the token is not a well-formed JWT") from exc
        header = compact.headers()
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ASYMMETRIC_ALGS:
            raise AuthError("the token's algorithm is not accepted")
        if any(h in header for h in FORBIDDEN_HEADERS):
            raise AuthError("the token carries a key reference header that is not accepted")
        typ = str(header.get("typ", "")).lower()
        if typ not in ("at+jwt", "application/at+jwt"):
            raise AuthError("the token is not an access token (typ must be at+jwt)")
        try:
            unverified_claims = json.loads(compact.payload)
        except ValueError as exc:
            raise AuthError("the token's payload is not JSON") from exc
        iss = unverified_claims.get("iss") if isinstance(unverified_claims, dict) else None
        trusted = self._issuers.get(iss) if isinstance(iss, str) else None
        if trusted is None:
            raise AuthError("the token's issuer is not trusted")
        if alg not in trusted.algorithms:
            raise AuthError("the token's algorithm is not accepted for this issuer")
        kid = header.get("kid")
        key = trusted.keys.public_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise AuthError("the token's signing key is unknown")
        if key.alg and key.alg != alg:
            raise AuthError("the token's algorithm does not match its key")
        try:
            decoded = jwt.decode(token, key, algorithms=[alg])
        except JoseError as exc:
            raise AuthError(f"the token is not valid: {exc.description or exc.error}") from exc
        self._validate_claims(trusted, decoded.claims)
        claims = decoded.claims
        verified = VerifiedToken(
            issuer=trusted,
            subject=str(claims["sub"]),
            client_id=str(claims.get("client_id") or claims.get("azp") or ""),
            scopes=_scopes(claims),
            jti=str(claims.get("jti", "")),
            expires_at=int(claims["exp"]),
            claims=claims,
        )
        return verified, str(kid), key


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list):
        return frozenset(str(s) for s in scp)
    return frozenset()
