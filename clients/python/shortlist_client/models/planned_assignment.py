from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PlannedAssignment")


@_attrs_define
class PlannedAssignment:
    """
    Attributes:
        application_id (UUID):
        reviewer_id (UUID):
        affinity (float):
    """

    application_id: UUID
    reviewer_id: UUID
    affinity: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        application_id = str(self.application_id)

        reviewer_id = str(self.reviewer_id)

        affinity = self.affinity

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "application_id": application_id,
                "reviewer_id": reviewer_id,
                "affinity": affinity,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        application_id = UUID(d.pop("application_id"))

        reviewer_id = UUID(d.pop("reviewer_id"))

        affinity = d.pop("affinity")

        planned_assignment = cls(
            application_id=application_id,
            reviewer_id=reviewer_id,
            affinity=affinity,
        )

        planned_assignment.additional_properties = d
        return planned_assignment

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
