"""Organizations and their members: who may act for a company or institute."""

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Protocol

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from models.errors import Conflict, Forbidden, NotFound, Unprocessable
from models.identity import Actor, MemberRole, Organization, OrganizationMember, Role, User
from models.organizations import (
    EmailDomainVerify,
    OrganizationCreate,
    OrganizationMemberCreate,
    OrganizationMemberPublic,
    OrganizationPublic,
)
from models.pagination import Page, PageRequest
from submissions import audit
from submissions.domains import unclaimable_reason, verified_by_owners
from submissions.pagination import paginate
from submissions.unique import add_unique


class ConflictsChanged(Protocol):
    """What the evaluation side does, in the same transaction, when who belongs to an
    organization or which of its email domains count has changed: end every assignment that
    the change conflicts (``reviewers.conflicts.end_conflicted_assignments``). Passed in
    by the caller, because submissions never imports reviewers."""

    def __call__(
        self,
        *,
        session: Session,
        actor: Actor,
        now: datetime,
        reviewer_ids: Collection[uuid.UUID],
        organization_ids: Collection[uuid.UUID],
    ) -> object: ...


def ensure_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("only admins may do this", type="forbidden-role")


def ensure_role(actor: Actor, *roles: Role) -> None:
    if not any(actor.has_role(role) for role in roles):
        names = " or ".join(role.value for role in roles)
        raise Forbidden(f"this needs the {names} role", type="forbidden-role")


def membership(
    *, session: Session, user_id: uuid.UUID, organization_id: uuid.UUID
) -> OrganizationMember | None:
    return session.exec(
        select(OrganizationMember).where(
            OrganizationMember.user_id == user_id,
            OrganizationMember.organization_id == organization_id,
        )
    ).first()


def organization_ids_of(user_id: uuid.UUID) -> SelectOfScalar[uuid.UUID]:
    """The organizations a user belongs to, as a subquery."""
    return select(OrganizationMember.organization_id).where(OrganizationMember.user_id == user_id)


def create_organization(
    *, session: Session, actor: Actor, data: OrganizationCreate, now: datetime
) -> Organization:
    """Register an organization; the caller becomes its first owner. A claimed email domain
    that is a public suffix or a webmail domain is 422; the claims the caller's own email address
    proves (``submissions.domains.verified_by_email``) are verified at once, the others wait for
    an admin (``verify_email_domain``)."""
    ensure_role(actor, Role.applicant, Role.admin)
    refused = [
        {"loc": ["body", "email_domains", i], "msg": f"{domain} is {reason}"}
        for i, domain in enumerate(data.email_domains)
        if (reason := unclaimable_reason(domain)) is not None
    ]
    if refused:
        raise Unprocessable(
            "an organization claims only its own email domains",
            type="domain-not-claimable",
            errors=refused,
        )
    owner = session.get(User, actor.user_id)
    organization = Organization(
        name=data.name,
        registration_number=data.registration_number,
        country=data.country,
        email_domains=data.email_domains,
        verified_email_domains=verified_by_owners(
            data.email_domains, [owner.email] if owner is not None else []
        ),
        created_at=now,
    )
    session.add(organization)
    session.flush()
    session.add(
        OrganizationMember(
            organization_id=organization.id,
            user_id=actor.user_id,
            role=MemberRole.owner,
            created_at=now,
        )
    )
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="organization.created",
        object_type="organization",
        object_id=organization.id,
        now=now,
        data={
            "name": organization.name,
            "registration_number": organization.registration_number,
            "country": organization.country,
            "email_domains": organization.email_domains,
            "verified_email_domains": organization.verified_email_domains,
            "owner": str(actor.user_id),
        },
    )
    return organization


def get_organization(*, session: Session, actor: Actor, organization_id: uuid.UUID) -> Organization:
    """An organization its members and admins may see; to anyone else it does not exist."""
    organization = session.get(Organization, organization_id)
    if organization is None or not (
        actor.is_admin
        or membership(session=session, user_id=actor.user_id, organization_id=organization_id)
    ):
        raise NotFound("no such organization")
    return organization


def present_organizations(
    *, session: Session, organizations: Iterable[Organization]
) -> list[OrganizationPublic]:
    organizations = list(organizations)
    members: dict[uuid.UUID, list[OrganizationMemberPublic]] = defaultdict(list)
    if organizations:
        rows = session.exec(
            select(OrganizationMember)
            .where(col(OrganizationMember.organization_id).in_([o.id for o in organizations]))
            .order_by(col(OrganizationMember.created_at), col(OrganizationMember.id))
        ).all()
        for row in rows:
            members[row.organization_id].append(OrganizationMemberPublic.model_validate(row))
    return [
        OrganizationPublic(
            id=o.id,
            name=o.name,
            registration_number=o.registration_number,
            country=o.country,
            email_domains=o.email_domains,
            verified_email_domains=o.verified_email_domains,
            created_at=o.created_at,
            members=members[o.id],
        )
        for o in organizations
    ]


def describe_organization(
    *, session: Session, actor: Actor, organization_id: uuid.UUID
) -> OrganizationPublic:
    organization = get_organization(session=session, actor=actor, organization_id=organization_id)
    return present_organizations(session=session, organizations=[organization])[0]


def list_organizations(
    *, session: Session, actor: Actor, page: PageRequest
) -> Page[OrganizationPublic]:
    """The caller's organizations (every organization, for admins)."""
    statement = select(Organization)
    if not actor.is_admin:
        statement = statement.where(col(Organization.id).in_(organization_ids_of(actor.user_id)))
    return paginate(
        session,
        statement,
        keys=[Organization.created_at, Organization.id],  # type: ignore[list-item]
        page=page,
        present=lambda rows: present_organizations(session=session, organizations=rows),
    )


def add_member(
    *,
    session: Session,
    actor: Actor,
    organization_id: uuid.UUID,
    data: OrganizationMemberCreate,
    now: datetime,
    conflicts_changed: ConflictsChanged,
) -> OrganizationMember:
    """An owner adds a user to the organization as ``owner`` or ``member``; then
    ``conflicts_changed`` ends the assignments the new membership conflicts (the user may be a
    reviewer). A new owner's address verifies no pending claim: the user added did not ask to
    be, so it proves nothing about the domain (an applicant could otherwise add a stranger from
    a university as owner and conflict away every reviewer there); an admin verifies."""
    organization = session.get(Organization, organization_id)
    own = (
        membership(session=session, user_id=actor.user_id, organization_id=organization_id)
        if organization is not None
        else None
    )
    if organization is None or (own is None and not actor.is_admin):
        raise NotFound("no such organization")
    if own is None or own.role != MemberRole.owner:
        raise Forbidden("only an owner of the organization adds members", type="not-owner")
    user = session.get(User, data.user_id)
    if user is None or not user.is_active:
        raise Unprocessable(
            "no such user", errors=[{"loc": ["body", "user_id"], "msg": "no such user"}]
        )
    if membership(session=session, user_id=user.id, organization_id=organization_id):
        raise Conflict("the user is already a member", type="already-member")
    member = OrganizationMember(
        organization_id=organization_id, user_id=user.id, role=data.role, created_at=now
    )
    add_unique(
        session, member, conflict=Conflict("the user is already a member", type="already-member")
    )
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="organization.member_added",
        object_type="organization",
        object_id=organization_id,
        now=now,
        data={"user_id": str(user.id), "role": data.role.value},
    )
    conflicts_changed(
        session=session, actor=actor, now=now, reviewer_ids=[user.id], organization_ids=[]
    )
    return member


def verify_email_domain(
    *,
    session: Session,
    actor: Actor,
    organization_id: uuid.UUID,
    data: EmailDomainVerify,
    now: datetime,
    conflicts_changed: ConflictsChanged,
) -> Organization:
    """An admin verifies one of the organization's claimed email domains, so that it counts in
    conflict detection; ``conflicts_changed`` then ends the assignments it conflicts. A domain
    not claimed (or one no organization may claim) is 422; one verified already is left as is."""
    ensure_admin(actor)
    organization = session.get(Organization, organization_id, with_for_update=True)
    if organization is None:
        raise NotFound("no such organization")
    if data.domain not in organization.email_domains:
        raise Unprocessable(
            "the organization does not claim this domain",
            type="domain-not-claimed",
            errors=[{"loc": ["body", "domain"], "msg": "not among the claimed email_domains"}],
        )
    reason = unclaimable_reason(data.domain)
    if reason is not None:
        raise Unprocessable(
            f"{data.domain} is {reason}",
            type="domain-not-claimable",
            errors=[{"loc": ["body", "domain"], "msg": reason}],
        )
    if data.domain in organization.verified_email_domains:
        return organization
    organization.verified_email_domains = [
        d
        for d in organization.email_domains
        if d in organization.verified_email_domains or d == data.domain
    ]
    session.add(organization)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="organization.email_domain_verified",
        object_type="organization",
        object_id=organization_id,
        now=now,
        data={"domain": data.domain},
    )
    conflicts_changed(
        session=session,
        actor=actor,
        now=now,
        reviewer_ids=[],
        organization_ids=[organization_id],
    )
    return organization
