"""What the built-in authorization server keeps: authorization codes and refresh-token families
(revoking them, and access tokens, is the accounts' business: ``identity.accounts``, which
deleting a client and deactivating a user share). Secrets are stored as SHA-256 digests only.
Functions flush, never commit.

Single use is enforced by the database, not by a read-then-write: a code or a refresh token is
claimed with ``UPDATE ... WHERE used_at IS NULL``, so of two racing requests exactly one wins.
"""

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.identity import AuthorizationCode, RefreshToken

AUTHORIZATION_CODE_TTL = timedelta(minutes=5)


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
    auth_time: datetime | None = None,
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
        auth_time=auth_time,
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
