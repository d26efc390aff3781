from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="OAuthRevoked")


@_attrs_define
class OAuthRevoked:
    """RFC 7009 section 2.2: an empty object, whether or not the token was known."""

    def to_dict(self) -> dict[str, Any]:

        field_dict: dict[str, Any] = {}

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        o_auth_revoked = cls()

        return o_auth_revoked
