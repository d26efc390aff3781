from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.receipt_document import ReceiptDocument


T = TypeVar("T", bound="ReceiptPublic")


@_attrs_define
class ReceiptPublic:
    """
    Attributes:
        receipt_id (UUID):
        received_at (datetime.datetime):
        application_sha256 (str):
        documents (list[ReceiptDocument]):
        audit_hash (str):
    """

    receipt_id: UUID
    received_at: datetime.datetime
    application_sha256: str
    documents: list[ReceiptDocument]
    audit_hash: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        receipt_id = str(self.receipt_id)

        received_at = self.received_at.isoformat()

        application_sha256 = self.application_sha256

        documents = []
        for documents_item_data in self.documents:
            documents_item = documents_item_data.to_dict()
            documents.append(documents_item)

        audit_hash = self.audit_hash

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "receipt_id": receipt_id,
                "received_at": received_at,
                "application_sha256": application_sha256,
                "documents": documents,
                "audit_hash": audit_hash,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.receipt_document import ReceiptDocument  # noqa: PLC0415

        d = dict(src_dict)
        receipt_id = UUID(d.pop("receipt_id"))

        received_at = datetime.datetime.fromisoformat(d.pop("received_at"))

        application_sha256 = d.pop("application_sha256")

        documents = []
        _documents = d.pop("documents")
        for documents_item_data in _documents:
            documents_item = ReceiptDocument.from_dict(documents_item_data)

            documents.append(documents_item)

        audit_hash = d.pop("audit_hash")

        receipt_public = cls(
            receipt_id=receipt_id,
            received_at=received_at,
            application_sha256=application_sha256,
            documents=documents,
            audit_hash=audit_hash,
        )

        receipt_public.additional_properties = d
        return receipt_public

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
