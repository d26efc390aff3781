from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ApplicationProgress")


@_attrs_define
class ApplicationProgress:
    """
    Attributes:
        application_id (UUID):
        title (str):
        reviews_needed (int): The round's reviewers_per_application
        reviews_submitted (int): Submitted reviews of active assignments
    """

    application_id: UUID
    title: str
    reviews_needed: int
    reviews_submitted: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        application_id = str(self.application_id)

        title = self.title

        reviews_needed = self.reviews_needed

        reviews_submitted = self.reviews_submitted

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "application_id": application_id,
                "title": title,
                "reviews_needed": reviews_needed,
                "reviews_submitted": reviews_submitted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        application_id = UUID(d.pop("application_id"))

        title = d.pop("title")

        reviews_needed = d.pop("reviews_needed")

        reviews_submitted = d.pop("reviews_submitted")

        application_progress = cls(
            application_id=application_id,
            title=title,
            reviews_needed=reviews_needed,
            reviews_submitted=reviews_submitted,
        )

        application_progress.additional_properties = d
        return application_progress

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
