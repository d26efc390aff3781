from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="AssignmentCreate")


@_attrs_define
class AssignmentCreate:
    """
    Attributes:
        application_id (UUID):
        reviewer_id (UUID):
    """

    application_id: UUID
    reviewer_id: UUID

    def to_dict(self) -> dict[str, Any]:
        application_id = str(self.application_id)

        reviewer_id = str(self.reviewer_id)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "application_id": application_id,
                "reviewer_id": reviewer_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        application_id = UUID(d.pop("application_id"))

        reviewer_id = UUID(d.pop("reviewer_id"))

        assignment_create = cls(
            application_id=application_id,
            reviewer_id=reviewer_id,
        )

        return assignment_create
