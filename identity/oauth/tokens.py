"""Access tokens: RFC 9068 JWTs signed with the shared key."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from joserfc import jwt

from identity.oauth.keys import SIGNING_ALG, BuiltinKeys


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    jti: str
    expires_in: int
    scope: str


def issue_access_token(
    *,
    keys: BuiltinKeys,
    issuer: str,
    audience: str,
    user_id: uuid.UUID,
    client_id: str,
    scopes: list[str] | tuple[str, ...],
    now: datetime,
    ttl: int,
    auth_time: datetime | None = None,
) -> IssuedToken:
    """A signed access token; ``auth_time`` (the person's sign-in, RFC 9068 section 2.2.1) only
    when one stands behind it."""
    snap = keys.snapshot()
    iat = int(now.timestamp())
    jti = secrets.token_urlsafe(16)
    scope = " ".join(sorted(set(scopes)))
    claims: dict[str, str | int] = {
        "iss": issuer,
        "sub": str(user_id),
        "aud": audience,
        "exp": iat + ttl,
        "iat": iat,
        "nbf": iat,
        "jti": jti,
        "client_id": client_id,
        "scope": scope,
    }
    if auth_time is not None:
        claims["auth_time"] = int(auth_time.timestamp())
    header = {"alg": SIGNING_ALG, "typ": "at+jwt", "kid": snap.signing.kid}
    token = jwt.encode(header, claims, snap.signing, algorithms=[SIGNING_ALG], default_type=None)
    return IssuedToken(access_token=token, jti=jti, expires_in=ttl, scope=scope)
