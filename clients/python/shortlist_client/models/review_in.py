from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.review_in_gates import ReviewInGates
    from ..models.review_in_scores import ReviewInScores


T = TypeVar("T", bound="ReviewIn")


@_attrs_define
class ReviewIn:
    """A review draft; numbers are kept exactly as sent (as decimal strings).

    Attributes:
        scores (ReviewInScores | Unset):
        gates (ReviewInGates | Unset):
        comment_to_applicant (str | Unset):  Default: ''.
        confidential_comment (str | Unset):  Default: ''.
    """

    scores: ReviewInScores | Unset = UNSET
    gates: ReviewInGates | Unset = UNSET
    comment_to_applicant: str | Unset = ""
    confidential_comment: str | Unset = ""

    def to_dict(self) -> dict[str, Any]:
        scores: dict[str, Any] | Unset = UNSET
        if not isinstance(self.scores, Unset):
            scores = self.scores.to_dict()

        gates: dict[str, Any] | Unset = UNSET
        if not isinstance(self.gates, Unset):
            gates = self.gates.to_dict()

        comment_to_applicant = self.comment_to_applicant

        confidential_comment = self.confidential_comment

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if scores is not UNSET:
            field_dict["scores"] = scores
        if gates is not UNSET:
            field_dict["gates"] = gates
        if comment_to_applicant is not UNSET:
            field_dict["comment_to_applicant"] = comment_to_applicant
        if confidential_comment is not UNSET:
            field_dict["confidential_comment"] = confidential_comment

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.review_in_gates import ReviewInGates  # noqa: PLC0415
        from ..models.review_in_scores import ReviewInScores  # noqa: PLC0415

        d = dict(src_dict)
        _scores = d.pop("scores", UNSET)
        scores: ReviewInScores | Unset
        if isinstance(_scores, Unset):
            scores = UNSET
        else:
            scores = ReviewInScores.from_dict(_scores)

        _gates = d.pop("gates", UNSET)
        gates: ReviewInGates | Unset
        if isinstance(_gates, Unset):
            gates = UNSET
        else:
            gates = ReviewInGates.from_dict(_gates)

        comment_to_applicant = d.pop("comment_to_applicant", UNSET)

        confidential_comment = d.pop("confidential_comment", UNSET)

        review_in = cls(
            scores=scores,
            gates=gates,
            comment_to_applicant=comment_to_applicant,
            confidential_comment=confidential_comment,
        )

        return review_in
