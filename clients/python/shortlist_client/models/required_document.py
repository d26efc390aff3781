from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="RequiredDocument")


@_attrs_define
class RequiredDocument:
    """
    Attributes:
        kind (str):
        title (str):
        content_types (list[str]):
        max_bytes (int):
    """

    kind: str
    title: str
    content_types: list[str]
    max_bytes: int

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind

        title = self.title

        content_types = self.content_types

        max_bytes = self.max_bytes

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
                "title": title,
                "content_types": content_types,
                "max_bytes": max_bytes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        kind = d.pop("kind")

        title = d.pop("title")

        content_types = cast(list[str], d.pop("content_types"))

        max_bytes = d.pop("max_bytes")

        required_document = cls(
            kind=kind,
            title=title,
            content_types=content_types,
            max_bytes=max_bytes,
        )

        return required_document
