"""The typed client (``clients/python``), installed as a user installs it, plays the demo:
``shortlist demo --url`` against a served app, in another process whose ``shortlist_client``
is the one just installed from ``clients/python``. With ``--url`` the demo writes nothing into a
local database: it signs in with the target's admin client, and without one it refuses.

The server judges the rounds' deadlines by the system clock, as the demo (another process)
does, which sets them and waits for them: both stand at the same (possibly shifted) time."""

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.app import create_app
from identity.accounts import create_admin
from infra.clock import system_clock
from infra.db import session_scope
from infra.settings import Settings
from tests.integration.live import served

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SHORTLIST = Path(sys.executable).parent / "shortlist"


@pytest.fixture(scope="module")
def installed_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install ./clients/python`` into a folder of its own (its dependencies, httpx and
    attrs, are this environment's; its build backend, pdm-backend, a dev dependency)."""
    target = tmp_path_factory.mktemp("client")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT / "clients" / "python"),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert (target / "shortlist_client" / "py.typed").exists()
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_url() -> str:
    """Where the served app mails and the demo runs its SMTP sink (as `make run` and `make demo`
    agree on 127.0.0.1:8025)."""
    return f"smtp://127.0.0.1:{free_port()}"


@pytest.fixture
def live_app(settings: Settings, smtp_url: str) -> Iterator[FastAPI]:
    # The authorization server answers on plain http only when its public URL is a loopback's;
    # webhooks may target the demo's loopback receiver, and mail goes to the demo's sink.
    app = create_app(
        settings.model_copy(
            update={
                "public_url": "http://127.0.0.1",
                "webhook_allow_private": True,
                "smtp_url": SecretStr(smtp_url),
            }
        )
    )
    app.state.clock = system_clock
    yield app
    app.state.engine.dispose()


def demo_environment(client_path: Path, tmp_path: Path) -> dict[str, str]:
    """The demo's environment: the installed client first on the path, and a local database
    that cannot be written (a folder that does not exist)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SHORTLIST_")}
    # Ahead of what the path had (make test-faketime's sitecustomize, say).
    inherited = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    environment["PYTHONPATH"] = os.pathsep.join([str(client_path), str(ROOT), *inherited])
    environment["SHORTLIST_DATABASE_URL"] = f"sqlite:///{tmp_path}/absent/local.db"
    environment["SHORTLIST_STORAGE_URL"] = f"file://{tmp_path}/absent/blobs"
    return environment


def test_the_installed_client_plays_the_demo(
    installed_client: Path, live_app: FastAPI, tmp_path: Path, smtp_url: str
) -> None:
    environment = demo_environment(installed_client, tmp_path)
    environment["SHORTLIST_SMTP_URL"] = smtp_url
    which = subprocess.run(
        [sys.executable, "-c", "import shortlist_client; print(shortlist_client.__file__)"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert which.stdout.strip().startswith(str(installed_client)), which.stdout

    with session_scope(live_app.state.engine) as session:
        _, issued = create_admin(session=session, email="ops@example.org", now=system_clock())
        client_id, secret = issued.client.client_id, issued.secret
    with served(live_app, lifespan=True) as url:
        played = subprocess.run(
            [
                str(SHORTLIST),
                "demo",
                "--url",
                url,
                "--client-id",
                client_id,
                "--client-secret",
                secret,
                "--deadline-seconds",
                "12",
                "--output",
                str(tmp_path / "demo"),
            ],
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert played.returncode == 0, played.stdout[-3000:] + played.stderr[-3000:]
    out = played.stdout
    assert out.count(": submitted, receipt ") == 6, out
    assert "Hanbit AI" in out
    assert "Audit chain: ok=True" in out, out
    assert out.count("SHORTLISTED") == 4, out  # three in stage 1, one in stage 2
    assert "refused (" in out  # the shortlisted may not bid in stage 2
    # Each stage's signed decision record, saved and verified offline from the files.
    assert out.count("verify-record: exit 0: verified: signed by ") == 2, out
    assert not (tmp_path / "absent").exists()
    # Each stage's report, workbook and decision record, where it was told, their paths printed.
    assert (tmp_path / "demo" / "jwks.json").stat().st_size > 0
    for stage in (1, 2):
        for name in ("report.html", "results.xlsx", "decision-record.jws"):
            path = tmp_path / "demo" / f"stage{stage}-{name}"
            assert path.stat().st_size > 0
            assert f"wrote {path}" in out
    # What the demo caused besides its answers (issue 18): the webhook deliveries its receiver
    # got, each signature verified with standardwebhooks, and the mails its SMTP sink got.
    deliveries = out.split("Webhook deliveries received: ")[1].split("\n")
    assert int(deliveries[0]) >= 14, out  # 2 x (opened, review started, closed, published) + 9 bids
    lines = [line.split() for line in deliveries[1 : 1 + int(deliveries[0])]]
    assert all(line[-2:] == ["signature", "ok"] for line in lines), out
    types = {line[0] for line in lines}
    assert {"round.opened", "application.submitted", "round.published"} <= types, types
    mails = out.split("Mails sent: ")[1].split("\n")
    assert int(mails[0]) >= 9, out  # at least a receipt per submitted bid
    assert all(line.startswith("  to ") for line in mails[1 : 1 + int(mails[0])]), out


def test_demo_against_another_server_needs_its_admin(
    installed_client: Path, tmp_path: Path
) -> None:
    environment = demo_environment(installed_client, tmp_path)
    refused = subprocess.run(
        [str(SHORTLIST), "demo", "--url", "http://127.0.0.1:9"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2, refused.stderr
    assert "--client-id" in refused.stderr
    assert not (tmp_path / "absent").exists()
