"""The pure parts of the seals: which record is about which application, and the entity tag of
an application as one caller sees it."""

import uuid
from datetime import UTC, datetime

import pytest

from models.applications import ApplicationPublic, ApplicationSealed, ApplicationStatus
from submissions.seal import application_named, sealed_data
from submissions.visibility import view_etag

APPLICATION = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
OTHER = str(uuid.UUID("00000000-0000-4000-8000-0000000000b2"))
AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("object_type", "object_id", "data", "named"),
    [
        ("application", str(APPLICATION), {}, APPLICATION),
        ("document", OTHER, {"application_id": str(APPLICATION)}, APPLICATION),
        ("round", OTHER, {"application_id": str(APPLICATION)}, APPLICATION),
        ("round", OTHER, {"application_id": None}, None),
        ("round", OTHER, {"from": "open"}, None),
        ("application", "not-a-uuid", {}, None),
        ("application", OTHER, {"application_id": str(APPLICATION)}, uuid.UUID(OTHER)),
        ("document", OTHER, {"application_id": 42}, None),
    ],
)
def test_the_application_a_record_is_about(
    object_type: str, object_id: str, data: dict[str, object], named: uuid.UUID | None
) -> None:
    assert application_named(object_type=object_type, object_id=object_id, data=data) == named


def test_what_a_reader_gets_of_a_sealed_record() -> None:
    assert sealed_data(APPLICATION) == {"sealed": True, "application_id": str(APPLICATION)}


def _public(status: ApplicationStatus, version: int = 3) -> ApplicationPublic:
    return ApplicationPublic(
        id=APPLICATION,
        title="Bid",
        status=status,
        organizations=[],
        round_id=uuid.UUID(OTHER),
        lead_organization_id=uuid.UUID(OTHER),
        summary="",
        keywords=[],
        version=version,
        created_at=AT,
        updated_at=AT,
        submitted_at=AT,
        receipt=None,
    )


def test_an_application_etag_is_a_function_of_what_the_caller_sees() -> None:
    assert view_etag(_public(ApplicationStatus.submitted)) == '"3"'
    assert view_etag(_public(ApplicationStatus.draft, 1)) == '"1"'
    assert view_etag(_public(ApplicationStatus.shortlisted)) == '"3-shortlisted"'
    assert view_etag(_public(ApplicationStatus.not_selected)) == '"3-not_selected"'
    sealed = ApplicationSealed(
        id=APPLICATION, title="Bid", status=ApplicationStatus.submitted, organizations=[]
    )
    assert view_etag(sealed) is None
