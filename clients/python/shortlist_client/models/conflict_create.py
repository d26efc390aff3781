from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ConflictCreate")


@_attrs_define
class ConflictCreate:
    """
    Attributes:
        reviewer_id (UUID):
        reason (str):
        organization_id (None | Unset | UUID):
        application_id (None | Unset | UUID):
    """

    reviewer_id: UUID
    reason: str
    organization_id: None | Unset | UUID = UNSET
    application_id: None | Unset | UUID = UNSET

    def to_dict(self) -> dict[str, Any]:
        reviewer_id = str(self.reviewer_id)

        reason = self.reason

        organization_id: None | str | Unset
        if isinstance(self.organization_id, Unset):
            organization_id = UNSET
        elif isinstance(self.organization_id, UUID):
            organization_id = str(self.organization_id)
        else:
            organization_id = self.organization_id

        application_id: None | str | Unset
        if isinstance(self.application_id, Unset):
            application_id = UNSET
        elif isinstance(self.application_id, UUID):
            application_id = str(self.application_id)
        else:
            application_id = self.application_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "reviewer_id": reviewer_id,
                "reason": reason,
            }
        )
        if organization_id is not UNSET:
            field_dict["organization_id"] = organization_id
        if application_id is not UNSET:
            field_dict["application_id"] = application_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        reviewer_id = UUID(d.pop("reviewer_id"))

        reason = d.pop("reason")

        def _parse_organization_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                organization_id_type_0 = UUID(data)

                return organization_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        organization_id = _parse_organization_id(d.pop("organization_id", UNSET))

        def _parse_application_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                application_id_type_0 = UUID(data)

                return application_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        application_id = _parse_application_id(d.pop("application_id", UNSET))

        conflict_create = cls(
            reviewer_id=reviewer_id,
            reason=reason,
            organization_id=organization_id,
            application_id=application_id,
        )

        return conflict_create
