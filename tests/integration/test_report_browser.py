"""The decision report of the seed demo's first round, rendered by a real browser with the network
cut off: the demo (``cli.demo``, through the typed client) plays both stages against a served
app and writes each stage's ``report.html`` and ``results.xlsx``; headless Chromium (Debian's
``chromium``) opens stage 1's page from the file with every host but 127.0.0.1 unresolvable, its
DOM shows the gate-failed bid and the tie at the cut-off as the stored result states them, and
a screenshot is kept beside the test's output (its path is printed).

The server and the demo run on the system clock (the demo sets deadlines and waits for them)."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import select

from api.app import create_app
from identity.accounts import create_admin
from infra.clock import system_clock
from infra.db import open_session, session_scope
from infra.settings import Settings
from models.applications import Application
from models.reviewers import RoundResult
from models.rounds import Round
from tests.integration.live import served
from tests.integration.test_docs_browser import chromium

pytestmark = pytest.mark.integration

SHORTLIST = Path(sys.executable).parent / "shortlist"


@pytest.fixture
def live_app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings.model_copy(update={"public_url": "http://127.0.0.1"}))
    app.state.clock = system_clock
    yield app
    app.state.engine.dispose()
    app.state.reader.dispose()


def _browse(page: Path, profile: Path, *action: str) -> subprocess.CompletedProcess[str]:
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
            "--window-size=1100,3000",
            *action,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


class Dom(HTMLParser):
    """The ranking table's rows (their data attributes and cell texts) and the tie paragraph."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.tie = ""
        self.cutoff_after = -1
        self._in: str | None = None
        self._cell: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and found.get("data-reason"):
            self.rows.append({"id": found["data-application-id"], "reason": found["data-reason"]})
            self.rows[-1]["cells"] = []
        elif tag == "tr" and found.get("id") == "cutoff":
            self.cutoff_after = len(self.rows) - 1
        elif tag == "p" and found.get("id") == "tie":
            self._in = "tie"
        elif tag == "td" and self.rows and "done" not in self.rows[-1]:
            self._in, self._cell = "td", []

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._in == "tie":
            self._in = None
        elif tag == "td" and self._in == "td":
            self.rows[-1]["cells"].append("".join(self._cell).strip())
            self._in = None
        elif tag == "tbody" and self.rows:
            for row in self.rows:
                row["done"] = True

    def handle_data(self, data: str) -> None:
        if self._in == "tie":
            self.tie += data
        elif self._in == "td":
            self._cell.append(data)


def test_the_demo_report_renders_offline_with_the_gate_failure_and_the_tie(
    live_app: FastAPI, tmp_path: Path
) -> None:
    chromium()  # skips (fails under CI=true) without a browser
    with session_scope(live_app.state.engine) as session:
        _, issued = create_admin(session=session, email="ops@example.org", now=system_clock())
        client_id, secret = issued.client.client_id, issued.secret
    output = tmp_path / "demo"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SHORTLIST_")}
    # The demo signs in to the served app with its admin client and writes no local database.
    environment["SHORTLIST_DATABASE_URL"] = f"sqlite:///{tmp_path}/absent/local.db"
    with served(live_app) as url:
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
                str(output),
            ],
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert played.returncode == 0, played.stdout[-3000:] + played.stderr[-3000:]
    # It prints where it wrote each stage's files.
    for stage in (1, 2):
        assert f"wrote {output / f'stage{stage}-report.html'}" in played.stdout
        assert f"wrote {output / f'stage{stage}-results.xlsx'}" in played.stdout
    assert sorted(p.name for p in output.iterdir()) == [
        "jwks.json",
        "stage1-decision-record.jws",
        "stage1-report.html",
        "stage1-results.xlsx",
        "stage2-decision-record.jws",
        "stage2-report.html",
        "stage2-results.xlsx",
    ]
    with open_session(live_app.state.engine) as session:
        round_ = session.exec(select(Round).where(Round.name == "Stage 1: open call")).one()
        result = session.get(RoundResult, round_.id)
        assert result is not None
        titles = {
            str(i): t
            for i, t in session.exec(
                select(Application.id, Application.title).where(Application.round_id == round_.id)
            )
        }
    rows = result.result["rows"]

    page = output / "stage1-report.html"
    dom_text = _browse(page, tmp_path / "profile", "--dump-dom").stdout
    screenshot = tmp_path / "stage1-report.png"
    _browse(page, tmp_path / "profile", f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 10_000
    print(f"report screenshot: {screenshot}")

    dom = Dom()
    dom.feed(dom_text)
    # Every row of the result, in its order, with its outcome.
    assert [(r["id"], r["reason"]) for r in dom.rows] == [
        (r["application_id"], r["reason"]) for r in rows
    ]
    by_title = {titles[r["application_id"]].split(" national")[0]: r for r in rows}
    # The gate-failed bid: unranked, its gate named, below the line.
    failed = by_title["Saebyeok Systems"]
    assert failed["reason"] == "gate_failed"
    assert failed["failed_gates"] == ["independent"]
    shown = next(r for r in dom.rows if r["id"] == failed["application_id"])
    assert shown["cells"][0] == "\N{EN DASH}"  # no rank
    assert shown["cells"][5] == "Independent development (no fine-tune)"
    assert dom.cutoff_after < [r["id"] for r in dom.rows].index(failed["application_id"])
    # The tie at the cut-off: Nuri above the line, Gaon below, the same total.
    nuri, gaon = by_title["Nuri Intelligence"], by_title["Gaon Models"]
    assert nuri["shortlisted"]
    assert nuri["rank"] == 3
    assert gaon["reason"] == "below_cutoff"
    assert gaon["rank"] == 4
    assert nuri["total"] == gaon["total"]
    assert float(gaon["margin"]) == 0
    assert dom.cutoff_after == 2  # right after the third row, Nuri's
    assert dom.tie.startswith(
        f"Tie at the cut-off: {titles[nuri['application_id']]} and "
        f"{titles[gaon['application_id']]} have the same total (7.3000)"
    )
    assert str(uuid.UUID(nuri["application_id"])) == dom.rows[2]["id"]
