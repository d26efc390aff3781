"""Organization API schemas (the ``organization`` and ``organization_member`` tables live in
``models.identity``)."""

import re
import uuid
from datetime import datetime

from pydantic import field_validator
from sqlmodel import Field, SQLModel

from models.base import InputModel
from models.identity import MemberRole

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _normalized_domains(value: list[str]) -> list[str]:
    out: list[str] = []
    for raw in value:
        domain = raw.strip().lower().rstrip(".")
        if not _DOMAIN.match(domain):
            raise ValueError(f"not a domain name: {raw!r}")
        if domain not in out:
            out.append(domain)
    return out


class OrganizationCreate(InputModel):
    name: str = Field(min_length=1, max_length=300)
    registration_number: str = Field(min_length=1, max_length=100)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2 code")
    email_domains: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("name", "registration_number")
    @classmethod
    def _stripped(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError("an ISO 3166-1 alpha-2 country code, such as KR or DE")
        return value.upper()

    _domains = field_validator("email_domains")(_normalized_domains)


class OrganizationMemberCreate(InputModel):
    user_id: uuid.UUID
    role: MemberRole = MemberRole.member


class EmailDomainVerify(InputModel):
    domain: str = Field(min_length=1, max_length=253)

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        return _normalized_domains([value])[0]


class OrganizationMemberPublic(SQLModel):
    organization_id: uuid.UUID
    user_id: uuid.UUID
    role: MemberRole
    created_at: datetime


class OrganizationPublic(SQLModel):
    id: uuid.UUID
    name: str
    registration_number: str
    country: str
    email_domains: list[str]
    """As claimed."""
    verified_email_domains: list[str]
    """The claims that count in conflict detection: proven by an owner's email address, or
    verified by an admin."""
    created_at: datetime
    members: list[OrganizationMemberPublic]
