"""Conflict detection: each rule, the precedence between them, and a brute-force reference."""

import random
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewers.conflict_detection import (
    WEBMAIL_DOMAINS,
    ApplicationFacts,
    Conflict,
    ConflictSource,
    DeclaredConflict,
    OrganizationFacts,
    ReviewerFacts,
    detect_conflicts,
    is_webmail,
    normalize_domain,
)
from tests.examples import examples

ORG_A = uuid.UUID(int=0xA)
ORG_B = uuid.UUID(int=0xB)
APP_1 = uuid.UUID(int=0x101)
APP_2 = uuid.UUID(int=0x102)
REVIEWER = uuid.UUID(int=0x201)
OTHER_REVIEWER = uuid.UUID(int=0x202)


def make_reviewer(
    user_id: uuid.UUID = REVIEWER,
    *,
    email: str = "someone@gmail.com",
    affiliations: frozenset[uuid.UUID] = frozenset(),
    domains: frozenset[str] = frozenset(),
    memberships: frozenset[tuple[uuid.UUID, str]] = frozenset(),
) -> ReviewerFacts:
    return ReviewerFacts(user_id, email, affiliations, domains, memberships)


def make_application(
    application_id: uuid.UUID = APP_1,
    *organizations: tuple[uuid.UUID, frozenset[str]],
    created_by: uuid.UUID | None = None,
) -> ApplicationFacts:
    orgs = organizations or ((ORG_A, frozenset({"example.com"})),)
    return ApplicationFacts(
        application_id, tuple(OrganizationFacts(org, domains) for org, domains in orgs), created_by
    )


def detect(
    reviewers: list[ReviewerFacts],
    applications: list[ApplicationFacts],
    declared: list[DeclaredConflict] | None = None,
) -> list[Conflict]:
    return detect_conflicts(reviewers=reviewers, applications=applications, declared=declared or [])


def test_affiliation_with_lead_or_member_organization() -> None:
    application = make_application(
        APP_1, (ORG_A, frozenset({"lead.org"})), (ORG_B, frozenset({"member.org"}))
    )
    lead = make_reviewer(REVIEWER, affiliations=frozenset({ORG_A}))
    member = make_reviewer(OTHER_REVIEWER, affiliations=frozenset({ORG_B}))

    found = detect([lead, member], [application])

    assert found == [
        Conflict(
            REVIEWER, APP_1, ORG_A, f"affiliated with organization {ORG_A}", ConflictSource.detected
        ),
        Conflict(
            OTHER_REVIEWER,
            APP_1,
            ORG_B,
            f"affiliated with organization {ORG_B}",
            ConflictSource.detected,
        ),
    ]


def test_membership_in_the_lead_or_a_member_organization_in_any_role() -> None:
    application = make_application(
        APP_1, (ORG_A, frozenset()), (ORG_B, frozenset()), created_by=uuid.UUID(int=0x999)
    )
    owner = make_reviewer(REVIEWER, memberships=frozenset({(ORG_A, "owner")}))
    member = make_reviewer(OTHER_REVIEWER, memberships=frozenset({(ORG_B, "member")}))

    found = detect([owner, member], [application])

    assert found == [
        Conflict(
            REVIEWER,
            APP_1,
            ORG_A,
            f"member (owner) of organization {ORG_A}",
            ConflictSource.detected,
        ),
        Conflict(
            OTHER_REVIEWER,
            APP_1,
            ORG_B,
            f"member (member) of organization {ORG_B}",
            ConflictSource.detected,
        ),
    ]


def test_membership_in_an_organization_outside_the_application_is_no_conflict() -> None:
    reviewer = make_reviewer(memberships=frozenset({(ORG_B, "owner")}))

    assert detect([reviewer], [make_application(APP_1, (ORG_A, frozenset()))]) == []


def test_the_creator_of_an_application_is_conflicted_with_it_only() -> None:
    applications = [
        make_application(APP_1, (ORG_A, frozenset()), created_by=REVIEWER),
        make_application(APP_2, (ORG_B, frozenset()), created_by=OTHER_REVIEWER),
    ]

    found = detect([make_reviewer()], applications)

    assert found == [
        Conflict(REVIEWER, APP_1, None, "created the application", ConflictSource.detected)
    ]


def test_equal_email_domain_from_the_account_email() -> None:
    found = detect([make_reviewer(email="ana@example.com")], [make_application()])

    assert [(c.organization_id, c.reason) for c in found] == [
        (ORG_A, f"email domain example.com matches organization {ORG_A}'s domain example.com")
    ]


def test_subdomain_of_an_organization_domain_from_the_profile() -> None:
    reviewer = make_reviewer(domains=frozenset({"a.example.com"}))

    (found,) = detect([reviewer], [make_application()])

    assert found.reason == (
        f"email domain a.example.com matches organization {ORG_A}'s domain example.com"
    )
    assert found.source is ConflictSource.detected


def test_parent_domain_of_an_organization_domain_is_not_a_conflict() -> None:
    """The rule is one-way: the reviewer's domain must equal or sit under the organization's."""
    application = make_application(APP_1, (ORG_A, frozenset({"cs.example.com"})))

    assert detect([make_reviewer(email="ana@example.com")], [application]) == []


@pytest.mark.parametrize(
    "domain", ["evil-example.com", "example.com.evil.net", "notexample.com", "example.co"]
)
def test_lookalike_domains_do_not_match(domain: str) -> None:
    assert detect([make_reviewer(domains=frozenset({domain}))], [make_application()]) == []


def test_webmail_domains_never_match() -> None:
    application = make_application(
        APP_1, (ORG_A, frozenset({"gmail.com", "naver.com", "mail.yahoo.com"}))
    )
    reviewer = make_reviewer(
        email="ana@gmail.com", domains=frozenset({"naver.com", "mail.yahoo.com", "x.daum.net"})
    )

    assert detect([reviewer], [application]) == []
    assert is_webmail("x.daum.net")
    assert {"gmail.com", "outlook.com", "naver.com", "daum.net"} <= WEBMAIL_DOMAINS


def test_domains_compare_case_insensitively_and_ignore_trailing_dots() -> None:
    application = make_application(APP_1, (ORG_A, frozenset({"Example.COM."})))
    reviewer = make_reviewer(email="Ana@Sub.EXAMPLE.com.")

    (found,) = detect([reviewer], [application])

    assert found.reason == (
        f"email domain sub.example.com matches organization {ORG_A}'s domain example.com"
    )


def test_single_label_and_empty_domains_name_no_organization() -> None:
    application = make_application(APP_1, (ORG_A, frozenset({"com", "", "localhost"})))
    reviewer = make_reviewer(email="ana@localhost", domains=frozenset({"example.com", "com"}))

    assert detect([reviewer], [application]) == []
    assert normalize_domain("  @Example.com. ") == "example.com"
    assert normalize_domain("com") == ""


def test_internationalized_domains_match_their_ascii_form() -> None:
    application = make_application(APP_1, (ORG_A, frozenset({"xn--bcher-kva.example"})))
    reviewer = make_reviewer(domains=frozenset({"Bücher.example"}))

    assert len(detect([reviewer], [application])) == 1


def test_declared_on_an_organization_covers_each_of_its_applications() -> None:
    applications = [
        make_application(APP_1, (ORG_A, frozenset())),
        make_application(APP_2, (ORG_B, frozenset()), (ORG_A, frozenset())),
        make_application(uuid.UUID(int=0x103), (ORG_B, frozenset())),
    ]
    declaration = DeclaredConflict(REVIEWER, None, ORG_A, "former employer")

    found = detect([make_reviewer()], applications, [declaration])

    assert found == [
        Conflict(REVIEWER, APP_1, ORG_A, "former employer", ConflictSource.declared),
        Conflict(REVIEWER, APP_2, ORG_A, "former employer", ConflictSource.declared),
    ]


def test_declared_on_an_application() -> None:
    declaration = DeclaredConflict(REVIEWER, APP_2, None, "  co-authored the proposal  ")
    applications = [make_application(APP_1), make_application(APP_2)]

    found = detect([make_reviewer()], applications, [declaration])

    assert found == [
        Conflict(REVIEWER, APP_2, None, "co-authored the proposal", ConflictSource.declared)
    ]


def test_a_declaration_without_reason_gets_a_readable_one() -> None:
    (found,) = detect(
        [make_reviewer()], [make_application()], [DeclaredConflict(REVIEWER, APP_1, None, " ")]
    )

    assert found.reason == "declared conflict of interest"


def test_declaration_naming_neither_application_nor_organization_is_refused() -> None:
    with pytest.raises(ValueError, match="names an application or an organization"):
        detect(
            [make_reviewer()], [make_application()], [DeclaredConflict(REVIEWER, None, None, "x")]
        )


def test_declarations_outside_the_given_reviewers_and_applications_are_ignored() -> None:
    declared = [
        DeclaredConflict(OTHER_REVIEWER, APP_1, None, "not on the panel"),
        DeclaredConflict(REVIEWER, uuid.UUID(int=0x999), None, "another round"),
        DeclaredConflict(REVIEWER, None, uuid.UUID(int=0x998), "organization with no bid"),
    ]

    assert detect([make_reviewer()], [make_application()], declared) == []


def test_one_conflict_per_pair_with_the_documented_precedence() -> None:
    application = make_application(
        APP_1, (ORG_B, frozenset({"example.com"})), (ORG_A, frozenset({"example.com"}))
    )
    reviewer = make_reviewer(email="ana@example.com", affiliations=frozenset({ORG_B}))

    # a membership beats authorship, which beats an affiliation, which beats an email domain
    member = make_reviewer(
        email="ana@example.com",
        affiliations=frozenset({ORG_A}),
        memberships=frozenset({(ORG_B, "member")}),
    )
    authored = make_application(
        APP_1,
        (ORG_B, frozenset({"example.com"})),
        (ORG_A, frozenset({"example.com"})),
        created_by=REVIEWER,
    )
    (found,) = detect([member], [authored])
    assert found.reason == f"member (member) of organization {ORG_B}"
    (found,) = detect([reviewer], [authored])
    assert (found.organization_id, found.reason) == (None, "created the application")
    (found,) = detect([reviewer], [application])
    assert found.reason == f"affiliated with organization {ORG_B}"
    # email domain: the smallest organization id wins
    (found,) = detect([make_reviewer(email="ana@example.com")], [application])
    assert found.organization_id == ORG_A
    # a declaration on an organization beats anything detected
    on_org = DeclaredConflict(REVIEWER, None, ORG_A, "board member")
    (found,) = detect([reviewer], [application], [on_org])
    assert (found.source, found.reason) == (ConflictSource.declared, "board member")
    # a declaration on the application beats one on an organization
    on_app = DeclaredConflict(REVIEWER, APP_1, ORG_B, "mentor of the lead")
    (found,) = detect([reviewer], [application], [on_org, on_app])
    assert (found.organization_id, found.reason) == (ORG_B, "mentor of the lead")


# --- against a brute-force reference ----------------------------------------------------------

DOMAINS = ["example.com", "a.example.com", "b.a.example.com", "evil-example.com", "gmail.com"]
DOMAINS += ["mail.gmail.com", "uni.edu", "cs.uni.edu", "Example.com.", "other.org"]


def _reference(
    reviewers: list[ReviewerFacts],
    applications: list[ApplicationFacts],
    declared: list[DeclaredConflict],
) -> set[tuple[uuid.UUID, uuid.UUID, str]]:
    """Every pair compared with every pair, the slow and obvious way, with the kind of reason
    that wins by the documented precedence."""

    def norm(d: str) -> str:
        return d.strip().lower().rstrip(".")

    def under(domain: str, parent: str) -> bool:
        return domain == parent or domain.endswith("." + parent)

    def webmail(domain: str) -> bool:
        return any(under(domain, w) for w in WEBMAIL_DOMAINS)

    found: dict[tuple[uuid.UUID, uuid.UUID], int] = {}

    def note(pair: tuple[uuid.UUID, uuid.UUID], kind: int) -> None:
        found[pair] = min(found.get(pair, kind), kind)

    for r in reviewers:
        mine = {norm(d) for d in r.email_domains} | {norm(r.email.rpartition("@")[2])}
        mine = {d for d in mine if "." in d and not webmail(d)}
        for app in applications:
            pair = (r.user_id, app.application_id)
            if app.created_by == r.user_id:
                note(pair, KINDS.index("authorship"))
            for org in app.organizations:
                theirs = {norm(d) for d in org.email_domains}
                theirs = {d for d in theirs if "." in d and not webmail(d)}
                if any(org.organization_id == o for o, _ in r.memberships):
                    note(pair, KINDS.index("membership"))
                if org.organization_id in r.affiliations:
                    note(pair, KINDS.index("affiliation"))
                if any(under(d, p) for d in mine for p in theirs):
                    note(pair, KINDS.index("email"))
    panel = {r.user_id for r in reviewers}
    for d in declared:
        if d.reviewer_id not in panel:
            continue
        for app in applications:
            orgs = {o.organization_id for o in app.organizations}
            on_organization = d.application_id is None and d.organization_id in orgs
            if d.application_id == app.application_id or on_organization:
                note((d.reviewer_id, app.application_id), KINDS.index("declared"))
    return {(rid, aid, KINDS[kind]) for (rid, aid), kind in found.items()}


KINDS = ["declared", "membership", "authorship", "affiliation", "email"]


def kind_of(conflict: Conflict) -> str:
    if conflict.source is ConflictSource.declared:
        return "declared"
    prefixes = {
        "member (": "membership",
        "created the application": "authorship",
        "affiliated with": "affiliation",
        "email domain": "email",
    }
    return next(kind for prefix, kind in prefixes.items() if conflict.reason.startswith(prefix))


@st.composite
def conflict_instances(
    draw: st.DrawFn,
) -> tuple[list[ReviewerFacts], list[ApplicationFacts], list[DeclaredConflict]]:
    orgs = [uuid.UUID(int=i) for i in range(1, 5)]
    org_domains = {
        org: frozenset(draw(st.lists(st.sampled_from(DOMAINS), max_size=2))) for org in orgs
    }
    people = [uuid.UUID(int=200 + i) for i in range(draw(st.integers(1, 4)))]
    creators = st.one_of(st.none(), st.sampled_from([*people, uuid.UUID(int=998)]))
    applications = [
        ApplicationFacts(
            uuid.UUID(int=100 + i),
            tuple(
                OrganizationFacts(org, org_domains[org])
                for org in draw(st.lists(st.sampled_from(orgs), min_size=1, max_size=2))
            ),
            draw(creators),
        )
        for i in range(draw(st.integers(1, 4)))
    ]
    memberships = st.tuples(st.sampled_from(orgs), st.sampled_from(["owner", "member"]))
    reviewers = [
        ReviewerFacts(
            person,
            "x@" + draw(st.sampled_from(DOMAINS)),
            frozenset(draw(st.lists(st.sampled_from(orgs), max_size=1))),
            frozenset(draw(st.lists(st.sampled_from(DOMAINS), max_size=2))),
            frozenset(draw(st.lists(memberships, max_size=2))),
        )
        for person in people
    ]
    declared = [
        DeclaredConflict(
            draw(st.sampled_from([r.user_id for r in reviewers] + [uuid.UUID(int=999)])),
            app,
            None if app else draw(st.sampled_from(orgs)),
            "declared",
        )
        for app in draw(
            st.lists(
                st.one_of(st.none(), st.sampled_from([a.application_id for a in applications])),
                max_size=3,
            )
        )
    ]
    return reviewers, applications, declared


@settings(max_examples=examples(100), deadline=None, derandomize=True)
@given(conflict_instances(), st.randoms(use_true_random=False))
def test_matches_a_pairwise_reference_in_any_input_order(
    instance: tuple[list[ReviewerFacts], list[ApplicationFacts], list[DeclaredConflict]],
    rng: random.Random,
) -> None:
    reviewers, applications, declared = instance

    found = detect(reviewers, applications, declared)

    assert {(c.reviewer_id, c.application_id, kind_of(c)) for c in found} == _reference(
        reviewers, applications, declared
    )
    assert [(c.reviewer_id, c.application_id) for c in found] == sorted(
        {(c.reviewer_id, c.application_id) for c in found}
    )
    reviewers, applications, declared = list(reviewers), list(applications), list(declared)
    rng.shuffle(reviewers)
    rng.shuffle(applications)
    rng.shuffle(declared)
    assert detect(reviewers, applications, declared) == found
