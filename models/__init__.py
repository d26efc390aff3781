"""Shortlist's data: SQLModel tables, API schemas and enums. No I/O, no sessions.

Importing this package registers every table on ``SQLModel.metadata``.
"""

from models.audit import AuditEvent, AuditHead
from models.base import metadata
from models.identity import (
    AuthorizationCode,
    OAuthClient,
    Organization,
    OrganizationMember,
    RefreshToken,
    RevokedToken,
    SigningKey,
    User,
)

__all__ = [
    "AuditEvent",
    "AuditHead",
    "AuthorizationCode",
    "OAuthClient",
    "Organization",
    "OrganizationMember",
    "RefreshToken",
    "RevokedToken",
    "SigningKey",
    "User",
    "metadata",
]
