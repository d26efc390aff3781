from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AuthorizationServerMetadata")


@_attrs_define
class AuthorizationServerMetadata:
    """RFC 8414 section 2, also served as ``openid-configuration`` for discovery tools.

    Attributes:
        issuer (str):
        authorization_endpoint (str):
        token_endpoint (str):
        jwks_uri (str):
        revocation_endpoint (str):
        introspection_endpoint (str):
        scopes_supported (list[str]):
        response_types_supported (list[str]):
        response_modes_supported (list[str]):
        grant_types_supported (list[str]):
        token_endpoint_auth_methods_supported (list[str]):
        revocation_endpoint_auth_methods_supported (list[str]):
        introspection_endpoint_auth_methods_supported (list[str]):
        code_challenge_methods_supported (list[str]):
        authorization_response_iss_parameter_supported (bool):
        access_token_signing_alg_values_supported (list[str]):
        subject_types_supported (list[str]):
        service_documentation (None | str | Unset): Present while the interactive docs are served
    """

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    introspection_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    introspection_endpoint_auth_methods_supported: list[str]
    code_challenge_methods_supported: list[str]
    authorization_response_iss_parameter_supported: bool
    access_token_signing_alg_values_supported: list[str]
    subject_types_supported: list[str]
    service_documentation: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        issuer = self.issuer

        authorization_endpoint = self.authorization_endpoint

        token_endpoint = self.token_endpoint

        jwks_uri = self.jwks_uri

        revocation_endpoint = self.revocation_endpoint

        introspection_endpoint = self.introspection_endpoint

        scopes_supported = self.scopes_supported

        response_types_supported = self.response_types_supported

        response_modes_supported = self.response_modes_supported

        grant_types_supported = self.grant_types_supported

        token_endpoint_auth_methods_supported = self.token_endpoint_auth_methods_supported

        revocation_endpoint_auth_methods_supported = self.revocation_endpoint_auth_methods_supported

        introspection_endpoint_auth_methods_supported = self.introspection_endpoint_auth_methods_supported

        code_challenge_methods_supported = self.code_challenge_methods_supported

        authorization_response_iss_parameter_supported = self.authorization_response_iss_parameter_supported

        access_token_signing_alg_values_supported = self.access_token_signing_alg_values_supported

        subject_types_supported = self.subject_types_supported

        service_documentation: None | str | Unset
        if isinstance(self.service_documentation, Unset):
            service_documentation = UNSET
        else:
            service_documentation = self.service_documentation

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "issuer": issuer,
                "authorization_endpoint": authorization_endpoint,
                "token_endpoint": token_endpoint,
                "jwks_uri": jwks_uri,
                "revocation_endpoint": revocation_endpoint,
                "introspection_endpoint": introspection_endpoint,
                "scopes_supported": scopes_supported,
                "response_types_supported": response_types_supported,
                "response_modes_supported": response_modes_supported,
                "grant_types_supported": grant_types_supported,
                "token_endpoint_auth_methods_supported": token_endpoint_auth_methods_supported,
                "revocation_endpoint_auth_methods_supported": revocation_endpoint_auth_methods_supported,
                "introspection_endpoint_auth_methods_supported": introspection_endpoint_auth_methods_supported,
                "code_challenge_methods_supported": code_challenge_methods_supported,
                "authorization_response_iss_parameter_supported": authorization_response_iss_parameter_supported,
                "access_token_signing_alg_values_supported": access_token_signing_alg_values_supported,
                "subject_types_supported": subject_types_supported,
            }
        )
        if service_documentation is not UNSET:
            field_dict["service_documentation"] = service_documentation

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        issuer = d.pop("issuer")

        authorization_endpoint = d.pop("authorization_endpoint")

        token_endpoint = d.pop("token_endpoint")

        jwks_uri = d.pop("jwks_uri")

        revocation_endpoint = d.pop("revocation_endpoint")

        introspection_endpoint = d.pop("introspection_endpoint")

        scopes_supported = cast(list[str], d.pop("scopes_supported"))

        response_types_supported = cast(list[str], d.pop("response_types_supported"))

        response_modes_supported = cast(list[str], d.pop("response_modes_supported"))

        grant_types_supported = cast(list[str], d.pop("grant_types_supported"))

        token_endpoint_auth_methods_supported = cast(list[str], d.pop("token_endpoint_auth_methods_supported"))

        revocation_endpoint_auth_methods_supported = cast(
            list[str], d.pop("revocation_endpoint_auth_methods_supported")
        )

        introspection_endpoint_auth_methods_supported = cast(
            list[str], d.pop("introspection_endpoint_auth_methods_supported")
        )

        code_challenge_methods_supported = cast(list[str], d.pop("code_challenge_methods_supported"))

        authorization_response_iss_parameter_supported = d.pop("authorization_response_iss_parameter_supported")

        access_token_signing_alg_values_supported = cast(list[str], d.pop("access_token_signing_alg_values_supported"))

        subject_types_supported = cast(list[str], d.pop("subject_types_supported"))

        def _parse_service_documentation(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        service_documentation = _parse_service_documentation(d.pop("service_documentation", UNSET))

        authorization_server_metadata = cls(
            issuer=issuer,
            authorization_endpoint=authorization_endpoint,
            token_endpoint=token_endpoint,
            jwks_uri=jwks_uri,
            revocation_endpoint=revocation_endpoint,
            introspection_endpoint=introspection_endpoint,
            scopes_supported=scopes_supported,
            response_types_supported=response_types_supported,
            response_modes_supported=response_modes_supported,
            grant_types_supported=grant_types_supported,
            token_endpoint_auth_methods_supported=token_endpoint_auth_methods_supported,
            revocation_endpoint_auth_methods_supported=revocation_endpoint_auth_methods_supported,
            introspection_endpoint_auth_methods_supported=introspection_endpoint_auth_methods_supported,
            code_challenge_methods_supported=code_challenge_methods_supported,
            authorization_response_iss_parameter_supported=authorization_response_iss_parameter_supported,
            access_token_signing_alg_values_supported=access_token_signing_alg_values_supported,
            subject_types_supported=subject_types_supported,
            service_documentation=service_documentation,
        )

        authorization_server_metadata.additional_properties = d
        return authorization_server_metadata

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
