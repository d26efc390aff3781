"""The verifier remembers a token whose signature it checked, but nothing that may change: expiry
is checked on every use, and so are revocation and the user (one read per request)."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt
from sqlmodel import Session

from models.identity import Role, User
from tests.factories import bearer, make_principal, make_token

ME = "/api/v1/me"


def test_a_token_is_verified_once(
    app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    decode = jwt.decode
    calls: list[str] = []

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    _user, headers = make_principal(app, roles=[Role.applicant])
    for _ in range(3):
        assert client.get(ME, headers=headers).status_code == 200
    assert len(calls) == 1


def test_a_remembered_token_still_expires(app: FastAPI, client: TestClient) -> None:
    user, _headers = make_principal(app, roles=[Role.applicant])
    headers = bearer(make_token(app, user, ttl=60))
    assert client.get(ME, headers=headers).status_code == 200
    now = app.state.clock()
    app.state.clock = lambda: now + timedelta(hours=1)
    response = client.get(ME, headers=headers)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_remembered_token_of_a_deactivated_user_is_refused(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    user, headers = make_principal(app, roles=[Role.applicant])
    assert client.get(ME, headers=headers).status_code == 200
    stored = session.get(User, user.id)
    assert stored is not None
    stored.is_active = False
    session.add(stored)
    session.commit()
    assert client.get(ME, headers=headers).status_code == 401
