from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Eligibility")


@_attrs_define
class Eligibility:
    """
    Attributes:
        only_shortlisted_from (None | Unset | UUID):
        exclude_shortlisted_from (list[UUID] | Unset):
    """

    only_shortlisted_from: None | Unset | UUID = UNSET
    exclude_shortlisted_from: list[UUID] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        only_shortlisted_from: None | str | Unset
        if isinstance(self.only_shortlisted_from, Unset):
            only_shortlisted_from = UNSET
        elif isinstance(self.only_shortlisted_from, UUID):
            only_shortlisted_from = str(self.only_shortlisted_from)
        else:
            only_shortlisted_from = self.only_shortlisted_from

        exclude_shortlisted_from: list[str] | Unset = UNSET
        if not isinstance(self.exclude_shortlisted_from, Unset):
            exclude_shortlisted_from = []
            for exclude_shortlisted_from_item_data in self.exclude_shortlisted_from:
                exclude_shortlisted_from_item = str(exclude_shortlisted_from_item_data)
                exclude_shortlisted_from.append(exclude_shortlisted_from_item)

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if only_shortlisted_from is not UNSET:
            field_dict["only_shortlisted_from"] = only_shortlisted_from
        if exclude_shortlisted_from is not UNSET:
            field_dict["exclude_shortlisted_from"] = exclude_shortlisted_from

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_only_shortlisted_from(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                only_shortlisted_from_type_0 = UUID(data)

                return only_shortlisted_from_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        only_shortlisted_from = _parse_only_shortlisted_from(d.pop("only_shortlisted_from", UNSET))

        _exclude_shortlisted_from = d.pop("exclude_shortlisted_from", UNSET)
        exclude_shortlisted_from: list[UUID] | Unset = UNSET
        if _exclude_shortlisted_from is not UNSET:
            exclude_shortlisted_from = []
            for exclude_shortlisted_from_item_data in _exclude_shortlisted_from:
                exclude_shortlisted_from_item = UUID(exclude_shortlisted_from_item_data)

                exclude_shortlisted_from.append(exclude_shortlisted_from_item)

        eligibility = cls(
            only_shortlisted_from=only_shortlisted_from,
            exclude_shortlisted_from=exclude_shortlisted_from,
        )

        return eligibility
