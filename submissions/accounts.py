"""Accounts: users and the OAuth clients they own."""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from models.errors import Conflict, Forbidden, NotFound, Unprocessable
from models.identity import (
    ALL_SCOPES,
    Actor,
    MePublic,
    OAuthClient,
    Organization,
    OrganizationMember,
    OrganizationRef,
    Role,
    User,
    UserCreate,
)
from submissions import audit
from submissions.prepared import Fetch, Prepared

_password_hasher = PasswordHasher()  # argon2id: memory-hard


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check, so timing does not reveal unknown accounts.
        _password_hasher.hash(password)
        return False
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_secret(secret: str) -> str:
    """Client secrets are 256-bit random strings: a plain SHA-256 is enough, and fast."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret_hash: str | None, secret: str) -> bool:
    return bool(secret_hash) and hmac.compare_digest(secret_hash or "", hash_secret(secret))


def get_user(*, session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("no such user")
    return user


def find_user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def create_user(
    *,
    session: Session,
    actor: Actor | None,
    data: UserCreate,
    now: datetime,
    password: str | None = None,
) -> User:
    """Create a user (admins only through the API; ``actor=None`` is the bootstrap CLI)."""
    if actor is not None and not actor.is_admin:
        raise Forbidden("only admins create users", type="forbidden-role")
    email = str(data.email).strip().lower()
    if find_user_by_email(session=session, email=email) is not None:
        raise Conflict("a user with this email already exists", type="user-exists")
    user = User(
        email=email,
        name=data.name,
        roles=[r.value for r in data.roles],
        password_hash=hash_password(password) if password else None,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name if actor else "system:cli",
        action="user.created",
        object_type="user",
        object_id=user.id,
        now=now,
        data={"email": email, "roles": user.roles},
    )
    return user


_USER = User.__table__  # type: ignore[attr-defined]
_MEMBER = OrganizationMember.__table__  # type: ignore[attr-defined]
_ORGANIZATION = Organization.__table__  # type: ignore[attr-defined]
_ME = Prepared(
    sa.select(
        _USER.c.email,
        _USER.c.name,
        _USER.c.roles,
        _USER.c.is_active,
        _ORGANIZATION.c.id.label("organization_id"),
        _ORGANIZATION.c.name.label("organization_name"),
        _MEMBER.c.role,
    )
    .select_from(_USER)
    .outerjoin(_MEMBER, _MEMBER.c.user_id == _USER.c.id)
    .outerjoin(_ORGANIZATION, _ORGANIZATION.c.id == _MEMBER.c.organization_id)
    .where(_USER.c.id == sa.bindparam("user_id"))
    .order_by(_ORGANIZATION.c.name, _ORGANIZATION.c.id)
)
"""The user with one row per organization they belong to (one row of nulls for none)."""


async def load_me(fetch: Fetch, *, actor: Actor) -> MePublic:
    """The caller, their roles and organizations, in one statement, through an asynchronous
    ``fetch`` of prepared rows (the event loop's reader, which on PostgreSQL does not block the
    loop while the database answers)."""
    rows = await fetch(_ME, user_id=actor.user_id)
    if not rows or not rows[0].is_active:
        raise NotFound("no such user")
    user = rows[0]
    return MePublic(
        id=actor.user_id,
        email=user.email,
        name=user.name,
        roles=sorted(user.roles),
        organizations=[
            OrganizationRef(id=row.organization_id, name=row.organization_name, role=row.role)
            for row in rows
            if row.organization_id is not None
        ],
    )


@dataclass(frozen=True)
class IssuedClient:
    client: OAuthClient
    secret: str


def new_client_id() -> str:
    return "sl_" + secrets.token_urlsafe(18)


def create_client(
    *,
    session: Session,
    actor: Actor | None,
    name: str,
    scopes: list[str],
    now: datetime,
    user_id: uuid.UUID | None = None,
    redirect_uris: list[str] | None = None,
) -> IssuedClient:
    """Create an OAuth client owned by a user; its secret is returned once and stored hashed.

    A client may only be given scopes its creating client holds (an admin may create one for
    another user, and then only scopes that user's roles can ever use are meaningful)."""
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise Unprocessable(f"unknown scopes: {', '.join(unknown)}")
    owner_id = user_id or (actor.user_id if actor else None)
    if owner_id is None:
        raise Unprocessable("a client needs an owner")
    if actor is not None:
        if user_id is not None and user_id != actor.user_id and not actor.is_admin:
            raise Forbidden("only admins create clients for other users", type="forbidden-role")
        if not set(scopes) <= actor.scopes:
            raise Forbidden(
                "a client cannot be given scopes the calling token does not hold",
                type="scope-escalation",
            )
    owner = get_user(session=session, user_id=owner_id)
    secret = secrets.token_urlsafe(32)
    redirect_uris = list(redirect_uris or [])
    client = OAuthClient(
        client_id=new_client_id(),
        secret_hash=hash_secret(secret),
        name=name,
        user_id=owner.id,
        scopes=sorted(set(scopes)),
        redirect_uris=redirect_uris,
        grant_types=["client_credentials"]
        + (["authorization_code", "refresh_token"] if redirect_uris else []),
        created_at=now,
    )
    session.add(client)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name if actor else "system:cli",
        action="oauth_client.created",
        object_type="oauth_client",
        object_id=client.client_id,
        now=now,
        data={"user_id": str(owner.id), "scopes": client.scopes, "name": name},
    )
    return IssuedClient(client=client, secret=secret)


def get_active_client(*, session: Session, client_id: str) -> OAuthClient | None:
    client = session.exec(select(OAuthClient).where(OAuthClient.client_id == client_id)).first()
    if client is None or client.revoked_at is not None:
        return None
    return client


def any_admin_exists(*, session: Session) -> bool:
    return any(Role.admin.value in roles for roles in session.exec(select(User.roles)).all())


def find_admin(*, session: Session) -> User | None:
    """The oldest active admin (the bootstrap owner of built-in clients)."""
    for user in session.exec(select(User).order_by(col(User.created_at), col(User.id))):
        if user.is_active and Role.admin.value in user.roles:
            return user
    return None


def create_admin(*, session: Session, email: str, now: datetime) -> tuple[User, IssuedClient]:
    """Bootstrap: an admin user (created or promoted) and a client with every scope."""
    user = find_user_by_email(session=session, email=email)
    if user is None:
        user = create_user(
            session=session,
            actor=None,
            data=UserCreate(email=email, name=email.split("@")[0], roles=[Role.admin]),
            now=now,
        )
    elif Role.admin.value not in user.roles:
        user.roles = sorted({*user.roles, Role.admin.value})
        session.add(user)
        audit.append(
            session=session,
            actor="system:cli",
            action="user.promoted",
            object_type="user",
            object_id=user.id,
            now=now,
            data={"roles": user.roles},
        )
    issued = create_client(
        session=session,
        actor=None,
        name="admin bootstrap",
        scopes=list(ALL_SCOPES),
        now=now,
        user_id=user.id,
    )
    return user, issued


def provision_external_user(
    *,
    session: Session,
    issuer: str,
    subject: str,
    roles: list[Role] | None,
    email: str | None,
    name: str | None,
    now: datetime,
) -> tuple[User, bool]:
    """The user behind an external (issuer, subject), created on first sight, and whether
    anything was written (flushed; the caller commits). When the token carries mapped roles
    they replace the stored ones: the identity provider is the source of truth for its
    people's roles."""
    user = session.exec(select(User).where(User.issuer == issuer, User.subject == subject)).first()
    role_values = sorted(r.value for r in roles) if roles is not None else None
    if user is None:
        digest = hashlib.sha256(f"{issuer}|{subject}".encode()).hexdigest()[:24]
        placeholder = f"{digest}@external.invalid"
        candidate = (email or "").strip().lower()
        if not candidate or find_user_by_email(session=session, email=candidate) is not None:
            candidate = placeholder
        user = User(
            email=candidate,
            name=name or subject,
            roles=role_values or [],
            issuer=issuer,
            subject=subject,
            created_at=now,
        )
        session.add(user)
        session.flush()
        audit.append(
            session=session,
            actor=f"external:{issuer}|{subject}",
            action="user.provisioned",
            object_type="user",
            object_id=user.id,
            now=now,
            data={"issuer": issuer, "subject": subject, "roles": user.roles},
        )
        return user, True
    if not user.is_active:
        raise NotFound("no such user")
    changed = False
    if role_values is not None and sorted(user.roles) != role_values:
        user.roles = role_values
        session.add(user)
        audit.append(
            session=session,
            actor=f"external:{issuer}|{subject}",
            action="user.roles_synced",
            object_type="user",
            object_id=user.id,
            now=now,
            data={"roles": role_values},
        )
        changed = True
    return user, changed


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


def set_password(*, session: Session, email: str, password: str, now: datetime) -> User:
    """Set (or replace) a local user's password, hashed with argon2id; audited without it."""
    user = find_user_by_email(session=session, email=email)
    if user is None or not user.is_active:
        raise NotFound("no such user")
    if user.issuer is not None:
        raise Unprocessable(
            "this user signs in with an external identity provider", type="external-user"
        )
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise Unprocessable(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            type="weak-password",
        )
    user.password_hash = hash_password(password)
    session.add(user)
    audit.append(
        session=session,
        actor="system:cli",
        action="user.password_set",
        object_type="user",
        object_id=user.id,
        now=now,
        data={},
    )
    return user


def authenticate_password(*, session: Session, email: str, password: str) -> User | None:
    """The active local user with this email and password, or ``None`` (in about the same time
    whether or not the account exists)."""
    user = find_user_by_email(session=session, email=email) if email else None
    usable = user is not None and user.is_active and user.issuer is None
    if not verify_password(user.password_hash if usable and user else None, password):
        return None
    if user is not None and _password_hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
        session.add(user)
    return user


def ensure_public_client(
    *,
    session: Session,
    client_id: str,
    name: str,
    owner: User,
    redirect_uris: list[str],
    now: datetime,
) -> OAuthClient:
    """A public client (no secret; authorization code with PKCE only), such as the API docs'
    Swagger UI: created, or its redirect URIs and scopes brought up to date."""
    client = session.exec(select(OAuthClient).where(OAuthClient.client_id == client_id)).first()
    if client is None:
        client = OAuthClient(
            client_id=client_id,
            secret_hash=None,
            name=name,
            user_id=owner.id,
            scopes=list(ALL_SCOPES),
            redirect_uris=redirect_uris,
            grant_types=["authorization_code", "refresh_token"],
            token_endpoint_auth_method="none",  # noqa: S106
            created_at=now,
        )
        session.add(client)
        session.flush()
        audit.append(
            session=session,
            actor="system:cli",
            action="oauth_client.created",
            object_type="oauth_client",
            object_id=client_id,
            now=now,
            data={"user_id": str(owner.id), "scopes": client.scopes, "name": name, "public": True},
        )
    elif client.redirect_uris != redirect_uris or client.scopes != list(ALL_SCOPES):
        client.redirect_uris = redirect_uris
        client.scopes = list(ALL_SCOPES)
        session.add(client)
    return client
