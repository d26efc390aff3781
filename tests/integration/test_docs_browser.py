"""``/docs`` renders in a real browser with the network cut off: headless Chromium (Debian's
``chromium``, installed by ``.ci/setup``) may resolve no host but 127.0.0.1, so Swagger UI and
ReDoc must come from this server, not from a CDN."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.integration.live import served

pytestmark = pytest.mark.integration


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("chromium is not installed (Debian's chromium; .ci/setup installs it)")


def rendered(url: str, profile: Path) -> str:
    """The page's DOM after it rendered (scripts run, the OpenAPI document fetched), with every
    host but 127.0.0.1 unresolvable. The browser runs on the real clock (nothing here depends on
    the time, and libfaketime, under make test-faketime, is no part of what is tested)."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name != "LD_PRELOAD" and not name.startswith("FAKETIME")
    }
    result = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_swagger_ui_lists_the_operations_offline(app: FastAPI, tmp_path: Path) -> None:
    with served(app) as base_url:
        dom = rendered(f"{base_url}/docs", tmp_path / "profile")
    assert "Failed to load API definition" not in dom
    # Swagger UI rendered every operation of the document: a block per operation, with its
    # id in the block's anchor and its summary beside the path.
    document = app.openapi()
    operations = [
        (path, operation)
        for path, item in document["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    shown = sum(len(operation["tags"]) for _, operation in operations)  # once under each tag
    assert dom.count('class="opblock-summary-path"') == shown, dom[:2000]
    for path, operation in operations:
        for tag in operation["tags"]:
            anchor = f'id="operations-{tag.replace(" ", "_")}-{operation["operationId"]}"'
            assert anchor in dom, anchor
        assert f'data-path="{path}"' in dom, path
        assert f">{operation['summary']}</div>" in dom, operation["summary"]


def test_redoc_renders_offline(app: FastAPI, tmp_path: Path) -> None:
    with served(app) as base_url:
        dom = rendered(f"{base_url}/redoc", tmp_path / "profile")
    assert "Submit application" in dom, dom[:2000]
    assert "Get results" in dom
