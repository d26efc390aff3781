from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AssignmentCounts")


@_attrs_define
class AssignmentCounts:
    """The round's assignments by where they stand; the five parts add up to ``total``.

    Attributes:
        total (int):
        submitted (int): Active, with a submitted review
        in_progress (int): Active, with a draft review
        not_started (int): Active, with no review yet
        recused (int):
        conflicted (int):
    """

    total: int
    submitted: int
    in_progress: int
    not_started: int
    recused: int
    conflicted: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        total = self.total

        submitted = self.submitted

        in_progress = self.in_progress

        not_started = self.not_started

        recused = self.recused

        conflicted = self.conflicted

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "total": total,
                "submitted": submitted,
                "in_progress": in_progress,
                "not_started": not_started,
                "recused": recused,
                "conflicted": conflicted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        total = d.pop("total")

        submitted = d.pop("submitted")

        in_progress = d.pop("in_progress")

        not_started = d.pop("not_started")

        recused = d.pop("recused")

        conflicted = d.pop("conflicted")

        assignment_counts = cls(
            total=total,
            submitted=submitted,
            in_progress=in_progress,
            not_started=not_started,
            recused=recused,
            conflicted=conflicted,
        )

        assignment_counts.additional_properties = d
        return assignment_counts

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
