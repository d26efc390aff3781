from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.member_role import MemberRole
from ..types import UNSET, Unset

T = TypeVar("T", bound="OrganizationMemberCreate")


@_attrs_define
class OrganizationMemberCreate:
    """
    Attributes:
        user_id (UUID):
        role (MemberRole | Unset):
    """

    user_id: UUID
    role: MemberRole | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        user_id = str(self.user_id)

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "user_id": user_id,
            }
        )
        if role is not UNSET:
            field_dict["role"] = role

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        user_id = UUID(d.pop("user_id"))

        _role = d.pop("role", UNSET)
        role: MemberRole | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = MemberRole(_role)

        organization_member_create = cls(
            user_id=user_id,
            role=role,
        )

        return organization_member_create
