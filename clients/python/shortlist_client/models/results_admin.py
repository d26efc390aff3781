from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.ranking_row_admin import RankingRowAdmin


T = TypeVar("T", bound="ResultsAdmin")


@_attrs_define
class ResultsAdmin:
    """A closed round's stored decision, whole (admin).

    Attributes:
        closed_at (datetime.datetime):
        inputs_sha256 (str):
        result_sha256 (str):
        cutoff_total (float | None): The last shortlisted total; null if none
        n_shortlisted (int):
        n_stable (int):
        missing_reviews (int):
        ranking (list[RankingRowAdmin]):
    """

    closed_at: datetime.datetime
    inputs_sha256: str
    result_sha256: str
    cutoff_total: float | None
    n_shortlisted: int
    n_stable: int
    missing_reviews: int
    ranking: list[RankingRowAdmin]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        closed_at = self.closed_at.isoformat()

        inputs_sha256 = self.inputs_sha256

        result_sha256 = self.result_sha256

        cutoff_total: float | None
        cutoff_total = self.cutoff_total

        n_shortlisted = self.n_shortlisted

        n_stable = self.n_stable

        missing_reviews = self.missing_reviews

        ranking = []
        for ranking_item_data in self.ranking:
            ranking_item = ranking_item_data.to_dict()
            ranking.append(ranking_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "closed_at": closed_at,
                "inputs_sha256": inputs_sha256,
                "result_sha256": result_sha256,
                "cutoff_total": cutoff_total,
                "n_shortlisted": n_shortlisted,
                "n_stable": n_stable,
                "missing_reviews": missing_reviews,
                "ranking": ranking,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ranking_row_admin import RankingRowAdmin  # noqa: PLC0415

        d = dict(src_dict)
        closed_at = datetime.datetime.fromisoformat(d.pop("closed_at"))

        inputs_sha256 = d.pop("inputs_sha256")

        result_sha256 = d.pop("result_sha256")

        def _parse_cutoff_total(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        cutoff_total = _parse_cutoff_total(d.pop("cutoff_total"))

        n_shortlisted = d.pop("n_shortlisted")

        n_stable = d.pop("n_stable")

        missing_reviews = d.pop("missing_reviews")

        ranking = []
        _ranking = d.pop("ranking")
        for ranking_item_data in _ranking:
            ranking_item = RankingRowAdmin.from_dict(ranking_item_data)

            ranking.append(ranking_item)

        results_admin = cls(
            closed_at=closed_at,
            inputs_sha256=inputs_sha256,
            result_sha256=result_sha256,
            cutoff_total=cutoff_total,
            n_shortlisted=n_shortlisted,
            n_stable=n_stable,
            missing_reviews=missing_reviews,
            ranking=ranking,
        )

        results_admin.additional_properties = d
        return results_admin

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
