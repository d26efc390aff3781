from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.assignment_status import AssignmentStatus

T = TypeVar("T", bound="AssignmentPublic")


@_attrs_define
class AssignmentPublic:
    """
    Attributes:
        id (UUID):
        round_id (UUID):
        application_id (UUID):
        reviewer_id (UUID):
        affinity (float):
        status (AssignmentStatus):
    """

    id: UUID
    round_id: UUID
    application_id: UUID
    reviewer_id: UUID
    affinity: float
    status: AssignmentStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        round_id = str(self.round_id)

        application_id = str(self.application_id)

        reviewer_id = str(self.reviewer_id)

        affinity = self.affinity

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "round_id": round_id,
                "application_id": application_id,
                "reviewer_id": reviewer_id,
                "affinity": affinity,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        round_id = UUID(d.pop("round_id"))

        application_id = UUID(d.pop("application_id"))

        reviewer_id = UUID(d.pop("reviewer_id"))

        affinity = d.pop("affinity")

        status = AssignmentStatus(d.pop("status"))

        assignment_public = cls(
            id=id,
            round_id=round_id,
            application_id=application_id,
            reviewer_id=reviewer_id,
            affinity=affinity,
            status=status,
        )

        assignment_public.additional_properties = d
        return assignment_public

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
