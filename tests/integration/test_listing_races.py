"""A listed organization's owner confirms two listings at once, on PostgreSQL with real parallel
requests (a live uvicorn, a connection per request): exactly one confirmation wins, the other is
409 ``already-applied``, and the organization ends confirmed in one live application only. The
partial unique index over confirmed participations decides, not the pre-check: the two
confirmations lock different applications, so nothing else serializes them."""

import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from infra.db import open_session
from models.applications import ApplicationOrganization
from tests.api.intake import assert_audit_chain_ok
from tests.integration.live import Call, race, served
from tests.security.bids import API, open_round

pytestmark = pytest.mark.postgres

ATTEMPTS = 4


@pytest.fixture
def live(app: FastAPI) -> Iterator[str]:
    with served(app) as url:
        yield url
    assert_audit_chain_ok(app)


def _confirm(path: str, headers: dict[str, str]) -> Call:
    def call(client: httpx.Client) -> httpx.Response:
        return client.post(path, headers=headers)

    return call


def test_two_confirmations_of_one_organization_give_one_200_and_one_409(
    app: FastAPI, client: TestClient, live: str
) -> None:
    bids = open_round(app, client)
    for _ in range(ATTEMPTS):
        listed = bids.organization("Listed")
        first = bids.bid(bids.organization("Lead one"), members=[listed])["id"]
        second = bids.bid(bids.organization("Lead two"), members=[listed])["id"]
        headers = listed.owner.headers
        responses = race(
            live,
            [
                _confirm(f"{API}/applications/{application}/members/{listed.id}/confirm", headers)
                for application in (first, second)
            ],
            timeout=30,
        )
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        refused = next(r for r in responses if r.status_code == 409)
        assert refused.json()["type"] == "already-applied"

        session = open_session(app.state.engine)
        try:
            confirmed = session.exec(
                select(ApplicationOrganization.application_id).where(
                    col(ApplicationOrganization.organization_id) == uuid.UUID(listed.id),
                    col(ApplicationOrganization.confirmed_at).is_not(None),
                )
            ).all()
        finally:
            session.close()
        winner = next(r for r in responses if r.status_code == 200).json()["id"]
        assert [str(a) for a in confirmed] == [winner]
