from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.round_create_affinity import RoundCreateAffinity
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.criterion import Criterion
    from ..models.eligibility import Eligibility
    from ..models.gate import Gate
    from ..models.required_document import RequiredDocument
    from ..models.shortlist_rules import ShortlistRules


T = TypeVar("T", bound="RoundCreate")


@_attrs_define
class RoundCreate:
    """
    Attributes:
        name (str):
        opens_at (datetime.datetime):
        submission_deadline (datetime.datetime):
        review_deadline (datetime.datetime):
        grace_seconds (int | Unset):  Default: 0.
        criteria (list[Criterion] | Unset):
        gates (list[Gate] | Unset):
        required_documents (list[RequiredDocument] | Unset):
        reviewers_per_application (int | Unset):  Default: 1.
        shortlist (ShortlistRules | Unset):
        eligibility (Eligibility | Unset):
        blind (bool | Unset):  Default: False.
        affinity (RoundCreateAffinity | Unset): What automatic assignment maximizes: `text` (what applicants and
            reviewers wrote, TF-IDF), `keywords` (shared keywords) or `imported` (scores put by an admin) Default:
            RoundCreateAffinity.TEXT.
    """

    name: str
    opens_at: datetime.datetime
    submission_deadline: datetime.datetime
    review_deadline: datetime.datetime
    grace_seconds: int | Unset = 0
    criteria: list[Criterion] | Unset = UNSET
    gates: list[Gate] | Unset = UNSET
    required_documents: list[RequiredDocument] | Unset = UNSET
    reviewers_per_application: int | Unset = 1
    shortlist: ShortlistRules | Unset = UNSET
    eligibility: Eligibility | Unset = UNSET
    blind: bool | Unset = False
    affinity: RoundCreateAffinity | Unset = RoundCreateAffinity.TEXT

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        opens_at = self.opens_at.isoformat()

        submission_deadline = self.submission_deadline.isoformat()

        review_deadline = self.review_deadline.isoformat()

        grace_seconds = self.grace_seconds

        criteria: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.criteria, Unset):
            criteria = []
            for criteria_item_data in self.criteria:
                criteria_item = criteria_item_data.to_dict()
                criteria.append(criteria_item)

        gates: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.gates, Unset):
            gates = []
            for gates_item_data in self.gates:
                gates_item = gates_item_data.to_dict()
                gates.append(gates_item)

        required_documents: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.required_documents, Unset):
            required_documents = []
            for required_documents_item_data in self.required_documents:
                required_documents_item = required_documents_item_data.to_dict()
                required_documents.append(required_documents_item)

        reviewers_per_application = self.reviewers_per_application

        shortlist: dict[str, Any] | Unset = UNSET
        if not isinstance(self.shortlist, Unset):
            shortlist = self.shortlist.to_dict()

        eligibility: dict[str, Any] | Unset = UNSET
        if not isinstance(self.eligibility, Unset):
            eligibility = self.eligibility.to_dict()

        blind = self.blind

        affinity: str | Unset = UNSET
        if not isinstance(self.affinity, Unset):
            affinity = self.affinity.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "opens_at": opens_at,
                "submission_deadline": submission_deadline,
                "review_deadline": review_deadline,
            }
        )
        if grace_seconds is not UNSET:
            field_dict["grace_seconds"] = grace_seconds
        if criteria is not UNSET:
            field_dict["criteria"] = criteria
        if gates is not UNSET:
            field_dict["gates"] = gates
        if required_documents is not UNSET:
            field_dict["required_documents"] = required_documents
        if reviewers_per_application is not UNSET:
            field_dict["reviewers_per_application"] = reviewers_per_application
        if shortlist is not UNSET:
            field_dict["shortlist"] = shortlist
        if eligibility is not UNSET:
            field_dict["eligibility"] = eligibility
        if blind is not UNSET:
            field_dict["blind"] = blind
        if affinity is not UNSET:
            field_dict["affinity"] = affinity

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.criterion import Criterion  # noqa: PLC0415
        from ..models.eligibility import Eligibility  # noqa: PLC0415
        from ..models.gate import Gate  # noqa: PLC0415
        from ..models.required_document import RequiredDocument  # noqa: PLC0415
        from ..models.shortlist_rules import ShortlistRules  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        opens_at = datetime.datetime.fromisoformat(d.pop("opens_at"))

        submission_deadline = datetime.datetime.fromisoformat(d.pop("submission_deadline"))

        review_deadline = datetime.datetime.fromisoformat(d.pop("review_deadline"))

        grace_seconds = d.pop("grace_seconds", UNSET)

        _criteria = d.pop("criteria", UNSET)
        criteria: list[Criterion] | Unset = UNSET
        if _criteria is not UNSET:
            criteria = []
            for criteria_item_data in _criteria:
                criteria_item = Criterion.from_dict(criteria_item_data)

                criteria.append(criteria_item)

        _gates = d.pop("gates", UNSET)
        gates: list[Gate] | Unset = UNSET
        if _gates is not UNSET:
            gates = []
            for gates_item_data in _gates:
                gates_item = Gate.from_dict(gates_item_data)

                gates.append(gates_item)

        _required_documents = d.pop("required_documents", UNSET)
        required_documents: list[RequiredDocument] | Unset = UNSET
        if _required_documents is not UNSET:
            required_documents = []
            for required_documents_item_data in _required_documents:
                required_documents_item = RequiredDocument.from_dict(required_documents_item_data)

                required_documents.append(required_documents_item)

        reviewers_per_application = d.pop("reviewers_per_application", UNSET)

        _shortlist = d.pop("shortlist", UNSET)
        shortlist: ShortlistRules | Unset
        if isinstance(_shortlist, Unset):
            shortlist = UNSET
        else:
            shortlist = ShortlistRules.from_dict(_shortlist)

        _eligibility = d.pop("eligibility", UNSET)
        eligibility: Eligibility | Unset
        if isinstance(_eligibility, Unset):
            eligibility = UNSET
        else:
            eligibility = Eligibility.from_dict(_eligibility)

        blind = d.pop("blind", UNSET)

        _affinity = d.pop("affinity", UNSET)
        affinity: RoundCreateAffinity | Unset
        if isinstance(_affinity, Unset):
            affinity = UNSET
        else:
            affinity = RoundCreateAffinity(_affinity)

        round_create = cls(
            name=name,
            opens_at=opens_at,
            submission_deadline=submission_deadline,
            review_deadline=review_deadline,
            grace_seconds=grace_seconds,
            criteria=criteria,
            gates=gates,
            required_documents=required_documents,
            reviewers_per_application=reviewers_per_application,
            shortlist=shortlist,
            eligibility=eligibility,
            blind=blind,
            affinity=affinity,
        )

        return round_create
