from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.organization_member_public import OrganizationMemberPublic


T = TypeVar("T", bound="OrganizationPublic")


@_attrs_define
class OrganizationPublic:
    """
    Attributes:
        id (UUID):
        name (str):
        registration_number (str):
        country (str):
        email_domains (list[str]):
        verified_email_domains (list[str]):
        created_at (datetime.datetime):
        members (list[OrganizationMemberPublic]):
    """

    id: UUID
    name: str
    registration_number: str
    country: str
    email_domains: list[str]
    verified_email_domains: list[str]
    created_at: datetime.datetime
    members: list[OrganizationMemberPublic]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        name = self.name

        registration_number = self.registration_number

        country = self.country

        email_domains = self.email_domains

        verified_email_domains = self.verified_email_domains

        created_at = self.created_at.isoformat()

        members = []
        for members_item_data in self.members:
            members_item = members_item_data.to_dict()
            members.append(members_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "registration_number": registration_number,
                "country": country,
                "email_domains": email_domains,
                "verified_email_domains": verified_email_domains,
                "created_at": created_at,
                "members": members,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.organization_member_public import OrganizationMemberPublic  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        name = d.pop("name")

        registration_number = d.pop("registration_number")

        country = d.pop("country")

        email_domains = cast(list[str], d.pop("email_domains"))

        verified_email_domains = cast(list[str], d.pop("verified_email_domains"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        members = []
        _members = d.pop("members")
        for members_item_data in _members:
            members_item = OrganizationMemberPublic.from_dict(members_item_data)

            members.append(members_item)

        organization_public = cls(
            id=id,
            name=name,
            registration_number=registration_number,
            country=country,
            email_domains=email_domains,
            verified_email_domains=verified_email_domains,
            created_at=created_at,
            members=members,
        )

        organization_public.additional_properties = d
        return organization_public

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
