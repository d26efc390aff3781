from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.publication import Publication


T = TypeVar("T", bound="ReviewerProfileIn")


@_attrs_define
class ReviewerProfileIn:
    """
    Attributes:
        affiliations (list[UUID] | Unset):
        email_domains (list[str] | Unset):
        expertise (list[str] | Unset):
        statement (str | Unset):  Default: ''.
        publications (list[Publication] | Unset):
    """

    affiliations: list[UUID] | Unset = UNSET
    email_domains: list[str] | Unset = UNSET
    expertise: list[str] | Unset = UNSET
    statement: str | Unset = ""
    publications: list[Publication] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        affiliations: list[str] | Unset = UNSET
        if not isinstance(self.affiliations, Unset):
            affiliations = []
            for affiliations_item_data in self.affiliations:
                affiliations_item = str(affiliations_item_data)
                affiliations.append(affiliations_item)

        email_domains: list[str] | Unset = UNSET
        if not isinstance(self.email_domains, Unset):
            email_domains = self.email_domains

        expertise: list[str] | Unset = UNSET
        if not isinstance(self.expertise, Unset):
            expertise = self.expertise

        statement = self.statement

        publications: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.publications, Unset):
            publications = []
            for publications_item_data in self.publications:
                publications_item = publications_item_data.to_dict()
                publications.append(publications_item)

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if affiliations is not UNSET:
            field_dict["affiliations"] = affiliations
        if email_domains is not UNSET:
            field_dict["email_domains"] = email_domains
        if expertise is not UNSET:
            field_dict["expertise"] = expertise
        if statement is not UNSET:
            field_dict["statement"] = statement
        if publications is not UNSET:
            field_dict["publications"] = publications

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.publication import Publication  # noqa: PLC0415

        d = dict(src_dict)
        _affiliations = d.pop("affiliations", UNSET)
        affiliations: list[UUID] | Unset = UNSET
        if _affiliations is not UNSET:
            affiliations = []
            for affiliations_item_data in _affiliations:
                affiliations_item = UUID(affiliations_item_data)

                affiliations.append(affiliations_item)

        email_domains = cast(list[str], d.pop("email_domains", UNSET))

        expertise = cast(list[str], d.pop("expertise", UNSET))

        statement = d.pop("statement", UNSET)

        _publications = d.pop("publications", UNSET)
        publications: list[Publication] | Unset = UNSET
        if _publications is not UNSET:
            publications = []
            for publications_item_data in _publications:
                publications_item = Publication.from_dict(publications_item_data)

                publications.append(publications_item)

        reviewer_profile_in = cls(
            affiliations=affiliations,
            email_domains=email_domains,
            expertise=expertise,
            statement=statement,
            publications=publications,
        )

        return reviewer_profile_in
