from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ApplicationMemberIn")


@_attrs_define
class ApplicationMemberIn:
    """
    Attributes:
        organization_id (UUID):
        role (str | Unset):  Default: 'member'.
    """

    organization_id: UUID
    role: str | Unset = "member"

    def to_dict(self) -> dict[str, Any]:
        organization_id = str(self.organization_id)

        role = self.role

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "organization_id": organization_id,
            }
        )
        if role is not UNSET:
            field_dict["role"] = role

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        organization_id = UUID(d.pop("organization_id"))

        role = d.pop("role", UNSET)

        application_member_in = cls(
            organization_id=organization_id,
            role=role,
        )

        return application_member_in
