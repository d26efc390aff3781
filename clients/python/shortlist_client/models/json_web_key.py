from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="JsonWebKey")


@_attrs_define
class JsonWebKey:
    """A public RSA signing key (RFC 7517, RFC 7518 section 6.3.1).

    Attributes:
        n (str):
        e (str):
        kid (str):
        use (Literal['sig']):
        alg (str):
        kty (Literal['RSA']):
    """

    n: str
    e: str
    kid: str
    use: Literal["sig"]
    alg: str
    kty: Literal["RSA"]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        n = self.n

        e = self.e

        kid = self.kid

        use = self.use

        alg = self.alg

        kty = self.kty

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "n": n,
                "e": e,
                "kid": kid,
                "use": use,
                "alg": alg,
                "kty": kty,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        n = d.pop("n")

        e = d.pop("e")

        kid = d.pop("kid")

        use = cast(Literal["sig"], d.pop("use"))
        if use != "sig":
            raise ValueError(f"use must match const 'sig', got '{use}'")

        alg = d.pop("alg")

        kty = cast(Literal["RSA"], d.pop("kty"))
        if kty != "RSA":
            raise ValueError(f"kty must match const 'RSA', got '{kty}'")

        json_web_key = cls(
            n=n,
            e=e,
            kid=kid,
            use=use,
            alg=alg,
            kty=kty,
        )

        json_web_key.additional_properties = d
        return json_web_key

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
