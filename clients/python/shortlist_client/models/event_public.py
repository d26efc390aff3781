from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.event_type import EventType

if TYPE_CHECKING:
    from ..models.event_public_data import EventPublicData


T = TypeVar("T", bound="EventPublic")


@_attrs_define
class EventPublic:
    """
    Attributes:
        id (UUID):
        type_ (EventType):
        occurred_at (datetime.datetime):
        round_id (UUID):
        application_id (None | UUID):
        data (EventPublicData): What happened. For an event about an application whose bid is still sealed, to anyone
            but its own members only `{"sealed": true, "application_id": "<id>"}`.
    """

    id: UUID
    type_: EventType
    occurred_at: datetime.datetime
    round_id: UUID
    application_id: None | UUID
    data: EventPublicData
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        type_ = self.type_.value

        occurred_at = self.occurred_at.isoformat()

        round_id = str(self.round_id)

        application_id: None | str
        if isinstance(self.application_id, UUID):
            application_id = str(self.application_id)
        else:
            application_id = self.application_id

        data = self.data.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "type": type_,
                "occurred_at": occurred_at,
                "round_id": round_id,
                "application_id": application_id,
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_public_data import EventPublicData  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        type_ = EventType(d.pop("type"))

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))

        round_id = UUID(d.pop("round_id"))

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

        data = EventPublicData.from_dict(d.pop("data"))

        event_public = cls(
            id=id,
            type_=type_,
            occurred_at=occurred_at,
            round_id=round_id,
            application_id=application_id,
            data=data,
        )

        event_public.additional_properties = d
        return event_public

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
