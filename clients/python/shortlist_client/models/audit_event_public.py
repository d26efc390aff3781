from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.audit_event_public_data import AuditEventPublicData


T = TypeVar("T", bound="AuditEventPublic")


@_attrs_define
class AuditEventPublic:
    """
    Attributes:
        seq (int):
        at (datetime.datetime):
        actor (str):
        action (str):
        object_type (str):
        object_id (str):
        data (AuditEventPublicData): What the event recorded. For an event about an application whose bid is still
            sealed (its round's submission deadline plus grace has not passed), only `{"sealed": true, "application_id":
            "<id>"}`: no document names, sizes or hashes, no receipt hashes, no summary, until the seal lifts. `hash` is
            always the stored event's, computed over its whole data, so the chain verifies.
        hash_ (str):
    """

    seq: int
    at: datetime.datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    data: AuditEventPublicData
    hash_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        seq = self.seq

        at = self.at.isoformat()

        actor = self.actor

        action = self.action

        object_type = self.object_type

        object_id = self.object_id

        data = self.data.to_dict()

        hash_ = self.hash_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "data": data,
                "hash": hash_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.audit_event_public_data import AuditEventPublicData  # noqa: PLC0415

        d = dict(src_dict)
        seq = d.pop("seq")

        at = datetime.datetime.fromisoformat(d.pop("at"))

        actor = d.pop("actor")

        action = d.pop("action")

        object_type = d.pop("object_type")

        object_id = d.pop("object_id")

        data = AuditEventPublicData.from_dict(d.pop("data"))

        hash_ = d.pop("hash")

        audit_event_public = cls(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            data=data,
            hash_=hash_,
        )

        audit_event_public.additional_properties = d
        return audit_event_public

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
