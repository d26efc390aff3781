"""Eligibility from earlier rounds' shortlists (re-entry rounds for the eliminated, or rounds for
the shortlisted only). It counts the lead organization, and only rounds that are published:
outcomes are sealed until publish, so before then a round's shortlist admits or refuses nobody
(an applicant's answer from a later round must not tell them how their bid fared)."""

import uuid

from sqlmodel import Session, col, select

from models.applications import Application, ApplicationStatus
from models.errors import Forbidden
from models.rounds import Round, RoundStatus

DECIDED_STATUSES = (RoundStatus.published,)


def led_shortlisted_application(
    *, session: Session, organization_id: uuid.UUID, round_id: uuid.UUID
) -> bool:
    """Whether the organization led a shortlisted application in round ``round_id``, once that
    round is published."""
    found = session.exec(
        select(Application.id)
        .join(Round, col(Round.id) == Application.round_id)
        .where(
            Application.round_id == round_id,
            Application.lead_organization_id == organization_id,
            Application.status == ApplicationStatus.shortlisted,
            col(Round.status).in_(DECIDED_STATUSES),
        )
        .limit(1)
    ).first()
    return found is not None


def eligibility_refusal(
    *, session: Session, round: Round, organization_id: uuid.UUID
) -> str | None:
    """Why the organization may not lead an application in ``round`` (``None``: it may)."""
    rules = round.config().eligibility
    if rules.only_shortlisted_from is not None and not led_shortlisted_application(
        session=session, organization_id=organization_id, round_id=rules.only_shortlisted_from
    ):
        return "this round admits only organizations that led a shortlisted application in" + (
            f" round {rules.only_shortlisted_from}"
        )
    for earlier in rules.exclude_shortlisted_from:
        if led_shortlisted_application(
            session=session, organization_id=organization_id, round_id=earlier
        ):
            return f"organizations shortlisted in round {earlier} may not apply to this round"
    return None


def ensure_eligible(*, session: Session, round: Round, organization_id: uuid.UUID) -> None:
    """Refuse (403 ``not-eligible``) a lead organization the round's eligibility rules exclude."""
    reason = eligibility_refusal(session=session, round=round, organization_id=organization_id)
    if reason is not None:
        raise Forbidden(reason, type="not-eligible")
