from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.preference_level import PreferenceLevel

T = TypeVar("T", bound="PreferenceIn")


@_attrs_define
class PreferenceIn:
    """
    Attributes:
        preference (PreferenceLevel):
    """

    preference: PreferenceLevel

    def to_dict(self) -> dict[str, Any]:
        preference = self.preference.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "preference": preference,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        preference = PreferenceLevel(d.pop("preference"))

        preference_in = cls(
            preference=preference,
        )

        return preference_in
