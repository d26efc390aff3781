from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.ranking_row_applicant import RankingRowApplicant


T = TypeVar("T", bound="ResultsApplicant")


@_attrs_define
class ResultsApplicant:
    """A published round's rows of the caller's own applications, with feedback (applicant).

    Attributes:
        closed_at (datetime.datetime):
        published_at (datetime.datetime):
        ranking (list[RankingRowApplicant]):
    """

    closed_at: datetime.datetime
    published_at: datetime.datetime
    ranking: list[RankingRowApplicant]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        closed_at = self.closed_at.isoformat()

        published_at = self.published_at.isoformat()

        ranking = []
        for ranking_item_data in self.ranking:
            ranking_item = ranking_item_data.to_dict()
            ranking.append(ranking_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "closed_at": closed_at,
                "published_at": published_at,
                "ranking": ranking,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ranking_row_applicant import RankingRowApplicant  # noqa: PLC0415

        d = dict(src_dict)
        closed_at = datetime.datetime.fromisoformat(d.pop("closed_at"))

        published_at = datetime.datetime.fromisoformat(d.pop("published_at"))

        ranking = []
        _ranking = d.pop("ranking")
        for ranking_item_data in _ranking:
            ranking_item = RankingRowApplicant.from_dict(ranking_item_data)

            ranking.append(ranking_item)

        results_applicant = cls(
            closed_at=closed_at,
            published_at=published_at,
            ranking=ranking,
        )

        results_applicant.additional_properties = d
        return results_applicant

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
