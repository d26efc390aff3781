"""What the built-in authorization server keeps: authorization codes, refresh-token families and
revoked access tokens. Secrets are stored as SHA-256 digests only. Functions flush, never commit.

Single use is enforced by the database, not by a read-then-write: a code or a refresh token is
claimed with ``UPDATE ... WHERE used_at IS NULL``, so of two racing requests exactly one wins.
"""

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.identity import AuthorizationCode, RefreshToken, RevokedToken

AUTHORIZATION_CODE_TTL = timedelta(minutes=5)
MAX_ACCESS_TOKEN_TTL = timedelta(seconds=3600)
"""The longest an access token may live (settings cap it): a revocation is kept that long."""


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    """A 256-bit random, URL-safe token value (codes and refresh tokens; never a JWT)."""
    return secrets.token_urlsafe(32)


# --- authorization codes -----------------------------------------------------------------------


def save_authorization_code(
    *,
    session: Session,
    code: str,
    client_id: str,
    user_id: uuid.UUID,
    redirect_uri: str,
    scope: str,
    code_challenge: str,
    code_challenge_method: str,
    now: datetime,
) -> AuthorizationCode:
    row = AuthorizationCode(
        code_hash=digest(code),
        client_id=client_id,
        user_id=user_id,
        redirect_uri=redirect_uri,
        scope=scope,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        created_at=now,
        expires_at=now + AUTHORIZATION_CODE_TTL,
    )
    session.add(row)
    session.flush()
    return row


def find_authorization_code(*, session: Session, code: str) -> AuthorizationCode | None:
    return session.exec(
        select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code))
    ).first()


def claim_authorization_code(*, session: Session, row: AuthorizationCode, now: datetime) -> bool:
    """Mark the code used; False when another request used it first."""
    return _claim(session, AuthorizationCode, row.id, now)


# --- refresh tokens ----------------------------------------------------------------------------


def save_refresh_token(
    *,
    session: Session,
    value: str,
    family_id: uuid.UUID,
    client_id: str,
    user_id: uuid.UUID,
    scope: str,
    access_jti: str | None,
    now: datetime,
    expires_at: datetime,
) -> RefreshToken:
    row = RefreshToken(
        token_hash=digest(value),
        family_id=family_id,
        client_id=client_id,
        user_id=user_id,
        scope=scope,
        access_jti=access_jti,
        issued_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row


def find_refresh_token(*, session: Session, value: str) -> RefreshToken | None:
    return session.exec(
        select(RefreshToken).where(RefreshToken.token_hash == digest(value))
    ).first()


def claim_refresh_token(*, session: Session, row: RefreshToken, now: datetime) -> bool:
    """Rotate: mark the token used; False when it was used (or revoked) already, which for a
    refresh token means it leaked."""
    return _claim(session, RefreshToken, row.id, now)


def revoke_family(*, session: Session, family_id: uuid.UUID, now: datetime) -> int:
    """Revoke every refresh token of a family and the access tokens issued with them.

    A rotation of the family under way holds the lock of the token it claimed until the token
    it issues is committed: wait for it first (locking the family's rows), so that the revoking
    statement, which starts after, sees that new token too and no successor escapes."""
    session.exec(
        select(RefreshToken.id).where(RefreshToken.family_id == family_id).with_for_update()
    ).all()
    result = session.exec(
        sa.update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    rows = session.exec(
        select(RefreshToken.access_jti, RefreshToken.issued_at).where(
            RefreshToken.family_id == family_id, col(RefreshToken.access_jti).is_not(None)
        )
    ).all()
    for jti, issued_at in rows:
        if jti and issued_at + MAX_ACCESS_TOKEN_TTL > now:
            revoke_access_token(
                session=session, jti=jti, expires_at=issued_at + MAX_ACCESS_TOKEN_TTL, now=now
            )
    session.expire_all()
    return int(result.rowcount or 0)


# --- access tokens -----------------------------------------------------------------------------


def revoke_access_token(*, session: Session, jti: str, expires_at: datetime, now: datetime) -> None:
    """Deny an access token until it would have expired anyway; expired denials are purged."""
    if session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, expires_at=expires_at))
        session.flush()
    session.exec(sa.delete(RevokedToken).where(col(RevokedToken.expires_at) < now))


def is_access_token_revoked(*, session: Session, jti: str) -> bool:
    return session.get(RevokedToken, jti) is not None


def _claim(
    session: Session,
    table: type[AuthorizationCode] | type[RefreshToken],
    row_id: uuid.UUID,
    now: datetime,
) -> bool:
    statement = sa.update(table).where(col(table.id) == row_id, col(table.used_at).is_(None))
    if table is RefreshToken:
        statement = statement.where(col(RefreshToken.revoked_at).is_(None))
    result = session.exec(statement.values(used_at=now))
    session.expire_all()
    return int(result.rowcount or 0) == 1
