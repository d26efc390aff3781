"""The audit log: every state change, hash-chained."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import NowDep, SessionDep
from api.http.pagination import PageDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, AuditRead
from models.audit import AuditEventPublic, AuditVerification
from models.pagination import Page
from submissions.audit import list_events, verify_for

router = APIRouter(
    route_class=SessionRoute, prefix="/api/v1/audit", tags=["audit"], responses=AUTH_RESPONSES
)
TEXT = r"^[^\x00]*$"
"""No NUL character: no stored value has one (PostgreSQL text cannot)."""


@router.get("", response_model=Page[AuditEventPublic])
def get_audit_events(
    actor: AuditRead,
    session: SessionDep,
    now: NowDep,
    page: PageDep,
    after_seq: Annotated[
        int | None,
        Query(ge=0, le=2**62, description="Only events after this `seq` (to resume reading)"),
    ] = None,
    object_type: Annotated[str | None, Query(max_length=50, pattern=TEXT)] = None,
    object_id: Annotated[str | None, Query(max_length=100, pattern=TEXT)] = None,
    action: Annotated[str | None, Query(max_length=100, pattern=TEXT)] = None,
) -> Page[AuditEventPublic]:
    """Audit events in chain order, optionally filtered by object or action (admin); events
    about a sealed bid carry `{"sealed": true, "application_id"}` as their data."""
    return list_events(
        session=session,
        actor=actor,
        page=page,
        now=now,
        after_seq=after_seq,
        object_type=object_type,
        object_id=object_id,
        action=action,
    )


@router.get("/verify", response_model=AuditVerification)
def get_audit_verification(actor: AuditRead, session: SessionDep) -> AuditVerification:
    """Walk the whole chain: ``ok`` is false, with the first bad ``seq``, when any stored event
    was changed or removed (admin)."""
    return verify_for(session=session, actor=actor)
