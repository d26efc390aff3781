from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.preference_level import PreferenceLevel

T = TypeVar("T", bound="PreferencePublic")


@_attrs_define
class PreferencePublic:
    """
    Attributes:
        round_id (UUID):
        reviewer_id (UUID):
        application_id (UUID):
        preference (PreferenceLevel):
        updated_at (datetime.datetime):
    """

    round_id: UUID
    reviewer_id: UUID
    application_id: UUID
    preference: PreferenceLevel
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        round_id = str(self.round_id)

        reviewer_id = str(self.reviewer_id)

        application_id = str(self.application_id)

        preference = self.preference.value

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "round_id": round_id,
                "reviewer_id": reviewer_id,
                "application_id": application_id,
                "preference": preference,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        round_id = UUID(d.pop("round_id"))

        reviewer_id = UUID(d.pop("reviewer_id"))

        application_id = UUID(d.pop("application_id"))

        preference = PreferenceLevel(d.pop("preference"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        preference_public = cls(
            round_id=round_id,
            reviewer_id=reviewer_id,
            application_id=application_id,
            preference=preference,
            updated_at=updated_at,
        )

        preference_public.additional_properties = d
        return preference_public

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
