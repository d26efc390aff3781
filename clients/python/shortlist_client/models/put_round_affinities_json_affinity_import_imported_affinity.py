from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="PutRoundAffinitiesJsonAffinityImportImportedAffinity")


@_attrs_define
class PutRoundAffinitiesJsonAffinityImportImportedAffinity:
    """
    Attributes:
        application_id (UUID):
        reviewer_id (UUID):
        score (float):
    """

    application_id: UUID
    reviewer_id: UUID
    score: float

    def to_dict(self) -> dict[str, Any]:
        application_id = str(self.application_id)

        reviewer_id = str(self.reviewer_id)

        score = self.score

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "application_id": application_id,
                "reviewer_id": reviewer_id,
                "score": score,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        application_id = UUID(d.pop("application_id"))

        reviewer_id = UUID(d.pop("reviewer_id"))

        score = d.pop("score")

        put_round_affinities_json_affinity_import_imported_affinity = cls(
            application_id=application_id,
            reviewer_id=reviewer_id,
            score=score,
        )

        return put_round_affinities_json_affinity_import_imported_affinity
