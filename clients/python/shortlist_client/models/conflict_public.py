from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.conflict_public_source import ConflictPublicSource

T = TypeVar("T", bound="ConflictPublic")


@_attrs_define
class ConflictPublic:
    """
    Attributes:
        reviewer_id (UUID):
        application_id (UUID):
        organization_id (None | UUID):
        reason (str):
        source (ConflictPublicSource):
    """

    reviewer_id: UUID
    application_id: UUID
    organization_id: None | UUID
    reason: str
    source: ConflictPublicSource
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        reviewer_id = str(self.reviewer_id)

        application_id = str(self.application_id)

        organization_id: None | str
        if isinstance(self.organization_id, UUID):
            organization_id = str(self.organization_id)
        else:
            organization_id = self.organization_id

        reason = self.reason

        source = self.source.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "reviewer_id": reviewer_id,
                "application_id": application_id,
                "organization_id": organization_id,
                "reason": reason,
                "source": source,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        reviewer_id = UUID(d.pop("reviewer_id"))

        application_id = UUID(d.pop("application_id"))

        def _parse_organization_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                organization_id_type_0 = UUID(data)

                return organization_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        organization_id = _parse_organization_id(d.pop("organization_id"))

        reason = d.pop("reason")

        source = ConflictPublicSource(d.pop("source"))

        conflict_public = cls(
            reviewer_id=reviewer_id,
            application_id=application_id,
            organization_id=organization_id,
            reason=reason,
            source=source,
        )

        conflict_public.additional_properties = d
        return conflict_public

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
