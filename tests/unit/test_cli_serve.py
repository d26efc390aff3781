"""``shortlist serve`` gives each uvicorn worker time to start: uvicorn replaces a worker that has
not answered its supervisor's ping within ``timeout_worker_healthcheck`` seconds (default 5),
shorter than a worker's imports on a loaded machine, where every replacement was killed in turn
and none served."""

from typing import Any

import pytest
import uvicorn

from cli import main as cli


def served_with(monkeypatch: pytest.MonkeyPatch, *argv: str) -> dict[str, Any]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs}))
    assert cli.main(["serve", *argv]) == 0
    [call] = calls
    return call


def test_workers_get_a_minute_to_start_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    call = served_with(monkeypatch, "--workers", "2")
    assert call["workers"] == 2
    assert call["timeout_worker_healthcheck"] == 60
    assert call["app"] == "api.app:app_from_env"
    assert call["factory"] is True


def test_the_worker_timeout_is_a_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    call = served_with(monkeypatch, "--workers", "4", "--worker-timeout", "120")
    assert call["timeout_worker_healthcheck"] == 120
