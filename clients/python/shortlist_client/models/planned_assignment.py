from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.preference_level import PreferenceLevel
from ..types import UNSET, Unset

T = TypeVar("T", bound="PlannedAssignment")


@_attrs_define
class PlannedAssignment:
    """
    Attributes:
        application_id (UUID):
        reviewer_id (UUID):
        affinity (float):
        evidence (list[str] | Unset):
        preference (None | PreferenceLevel | Unset):
    """

    application_id: UUID
    reviewer_id: UUID
    affinity: float
    evidence: list[str] | Unset = UNSET
    preference: None | PreferenceLevel | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        application_id = str(self.application_id)

        reviewer_id = str(self.reviewer_id)

        affinity = self.affinity

        evidence: list[str] | Unset = UNSET
        if not isinstance(self.evidence, Unset):
            evidence = self.evidence

        preference: None | str | Unset
        if isinstance(self.preference, Unset):
            preference = UNSET
        elif isinstance(self.preference, PreferenceLevel):
            preference = self.preference.value
        else:
            preference = self.preference

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "application_id": application_id,
                "reviewer_id": reviewer_id,
                "affinity": affinity,
            }
        )
        if evidence is not UNSET:
            field_dict["evidence"] = evidence
        if preference is not UNSET:
            field_dict["preference"] = preference

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        application_id = UUID(d.pop("application_id"))

        reviewer_id = UUID(d.pop("reviewer_id"))

        affinity = d.pop("affinity")

        evidence = cast(list[str], d.pop("evidence", UNSET))

        def _parse_preference(data: object) -> None | PreferenceLevel | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                preference_type_0 = PreferenceLevel(data)

                return preference_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PreferenceLevel | Unset, data)

        preference = _parse_preference(d.pop("preference", UNSET))

        planned_assignment = cls(
            application_id=application_id,
            reviewer_id=reviewer_id,
            affinity=affinity,
            evidence=evidence,
            preference=preference,
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
