"""The files the demo keeps of each stage once it is closed and published: the decision report
(``report.html``, one self-contained page to open in any browser) and the results workbook
(``results.xlsx``), fetched as the admin. The generated client has no method for them until it
is regenerated from this API, so they come through its underlying httpx client."""

import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

DESK_FILES = (("report", "report.html"), ("results.xlsx", "results.xlsx"))
REPORT_PATH = "/api/v1/rounds/{round_id}/report"


def save_stage_files(
    http: httpx.Client,
    *,
    round_id: uuid.UUID,
    stage: int,
    output: Path,
    say: Callable[[str], object],
) -> list[Path]:
    """Write stage ``stage``'s report and workbook into ``output``; their paths."""
    output.mkdir(parents=True, exist_ok=True)
    paths = []
    for route, name in DESK_FILES:
        response = http.get(f"/api/v1/rounds/{round_id}/{route}")
        if response.status_code != 200:
            raise SystemExit(
                f"GET {route}: expected 200, got {response.status_code}: "
                f"{response.content.decode(errors='replace')[:500]}"
            )
        path = output / f"stage{stage}-{name}"
        path.write_bytes(response.content)
        say(f"  wrote {path}")
        paths.append(path)
    return paths
