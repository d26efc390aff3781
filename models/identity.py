"""Users, organizations, OAuth clients, signing keys and tokens."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlsplit

import sqlalchemy as sa
from pydantic import ConfigDict, EmailStr, field_validator
from sqlmodel import Field, SQLModel

from models.base import InputModel, json_column, new_id, utc_column


class Role(StrEnum):
    applicant = "applicant"
    reviewer = "reviewer"
    admin = "admin"


class Scope(StrEnum):
    applications_read = "applications:read"
    applications_write = "applications:write"
    reviews_read = "reviews:read"
    reviews_write = "reviews:write"
    rounds_admin = "rounds:admin"
    audit_read = "audit:read"


ALL_SCOPES: tuple[str, ...] = tuple(s.value for s in Scope)


class MemberRole(StrEnum):
    owner = "owner"
    member = "member"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the person (user and roles) and the client (and what its token allows)."""

    user_id: uuid.UUID
    roles: frozenset[str]
    scopes: frozenset[str]
    client_id: str
    token_id: str = ""
    auth_time: datetime | None = None
    """When the person last signed in to get this token (its ``auth_time``); ``None`` for a
    token no sign-in stands behind (client credentials)."""

    @property
    def is_admin(self) -> bool:
        return Role.admin in self.roles

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles

    @property
    def audit_name(self) -> str:
        return f"user:{self.user_id}"


# --- users -------------------------------------------------------------------------------------


class User(SQLModel, table=True):
    __tablename__ = "user"
    __table_args__ = (sa.UniqueConstraint("issuer", "subject"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(max_length=200)
    roles: list[str] = Field(default_factory=list, sa_column=json_column())
    password_hash: str | None = Field(default=None, max_length=500)
    # External identities: the (issuer, subject) pair that an OpenID Connect provider asserts.
    issuer: str | None = Field(default=None, max_length=500)
    subject: str | None = Field(default=None, max_length=255)
    is_active: bool = True
    created_at: datetime = Field(sa_column=utc_column())
    locale: str | None = Field(default=None, max_length=10)
    """The language of the mail the user gets (``ko`` or ``en``; unset: the portal's default)."""


def _normalized_roles(value: list[Role]) -> list[Role]:
    return sorted(set(value))


class UserCreate(InputModel):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(default_factory=lambda: [Role.applicant])
    locale: Literal["ko", "en"] | None = None

    _roles = field_validator("roles")(_normalized_roles)


class UserPublic(SQLModel):
    id: uuid.UUID
    email: str
    name: str
    roles: list[str]
    is_active: bool
    created_at: datetime
    locale: str | None = None


# --- organizations -----------------------------------------------------------------------------


class Organization(SQLModel, table=True):
    __tablename__ = "organization"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=300)
    registration_number: str = Field(max_length=100)
    country: str = Field(max_length=2)
    email_domains: list[str] = Field(default_factory=list, sa_column=json_column())
    """Claimed; only those also in ``verified_email_domains`` count in conflict detection."""
    verified_email_domains: list[str] = Field(
        default_factory=list, sa_column=json_column(server_default=sa.text("'[]'"))
    )
    created_at: datetime = Field(sa_column=utc_column())


class OrganizationMember(SQLModel, table=True):
    __tablename__ = "organization_member"
    __table_args__ = (sa.UniqueConstraint("organization_id", "user_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    role: MemberRole = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    created_at: datetime = Field(sa_column=utc_column())


# --- OAuth -------------------------------------------------------------------------------------


class OAuthClient(SQLModel, table=True):
    __tablename__ = "oauth_client"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    client_id: str = Field(max_length=100, unique=True)
    secret_hash: str | None = Field(default=None, max_length=500)
    name: str = Field(max_length=200)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    scopes: list[str] = Field(default_factory=list, sa_column=json_column())
    redirect_uris: list[str] = Field(default_factory=list, sa_column=json_column())
    grant_types: list[str] = Field(default_factory=list, sa_column=json_column())
    token_endpoint_auth_method: str = Field(default="client_secret_basic", max_length=50)
    created_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class SigningKey(SQLModel, table=True):
    """A token-signing key shared by every process; retired keys stay published until their
    tokens have expired."""

    __tablename__ = "signing_key"

    kid: str = Field(primary_key=True, max_length=100)
    alg: str = Field(max_length=20)
    private_jwk: dict[str, Any] = Field(sa_column=json_column())
    public_jwk: dict[str, Any] = Field(sa_column=json_column())
    created_at: datetime = Field(sa_column=utc_column())
    retired_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_token"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    family_id: uuid.UUID = Field(index=True)
    client_id: str = Field(max_length=100, index=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    scope: str = Field(max_length=1000)
    issued_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # The access token issued with this refresh token: revoking the family revokes it too.
    access_jti: str | None = Field(default=None, max_length=100)
    # When the person signed in for the grant this family continues (null: unknown, stale).
    auth_time: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class AuthorizationCode(SQLModel, table=True):
    __tablename__ = "authorization_code"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    client_id: str = Field(max_length=100)
    user_id: uuid.UUID = Field(foreign_key="user.id")
    redirect_uri: str = Field(max_length=2000)
    scope: str = Field(max_length=1000)
    code_challenge: str = Field(max_length=200)
    code_challenge_method: str = Field(max_length=10)
    nonce: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column())
    used_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # The refresh-token family the code was redeemed for: a replayed code revokes it.
    family_id: uuid.UUID | None = Field(default=None)


class RevokedToken(SQLModel, table=True):
    """Revoked access tokens (by ``jti``), kept until they would have expired anyway."""

    __tablename__ = "revoked_token"

    jti: str = Field(primary_key=True, max_length=100)
    expires_at: datetime = Field(sa_column=utc_column())


# --- API schemas for identity ------------------------------------------------------------------


class OrganizationRef(SQLModel):
    id: uuid.UUID
    name: str
    role: MemberRole


class MePublic(SQLModel):
    id: uuid.UUID
    email: str
    name: str
    roles: list[str]
    organizations: list[OrganizationRef]


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def check_redirect_uri(uri: str) -> str:
    """A redirect URI a client may register: absolute https (or http on a loopback host, for
    native and development clients), no fragment. It is later matched exactly, never by prefix."""
    parts = urlsplit(uri)
    if len(uri) > 2000 or not parts.netloc or parts.fragment or "*" in uri:
        raise ValueError("a redirect URI is an absolute URL without fragment or wildcard")
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        return uri
    raise ValueError("a redirect URI must use https (or http on a loopback host)")


def _checked_redirect_uris(value: list[str]) -> list[str]:
    return list(dict.fromkeys(check_redirect_uri(uri) for uri in value))


class OAuthClientCreate(InputModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(min_length=1)
    user_id: uuid.UUID | None = None
    redirect_uris: list[str] = Field(default_factory=list, max_length=10)

    _redirect_uris = field_validator("redirect_uris")(_checked_redirect_uris)


class OAuthClientCreated(SQLModel):
    client_id: str
    client_secret: str
    scopes: list[str]
    name: str
    user_id: uuid.UUID
    redirect_uris: list[str]


class OAuthClientPublic(SQLModel):
    """A client as its owner (or an admin) sees it: never its secret."""

    client_id: str
    name: str
    user_id: uuid.UUID
    scopes: list[str]
    redirect_uris: list[str]
    grant_types: list[str]
    public: bool
    created_at: datetime


# --- OAuth 2 wire formats (documented in the OpenAPI schema; the server builds them) -------------


class OAuthTokenResponse(SQLModel):
    """RFC 6749 section 5.1."""

    access_token: str
    token_type: str
    expires_in: int
    scope: str
    refresh_token: str | None = None


class OAuthErrorResponse(SQLModel):
    """RFC 6749 section 5.2 (the OAuth endpoints do not use problem+json)."""

    error: str
    error_description: str | None = None
    state: str | None = None


class OAuthIntrospection(SQLModel):
    """RFC 7662 section 2.2: only ``active`` when the token is not the caller's or not valid."""

    active: bool
    token_type: str | None = None
    scope: str | None = None
    client_id: str | None = None
    sub: str | None = None
    aud: str | list[str] | None = None
    iss: str | None = None
    exp: int | None = None
    iat: int | None = None
    nbf: int | None = None
    jti: str | None = None


class OAuthRevoked(SQLModel):
    """RFC 7009 section 2.2: an empty object, whether or not the token was known."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class AuthorizationServerMetadata(SQLModel):
    """RFC 8414 section 2, also served as ``openid-configuration`` for discovery tools."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    introspection_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    introspection_endpoint_auth_methods_supported: list[str]
    code_challenge_methods_supported: list[str]
    authorization_response_iss_parameter_supported: bool
    access_token_signing_alg_values_supported: list[str]
    subject_types_supported: list[str]
    service_documentation: str | None = Field(
        default=None, description="Present while the interactive docs are served"
    )


class JsonWebKey(SQLModel):
    """A public RSA signing key (RFC 7517, RFC 7518 section 6.3.1)."""

    n: str
    e: str
    kid: str
    use: Literal["sig"]
    alg: str
    kty: Literal["RSA"]


class JsonWebKeySet(SQLModel):
    """RFC 7517 section 5."""

    keys: list[JsonWebKey]
