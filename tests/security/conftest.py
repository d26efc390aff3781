"""The security tests serve on a loopback URL, as the OAuth endpoints require (https or
loopback), so that they answer as they would in production."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from infra.settings import Settings

BASE_URL = "http://localhost"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_url": BASE_URL})


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL, follow_redirects=False) as client:
        yield client
