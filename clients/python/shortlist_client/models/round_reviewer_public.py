from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RoundReviewerPublic")


@_attrs_define
class RoundReviewerPublic:
    """
    Attributes:
        id (UUID):
        round_id (UUID):
        user_id (UUID):
        name (str):
        email (str):
        max_assignments (int):
        expertise (list[str]):
        load (int):
        created_at (datetime.datetime):
    """

    id: UUID
    round_id: UUID
    user_id: UUID
    name: str
    email: str
    max_assignments: int
    expertise: list[str]
    load: int
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        round_id = str(self.round_id)

        user_id = str(self.user_id)

        name = self.name

        email = self.email

        max_assignments = self.max_assignments

        expertise = self.expertise

        load = self.load

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "round_id": round_id,
                "user_id": user_id,
                "name": name,
                "email": email,
                "max_assignments": max_assignments,
                "expertise": expertise,
                "load": load,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        round_id = UUID(d.pop("round_id"))

        user_id = UUID(d.pop("user_id"))

        name = d.pop("name")

        email = d.pop("email")

        max_assignments = d.pop("max_assignments")

        expertise = cast(list[str], d.pop("expertise"))

        load = d.pop("load")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        round_reviewer_public = cls(
            id=id,
            round_id=round_id,
            user_id=user_id,
            name=name,
            email=email,
            max_assignments=max_assignments,
            expertise=expertise,
            load=load,
            created_at=created_at,
        )

        round_reviewer_public.additional_properties = d
        return round_reviewer_public

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
