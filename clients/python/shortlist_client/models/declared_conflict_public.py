from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="DeclaredConflictPublic")


@_attrs_define
class DeclaredConflictPublic:
    """
    Attributes:
        id (UUID):
        round_id (UUID):
        reviewer_id (UUID):
        organization_id (None | UUID):
        application_id (None | UUID):
        reason (str):
        created_at (datetime.datetime):
        source (Literal['declared'] | Unset):  Default: 'declared'.
    """

    id: UUID
    round_id: UUID
    reviewer_id: UUID
    organization_id: None | UUID
    application_id: None | UUID
    reason: str
    created_at: datetime.datetime
    source: Literal["declared"] | Unset = "declared"
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        round_id = str(self.round_id)

        reviewer_id = str(self.reviewer_id)

        organization_id: None | str
        if isinstance(self.organization_id, UUID):
            organization_id = str(self.organization_id)
        else:
            organization_id = self.organization_id

        application_id: None | str
        if isinstance(self.application_id, UUID):
            application_id = str(self.application_id)
        else:
            application_id = self.application_id

        reason = self.reason

        created_at = self.created_at.isoformat()

        source = self.source

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "round_id": round_id,
                "reviewer_id": reviewer_id,
                "organization_id": organization_id,
                "application_id": application_id,
                "reason": reason,
                "created_at": created_at,
            }
        )
        if source is not UNSET:
            field_dict["source"] = source

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        round_id = UUID(d.pop("round_id"))

        reviewer_id = UUID(d.pop("reviewer_id"))

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

        def _parse_application_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                application_id_type_0 = UUID(data)

                return application_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        application_id = _parse_application_id(d.pop("application_id"))

        reason = d.pop("reason")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        source = cast(Literal["declared"] | Unset, d.pop("source", UNSET))
        if source != "declared" and not isinstance(source, Unset):
            raise ValueError(f"source must match const 'declared', got '{source}'")

        declared_conflict_public = cls(
            id=id,
            round_id=round_id,
            reviewer_id=reviewer_id,
            organization_id=organization_id,
            application_id=application_id,
            reason=reason,
            created_at=created_at,
            source=source,
        )

        declared_conflict_public.additional_properties = d
        return declared_conflict_public

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
