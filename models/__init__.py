"""Shortlist's data: SQLModel tables, API schemas and enums. No I/O, no sessions.

Importing this package registers every table on ``SQLModel.metadata``.
"""

from models.audit import AuditEvent, AuditHead
from models.base import metadata

__all__ = ["AuditEvent", "AuditHead", "metadata"]
