from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.ranking_row_admin_reason import RankingRowAdminReason

if TYPE_CHECKING:
    from ..models.ranking_row_admin_criteria import RankingRowAdminCriteria


T = TypeVar("T", bound="RankingRowAdmin")


@_attrs_define
class RankingRowAdmin:
    """
    Attributes:
        application_id (UUID):
        rank (int | None): Null for a row failing a gate, a threshold or min_total
        total (float | None):
        total_exact (None | str): The total as the exact decimal the hash covers
        criteria (RankingRowAdminCriteria): Each criterion's aggregate, by key
        n_reviews (int):
        gates_passed (bool):
        shortlisted (bool):
        reason (RankingRowAdminReason):
        margin (float | None): Shortlisted: the distance to the first ranked row below the cut-off; below it: the
            distance to the last shortlisted row; null for unranked rows
        stable (bool): The outcome is the same with any one reviewer left out
    """

    application_id: UUID
    rank: int | None
    total: float | None
    total_exact: None | str
    criteria: RankingRowAdminCriteria
    n_reviews: int
    gates_passed: bool
    shortlisted: bool
    reason: RankingRowAdminReason
    margin: float | None
    stable: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        application_id = str(self.application_id)

        rank: int | None
        rank = self.rank

        total: float | None
        total = self.total

        total_exact: None | str
        total_exact = self.total_exact

        criteria = self.criteria.to_dict()

        n_reviews = self.n_reviews

        gates_passed = self.gates_passed

        shortlisted = self.shortlisted

        reason = self.reason.value

        margin: float | None
        margin = self.margin

        stable = self.stable

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "application_id": application_id,
                "rank": rank,
                "total": total,
                "total_exact": total_exact,
                "criteria": criteria,
                "n_reviews": n_reviews,
                "gates_passed": gates_passed,
                "shortlisted": shortlisted,
                "reason": reason,
                "margin": margin,
                "stable": stable,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ranking_row_admin_criteria import RankingRowAdminCriteria  # noqa: PLC0415

        d = dict(src_dict)
        application_id = UUID(d.pop("application_id"))

        def _parse_rank(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        rank = _parse_rank(d.pop("rank"))

        def _parse_total(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        total = _parse_total(d.pop("total"))

        def _parse_total_exact(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        total_exact = _parse_total_exact(d.pop("total_exact"))

        criteria = RankingRowAdminCriteria.from_dict(d.pop("criteria"))

        n_reviews = d.pop("n_reviews")

        gates_passed = d.pop("gates_passed")

        shortlisted = d.pop("shortlisted")

        reason = RankingRowAdminReason(d.pop("reason"))

        def _parse_margin(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        margin = _parse_margin(d.pop("margin"))

        stable = d.pop("stable")

        ranking_row_admin = cls(
            application_id=application_id,
            rank=rank,
            total=total,
            total_exact=total_exact,
            criteria=criteria,
            n_reviews=n_reviews,
            gates_passed=gates_passed,
            shortlisted=shortlisted,
            reason=reason,
            margin=margin,
            stable=stable,
        )

        ranking_row_admin.additional_properties = d
        return ranking_row_admin

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
