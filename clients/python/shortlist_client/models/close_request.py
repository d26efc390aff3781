from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CloseRequest")


@_attrs_define
class CloseRequest:
    """
    Attributes:
        allow_missing_reviews (bool | Unset):  Default: False.
    """

    allow_missing_reviews: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        allow_missing_reviews = self.allow_missing_reviews

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if allow_missing_reviews is not UNSET:
            field_dict["allow_missing_reviews"] = allow_missing_reviews

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        allow_missing_reviews = d.pop("allow_missing_reviews", UNSET)

        close_request = cls(
            allow_missing_reviews=allow_missing_reviews,
        )

        return close_request
