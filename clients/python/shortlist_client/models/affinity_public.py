from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.affinity_source import AffinitySource

T = TypeVar("T", bound="AffinityPublic")


@_attrs_define
class AffinityPublic:
    """
    Attributes:
        application_id (UUID):
        reviewer_id (UUID):
        score (float):
        source (AffinitySource):
        evidence (list[str]):
    """

    application_id: UUID
    reviewer_id: UUID
    score: float
    source: AffinitySource
    evidence: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        application_id = str(self.application_id)

        reviewer_id = str(self.reviewer_id)

        score = self.score

        source = self.source.value

        evidence = self.evidence

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "application_id": application_id,
                "reviewer_id": reviewer_id,
                "score": score,
                "source": source,
                "evidence": evidence,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        application_id = UUID(d.pop("application_id"))

        reviewer_id = UUID(d.pop("reviewer_id"))

        score = d.pop("score")

        source = AffinitySource(d.pop("source"))

        evidence = cast(list[str], d.pop("evidence"))

        affinity_public = cls(
            application_id=application_id,
            reviewer_id=reviewer_id,
            score=score,
            source=source,
            evidence=evidence,
        )

        affinity_public.additional_properties = d
        return affinity_public

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
