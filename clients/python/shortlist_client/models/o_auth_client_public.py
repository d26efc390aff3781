from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="OAuthClientPublic")


@_attrs_define
class OAuthClientPublic:
    """A client as its owner (or an admin) sees it: never its secret.

    Attributes:
        client_id (str):
        name (str):
        user_id (UUID):
        scopes (list[str]):
        redirect_uris (list[str]):
        grant_types (list[str]):
        public (bool):
        created_at (datetime.datetime):
    """

    client_id: str
    name: str
    user_id: UUID
    scopes: list[str]
    redirect_uris: list[str]
    grant_types: list[str]
    public: bool
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        name = self.name

        user_id = str(self.user_id)

        scopes = self.scopes

        redirect_uris = self.redirect_uris

        grant_types = self.grant_types

        public = self.public

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "client_id": client_id,
                "name": name,
                "user_id": user_id,
                "scopes": scopes,
                "redirect_uris": redirect_uris,
                "grant_types": grant_types,
                "public": public,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        client_id = d.pop("client_id")

        name = d.pop("name")

        user_id = UUID(d.pop("user_id"))

        scopes = cast(list[str], d.pop("scopes"))

        redirect_uris = cast(list[str], d.pop("redirect_uris"))

        grant_types = cast(list[str], d.pop("grant_types"))

        public = d.pop("public")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        o_auth_client_public = cls(
            client_id=client_id,
            name=name,
            user_id=user_id,
            scopes=scopes,
            redirect_uris=redirect_uris,
            grant_types=grant_types,
            public=public,
            created_at=created_at,
        )

        o_auth_client_public.additional_properties = d
        return o_auth_client_public

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
