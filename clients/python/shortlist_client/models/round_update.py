from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.round_update_affinity_type_0 import RoundUpdateAffinityType0
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.criterion import Criterion
    from ..models.eligibility import Eligibility
    from ..models.gate import Gate
    from ..models.required_document import RequiredDocument
    from ..models.shortlist_rules import ShortlistRules


T = TypeVar("T", bound="RoundUpdate")


@_attrs_define
class RoundUpdate:
    """A partial round: each top-level field given replaces the stored one (objects and lists
    whole). In ``draft`` anything may change; once open, only later deadlines.

        Attributes:
            name (None | str | Unset):
            opens_at (datetime.datetime | None | Unset):
            submission_deadline (datetime.datetime | None | Unset):
            grace_seconds (int | None | Unset):
            review_deadline (datetime.datetime | None | Unset):
            criteria (list[Criterion] | None | Unset):
            gates (list[Gate] | None | Unset):
            required_documents (list[RequiredDocument] | None | Unset):
            reviewers_per_application (int | None | Unset):
            shortlist (None | ShortlistRules | Unset):
            eligibility (Eligibility | None | Unset):
            blind (bool | None | Unset):
            affinity (None | RoundUpdateAffinityType0 | Unset):
    """

    name: None | str | Unset = UNSET
    opens_at: datetime.datetime | None | Unset = UNSET
    submission_deadline: datetime.datetime | None | Unset = UNSET
    grace_seconds: int | None | Unset = UNSET
    review_deadline: datetime.datetime | None | Unset = UNSET
    criteria: list[Criterion] | None | Unset = UNSET
    gates: list[Gate] | None | Unset = UNSET
    required_documents: list[RequiredDocument] | None | Unset = UNSET
    reviewers_per_application: int | None | Unset = UNSET
    shortlist: None | ShortlistRules | Unset = UNSET
    eligibility: Eligibility | None | Unset = UNSET
    blind: bool | None | Unset = UNSET
    affinity: None | RoundUpdateAffinityType0 | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.eligibility import Eligibility  # noqa: PLC0415
        from ..models.shortlist_rules import ShortlistRules  # noqa: PLC0415

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        opens_at: None | str | Unset
        if isinstance(self.opens_at, Unset):
            opens_at = UNSET
        elif isinstance(self.opens_at, datetime.datetime):
            opens_at = self.opens_at.isoformat()
        else:
            opens_at = self.opens_at

        submission_deadline: None | str | Unset
        if isinstance(self.submission_deadline, Unset):
            submission_deadline = UNSET
        elif isinstance(self.submission_deadline, datetime.datetime):
            submission_deadline = self.submission_deadline.isoformat()
        else:
            submission_deadline = self.submission_deadline

        grace_seconds: int | None | Unset
        if isinstance(self.grace_seconds, Unset):
            grace_seconds = UNSET
        else:
            grace_seconds = self.grace_seconds

        review_deadline: None | str | Unset
        if isinstance(self.review_deadline, Unset):
            review_deadline = UNSET
        elif isinstance(self.review_deadline, datetime.datetime):
            review_deadline = self.review_deadline.isoformat()
        else:
            review_deadline = self.review_deadline

        criteria: list[dict[str, Any]] | None | Unset
        if isinstance(self.criteria, Unset):
            criteria = UNSET
        elif isinstance(self.criteria, list):
            criteria = []
            for criteria_type_0_item_data in self.criteria:
                criteria_type_0_item = criteria_type_0_item_data.to_dict()
                criteria.append(criteria_type_0_item)

        else:
            criteria = self.criteria

        gates: list[dict[str, Any]] | None | Unset
        if isinstance(self.gates, Unset):
            gates = UNSET
        elif isinstance(self.gates, list):
            gates = []
            for gates_type_0_item_data in self.gates:
                gates_type_0_item = gates_type_0_item_data.to_dict()
                gates.append(gates_type_0_item)

        else:
            gates = self.gates

        required_documents: list[dict[str, Any]] | None | Unset
        if isinstance(self.required_documents, Unset):
            required_documents = UNSET
        elif isinstance(self.required_documents, list):
            required_documents = []
            for required_documents_type_0_item_data in self.required_documents:
                required_documents_type_0_item = required_documents_type_0_item_data.to_dict()
                required_documents.append(required_documents_type_0_item)

        else:
            required_documents = self.required_documents

        reviewers_per_application: int | None | Unset
        if isinstance(self.reviewers_per_application, Unset):
            reviewers_per_application = UNSET
        else:
            reviewers_per_application = self.reviewers_per_application

        shortlist: dict[str, Any] | None | Unset
        if isinstance(self.shortlist, Unset):
            shortlist = UNSET
        elif isinstance(self.shortlist, ShortlistRules):
            shortlist = self.shortlist.to_dict()
        else:
            shortlist = self.shortlist

        eligibility: dict[str, Any] | None | Unset
        if isinstance(self.eligibility, Unset):
            eligibility = UNSET
        elif isinstance(self.eligibility, Eligibility):
            eligibility = self.eligibility.to_dict()
        else:
            eligibility = self.eligibility

        blind: bool | None | Unset
        if isinstance(self.blind, Unset):
            blind = UNSET
        else:
            blind = self.blind

        affinity: None | str | Unset
        if isinstance(self.affinity, Unset):
            affinity = UNSET
        elif isinstance(self.affinity, RoundUpdateAffinityType0):
            affinity = self.affinity.value
        else:
            affinity = self.affinity

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if opens_at is not UNSET:
            field_dict["opens_at"] = opens_at
        if submission_deadline is not UNSET:
            field_dict["submission_deadline"] = submission_deadline
        if grace_seconds is not UNSET:
            field_dict["grace_seconds"] = grace_seconds
        if review_deadline is not UNSET:
            field_dict["review_deadline"] = review_deadline
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

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_opens_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                opens_at_type_0 = datetime.datetime.fromisoformat(data)

                return opens_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        opens_at = _parse_opens_at(d.pop("opens_at", UNSET))

        def _parse_submission_deadline(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                submission_deadline_type_0 = datetime.datetime.fromisoformat(data)

                return submission_deadline_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        submission_deadline = _parse_submission_deadline(d.pop("submission_deadline", UNSET))

        def _parse_grace_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        grace_seconds = _parse_grace_seconds(d.pop("grace_seconds", UNSET))

        def _parse_review_deadline(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                review_deadline_type_0 = datetime.datetime.fromisoformat(data)

                return review_deadline_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        review_deadline = _parse_review_deadline(d.pop("review_deadline", UNSET))

        def _parse_criteria(data: object) -> list[Criterion] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                criteria_type_0 = []
                _criteria_type_0 = data
                for criteria_type_0_item_data in _criteria_type_0:
                    criteria_type_0_item = Criterion.from_dict(criteria_type_0_item_data)

                    criteria_type_0.append(criteria_type_0_item)

                return criteria_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Criterion] | None | Unset, data)

        criteria = _parse_criteria(d.pop("criteria", UNSET))

        def _parse_gates(data: object) -> list[Gate] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                gates_type_0 = []
                _gates_type_0 = data
                for gates_type_0_item_data in _gates_type_0:
                    gates_type_0_item = Gate.from_dict(gates_type_0_item_data)

                    gates_type_0.append(gates_type_0_item)

                return gates_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Gate] | None | Unset, data)

        gates = _parse_gates(d.pop("gates", UNSET))

        def _parse_required_documents(data: object) -> list[RequiredDocument] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                required_documents_type_0 = []
                _required_documents_type_0 = data
                for required_documents_type_0_item_data in _required_documents_type_0:
                    required_documents_type_0_item = RequiredDocument.from_dict(required_documents_type_0_item_data)

                    required_documents_type_0.append(required_documents_type_0_item)

                return required_documents_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[RequiredDocument] | None | Unset, data)

        required_documents = _parse_required_documents(d.pop("required_documents", UNSET))

        def _parse_reviewers_per_application(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        reviewers_per_application = _parse_reviewers_per_application(d.pop("reviewers_per_application", UNSET))

        def _parse_shortlist(data: object) -> None | ShortlistRules | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                shortlist_type_0 = ShortlistRules.from_dict(data)

                return shortlist_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ShortlistRules | Unset, data)

        shortlist = _parse_shortlist(d.pop("shortlist", UNSET))

        def _parse_eligibility(data: object) -> Eligibility | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                eligibility_type_0 = Eligibility.from_dict(data)

                return eligibility_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Eligibility | None | Unset, data)

        eligibility = _parse_eligibility(d.pop("eligibility", UNSET))

        def _parse_blind(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        blind = _parse_blind(d.pop("blind", UNSET))

        def _parse_affinity(data: object) -> None | RoundUpdateAffinityType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                affinity_type_0 = RoundUpdateAffinityType0(data)

                return affinity_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RoundUpdateAffinityType0 | Unset, data)

        affinity = _parse_affinity(d.pop("affinity", UNSET))

        round_update = cls(
            name=name,
            opens_at=opens_at,
            submission_deadline=submission_deadline,
            grace_seconds=grace_seconds,
            review_deadline=review_deadline,
            criteria=criteria,
            gates=gates,
            required_documents=required_documents,
            reviewers_per_application=reviewers_per_application,
            shortlist=shortlist,
            eligibility=eligibility,
            blind=blind,
            affinity=affinity,
        )

        return round_update
