from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="OrganizationCreate")


@_attrs_define
class OrganizationCreate:
    """
    Attributes:
        name (str):
        registration_number (str):
        country (str): ISO 3166-1 alpha-2 code
        email_domains (list[str] | Unset):
    """

    name: str
    registration_number: str
    country: str
    email_domains: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        registration_number = self.registration_number

        country = self.country

        email_domains: list[str] | Unset = UNSET
        if not isinstance(self.email_domains, Unset):
            email_domains = self.email_domains

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "registration_number": registration_number,
                "country": country,
            }
        )
        if email_domains is not UNSET:
            field_dict["email_domains"] = email_domains

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        registration_number = d.pop("registration_number")

        country = d.pop("country")

        email_domains = cast(list[str], d.pop("email_domains", UNSET))

        organization_create = cls(
            name=name,
            registration_number=registration_number,
            country=country,
            email_domains=email_domains,
        )

        return organization_create
