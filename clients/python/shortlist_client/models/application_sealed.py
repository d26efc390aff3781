from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.application_status import ApplicationStatus

if TYPE_CHECKING:
    from ..models.application_organization_public import ApplicationOrganizationPublic


T = TypeVar("T", bound="ApplicationSealed")


@_attrs_define
class ApplicationSealed:
    """What an admin sees of a bid before the submission deadline plus grace has passed.

    Attributes:
        id (UUID):
        title (str):
        status (ApplicationStatus):
        organizations (list[ApplicationOrganizationPublic]):
    """

    id: UUID
    title: str
    status: ApplicationStatus
    organizations: list[ApplicationOrganizationPublic]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        title = self.title

        status = self.status.value

        organizations = []
        for organizations_item_data in self.organizations:
            organizations_item = organizations_item_data.to_dict()
            organizations.append(organizations_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "title": title,
                "status": status,
                "organizations": organizations,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.application_organization_public import ApplicationOrganizationPublic  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        title = d.pop("title")

        status = ApplicationStatus(d.pop("status"))

        organizations = []
        _organizations = d.pop("organizations")
        for organizations_item_data in _organizations:
            organizations_item = ApplicationOrganizationPublic.from_dict(organizations_item_data)

            organizations.append(organizations_item)

        application_sealed = cls(
            id=id,
            title=title,
            status=status,
            organizations=organizations,
        )

        application_sealed.additional_properties = d
        return application_sealed

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
