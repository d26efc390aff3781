"""Plain ``make_*`` factories with overridable defaults."""

import uuid
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlmodel import Session

from api.db import open_session
from api.oauth.tokens import issue_access_token
from models.identity import ALL_SCOPES, Role, User, UserCreate
from submissions.accounts import create_client, create_user

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def make_user(
    session: Session,
    *,
    roles: list[Role] | None = None,
    email: str | None = None,
    name: str = "Test User",
    password: str | None = None,
    now: datetime = NOW,
) -> User:
    user = create_user(
        session=session,
        actor=None,
        data=UserCreate(
            email=email or f"user-{uuid.uuid4().hex[:10]}@example.org",
            name=name,
            roles=roles if roles is not None else [Role.applicant],
        ),
        now=now,
        password=password,
    )
    session.commit()
    return user


def make_token(
    app: FastAPI,
    user: User | uuid.UUID,
    *,
    scopes: list[str] | tuple[str, ...] = ALL_SCOPES,
    client_id: str = "test-client",
    now: datetime | None = None,
    ttl: int | None = None,
) -> str:
    settings = app.state.settings
    return issue_access_token(
        keys=app.state.keys,
        issuer=settings.issuer,
        audience=settings.audience,
        user_id=user.id if isinstance(user, User) else user,
        client_id=client_id,
        scopes=scopes,
        now=now or app.state.clock(),
        ttl=ttl or settings.access_token_ttl,
    ).access_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_principal(
    app: FastAPI,
    *,
    roles: list[Role] | None = None,
    scopes: list[str] | tuple[str, ...] = ALL_SCOPES,
    email: str | None = None,
) -> tuple[User, dict[str, str]]:
    """A user and the Authorization header of a token for them."""
    session = open_session(app.state.engine, write=True)
    try:
        user = make_user(session, roles=roles, email=email)
    finally:
        session.close()
    return user, bearer(make_token(app, user, scopes=scopes))


def make_client_credentials(
    session: Session, user: User, *, scopes: list[str] | None = None
) -> tuple[str, str]:
    issued = create_client(
        session=session,
        actor=None,
        name="test",
        scopes=scopes or list(ALL_SCOPES),
        now=NOW,
        user_id=user.id,
    )
    session.commit()
    return issued.client.client_id, issued.secret
