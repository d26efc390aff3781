"""Organizations: companies and institutes that bid, and their members."""

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from api.deps import NowDep, SessionDep
from api.http.answer import commit_answer
from api.http.idempotency import IDEMPOTENCY_RESPONSES, IdempotencyDep
from api.http.pagination import PageDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, ApplicationsRead, ApplicationsWrite, RoundsAdmin
from models.organizations import (
    EmailDomainVerify,
    OrganizationCreate,
    OrganizationMemberCreate,
    OrganizationMemberPublic,
    OrganizationPublic,
)
from models.pagination import Page
from reviewers.conflicts import end_conflicted_assignments
from submissions.organizations import (
    add_member,
    create_organization,
    describe_organization,
    list_organizations,
    present_organizations,
    verify_email_domain,
)

router = APIRouter(
    route_class=SessionRoute,
    prefix="/api/v1/organizations",
    tags=["organizations"],
    responses=AUTH_RESPONSES,
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such organization, or not visible to the caller"}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationPublic,
    responses=IDEMPOTENCY_RESPONSES,
)
def post_organization(
    body: OrganizationCreate,
    actor: ApplicationsWrite,
    session: SessionDep,
    now: NowDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> OrganizationPublic:
    """Register an organization; the caller becomes its owner."""
    organization = create_organization(session=session, actor=actor, data=body, now=now)
    return commit_answer(
        session,
        response,
        present_organizations(session=session, organizations=[organization])[0],
        location=f"{router.prefix}/{organization.id}",
        idempotency=idempotency,
    )


@router.get("", response_model=Page[OrganizationPublic])
def get_organizations(
    actor: ApplicationsRead, session: SessionDep, page: PageDep
) -> Page[OrganizationPublic]:
    """The caller's organizations (every organization, for admins)."""
    return list_organizations(session=session, actor=actor, page=page)


@router.get("/{organization_id}", response_model=OrganizationPublic, responses=NOT_FOUND)
def get_organization(
    organization_id: uuid.UUID, actor: ApplicationsRead, session: SessionDep
) -> OrganizationPublic:
    """An organization and its members (its members and admins only)."""
    return describe_organization(session=session, actor=actor, organization_id=organization_id)


@router.post(
    "/{organization_id}/members",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationMemberPublic,
    responses={**NOT_FOUND, **IDEMPOTENCY_RESPONSES},
)
def post_member(
    organization_id: uuid.UUID,
    body: OrganizationMemberCreate,
    actor: ApplicationsWrite,
    session: SessionDep,
    now: NowDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> OrganizationMemberPublic:
    """Add a user as owner or member (owners only); assignments it conflicts end."""
    member = add_member(
        session=session,
        actor=actor,
        organization_id=organization_id,
        data=body,
        now=now,
        conflicts_changed=end_conflicted_assignments,
    )
    return commit_answer(
        session,
        response,
        OrganizationMemberPublic.model_validate(member),
        idempotency=idempotency,
    )


@router.post(
    "/{organization_id}/email-domains/verify",
    response_model=OrganizationPublic,
    responses={**NOT_FOUND, 422: {"description": "The domain is not claimed, or not claimable"}},
)
def post_email_domain_verification(
    organization_id: uuid.UUID,
    body: EmailDomainVerify,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
) -> OrganizationPublic:
    """Verify a claimed email domain so that it counts in conflict detection (admin)."""
    organization = verify_email_domain(
        session=session,
        actor=actor,
        organization_id=organization_id,
        data=body,
        now=now,
        conflicts_changed=end_conflicted_assignments,
    )
    out = present_organizations(session=session, organizations=[organization])[0]
    session.commit()
    return out
