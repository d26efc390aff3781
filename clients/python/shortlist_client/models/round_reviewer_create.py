from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RoundReviewerCreate")


@_attrs_define
class RoundReviewerCreate:
    """
    Attributes:
        user_id (UUID):
        max_assignments (int):
        expertise (list[str] | Unset):
    """

    user_id: UUID
    max_assignments: int
    expertise: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        user_id = str(self.user_id)

        max_assignments = self.max_assignments

        expertise: list[str] | Unset = UNSET
        if not isinstance(self.expertise, Unset):
            expertise = self.expertise

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "user_id": user_id,
                "max_assignments": max_assignments,
            }
        )
        if expertise is not UNSET:
            field_dict["expertise"] = expertise

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        user_id = UUID(d.pop("user_id"))

        max_assignments = d.pop("max_assignments")

        expertise = cast(list[str], d.pop("expertise", UNSET))

        round_reviewer_create = cls(
            user_id=user_id,
            max_assignments=max_assignments,
            expertise=expertise,
        )

        return round_reviewer_create
