from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.review_status import ReviewStatus

if TYPE_CHECKING:
    from ..models.review_public_gates import ReviewPublicGates
    from ..models.review_public_scores import ReviewPublicScores


T = TypeVar("T", bound="ReviewPublic")


@_attrs_define
class ReviewPublic:
    """
    Attributes:
        id (UUID):
        assignment_id (UUID):
        application_id (UUID):
        scores (ReviewPublicScores):
        gates (ReviewPublicGates):
        comment_to_applicant (str):
        confidential_comment (str):
        status (ReviewStatus):
        version (int):
        updated_at (datetime.datetime):
        submitted_at (datetime.datetime | None):
    """

    id: UUID
    assignment_id: UUID
    application_id: UUID
    scores: ReviewPublicScores
    gates: ReviewPublicGates
    comment_to_applicant: str
    confidential_comment: str
    status: ReviewStatus
    version: int
    updated_at: datetime.datetime
    submitted_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        assignment_id = str(self.assignment_id)

        application_id = str(self.application_id)

        scores = self.scores.to_dict()

        gates = self.gates.to_dict()

        comment_to_applicant = self.comment_to_applicant

        confidential_comment = self.confidential_comment

        status = self.status.value

        version = self.version

        updated_at = self.updated_at.isoformat()

        submitted_at: None | str
        if isinstance(self.submitted_at, datetime.datetime):
            submitted_at = self.submitted_at.isoformat()
        else:
            submitted_at = self.submitted_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "assignment_id": assignment_id,
                "application_id": application_id,
                "scores": scores,
                "gates": gates,
                "comment_to_applicant": comment_to_applicant,
                "confidential_comment": confidential_comment,
                "status": status,
                "version": version,
                "updated_at": updated_at,
                "submitted_at": submitted_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.review_public_gates import ReviewPublicGates  # noqa: PLC0415
        from ..models.review_public_scores import ReviewPublicScores  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        assignment_id = UUID(d.pop("assignment_id"))

        application_id = UUID(d.pop("application_id"))

        scores = ReviewPublicScores.from_dict(d.pop("scores"))

        gates = ReviewPublicGates.from_dict(d.pop("gates"))

        comment_to_applicant = d.pop("comment_to_applicant")

        confidential_comment = d.pop("confidential_comment")

        status = ReviewStatus(d.pop("status"))

        version = d.pop("version")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_submitted_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                submitted_at_type_0 = datetime.datetime.fromisoformat(data)

                return submitted_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        submitted_at = _parse_submitted_at(d.pop("submitted_at"))

        review_public = cls(
            id=id,
            assignment_id=assignment_id,
            application_id=application_id,
            scores=scores,
            gates=gates,
            comment_to_applicant=comment_to_applicant,
            confidential_comment=confidential_comment,
            status=status,
            version=version,
            updated_at=updated_at,
            submitted_at=submitted_at,
        )

        review_public.additional_properties = d
        return review_public

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
