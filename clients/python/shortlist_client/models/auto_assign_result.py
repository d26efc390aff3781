from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.auto_assign_stats import AutoAssignStats
    from ..models.planned_assignment import PlannedAssignment


T = TypeVar("T", bound="AutoAssignResult")


@_attrs_define
class AutoAssignResult:
    """
    Attributes:
        assignments (list[PlannedAssignment]):
        stats (AutoAssignStats): What the planner worked with and what its plan comes to.
        applied (bool):
    """

    assignments: list[PlannedAssignment]
    stats: AutoAssignStats
    applied: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        assignments = []
        for assignments_item_data in self.assignments:
            assignments_item = assignments_item_data.to_dict()
            assignments.append(assignments_item)

        stats = self.stats.to_dict()

        applied = self.applied

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "assignments": assignments,
                "stats": stats,
                "applied": applied,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.auto_assign_stats import AutoAssignStats  # noqa: PLC0415
        from ..models.planned_assignment import PlannedAssignment  # noqa: PLC0415

        d = dict(src_dict)
        assignments = []
        _assignments = d.pop("assignments")
        for assignments_item_data in _assignments:
            assignments_item = PlannedAssignment.from_dict(assignments_item_data)

            assignments.append(assignments_item)

        stats = AutoAssignStats.from_dict(d.pop("stats"))

        applied = d.pop("applied")

        auto_assign_result = cls(
            assignments=assignments,
            stats=stats,
            applied=applied,
        )

        auto_assign_result.additional_properties = d
        return auto_assign_result

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
