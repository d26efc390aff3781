"""Who may read /metrics: anyone on loopback (the node's own Prometheus or a sidecar); from
anywhere else only with ``Authorization: Bearer $SHORTLIST_METRICS_TOKEN``, and nobody while that
is unset. A user's access token is not the metrics token, and a forged forwarding header does not
make a request local."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from infra.settings import Settings
from tests.factories import NOW, Clock, make_principal

METRICS_TOKEN = "a-long-random-metrics-token-for-tests"


def remote(app: FastAPI, host: str = "203.0.113.7") -> TestClient:
    return TestClient(app, base_url="http://localhost", client=(host, 40000))


@pytest.fixture
def guarded(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)}))
    app.state.clock = Clock(NOW)
    yield app
    app.state.engine.dispose()


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_loopback_reads_metrics_without_a_token(app: FastAPI, host: str) -> None:
    with remote(app, host) as client:
        client.get("/healthz")
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert 'shortlist_http_requests_total{method="GET",route="/healthz",status="200"}' in (
        response.text
    )


def test_off_from_elsewhere_while_no_token_is_set(app: FastAPI) -> None:
    _, headers = make_principal(app)
    with remote(app) as client:
        for sent in ({}, headers, {"Authorization": f"Bearer {METRICS_TOKEN}"}):
            response = client.get("/metrics", headers=sent)
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/problem+json"
            assert "shortlist_" not in response.text


def test_a_forwarding_header_does_not_make_a_request_local(app: FastAPI) -> None:
    forged = {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1", "Forwarded": "for=::1"}
    with remote(app) as client:
        assert client.get("/metrics", headers=forged).status_code == 404


def test_elsewhere_only_with_the_metrics_token(guarded: FastAPI) -> None:
    _, user_headers = make_principal(guarded)
    with remote(guarded) as client:
        refused = [
            {},
            user_headers,  # a user's (even an admin's) access token is not it
            {"Authorization": f"Bearer {METRICS_TOKEN[:-1]}"},
            {"Authorization": f"Bearer {METRICS_TOKEN}x"},
            {"Authorization": f"Basic {METRICS_TOKEN}"},
            {"Authorization": METRICS_TOKEN},
        ]
        for headers in refused:
            response = client.get("/metrics", headers=headers)
            assert response.status_code == 401, headers
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "shortlist_" not in response.text
        response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert "shortlist_http_requests_total" in response.text


def test_the_page_names_routes_not_paths(app: FastAPI) -> None:
    """A scanner's thousand URLs make no thousand series, and no id leaks into the page."""
    _, headers = make_principal(app)
    with remote(app, "127.0.0.1") as client:
        secret_id = "7d3c1f0e-1111-4222-8333-944455556666"
        client.get(f"/api/v1/applications/{secret_id}", headers=headers)
        client.get("/wp-admin/../../etc/passwd")
        client.request("BREW", "/coffee")
        page = client.get("/metrics").text
    assert secret_id not in page
    assert "passwd" not in page
    assert "BREW" not in page
    assert 'route="/api/v1/applications/{application_id}"' in page
    assert 'route="unmatched"' in page
    assert 'method="OTHER"' in page
