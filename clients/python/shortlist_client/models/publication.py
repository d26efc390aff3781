from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="Publication")


@_attrs_define
class Publication:
    """One of a reviewer's publications, as text affinity reads it.

    Attributes:
        title (str):
        abstract (str | Unset):  Default: ''.
        year (int | None | Unset):
    """

    title: str
    abstract: str | Unset = ""
    year: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        abstract = self.abstract

        year: int | None | Unset
        if isinstance(self.year, Unset):
            year = UNSET
        else:
            year = self.year

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "title": title,
            }
        )
        if abstract is not UNSET:
            field_dict["abstract"] = abstract
        if year is not UNSET:
            field_dict["year"] = year

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        title = d.pop("title")

        abstract = d.pop("abstract", UNSET)

        def _parse_year(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        year = _parse_year(d.pop("year", UNSET))

        publication = cls(
            title=title,
            abstract=abstract,
            year=year,
        )

        return publication
