from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.document_status import DocumentStatus

T = TypeVar("T", bound="DocumentPublic")


@_attrs_define
class DocumentPublic:
    """A stored document version as the people who may read the application see it (who
    uploaded it is left out: it would name an organization in a blind round).

        Attributes:
            id (UUID):
            application_id (UUID):
            kind (str):
            filename (str): The uploaded file's name, sanitized
            content_type (str): The type sniffed from the content
            size (int):
            sha256 (str):
            status (DocumentStatus):
            version (int): 1 for the first upload of a kind, then one more each time
            current (bool): Whether this is the version of its kind that counts
            created_at (datetime.datetime):
    """

    id: UUID
    application_id: UUID
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    status: DocumentStatus
    version: int
    current: bool
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        application_id = str(self.application_id)

        kind = self.kind

        filename = self.filename

        content_type = self.content_type

        size = self.size

        sha256 = self.sha256

        status = self.status.value

        version = self.version

        current = self.current

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "application_id": application_id,
                "kind": kind,
                "filename": filename,
                "content_type": content_type,
                "size": size,
                "sha256": sha256,
                "status": status,
                "version": version,
                "current": current,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        application_id = UUID(d.pop("application_id"))

        kind = d.pop("kind")

        filename = d.pop("filename")

        content_type = d.pop("content_type")

        size = d.pop("size")

        sha256 = d.pop("sha256")

        status = DocumentStatus(d.pop("status"))

        version = d.pop("version")

        current = d.pop("current")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        document_public = cls(
            id=id,
            application_id=application_id,
            kind=kind,
            filename=filename,
            content_type=content_type,
            size=size,
            sha256=sha256,
            status=status,
            version=version,
            current=current,
            created_at=created_at,
        )

        document_public.additional_properties = d
        return document_public

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
