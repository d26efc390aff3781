from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ReviewerProgress")


@_attrs_define
class ReviewerProgress:
    """
    Attributes:
        reviewer_id (UUID):
        name (str):
        assigned (int): Active assignments
        submitted (int): Of those, with a submitted review
        overdue (int): Active assignments without a submitted review once the review deadline has passed (0 before it)
    """

    reviewer_id: UUID
    name: str
    assigned: int
    submitted: int
    overdue: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        reviewer_id = str(self.reviewer_id)

        name = self.name

        assigned = self.assigned

        submitted = self.submitted

        overdue = self.overdue

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "reviewer_id": reviewer_id,
                "name": name,
                "assigned": assigned,
                "submitted": submitted,
                "overdue": overdue,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        reviewer_id = UUID(d.pop("reviewer_id"))

        name = d.pop("name")

        assigned = d.pop("assigned")

        submitted = d.pop("submitted")

        overdue = d.pop("overdue")

        reviewer_progress = cls(
            reviewer_id=reviewer_id,
            name=name,
            assigned=assigned,
            submitted=submitted,
            overdue=overdue,
        )

        reviewer_progress.additional_properties = d
        return reviewer_progress

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
