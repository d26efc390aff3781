from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Criterion")


@_attrs_define
class Criterion:
    """A scored criterion: reviewers give a number in ``[min, max]``; ``threshold`` is the lowest
    aggregate that does not fail the application.

        Attributes:
            key (str):
            title (str):
            weight (float):
            min_ (float):
            max_ (float):
            threshold (float | None | Unset):
    """

    key: str
    title: str
    weight: float
    min_: float
    max_: float
    threshold: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        key = self.key

        title = self.title

        weight = self.weight

        min_ = self.min_

        max_ = self.max_

        threshold: float | None | Unset
        if isinstance(self.threshold, Unset):
            threshold = UNSET
        else:
            threshold = self.threshold

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "key": key,
                "title": title,
                "weight": weight,
                "min": min_,
                "max": max_,
            }
        )
        if threshold is not UNSET:
            field_dict["threshold"] = threshold

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key = d.pop("key")

        title = d.pop("title")

        weight = d.pop("weight")

        min_ = d.pop("min")

        max_ = d.pop("max")

        def _parse_threshold(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        threshold = _parse_threshold(d.pop("threshold", UNSET))

        criterion = cls(
            key=key,
            title=title,
            weight=weight,
            min_=min_,
            max_=max_,
            threshold=threshold,
        )

        return criterion
