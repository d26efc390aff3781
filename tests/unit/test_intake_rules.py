"""Pure intake rules, without a database: round configuration, If-Match parsing, cursors,
submission completeness, sealing and the status applicants see."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from api.http.etag import parse_if_match
from models.applications import ApplicationOrganization, ApplicationStatus, ApplicationUpdate
from models.concurrency import Precondition, etag
from models.documents import Document, DocumentStatus
from models.errors import DomainError
from models.identity import Actor, Role
from models.rounds import RequiredDocument, Round, RoundConfig, RoundStatus, RoundUpdate
from submissions.applications import submission_problems
from submissions.pagination import decode_cursor, encode_cursor
from submissions.rounds import round_config_errors
from submissions.visibility import ApplicationAccess, access_for, visible_status
from tests.factories import NOW, round_config

US = timedelta(microseconds=1)


def _errors(**overrides: Any) -> list[tuple[tuple[str | int, ...], str]]:
    config = RoundConfig.model_validate(round_config(**overrides))
    return [(tuple(e["loc"]), e["msg"]) for e in round_config_errors(config)]


def test_the_default_configuration_is_valid() -> None:
    assert _errors() == []


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"opens_at": NOW + timedelta(days=7)}, ("body", "submission_deadline")),
        ({"review_deadline": NOW + timedelta(days=7) - US}, ("body", "review_deadline")),
        (
            {
                "criteria": [
                    {"key": "a", "title": "A", "weight": 1, "min": 0, "max": 5},
                    {"key": "a", "title": "A2", "weight": 1, "min": 0, "max": 5},
                ],
                "shortlist": {},
            },
            ("body", "criteria", 1, "key"),
        ),
        (
            {
                "criteria": [{"key": "a", "title": "A", "weight": 1, "min": 5, "max": 5}],
                "shortlist": {},
            },
            ("body", "criteria", 0, "max"),
        ),
        (
            {
                "criteria": [
                    {"key": "a", "title": "A", "weight": 1, "min": 0, "max": 5, "threshold": 6}
                ],
                "shortlist": {},
            },
            ("body", "criteria", 0, "threshold"),
        ),
        (
            {"gates": [{"key": "g", "title": "G"}, {"key": "g", "title": "G"}]},
            ("body", "gates", 1, "key"),
        ),
        (
            {
                "required_documents": [
                    {
                        "kind": "p",
                        "title": "P",
                        "content_types": ["application/pdf"],
                        "max_bytes": 10,
                    },
                    {"kind": "p", "title": "P", "content_types": ["text/plain"], "max_bytes": 10},
                ]
            },
            ("body", "required_documents", 1, "kind"),
        ),
        ({"shortlist": {"tie_break": ["criterion:nope"]}}, ("body", "shortlist", "tie_break", 0)),
        ({"shortlist": {"tie_break": ["random"]}}, ("body", "shortlist", "tie_break", 0)),
        ({"shortlist": {"tie_break": ["id", "id"]}}, ("body", "shortlist", "tie_break", 1)),
        (
            {
                "eligibility": {
                    "only_shortlisted_from": "00000000-0000-4000-8000-000000000001",
                    "exclude_shortlisted_from": ["00000000-0000-4000-8000-000000000001"],
                }
            },
            ("body", "eligibility", "only_shortlisted_from"),
        ),
    ],
    ids=[
        "opens-not-before-deadline",
        "review-before-submission",
        "duplicate-criterion",
        "min-not-below-max",
        "threshold-out-of-range",
        "duplicate-gate",
        "duplicate-document-kind",
        "tie-break-unknown-criterion",
        "tie-break-unknown-item",
        "tie-break-twice",
        "eligibility-contradiction",
    ],
)
def test_cross_field_rules(overrides: dict[str, Any], loc: tuple[str | int, ...]) -> None:
    assert [found for found, _ in _errors(**overrides)] == [loc]


def test_deadlines_may_coincide_at_review() -> None:
    assert _errors(review_deadline=NOW + timedelta(days=7)) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"criteria": [{"key": "a", "title": "A", "weight": 0, "min": 0, "max": 5}]},
        {"criteria": [{"key": "a b", "title": "A", "weight": 1, "min": 0, "max": 5}]},
        {"grace_seconds": -1},
        {"reviewers_per_application": 0},
        {"shortlist": {"size": -1}},
        {"shortlist": {"aggregate": "mode"}},
        {"shortlist": {"calibration": "rank"}},
        {"opens_at": "2026-12-01T00:00:00"},
        {"status": "open"},
        {"criteria": [{"key": "a", "title": "A", "weight": 1, "min": 0, "max": 5, "x": 1}]},
        {"required_documents": [{"kind": "p", "title": "P", "content_types": ["pdf"]}]},
    ],
    ids=[
        "zero-weight",
        "key-with-space",
        "negative-grace",
        "no-reviewers",
        "negative-size",
        "unknown-aggregate",
        "unknown-calibration",
        "naive-timestamp",
        "read-only-status",
        "unknown-criterion-field",
        "bad-media-type",
    ],
)
def test_field_rules_are_refused_by_the_schema(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        RoundConfig.model_validate(round_config(**bad))


def test_timestamps_are_normalized_to_utc() -> None:
    config = RoundConfig.model_validate(round_config(opens_at="2026-11-29T18:00:00+09:00"))
    assert config.opens_at == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    assert config.opens_at.utcoffset() == timedelta(0)


def test_patches_refuse_null_and_read_only_fields() -> None:
    with pytest.raises(ValidationError):
        RoundUpdate.model_validate({"name": None})
    with pytest.raises(ValidationError):
        ApplicationUpdate.model_validate({"status": "submitted"})
    with pytest.raises(ValidationError):
        ApplicationUpdate.model_validate({"lead_organization_id": str(uuid.uuid4())})


# --- If-Match ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "version", "matches"),
    [
        ('"3"', 3, True),
        ('"3"', 4, False),
        ('"1", "3"', 3, True),
        ("*", 99, True),
        ('W/"3"', 3, False),
        ("3", 3, True),
        ('garbage, "5"', 5, True),
        ('"', 1, False),
    ],
)
def test_if_match_parsing(header: str, version: int, matches: bool) -> None:
    assert parse_if_match(header).matches(version) is matches


def test_a_failed_precondition_is_412_with_the_current_tag() -> None:
    with pytest.raises(DomainError) as excinfo:
        Precondition(tags=frozenset({etag(1)})).ensure(2)
    assert excinfo.value.status == 412
    assert excinfo.value.extra == {"current_etag": '"2"'}


# --- cursors -----------------------------------------------------------------------------------


def test_cursors_round_trip_typed_keys() -> None:
    from models.applications import Application

    key = [NOW, uuid.uuid4()]
    keys = [Application.created_at, Application.id]
    assert decode_cursor(encode_cursor(key), keys) == key  # type: ignore[arg-type]


@pytest.mark.parametrize("cursor", ["!!!", encode_cursor([1]), encode_cursor(["x", "y"]), "e30"])
def test_foreign_or_broken_cursors_are_422(cursor: str) -> None:
    from models.applications import Application

    with pytest.raises(DomainError) as excinfo:
        decode_cursor(cursor, [Application.created_at, Application.id])  # type: ignore[list-item]
    assert excinfo.value.status == 422
    assert excinfo.value.type == "invalid-cursor"


# --- submission completeness -------------------------------------------------------------------


def _document(kind: str, status: DocumentStatus) -> Document:
    return Document(
        application_id=uuid.uuid4(),
        kind=kind,
        filename="f.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
        status=status,
        storage_key="k",
        uploaded_by=uuid.uuid4(),
        created_at=NOW,
    )


def test_every_missing_piece_is_listed() -> None:
    required = [
        RequiredDocument(kind=k, title=k.title(), content_types=["application/pdf"], max_bytes=9)
        for k in ("proposal", "budget", "cv", "letter")
    ]
    member = uuid.uuid4()
    organizations = [
        ApplicationOrganization(
            application_id=uuid.uuid4(),
            round_id=uuid.uuid4(),
            organization_id=uuid.uuid4(),
            role="lead",
            is_lead=True,
        ),
        ApplicationOrganization(
            application_id=uuid.uuid4(),
            round_id=uuid.uuid4(),
            organization_id=member,
            role="partner",
        ),
    ]
    documents = [
        _document("proposal", DocumentStatus.clean),
        _document("budget", DocumentStatus.pending_scan),
        _document("cv", DocumentStatus.infected),
        _document("annex", DocumentStatus.infected),
    ]
    problems = submission_problems(
        required_documents=required, organizations=organizations, documents=documents
    )
    assert [p["loc"] for p in problems] == [
        ["documents", "budget"],
        ["documents", "cv"],
        ["documents", "letter"],
        ["documents", "annex"],
        ["members", str(member)],
    ]


# --- sealing and visible status ----------------------------------------------------------------


def _actor(*roles: Role) -> Actor:
    return Actor(
        user_id=uuid.uuid4(),
        roles=frozenset(r.value for r in roles),
        scopes=frozenset(),
        client_id="c",
    )


@pytest.mark.parametrize(
    ("offset", "grace", "expected"),
    [
        (-US, 0, ApplicationAccess.sealed),
        (timedelta(0), 0, ApplicationAccess.sealed),
        (US, 0, ApplicationAccess.full),
        (US, 30, ApplicationAccess.sealed),
        (timedelta(seconds=30), 30, ApplicationAccess.sealed),
        (timedelta(seconds=30) + US, 30, ApplicationAccess.full),
    ],
)
def test_admins_see_sealed_bids_until_the_deadline_plus_grace(
    offset: timedelta, grace: int, expected: ApplicationAccess
) -> None:
    round = Round(
        program_id=uuid.uuid4(),
        name="R",
        opens_at=NOW - timedelta(days=1),
        submission_deadline=NOW,
        grace_seconds=grace,
        review_deadline=NOW + timedelta(days=1),
        created_by=uuid.uuid4(),
        created_at=NOW,
        updated_at=NOW,
    )
    admin = _actor(Role.admin)
    assert access_for(actor=admin, participant=False, round=round, now=NOW + offset) is expected
    applicant = _actor(Role.applicant)
    at = NOW + offset
    assert access_for(actor=applicant, participant=True, round=round, now=at) is (
        ApplicationAccess.full
    )
    assert access_for(actor=applicant, participant=False, round=round, now=at) is (
        ApplicationAccess.none
    )
    reviewer = _actor(Role.reviewer)
    assert access_for(actor=reviewer, participant=False, round=round, now=at) is (
        ApplicationAccess.none
    )


@pytest.mark.parametrize(
    ("status", "round_status", "raw", "seen"),
    [
        ("shortlisted", RoundStatus.closed, False, "submitted"),
        ("not_selected", RoundStatus.closed, False, "submitted"),
        ("shortlisted", RoundStatus.published, False, "shortlisted"),
        ("not_selected", RoundStatus.published, False, "not_selected"),
        ("shortlisted", RoundStatus.closed, True, "shortlisted"),
        ("draft", RoundStatus.open, False, "draft"),
        ("withdrawn", RoundStatus.closed, False, "withdrawn"),
    ],
)
def test_applicants_see_results_only_once_published(
    status: str, round_status: RoundStatus, raw: bool, seen: str
) -> None:
    assert visible_status(status, round_status=round_status, raw=raw) == ApplicationStatus(seen)
