from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="OAuthClientCreated")


@_attrs_define
class OAuthClientCreated:
    """
    Attributes:
        client_id (str):
        client_secret (str):
        scopes (list[str]):
        name (str):
        user_id (UUID):
        redirect_uris (list[str]):
    """

    client_id: str
    client_secret: str
    scopes: list[str]
    name: str
    user_id: UUID
    redirect_uris: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        client_secret = self.client_secret

        scopes = self.scopes

        name = self.name

        user_id = str(self.user_id)

        redirect_uris = self.redirect_uris

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "scopes": scopes,
                "name": name,
                "user_id": user_id,
                "redirect_uris": redirect_uris,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        client_id = d.pop("client_id")

        client_secret = d.pop("client_secret")

        scopes = cast(list[str], d.pop("scopes"))

        name = d.pop("name")

        user_id = UUID(d.pop("user_id"))

        redirect_uris = cast(list[str], d.pop("redirect_uris"))

        o_auth_client_created = cls(
            client_id=client_id,
            client_secret=client_secret,
            scopes=scopes,
            name=name,
            user_id=user_id,
            redirect_uris=redirect_uris,
        )

        o_auth_client_created.additional_properties = d
        return o_auth_client_created

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
