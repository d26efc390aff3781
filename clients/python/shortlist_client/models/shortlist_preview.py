from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.ranking_row_admin import RankingRowAdmin


T = TypeVar("T", bound="ShortlistPreview")


@_attrs_define
class ShortlistPreview:
    """What closing the round now would decide; stored nowhere, so never closed (admin).

    Attributes:
        inputs_sha256 (str):
        result_sha256 (str):
        cutoff_total (float | None): The last shortlisted total; null if none
        n_shortlisted (int):
        n_stable (int):
        missing_reviews (int):
        ranking (list[RankingRowAdmin]):
        closed_at (None | Unset):
    """

    inputs_sha256: str
    result_sha256: str
    cutoff_total: float | None
    n_shortlisted: int
    n_stable: int
    missing_reviews: int
    ranking: list[RankingRowAdmin]
    closed_at: None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
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

        closed_at = self.closed_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "inputs_sha256": inputs_sha256,
                "result_sha256": result_sha256,
                "cutoff_total": cutoff_total,
                "n_shortlisted": n_shortlisted,
                "n_stable": n_stable,
                "missing_reviews": missing_reviews,
                "ranking": ranking,
            }
        )
        if closed_at is not UNSET:
            field_dict["closed_at"] = closed_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ranking_row_admin import RankingRowAdmin  # noqa: PLC0415

        d = dict(src_dict)
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

        closed_at = d.pop("closed_at", UNSET)

        shortlist_preview = cls(
            inputs_sha256=inputs_sha256,
            result_sha256=result_sha256,
            cutoff_total=cutoff_total,
            n_shortlisted=n_shortlisted,
            n_stable=n_stable,
            missing_reviews=missing_reviews,
            ranking=ranking,
            closed_at=closed_at,
        )

        shortlist_preview.additional_properties = d
        return shortlist_preview

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
