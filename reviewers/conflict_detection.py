"""Conflict-of-interest detection: which reviewers may not review which applications, and why.

A pure function over plain facts. A reviewer is conflicted with an application when

* they are a member (any role) of any of its organizations (lead or listed member, confirmed or
  not: whatever the loader gives as the application's organizations);
* they created the application;
* they are affiliated with any of its organizations by their profile;
* one of their email domains (that of their account email, or an ``email_domains`` profile entry)
  equals, or is a subdomain of, one of an organization's email domains - the loader gives only
  *verified* ones - compared case-insensitively, ignoring trailing dots, with public webmail
  domains (and their subdomains) never matching, and single-label names such as ``com`` or
  ``localhost`` ignored because they name no organization;
* they, or an admin, declared it - on the application, or on an organization, which then covers
  every application of that organization.

Exactly one :class:`Conflict` is reported per (reviewer, application) pair. When several reasons
apply, the first in this order wins (see ``_Rank``): a declaration on the application, a declaration
on one of its organizations, a membership, authorship, an affiliation, an email domain; ties go to
the smallest organization id, then the alphabetically first reason. Declarations win because a
person said so explicitly and they survive later profile edits; a membership comes before
authorship because its reason names the organization.
"""

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Final, TypeAlias

from submissions.domains import WEBMAIL_DOMAINS, is_webmail, normalize_domain, parent_domains

__all__ = [
    "WEBMAIL_DOMAINS",
    "ApplicationFacts",
    "Conflict",
    "ConflictSource",
    "DeclaredConflict",
    "OrganizationFacts",
    "ReviewerFacts",
    "detect_conflicts",
    "is_webmail",
    "normalize_domain",
    "read_reason",
]
DECLARED_WITHOUT_REASON: Final = "declared conflict of interest"
DETECTED_REASONS: Final = {
    "membership": "member ({role}) of organization {organization}",
    "authorship": "created the application",
    "affiliation": "affiliated with organization {organization}",
    "email_domain": "email domain {domain} matches organization {organization}'s domain {suffix}",
}
"""The detected conflicts' reasons, as the API gives them (English); ``read_reason`` takes one
apart again, so that the report can say it in the reader's language."""
_REASON_PATTERNS: Final = {
    kind: re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+?)", re.escape(template)) + "$")
    for kind, template in DETECTED_REASONS.items()
}


class ConflictSource(StrEnum):
    detected = "detected"
    declared = "declared"


def read_reason(reason: str, source: ConflictSource) -> tuple[str, dict[str, str]] | None:
    """The kind (a key of ``DETECTED_REASONS``, or ``declared`` for a declaration made without
    words of its own) and the fields of a reason this module wrote; ``None`` for a declaration's
    own words, which stay as written."""
    if source == ConflictSource.declared:
        return ("declared", {}) if reason == DECLARED_WITHOUT_REASON else None
    for kind, pattern in _REASON_PATTERNS.items():
        found = pattern.match(reason)
        if found:
            return kind, found.groupdict()
    return None


@dataclass(frozen=True, slots=True)
class ReviewerFacts:
    user_id: uuid.UUID
    email: str
    affiliations: frozenset[uuid.UUID]
    """Organizations the reviewer's profile names."""
    email_domains: frozenset[str]
    """The profile's email domains (the account email's domain is taken from ``email``)."""
    memberships: frozenset[tuple[uuid.UUID, str]] = frozenset()
    """(organization id, role) of each organization the reviewer is a member of."""


@dataclass(frozen=True, slots=True)
class OrganizationFacts:
    organization_id: uuid.UUID
    email_domains: frozenset[str]
    """The organization's verified email domains (claims not verified never count)."""


@dataclass(frozen=True, slots=True)
class ApplicationFacts:
    """An application and all its organizations, lead and members alike."""

    application_id: uuid.UUID
    organizations: tuple[OrganizationFacts, ...]
    created_by: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class DeclaredConflict:
    """A declaration on an application or, when ``application_id`` is None, on an organization.

    A declaration naming both is a declaration on the application; ``organization_id`` is then
    carried into the reported conflict.
    """

    reviewer_id: uuid.UUID
    application_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    reason: str


@dataclass(frozen=True, slots=True)
class Conflict:
    reviewer_id: uuid.UUID
    application_id: uuid.UUID
    organization_id: uuid.UUID | None
    reason: str
    source: ConflictSource


class _Rank(IntEnum):
    """Which reason is reported when several apply to one pair (lowest wins)."""

    declared_on_application = 0
    declared_on_organization = 1
    membership = 2
    authorship = 3
    affiliation = 4
    email_domain = 5


_PairKey: TypeAlias = tuple[int, int]
_SortKey: TypeAlias = tuple[int, int, str]


def _reviewer_domains(reviewer: ReviewerFacts) -> list[str]:
    """The reviewer's matchable domains: account email domain plus profile domains, sorted."""
    raw = [*reviewer.email_domains]
    if "@" in reviewer.email:
        raw.append(reviewer.email.rpartition("@")[2])
    found = {normalize_domain(d) for d in raw}
    return sorted(d for d in found if d and not is_webmail(d))


@dataclass(slots=True)
class _Index:
    """Applications looked up by organization id, by organization email domain and by
    creator."""

    by_organization: dict[uuid.UUID, list[uuid.UUID]]
    by_domain: dict[str, list[tuple[uuid.UUID, uuid.UUID]]]
    by_creator: dict[uuid.UUID, list[uuid.UUID]]

    @classmethod
    def build(cls, applications: Sequence[ApplicationFacts]) -> "_Index":
        by_organization: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        by_domain: dict[str, list[tuple[uuid.UUID, uuid.UUID]]] = defaultdict(list)
        by_creator: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        matchable: dict[str, str] = {}  # raw -> normalized ("" when it cannot match)
        for application in applications:
            if application.created_by is not None:
                by_creator[application.created_by].append(application.application_id)
            for organization in application.organizations:
                by_organization[organization.organization_id].append(application.application_id)
                for raw in organization.email_domains:
                    if raw not in matchable:
                        domain = normalize_domain(raw)
                        matchable[raw] = "" if not domain or is_webmail(domain) else domain
                    if matchable[raw]:
                        by_domain[matchable[raw]].append(
                            (application.application_id, organization.organization_id)
                        )
        return cls(dict(by_organization), dict(by_domain), dict(by_creator))


class _Best:
    """Keeps, per (reviewer, application), the conflict with the lowest sort key."""

    def __init__(self) -> None:
        self._items: dict[_PairKey, tuple[_SortKey, Conflict]] = {}

    def offer(self, rank: _Rank, conflict: Conflict) -> None:
        org = conflict.organization_id
        key = (int(rank), org.int if org is not None else -1, conflict.reason)
        # Keyed and sorted by the ids' integers: UUID hashing and comparison are Python-level.
        pair = (conflict.reviewer_id.int, conflict.application_id.int)
        current = self._items.get(pair)
        if current is None or key < current[0]:
            self._items[pair] = (key, conflict)

    def sorted(self) -> list[Conflict]:
        return [self._items[pair][1] for pair in sorted(self._items)]


def _offer_detected(best: _Best, reviewer: ReviewerFacts, index: _Index) -> None:
    def offer(rank: _Rank, application_id: uuid.UUID, org: uuid.UUID, reason: str) -> None:
        conflict = Conflict(reviewer.user_id, application_id, org, reason, ConflictSource.detected)
        best.offer(rank, conflict)

    for org, role in reviewer.memberships:
        for application_id in index.by_organization.get(org, ()):
            reason = DETECTED_REASONS["membership"].format(role=role, organization=org)
            offer(_Rank.membership, application_id, org, reason)
    for application_id in index.by_creator.get(reviewer.user_id, ()):
        best.offer(
            _Rank.authorship,
            Conflict(
                reviewer.user_id,
                application_id,
                None,
                DETECTED_REASONS["authorship"],
                ConflictSource.detected,
            ),
        )
    for org in reviewer.affiliations:
        for application_id in index.by_organization.get(org, ()):
            reason = DETECTED_REASONS["affiliation"].format(organization=org)
            offer(_Rank.affiliation, application_id, org, reason)
    for domain in _reviewer_domains(reviewer):
        for suffix in parent_domains(domain):
            for application_id, org in index.by_domain.get(suffix, ()):
                reason = DETECTED_REASONS["email_domain"].format(
                    domain=domain, organization=org, suffix=suffix
                )
                offer(_Rank.email_domain, application_id, org, reason)


def _offer_declared(
    best: _Best,
    declaration: DeclaredConflict,
    index: _Index,
    application_ids: frozenset[uuid.UUID],
) -> None:
    reason = declaration.reason.strip() or DECLARED_WITHOUT_REASON
    if declaration.application_id is not None:
        if declaration.application_id in application_ids:
            best.offer(
                _Rank.declared_on_application,
                Conflict(
                    declaration.reviewer_id,
                    declaration.application_id,
                    declaration.organization_id,
                    reason,
                    ConflictSource.declared,
                ),
            )
        return
    assert declaration.organization_id is not None
    for application_id in index.by_organization.get(declaration.organization_id, ()):
        best.offer(
            _Rank.declared_on_organization,
            Conflict(
                declaration.reviewer_id,
                application_id,
                declaration.organization_id,
                reason,
                ConflictSource.declared,
            ),
        )


def detect_conflicts(
    *,
    reviewers: Sequence[ReviewerFacts],
    applications: Sequence[ApplicationFacts],
    declared: Iterable[DeclaredConflict],
) -> list[Conflict]:
    """Every conflicted (reviewer, application) pair among those given, sorted by reviewer then
    application id.

    Declarations for reviewers or applications not given are ignored, so the result is always a
    subset of ``reviewers x applications``. Runs in time proportional to the input plus the
    conflicts found: organizations are indexed by id and by domain, and each reviewer domain is
    looked up label by label (``a.example.com`` -> ``a.example.com``, ``example.com``, ``com``),
    so ``evil-example.com`` never matches ``example.com``; memberships and affiliations are
    looked up by organization id, authorship by the creator's id.
    """
    index = _Index.build(applications)
    application_ids = frozenset(a.application_id for a in applications)
    reviewer_ids = frozenset(r.user_id for r in reviewers)
    best = _Best()
    for reviewer in reviewers:
        _offer_detected(best, reviewer, index)
    for declaration in declared:
        if declaration.application_id is None and declaration.organization_id is None:
            raise ValueError("a declared conflict names an application or an organization")
        if declaration.reviewer_id in reviewer_ids:
            _offer_declared(best, declaration, index, application_ids)
    return best.sorted()
