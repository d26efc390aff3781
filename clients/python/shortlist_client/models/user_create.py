from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.role import Role
from ..models.user_create_locale_type_0 import UserCreateLocaleType0
from ..types import UNSET, Unset

T = TypeVar("T", bound="UserCreate")


@_attrs_define
class UserCreate:
    """
    Attributes:
        email (str):
        name (str):
        roles (list[Role] | Unset):
        locale (None | Unset | UserCreateLocaleType0):
    """

    email: str
    name: str
    roles: list[Role] | Unset = UNSET
    locale: None | Unset | UserCreateLocaleType0 = UNSET

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        name = self.name

        roles: list[str] | Unset = UNSET
        if not isinstance(self.roles, Unset):
            roles = []
            for roles_item_data in self.roles:
                roles_item = roles_item_data.value
                roles.append(roles_item)

        locale: None | str | Unset
        if isinstance(self.locale, Unset):
            locale = UNSET
        elif isinstance(self.locale, UserCreateLocaleType0):
            locale = self.locale.value
        else:
            locale = self.locale

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "email": email,
                "name": name,
            }
        )
        if roles is not UNSET:
            field_dict["roles"] = roles
        if locale is not UNSET:
            field_dict["locale"] = locale

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        email = d.pop("email")

        name = d.pop("name")

        _roles = d.pop("roles", UNSET)
        roles: list[Role] | Unset = UNSET
        if _roles is not UNSET:
            roles = []
            for roles_item_data in _roles:
                roles_item = Role(roles_item_data)

                roles.append(roles_item)

        def _parse_locale(data: object) -> None | Unset | UserCreateLocaleType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                locale_type_0 = UserCreateLocaleType0(data)

                return locale_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UserCreateLocaleType0, data)

        locale = _parse_locale(d.pop("locale", UNSET))

        user_create = cls(
            email=email,
            name=name,
            roles=roles,
            locale=locale,
        )

        return user_create
