from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.application_progress import ApplicationProgress
    from ..models.assignment_counts import AssignmentCounts
    from ..models.reviewer_progress import ReviewerProgress


T = TypeVar("T", bound="RoundProgress")


@_attrs_define
class RoundProgress:
    """Review progress of a round in review or later (admin).

    Attributes:
        round_id (UUID):
        review_deadline (datetime.datetime):
        deadline_passed (bool): Whether the review deadline has passed (now)
        assignments (AssignmentCounts): The round's assignments by where they stand; the five parts add up to ``total``.
        reviewers (list[ReviewerProgress]):
        applications (list[ApplicationProgress]):
    """

    round_id: UUID
    review_deadline: datetime.datetime
    deadline_passed: bool
    assignments: AssignmentCounts
    reviewers: list[ReviewerProgress]
    applications: list[ApplicationProgress]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        round_id = str(self.round_id)

        review_deadline = self.review_deadline.isoformat()

        deadline_passed = self.deadline_passed

        assignments = self.assignments.to_dict()

        reviewers = []
        for reviewers_item_data in self.reviewers:
            reviewers_item = reviewers_item_data.to_dict()
            reviewers.append(reviewers_item)

        applications = []
        for applications_item_data in self.applications:
            applications_item = applications_item_data.to_dict()
            applications.append(applications_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "round_id": round_id,
                "review_deadline": review_deadline,
                "deadline_passed": deadline_passed,
                "assignments": assignments,
                "reviewers": reviewers,
                "applications": applications,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.application_progress import ApplicationProgress  # noqa: PLC0415
        from ..models.assignment_counts import AssignmentCounts  # noqa: PLC0415
        from ..models.reviewer_progress import ReviewerProgress  # noqa: PLC0415

        d = dict(src_dict)
        round_id = UUID(d.pop("round_id"))

        review_deadline = datetime.datetime.fromisoformat(d.pop("review_deadline"))

        deadline_passed = d.pop("deadline_passed")

        assignments = AssignmentCounts.from_dict(d.pop("assignments"))

        reviewers = []
        _reviewers = d.pop("reviewers")
        for reviewers_item_data in _reviewers:
            reviewers_item = ReviewerProgress.from_dict(reviewers_item_data)

            reviewers.append(reviewers_item)

        applications = []
        _applications = d.pop("applications")
        for applications_item_data in _applications:
            applications_item = ApplicationProgress.from_dict(applications_item_data)

            applications.append(applications_item)

        round_progress = cls(
            round_id=round_id,
            review_deadline=review_deadline,
            deadline_passed=deadline_passed,
            assignments=assignments,
            reviewers=reviewers,
            applications=applications,
        )

        round_progress.additional_properties = d
        return round_progress

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
