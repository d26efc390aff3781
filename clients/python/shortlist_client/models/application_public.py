from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.application_status import ApplicationStatus

if TYPE_CHECKING:
    from ..models.application_organization_public import ApplicationOrganizationPublic
    from ..models.receipt_public import ReceiptPublic


T = TypeVar("T", bound="ApplicationPublic")


@_attrs_define
class ApplicationPublic:
    """
    Attributes:
        id (UUID):
        title (str):
        status (ApplicationStatus):
        organizations (list[ApplicationOrganizationPublic]):
        round_id (UUID):
        lead_organization_id (None | UUID):
        summary (str):
        keywords (list[str]):
        version (int):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        submitted_at (datetime.datetime | None):
        receipt (None | ReceiptPublic):
    """

    id: UUID
    title: str
    status: ApplicationStatus
    organizations: list[ApplicationOrganizationPublic]
    round_id: UUID
    lead_organization_id: None | UUID
    summary: str
    keywords: list[str]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    submitted_at: datetime.datetime | None
    receipt: None | ReceiptPublic
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.receipt_public import ReceiptPublic  # noqa: PLC0415

        id = str(self.id)

        title = self.title

        status = self.status.value

        organizations = []
        for organizations_item_data in self.organizations:
            organizations_item = organizations_item_data.to_dict()
            organizations.append(organizations_item)

        round_id = str(self.round_id)

        lead_organization_id: None | str
        if isinstance(self.lead_organization_id, UUID):
            lead_organization_id = str(self.lead_organization_id)
        else:
            lead_organization_id = self.lead_organization_id

        summary = self.summary

        keywords = self.keywords

        version = self.version

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        submitted_at: None | str
        if isinstance(self.submitted_at, datetime.datetime):
            submitted_at = self.submitted_at.isoformat()
        else:
            submitted_at = self.submitted_at

        receipt: dict[str, Any] | None
        if isinstance(self.receipt, ReceiptPublic):
            receipt = self.receipt.to_dict()
        else:
            receipt = self.receipt

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "title": title,
                "status": status,
                "organizations": organizations,
                "round_id": round_id,
                "lead_organization_id": lead_organization_id,
                "summary": summary,
                "keywords": keywords,
                "version": version,
                "created_at": created_at,
                "updated_at": updated_at,
                "submitted_at": submitted_at,
                "receipt": receipt,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.application_organization_public import ApplicationOrganizationPublic  # noqa: PLC0415
        from ..models.receipt_public import ReceiptPublic  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        title = d.pop("title")

        status = ApplicationStatus(d.pop("status"))

        organizations = []
        _organizations = d.pop("organizations")
        for organizations_item_data in _organizations:
            organizations_item = ApplicationOrganizationPublic.from_dict(organizations_item_data)

            organizations.append(organizations_item)

        round_id = UUID(d.pop("round_id"))

        def _parse_lead_organization_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                lead_organization_id_type_0 = UUID(data)

                return lead_organization_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        lead_organization_id = _parse_lead_organization_id(d.pop("lead_organization_id"))

        summary = d.pop("summary")

        keywords = cast(list[str], d.pop("keywords"))

        version = d.pop("version")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_submitted_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                submitted_at_type_0 = datetime.datetime.fromisoformat(data)

                return submitted_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        submitted_at = _parse_submitted_at(d.pop("submitted_at"))

        def _parse_receipt(data: object) -> None | ReceiptPublic:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                receipt_type_0 = ReceiptPublic.from_dict(data)

                return receipt_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ReceiptPublic, data)

        receipt = _parse_receipt(d.pop("receipt"))

        application_public = cls(
            id=id,
            title=title,
            status=status,
            organizations=organizations,
            round_id=round_id,
            lead_organization_id=lead_organization_id,
            summary=summary,
            keywords=keywords,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
            submitted_at=submitted_at,
            receipt=receipt,
        )

        application_public.additional_properties = d
        return application_public

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
