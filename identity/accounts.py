"""Accounts: users and the OAuth clients they own."""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
    OAuthClientPublic,
    Organization,
    OrganizationMember,
    OrganizationRef,
    RefreshToken,
    RevokedToken,
    Role,
    User,
    UserCreate,
)
from models.pagination import Page, PageRequest
from submissions import audit
from submissions.application_views import Fetch
from submissions.pagination import paginate

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


FRESH_SIGN_IN = timedelta(minutes=10)
"""How recent a person's sign-in must be for their token to create an OAuth client."""
SIGN_IN_CLOCK_SKEW = timedelta(seconds=30)
"""How far in the future an identity provider's ``auth_time`` may be (its clock and ours)."""
MAX_ACCESS_TOKEN_TTL = timedelta(seconds=3600)
"""The longest an access token may live (settings cap it): a revocation is kept that long."""


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
        locale=data.locale,
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
_ME = (
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
    ``fetch`` of prepared rows (the API's ``infra.db.LoopReader``)."""
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


def new_client_secret() -> str:
    """256 random bits, URL-safe, after a fixed ``slsec_``: recognizable by secret scanners (as
    webhook secrets' ``whsec_``), and never starting with ``-`` (one bare secret in 64 did, and
    a command line then took it for an option: ``shortlist demo --client-secret -x...``)."""
    return "slsec_" + secrets.token_urlsafe(32)


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

    A person creates one only with a token from a sign-in at most ``FRESH_SIGN_IN`` old (so a
    stolen short-lived token cannot become a lasting credential), or as an admin. A client may
    only be given scopes its creating client holds (an admin may create one for another user,
    and then only scopes that user's roles can ever use are meaningful)."""
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise Unprocessable(f"unknown scopes: {', '.join(unknown)}")
    owner_id = user_id or (actor.user_id if actor else None)
    if owner_id is None:
        raise Unprocessable("a client needs an owner")
    if actor is not None:
        if user_id is not None and user_id != actor.user_id and not actor.is_admin:
            raise Forbidden("only admins create clients for other users", type="forbidden-role")
        require_fresh_sign_in(actor=actor, now=now)
        if not set(scopes) <= actor.scopes:
            raise Forbidden(
                "a client cannot be given scopes the calling token does not hold",
                type="scope-escalation",
            )
    owner = get_user(session=session, user_id=owner_id)
    secret = new_client_secret()
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


def require_fresh_sign_in(*, actor: Actor, now: datetime) -> None:
    """403 ``login-required`` unless the caller is an admin or their token comes from a sign-in
    (its ``auth_time``) at most ``FRESH_SIGN_IN`` old. A client credentials token has none."""
    if actor.is_admin:
        return
    signed_in = actor.auth_time
    if signed_in is None or not -SIGN_IN_CLOCK_SKEW <= now - signed_in <= FRESH_SIGN_IN:
        minutes = int(FRESH_SIGN_IN.total_seconds() // 60)
        raise Forbidden(
            f"creating an OAuth client needs a token from a sign-in at most {minutes} minutes "
            "old (the authorization code flow); sign in again and use that token",
            type="login-required",
        )


def get_active_client(*, session: Session, client_id: str) -> OAuthClient | None:
    """The client with this id, unless it was deleted or its owner deactivated (a deactivated
    person's clients issue nothing, to anyone)."""
    found = session.exec(
        select(OAuthClient, User.is_active)
        .join(User, col(User.id) == col(OAuthClient.user_id))
        .where(OAuthClient.client_id == client_id)
    ).first()
    if found is None:
        return None
    client, owner_active = found
    if client.revoked_at is not None or not owner_active:
        return None
    return client


def public_client(client: OAuthClient) -> OAuthClientPublic:
    return OAuthClientPublic(
        client_id=client.client_id,
        name=client.name,
        user_id=client.user_id,
        scopes=client.scopes,
        redirect_uris=client.redirect_uris,
        grant_types=client.grant_types,
        public=client.secret_hash is None,
        created_at=client.created_at,
    )


def list_clients(
    *, session: Session, actor: Actor, page: PageRequest, user_id: uuid.UUID | None = None
) -> Page[OAuthClientPublic]:
    """The caller's own clients (an admin's: any user's), oldest first, never their secrets;
    deleted clients are gone from the list."""
    owner_id = user_id or actor.user_id
    if owner_id != actor.user_id and not actor.is_admin:
        raise Forbidden("only admins list other users' clients", type="forbidden-role")
    statement = select(OAuthClient).where(
        OAuthClient.user_id == owner_id, col(OAuthClient.revoked_at).is_(None)
    )
    return paginate(
        session,
        statement,
        keys=[OAuthClient.created_at, OAuthClient.id],  # type: ignore[list-item]
        page=page,
        present=lambda rows: [public_client(row) for row in rows],
    )


def delete_client(*, session: Session, actor: Actor, client_id: str, now: datetime) -> None:
    """Delete (revoke) a client, its owner's or, for an admin, anyone's: it authenticates no
    more, and every token it holds is refused at once (its refresh tokens are revoked with the
    access tokens issued with them; its client credentials tokens are refused by their client).
    Another person's client is 404, as one that does not exist."""
    client = session.exec(
        select(OAuthClient).where(OAuthClient.client_id == client_id).with_for_update()
    ).first()
    if (
        client is None
        or client.revoked_at is not None
        or (client.user_id != actor.user_id and not actor.is_admin)
    ):
        raise NotFound("no such OAuth client")
    client.revoked_at = now
    session.add(client)
    session.flush()
    families = revoke_grants(session=session, client_ids=[client.client_id], now=now)
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="oauth_client.deleted",
        object_type="oauth_client",
        object_id=client.client_id,
        now=now,
        data={"user_id": str(client.user_id), "name": client.name, "grants_revoked": families},
    )


def deactivate_user(*, session: Session, actor: Actor, user_id: uuid.UUID, now: datetime) -> User:
    """Deactivate a user (admins): their tokens are refused at once, they sign in no more, their
    clients issue nothing, and every grant of theirs or of their clients (refresh tokens and the
    access tokens issued with them) is revoked. Deactivating an inactive user changes nothing."""
    if not actor.is_admin:
        raise Forbidden("only admins deactivate users", type="forbidden-role")
    if user_id == actor.user_id:
        raise Conflict("an admin cannot deactivate themselves", type="self-deactivation")
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("no such user")
    if not user.is_active:
        return user
    user.is_active = False
    session.add(user)
    session.flush()
    clients = list(
        session.exec(select(OAuthClient.client_id).where(OAuthClient.user_id == user.id))
    )
    families = revoke_grants(session=session, client_ids=clients, user_id=user.id, now=now)
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="user.deactivated",
        object_type="user",
        object_id=user.id,
        now=now,
        data={"oauth_clients": len(clients), "grants_revoked": families},
    )
    return user


# --- token revocation ----------------------------------------------------------------------------


def revoke_grants(
    *,
    session: Session,
    now: datetime,
    client_ids: list[str] | None = None,
    user_id: uuid.UUID | None = None,
) -> int:
    """Revoke every live refresh-token family of these clients or of this user (each with the
    access tokens issued with it); how many families that was."""
    conditions: list[Any] = []
    if client_ids:
        conditions.append(col(RefreshToken.client_id).in_(client_ids))
    if user_id is not None:
        conditions.append(col(RefreshToken.user_id) == user_id)
    if not conditions:
        return 0
    families = session.exec(
        select(RefreshToken.family_id)
        .where(sa.or_(*conditions), col(RefreshToken.revoked_at).is_(None))
        .distinct()
    ).all()
    for family_id in sorted(families):
        revoke_family(session=session, family_id=family_id, now=now)
    return len(families)


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


def revoke_access_token(*, session: Session, jti: str, expires_at: datetime, now: datetime) -> None:
    """Deny an access token until it would have expired anyway; expired denials are purged."""
    if session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, expires_at=expires_at))
        session.flush()
    session.exec(sa.delete(RevokedToken).where(col(RevokedToken.expires_at) < now))


def is_access_token_revoked(*, session: Session, jti: str) -> bool:
    return session.get(RevokedToken, jti) is not None


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
    else:
        current = session.get(User, client.user_id)
        if current is None or not current.is_active:
            # Its owner was deactivated (and so it issued nothing): the given admin takes it.
            client.user_id = owner.id
            session.add(client)
        if client.redirect_uris != redirect_uris or client.scopes != list(ALL_SCOPES):
            client.redirect_uris = redirect_uris
            client.scopes = list(ALL_SCOPES)
            session.add(client)
    return client
