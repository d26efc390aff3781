from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.affinity_source import AffinitySource

if TYPE_CHECKING:
    from ..models.auto_assign_stats_preferences_honoured import AutoAssignStatsPreferencesHonoured


T = TypeVar("T", bound="AutoAssignStats")


@_attrs_define
class AutoAssignStats:
    """What the planner worked with and what its plan comes to.

    Attributes:
        applications (int):
        reviewers (int):
        new_assignments (int):
        kept_assignments (int):
        total_affinity (float):
        affinity_source (AffinitySource):
        affinity_computed_at (datetime.datetime | None): When text affinity was last computed (null: not yet, or not
            text)
        preferences_honoured (AutoAssignStatsPreferencesHonoured): How many planned pairs carry each stated preference
            (eager, not_willing)
        min_load (int):
        max_load (int):
        solve_seconds (float):
        conflicts (int):
    """

    applications: int
    reviewers: int
    new_assignments: int
    kept_assignments: int
    total_affinity: float
    affinity_source: AffinitySource
    affinity_computed_at: datetime.datetime | None
    preferences_honoured: AutoAssignStatsPreferencesHonoured
    min_load: int
    max_load: int
    solve_seconds: float
    conflicts: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        applications = self.applications

        reviewers = self.reviewers

        new_assignments = self.new_assignments

        kept_assignments = self.kept_assignments

        total_affinity = self.total_affinity

        affinity_source = self.affinity_source.value

        affinity_computed_at: None | str
        if isinstance(self.affinity_computed_at, datetime.datetime):
            affinity_computed_at = self.affinity_computed_at.isoformat()
        else:
            affinity_computed_at = self.affinity_computed_at

        preferences_honoured = self.preferences_honoured.to_dict()

        min_load = self.min_load

        max_load = self.max_load

        solve_seconds = self.solve_seconds

        conflicts = self.conflicts

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "applications": applications,
                "reviewers": reviewers,
                "new_assignments": new_assignments,
                "kept_assignments": kept_assignments,
                "total_affinity": total_affinity,
                "affinity_source": affinity_source,
                "affinity_computed_at": affinity_computed_at,
                "preferences_honoured": preferences_honoured,
                "min_load": min_load,
                "max_load": max_load,
                "solve_seconds": solve_seconds,
                "conflicts": conflicts,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.auto_assign_stats_preferences_honoured import AutoAssignStatsPreferencesHonoured  # noqa: PLC0415

        d = dict(src_dict)
        applications = d.pop("applications")

        reviewers = d.pop("reviewers")

        new_assignments = d.pop("new_assignments")

        kept_assignments = d.pop("kept_assignments")

        total_affinity = d.pop("total_affinity")

        affinity_source = AffinitySource(d.pop("affinity_source"))

        def _parse_affinity_computed_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                affinity_computed_at_type_0 = datetime.datetime.fromisoformat(data)

                return affinity_computed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        affinity_computed_at = _parse_affinity_computed_at(d.pop("affinity_computed_at"))

        preferences_honoured = AutoAssignStatsPreferencesHonoured.from_dict(d.pop("preferences_honoured"))

        min_load = d.pop("min_load")

        max_load = d.pop("max_load")

        solve_seconds = d.pop("solve_seconds")

        conflicts = d.pop("conflicts")

        auto_assign_stats = cls(
            applications=applications,
            reviewers=reviewers,
            new_assignments=new_assignments,
            kept_assignments=kept_assignments,
            total_affinity=total_affinity,
            affinity_source=affinity_source,
            affinity_computed_at=affinity_computed_at,
            preferences_honoured=preferences_honoured,
            min_load=min_load,
            max_load=max_load,
            solve_seconds=solve_seconds,
            conflicts=conflicts,
        )

        auto_assign_stats.additional_properties = d
        return auto_assign_stats

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
