from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.assignment_status import AssignmentStatus

if TYPE_CHECKING:
    from ..models.application_public import ApplicationPublic
    from ..models.application_sealed import ApplicationSealed


T = TypeVar("T", bound="MyAssignmentPublic")


@_attrs_define
class MyAssignmentPublic:
    """A reviewer's assignment with its application, once the round is in review (before
    that, or once the assignment has ended, ``application`` is null).

        Attributes:
            id (UUID):
            round_id (UUID):
            application_id (UUID):
            reviewer_id (UUID):
            affinity (float):
            status (AssignmentStatus):
            application (ApplicationPublic | ApplicationSealed | None):
    """

    id: UUID
    round_id: UUID
    application_id: UUID
    reviewer_id: UUID
    affinity: float
    status: AssignmentStatus
    application: ApplicationPublic | ApplicationSealed | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.application_public import ApplicationPublic  # noqa: PLC0415
        from ..models.application_sealed import ApplicationSealed  # noqa: PLC0415

        id = str(self.id)

        round_id = str(self.round_id)

        application_id = str(self.application_id)

        reviewer_id = str(self.reviewer_id)

        affinity = self.affinity

        status = self.status.value

        application: dict[str, Any] | None
        if isinstance(self.application, ApplicationPublic):
            application = self.application.to_dict()
        elif isinstance(self.application, ApplicationSealed):
            application = self.application.to_dict()
        else:
            application = self.application

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "round_id": round_id,
                "application_id": application_id,
                "reviewer_id": reviewer_id,
                "affinity": affinity,
                "status": status,
                "application": application,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.application_public import ApplicationPublic  # noqa: PLC0415
        from ..models.application_sealed import ApplicationSealed  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        round_id = UUID(d.pop("round_id"))

        application_id = UUID(d.pop("application_id"))

        reviewer_id = UUID(d.pop("reviewer_id"))

        affinity = d.pop("affinity")

        status = AssignmentStatus(d.pop("status"))

        def _parse_application(data: object) -> ApplicationPublic | ApplicationSealed | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                application_type_0 = ApplicationPublic.from_dict(data)

                return application_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                application_type_1 = ApplicationSealed.from_dict(data)

                return application_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ApplicationPublic | ApplicationSealed | None, data)

        application = _parse_application(d.pop("application"))

        my_assignment_public = cls(
            id=id,
            round_id=round_id,
            application_id=application_id,
            reviewer_id=reviewer_id,
            affinity=affinity,
            status=status,
            application=application,
        )

        my_assignment_public.additional_properties = d
        return my_assignment_public

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
