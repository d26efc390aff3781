from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.submit_login_body_action import SubmitLoginBodyAction
from ..types import UNSET, Unset

T = TypeVar("T", bound="SubmitLoginBody")


@_attrs_define
class SubmitLoginBody:
    """
    Attributes:
        client_id (str):
        redirect_uri (str):
        csrf_token (str):
        response_type (str | Unset):
        scope (str | Unset):
        state (str | Unset):
        code_challenge (str | Unset):
        code_challenge_method (str | Unset):
        email (str | Unset):
        password (str | Unset):
        action (SubmitLoginBodyAction | Unset):
    """

    client_id: str
    redirect_uri: str
    csrf_token: str
    response_type: str | Unset = UNSET
    scope: str | Unset = UNSET
    state: str | Unset = UNSET
    code_challenge: str | Unset = UNSET
    code_challenge_method: str | Unset = UNSET
    email: str | Unset = UNSET
    password: str | Unset = UNSET
    action: SubmitLoginBodyAction | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        client_id = self.client_id

        redirect_uri = self.redirect_uri

        csrf_token = self.csrf_token

        response_type = self.response_type

        scope = self.scope

        state = self.state

        code_challenge = self.code_challenge

        code_challenge_method = self.code_challenge_method

        email = self.email

        password = self.password

        action: str | Unset = UNSET
        if not isinstance(self.action, Unset):
            action = self.action.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "csrf_token": csrf_token,
            }
        )
        if response_type is not UNSET:
            field_dict["response_type"] = response_type
        if scope is not UNSET:
            field_dict["scope"] = scope
        if state is not UNSET:
            field_dict["state"] = state
        if code_challenge is not UNSET:
            field_dict["code_challenge"] = code_challenge
        if code_challenge_method is not UNSET:
            field_dict["code_challenge_method"] = code_challenge_method
        if email is not UNSET:
            field_dict["email"] = email
        if password is not UNSET:
            field_dict["password"] = password
        if action is not UNSET:
            field_dict["action"] = action

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        client_id = d.pop("client_id")

        redirect_uri = d.pop("redirect_uri")

        csrf_token = d.pop("csrf_token")

        response_type = d.pop("response_type", UNSET)

        scope = d.pop("scope", UNSET)

        state = d.pop("state", UNSET)

        code_challenge = d.pop("code_challenge", UNSET)

        code_challenge_method = d.pop("code_challenge_method", UNSET)

        email = d.pop("email", UNSET)

        password = d.pop("password", UNSET)

        _action = d.pop("action", UNSET)
        action: SubmitLoginBodyAction | Unset
        if isinstance(_action, Unset):
            action = UNSET
        else:
            action = SubmitLoginBodyAction(_action)

        submit_login_body = cls(
            client_id=client_id,
            redirect_uri=redirect_uri,
            csrf_token=csrf_token,
            response_type=response_type,
            scope=scope,
            state=state,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            email=email,
            password=password,
            action=action,
        )

        submit_login_body.additional_properties = d
        return submit_login_body

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
