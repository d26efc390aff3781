"""``/metrics`` of a real ``shortlist serve --workers 2``: one figure for the whole service,
whichever worker answers the scrape, with requests counted by route template."""

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import PG_URL, _truncate_all
from tests.integration.conftest import free_port, stop, wait_for_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent.parent


def scrape(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of one scrape, by name and labels (a new connection each time)."""
    response = httpx.get(f"{base}/metrics", headers={"Connection": "close"}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def requests_counted(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
    key = (
        "shortlist_http_requests_total",
        (("method", "GET"), ("route", "/api/v1/applications/{application_id}"), ("status", "401")),
    )
    return samples.get(key, 0.0)


def per_process(directory: Path) -> dict[str, float]:
    """How many of the probed requests each worker process counted, from its own file."""
    counted: dict[str, float] = {}
    for path in directory.glob("counter_*.db"):
        pid = path.stem.removeprefix("counter_")
        values = MmapedDict.read_all_values_from_file(str(path))  # type: ignore[no-untyped-call]
        for key, value, _ts, _pos in values:
            _metric, name, labels, _help = json.loads(key)
            if (
                name == "shortlist_http_requests_total"
                and labels.get("route") == "/api/v1/applications/{application_id}"
            ):
                counted[pid] = counted.get(pid, 0.0) + value
    return counted


@pytest.fixture(scope="module")
def server(
    database_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    tmp_path = tmp_path_factory.mktemp("metrics")
    if PG_URL:
        _truncate_all(database_template)
        database_url = database_template
    else:
        shutil.copyfile(database_template, tmp_path / "shortlist.db")
        database_url = f"sqlite:///{tmp_path / 'shortlist.db'}"
    directory = tmp_path / "prometheus"
    port = free_port()
    env = {
        **os.environ,
        "SHORTLIST_ENVIRONMENT": "test",
        "SHORTLIST_DATABASE_URL": database_url,
        "SHORTLIST_STORAGE_URL": f"file://{tmp_path / 'blobs'}",
        "SHORTLIST_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SHORTLIST_LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
    }
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"left by an earlier run")  # emptied at start
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        command = [sys.executable, "-m", "cli.main", "serve", "--workers", "2"]
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_for_port(process, port, log, timeout=180)  # (two workers start: slow under load)
        yield f"http://127.0.0.1:{port}", directory
    finally:
        stop(process)


def test_two_workers_count_as_one_service(server: tuple[str, Path]) -> None:
    base, directory = server
    before = requests_counted(scrape(base))
    assert before == 0
    assert not (directory / "counter_1.db").exists()
    sent = 0
    lock = threading.Lock()

    def send(n: int) -> None:
        nonlocal sent
        for _ in range(n):
            # A new connection each: the two workers take turns accepting them.
            response = httpx.get(
                f"{base}/api/v1/applications/{os.urandom(16).hex()}",
                headers={"Connection": "close"},
                timeout=10,
            )
            assert response.status_code == 401
            with lock:
                sent += 1

    for _ in range(10):  # until both workers have served some (almost always the first round)
        threads = [threading.Thread(target=send, args=(10,)) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if len([n for n in per_process(directory).values() if n > 0]) >= 2:
            break
    counted = per_process(directory)
    assert len([n for n in counted.values() if n > 0]) == 2, counted
    # Whichever worker answers, the scrape adds up both: exactly the requests sent.
    for _ in range(4):
        samples = scrape(base)
        assert requests_counted(samples) == sent
        buckets = [
            value
            for (name, labels), value in samples.items()
            if name == "shortlist_http_request_duration_seconds_count"
            and ("route", "/api/v1/applications/{application_id}") in labels
        ]
        assert buckets == [sent]
    # The raw paths never become series; the service's own figures are there (the series with
    # labels, e.g. uploads by kind, from their first count on).
    text = httpx.get(f"{base}/metrics", timeout=10).text
    assert "/api/v1/applications/" + "0" * 4 not in text
    for name in (
        "shortlist_token_failures_total",
        "shortlist_scans_pending",
        "shortlist_documents_infected",
        "shortlist_jobs_queued",
        "shortlist_upload_bytes_total",
        "shortlist_webhook_deliveries_failed_total",
        "shortlist_mails_sent_total",
    ):
        assert name in text, name
    failures = scrape(base)[("shortlist_token_failures_total", (("reason", "missing"),))]
    assert failures == sent
