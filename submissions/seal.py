"""The seal over every channel besides the application's own routes (``submissions.visibility``).

Until its round's submission deadline plus grace has passed, nothing that reaches anyone but the
applicant's own members carries more of a bid than ``{id, title, status, organizations}``: not
the audit log's readers (admins), and not the events, webhooks and mails to others that a later
change adds. Those channels all ask the two questions answered here, once:

- which application a record is about (``application_named``): the object itself when it is an
  application, else the application its data names (documents, their scans, receipts, conflict
  declarations, and whatever names an application later); a new kind of record that names an
  application in ``data["application_id"]`` is covered without a change here;
- whether that application is still sealed (``sealed_application_ids``), by the same clock rule
  as every other seal (``submissions.rounds.is_sealed``).

What a reader then gets of such a record is ``sealed_data``: ``{"sealed": true,
"application_id": ...}`` in place of its data. The stored record stays whole (the audit chain
still verifies); only what is read is redacted, and once the seal lifts the whole data shows.
"""

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models.applications import Application
from models.rounds import Round
from submissions.rounds import is_sealed

APPLICATION_OBJECT = "application"


def _uuid(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def application_named(
    *, object_type: str, object_id: str, data: Mapping[str, Any]
) -> uuid.UUID | None:
    """The application a record (an audit event, a notification) is about, if any (pure)."""
    if object_type == APPLICATION_OBJECT:
        return _uuid(object_id)
    return _uuid(data.get("application_id"))


def sealed_application_ids(
    *, session: Session, application_ids: Collection[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """Which of ``application_ids`` are still sealed at ``now`` (one query)."""
    if not application_ids:
        return set()
    rows = session.exec(
        select(Application.id, Round)
        .join(Round, col(Round.id) == Application.round_id)
        .where(col(Application.id).in_(list(application_ids)))
    ).all()
    return {application_id for application_id, round in rows if is_sealed(round, now)}


def sealed_data(application_id: uuid.UUID) -> dict[str, Any]:
    """What a reader gets of the data of a record about a sealed bid."""
    return {"sealed": True, "application_id": str(application_id)}
