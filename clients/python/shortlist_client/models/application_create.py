from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.application_member_in import ApplicationMemberIn


T = TypeVar("T", bound="ApplicationCreate")


@_attrs_define
class ApplicationCreate:
    """
    Attributes:
        title (str):
        lead_organization_id (UUID):
        summary (str | Unset):  Default: ''.
        members (list[ApplicationMemberIn] | Unset):
        keywords (list[str] | Unset):
    """

    title: str
    lead_organization_id: UUID
    summary: str | Unset = ""
    members: list[ApplicationMemberIn] | Unset = UNSET
    keywords: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        lead_organization_id = str(self.lead_organization_id)

        summary = self.summary

        members: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.members, Unset):
            members = []
            for members_item_data in self.members:
                members_item = members_item_data.to_dict()
                members.append(members_item)

        keywords: list[str] | Unset = UNSET
        if not isinstance(self.keywords, Unset):
            keywords = self.keywords

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "title": title,
                "lead_organization_id": lead_organization_id,
            }
        )
        if summary is not UNSET:
            field_dict["summary"] = summary
        if members is not UNSET:
            field_dict["members"] = members
        if keywords is not UNSET:
            field_dict["keywords"] = keywords

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.application_member_in import ApplicationMemberIn  # noqa: PLC0415

        d = dict(src_dict)
        title = d.pop("title")

        lead_organization_id = UUID(d.pop("lead_organization_id"))

        summary = d.pop("summary", UNSET)

        _members = d.pop("members", UNSET)
        members: list[ApplicationMemberIn] | Unset = UNSET
        if _members is not UNSET:
            members = []
            for members_item_data in _members:
                members_item = ApplicationMemberIn.from_dict(members_item_data)

                members.append(members_item)

        keywords = cast(list[str], d.pop("keywords", UNSET))

        application_create = cls(
            title=title,
            lead_organization_id=lead_organization_id,
            summary=summary,
            members=members,
            keywords=keywords,
        )

        return application_create
