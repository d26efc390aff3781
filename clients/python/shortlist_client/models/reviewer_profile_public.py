from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.publication import Publication


T = TypeVar("T", bound="ReviewerProfilePublic")


@_attrs_define
class ReviewerProfilePublic:
    """
    Attributes:
        user_id (UUID):
        affiliations (list[UUID]):
        email_domains (list[str]):
        expertise (list[str]):
        statement (str):
        publications (list[Publication]):
        version (int):
        updated_at (datetime.datetime):
    """

    user_id: UUID
    affiliations: list[UUID]
    email_domains: list[str]
    expertise: list[str]
    statement: str
    publications: list[Publication]
    version: int
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        user_id = str(self.user_id)

        affiliations = []
        for affiliations_item_data in self.affiliations:
            affiliations_item = str(affiliations_item_data)
            affiliations.append(affiliations_item)

        email_domains = self.email_domains

        expertise = self.expertise

        statement = self.statement

        publications = []
        for publications_item_data in self.publications:
            publications_item = publications_item_data.to_dict()
            publications.append(publications_item)

        version = self.version

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "user_id": user_id,
                "affiliations": affiliations,
                "email_domains": email_domains,
                "expertise": expertise,
                "statement": statement,
                "publications": publications,
                "version": version,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.publication import Publication  # noqa: PLC0415

        d = dict(src_dict)
        user_id = UUID(d.pop("user_id"))

        affiliations = []
        _affiliations = d.pop("affiliations")
        for affiliations_item_data in _affiliations:
            affiliations_item = UUID(affiliations_item_data)

            affiliations.append(affiliations_item)

        email_domains = cast(list[str], d.pop("email_domains"))

        expertise = cast(list[str], d.pop("expertise"))

        statement = d.pop("statement")

        publications = []
        _publications = d.pop("publications")
        for publications_item_data in _publications:
            publications_item = Publication.from_dict(publications_item_data)

            publications.append(publications_item)

        version = d.pop("version")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        reviewer_profile_public = cls(
            user_id=user_id,
            affiliations=affiliations,
            email_domains=email_domains,
            expertise=expertise,
            statement=statement,
            publications=publications,
            version=version,
            updated_at=updated_at,
        )

        reviewer_profile_public.additional_properties = d
        return reviewer_profile_public

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
