from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.aggregate import Aggregate
from ..models.calibration import Calibration
from ..types import UNSET, Unset

T = TypeVar("T", bound="ShortlistRules")


@_attrs_define
class ShortlistRules:
    """
    Attributes:
        size (int | None | Unset):
        min_total (float | None | Unset):
        aggregate (Aggregate | Unset):
        calibration (Calibration | Unset):
        tie_break (list[str] | Unset): `criterion:<key>` (descending), `submitted_at` (ascending) or `id`
    """

    size: int | None | Unset = UNSET
    min_total: float | None | Unset = UNSET
    aggregate: Aggregate | Unset = UNSET
    calibration: Calibration | Unset = UNSET
    tie_break: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        size: int | None | Unset
        if isinstance(self.size, Unset):
            size = UNSET
        else:
            size = self.size

        min_total: float | None | Unset
        if isinstance(self.min_total, Unset):
            min_total = UNSET
        else:
            min_total = self.min_total

        aggregate: str | Unset = UNSET
        if not isinstance(self.aggregate, Unset):
            aggregate = self.aggregate.value

        calibration: str | Unset = UNSET
        if not isinstance(self.calibration, Unset):
            calibration = self.calibration.value

        tie_break: list[str] | Unset = UNSET
        if not isinstance(self.tie_break, Unset):
            tie_break = self.tie_break

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if size is not UNSET:
            field_dict["size"] = size
        if min_total is not UNSET:
            field_dict["min_total"] = min_total
        if aggregate is not UNSET:
            field_dict["aggregate"] = aggregate
        if calibration is not UNSET:
            field_dict["calibration"] = calibration
        if tie_break is not UNSET:
            field_dict["tie_break"] = tie_break

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        size = _parse_size(d.pop("size", UNSET))

        def _parse_min_total(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        min_total = _parse_min_total(d.pop("min_total", UNSET))

        _aggregate = d.pop("aggregate", UNSET)
        aggregate: Aggregate | Unset
        if isinstance(_aggregate, Unset):
            aggregate = UNSET
        else:
            aggregate = Aggregate(_aggregate)

        _calibration = d.pop("calibration", UNSET)
        calibration: Calibration | Unset
        if isinstance(_calibration, Unset):
            calibration = UNSET
        else:
            calibration = Calibration(_calibration)

        tie_break = cast(list[str], d.pop("tie_break", UNSET))

        shortlist_rules = cls(
            size=size,
            min_total=min_total,
            aggregate=aggregate,
            calibration=calibration,
            tie_break=tie_break,
        )

        return shortlist_rules
