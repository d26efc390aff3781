"""Plain ``make_*`` factories with overridable defaults."""

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from identity.accounts import create_client, create_user
from identity.oauth.tokens import issue_access_token
from infra.db import open_session
from models.applications import Application, ApplicationCreate, ApplicationMemberIn
from models.documents import Document, DocumentStatus
from models.identity import ALL_SCOPES, Actor, MemberRole, Organization, Role, User, UserCreate
from models.organizations import OrganizationCreate, OrganizationMemberCreate
from models.rounds import Program, ProgramCreate, Round, RoundCreate
from reviewers.conflicts import end_conflicted_assignments
from submissions.applications import create_application
from submissions.organizations import add_member, create_organization
from submissions.rounds import create_program, create_round, open_round

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


class Clock:
    """The server clock under test control (``app.state.clock``; the ``app`` fixture's stands
    at ``NOW``): tokens are issued and verified by it too. It stands still (set ``now`` to move
    it) until ``run_from`` makes it run."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._running: tuple[datetime, float] | None = None

    def run_from(self, start: datetime) -> None:
        """From this moment on, run from ``start`` at the pace of the monotonic clock (for
        races against a deadline): real seconds pass, whatever the date on the wall."""
        self._running = (start, time.monotonic())  # one assignment: readers see all or nothing

    def __call__(self) -> datetime:
        running = self._running
        if running is None:
            return self.now
        start, since = running
        return start + timedelta(seconds=time.monotonic() - since)


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of a response that must have ``status``."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()


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
    auth_time: datetime | None = None,
) -> str:
    """An access token as the built-in server issues it; with ``auth_time``, as from a sign-in
    (the authorization code flow) at that time."""
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
        auth_time=auth_time,
    ).access_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_principal(
    app: FastAPI,
    *,
    roles: list[Role] | None = None,
    scopes: list[str] | tuple[str, ...] = ALL_SCOPES,
    email: str | None = None,
    signed_in: bool = False,
) -> tuple[User, dict[str, str]]:
    """A user and the Authorization header of a token for them (``signed_in``: from a sign-in
    just now, as the authorization code flow gives)."""
    session = open_session(app.state.engine, write=True)
    try:
        user = make_user(session, roles=roles, email=email)
    finally:
        session.close()
    auth_time = app.state.clock() if signed_in else None
    return user, bearer(make_token(app, user, scopes=scopes, auth_time=auth_time))


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


# --- OAuth (appended for the built-in authorization server's tests) ---------------------------


def make_oauth_client(
    session: Session,
    user: User,
    *,
    scopes: list[str] | None = None,
    redirect_uris: list[str] | None = None,
    public: bool = False,
    name: str = "test app",
) -> tuple[str, str | None]:
    """A client of ``user``: confidential (client_credentials, and code + refresh when it has
    redirect URIs) or public (code + refresh only, no secret). Returns (client_id, secret)."""
    from identity.accounts import ensure_public_client

    if public:
        client = ensure_public_client(
            session=session,
            client_id=f"public-{uuid.uuid4().hex[:10]}",
            name=name,
            owner=user,
            redirect_uris=redirect_uris or ["http://localhost/callback"],
            now=NOW,
        )
        if scopes is not None:
            client.scopes = sorted(scopes)
            session.add(client)
        session.commit()
        return client.client_id, None
    issued = create_client(
        session=session,
        actor=None,
        name=name,
        scopes=scopes or list(ALL_SCOPES),
        now=NOW,
        user_id=user.id,
        redirect_uris=redirect_uris,
    )
    session.commit()
    return issued.client.client_id, issued.secret


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A user, a confidential OAuth client of theirs (``auth``: its credentials, as the form
    fields of the OAuth endpoints) and an access token ``POST /oauth/token`` issued to it."""

    user: User
    client_id: str
    auth: dict[str, str]
    token: str


def issue_client_credentials_token(
    app: FastAPI, client: TestClient, *, roles: list[Role] | None = None
) -> IssuedToken:
    """An ``IssuedToken`` of a new user (an applicant unless ``roles``), through the token
    endpoint's client_credentials grant (the app's settings must accept its issuer)."""
    session = open_session(app.state.engine, write=True)
    try:
        user = make_user(session, roles=roles or [Role.applicant])
        client_id, secret = make_oauth_client(session, user)
    finally:
        session.close()
    assert secret is not None
    auth = {"client_id": client_id, "client_secret": secret}
    issued = client.post("/oauth/token", data={"grant_type": "client_credentials", **auth})
    assert issued.status_code == 200, issued.text
    return IssuedToken(
        user=user, client_id=client_id, auth=auth, token=issued.json()["access_token"]
    )


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    import base64
    import hashlib
    import secrets

    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_jwt(
    app: FastAPI,
    claims: dict[str, object],
    *,
    header: dict[str, Any] | None = None,
    key: object | None = None,
) -> str:
    """A JWT signed with the app's current signing key (or ``key``), with any header and
    claims: for crafting tokens that the verifier must refuse."""
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    signing = app.state.keys.snapshot().signing
    use = key if isinstance(key, RSAKey) else signing
    full_header: dict[str, object] = {"alg": "RS256", "typ": "at+jwt", "kid": use.kid}
    full_header.update(header or {})
    return jwt.encode(full_header, claims, use, algorithms=["RS256"], default_type=None)


def access_claims(app: FastAPI, user: User, **overrides: object) -> dict[str, object]:
    """The claims of a valid access token for ``user`` (all scopes), with overrides."""
    settings = app.state.settings
    iat = int(app.state.clock().timestamp())
    claims: dict[str, object] = {
        "iss": settings.issuer,
        "sub": str(user.id),
        "aud": settings.audience,
        "exp": iat + 600,
        "iat": iat,
        "nbf": iat,
        "jti": uuid.uuid4().hex,
        "client_id": "test-client",
        "scope": " ".join(ALL_SCOPES),
    }
    claims.update(overrides)
    return claims


# --- intake: organizations, programs, rounds, applications, documents --------------------------


def actor_of(user: User, *, scopes: list[str] | tuple[str, ...] = ALL_SCOPES) -> Actor:
    """The ``Actor`` a token for ``user`` would give domain code."""
    return Actor(
        user_id=user.id,
        roles=frozenset(user.roles),
        scopes=frozenset(scopes),
        client_id="test-client",
    )


def make_organization(
    session: Session,
    owner: User,
    *,
    name: str | None = None,
    email_domains: list[str] | None = None,
    members: list[tuple[User, MemberRole]] | None = None,
    now: datetime = NOW,
) -> Organization:
    """An organization owned by ``owner`` (an applicant), with more ``members`` if given."""
    organization = create_organization(
        session=session,
        actor=actor_of(owner),
        data=OrganizationCreate(
            name=name or f"Org {uuid.uuid4().hex[:6]}",
            registration_number=uuid.uuid4().hex[:10],
            country="KR",
            email_domains=email_domains or [],
        ),
        now=now,
    )
    for user, role in members or []:
        add_member(
            session=session,
            actor=actor_of(owner),
            organization_id=organization.id,
            data=OrganizationMemberCreate(user_id=user.id, role=role),
            now=now,
            conflicts_changed=end_conflicted_assignments,
        )
    session.commit()
    return organization


def make_admin(session: Session) -> User:
    return make_user(session, roles=[Role.admin])


def make_program(
    session: Session, *, admin: User | None = None, name: str = "Program", now: datetime = NOW
) -> Program:
    program = create_program(
        session=session,
        actor=actor_of(admin or make_admin(session)),
        data=ProgramCreate(name=name, description="A program"),
        now=now,
    )
    session.commit()
    return program


def round_config(now: datetime = NOW, **overrides: Any) -> dict[str, Any]:
    """A valid round configuration, open from an hour before ``now`` for a week."""
    config: dict[str, Any] = {
        "name": "Round 1",
        "opens_at": now - timedelta(hours=1),
        "submission_deadline": now + timedelta(days=7),
        "grace_seconds": 0,
        "review_deadline": now + timedelta(days=14),
        "criteria": [
            {"key": "impact", "title": "Impact", "weight": 2, "min": 0, "max": 10},
            {"key": "team", "title": "Team", "weight": 1, "min": 0, "max": 10, "threshold": 3},
        ],
        "gates": [{"key": "legal", "title": "Legally eligible"}],
        "required_documents": [],
        "reviewers_per_application": 2,
        "shortlist": {"size": 2, "tie_break": ["criterion:impact", "submitted_at", "id"]},
    }
    config.update(overrides)
    return config


def make_round(
    session: Session,
    *,
    program: Program | None = None,
    admin: User | None = None,
    opened: bool = True,
    now: datetime = NOW,
    **overrides: Any,
) -> Round:
    """A round of ``program`` (a new one by default), opened unless ``opened=False``."""
    actor = actor_of(admin or make_admin(session))
    program = program or make_program(session, now=now)
    round = create_round(
        session=session,
        actor=actor,
        program_id=program.id,
        data=RoundCreate.model_validate(round_config(now, **overrides)),
        now=now,
    )
    if opened:
        round = open_round(session=session, actor=actor, round_id=round.id, now=now)
    session.commit()
    return round


def make_application(
    session: Session,
    round: Round,
    applicant: User,
    *,
    organization: Organization | None = None,
    members: list[Organization] | None = None,
    title: str = "A bid",
    now: datetime = NOW,
) -> Application:
    """A draft led by ``organization`` (a new one owned by ``applicant`` by default)."""
    lead = organization or make_organization(session, applicant, now=now)
    application = create_application(
        session=session,
        actor=actor_of(applicant),
        round_id=round.id,
        data=ApplicationCreate(
            title=title,
            summary="What we will do",
            lead_organization_id=lead.id,
            members=[ApplicationMemberIn(organization_id=m.id) for m in members or []],
            keywords=["energy"],
        ),
        now=now,
    )
    session.commit()
    return application


def make_document(
    session: Session,
    application: Application,
    *,
    kind: str = "proposal",
    status: DocumentStatus = DocumentStatus.clean,
    version: int = 1,
    uploaded_by: uuid.UUID | None = None,
    now: datetime = NOW,
) -> Document:
    """A stored document row (the upload machinery is not involved)."""
    content = f"{application.id}:{kind}:{version}".encode()
    document = Document(
        application_id=application.id,
        kind=kind,
        filename=f"{kind}.pdf",
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        status=status,
        storage_key=f"test/{uuid.uuid4().hex}",
        version=version,
        uploaded_by=uploaded_by or application.created_by,
        created_at=now,
    )
    session.add(document)
    session.commit()
    return document


class RecordedLog:
    """Stands in for a module's structlog logger (``monkeypatch.setattr("mod.log", ...)``):
    each call recorded as a dict with its ``event`` and ``level``. (structlog's capture_logs
    cannot see a logger that was used, and so cached, before it.)"""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def _record(self, level: str) -> Callable[..., None]:
        def record(event: str, **fields: Any) -> None:
            self.lines.append({"event": event, "level": level, **fields})

        return record

    def __getattr__(self, level: str) -> Callable[..., None]:
        return self._record(level)

    @property
    def events(self) -> list[str]:
        return [line["event"] for line in self.lines]
