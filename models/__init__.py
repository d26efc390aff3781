"""Shortlist's data: SQLModel tables, API schemas and enums. No I/O, no sessions.

Importing this package registers every table on ``SQLModel.metadata``.
"""

from models.applications import Application, ApplicationOrganization, Receipt
from models.audit import AuditEvent, AuditHead
from models.base import metadata
from models.documents import Document
from models.events import Event, EventHead
from models.idempotency import IdempotencyRecord
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
from models.mail import MailMessage
from models.reviewers import (
    Assignment,
    DeclaredConflictRow,
    Review,
    ReviewerProfile,
    RoundResult,
    RoundReviewer,
)
from models.rounds import Program, Round
from models.webhooks import EventCursor, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Application",
    "ApplicationOrganization",
    "Assignment",
    "AuditEvent",
    "AuditHead",
    "AuthorizationCode",
    "DeclaredConflictRow",
    "Document",
    "Event",
    "EventCursor",
    "EventHead",
    "IdempotencyRecord",
    "MailMessage",
    "OAuthClient",
    "Organization",
    "OrganizationMember",
    "Program",
    "Receipt",
    "RefreshToken",
    "Review",
    "ReviewerProfile",
    "RevokedToken",
    "Round",
    "RoundResult",
    "RoundReviewer",
    "SigningKey",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "metadata",
]
