"""The demo's decision records: each stage's signed record saved into the demo's output folder
beside the service's JWKS, then checked offline as an outside auditor would
(``shortlist verify-record``)."""

import io
import json
import uuid
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import httpx

from cli.verify_record import OK, verify_record_file

RECORD_PATH = "/api/v1/rounds/{round_id}/decision-record"


def save_decision_record(
    http: httpx.Client,
    *,
    round_id: uuid.UUID,
    stage: int,
    output: Path,
    say: Callable[[str], None],
) -> Path:
    """Fetch the round's decision record (the typed client's own httpx client: the route is
    newer than the generated client) and the JWKS, write both, verify the record from the
    files alone, and say where they are."""
    response = http.get(f"/api/v1/rounds/{round_id}/decision-record")
    response.raise_for_status()
    jwks = http.get("/oauth/jwks")
    jwks.raise_for_status()
    output.mkdir(parents=True, exist_ok=True)
    record = output / f"stage{stage}-decision-record.jws"
    record.write_text(response.text, encoding="ascii")
    keys = output / "jwks.json"
    keys.write_text(json.dumps(jwks.json(), indent=2), encoding="utf-8")
    say(f"  wrote {record} (keys: {keys})")
    say(f"  $ shortlist verify-record {record} --jwks {keys}")
    # Its JSON line and its verdict in words, as the command prints them, told indented.
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = verify_record_file(str(record), jwks_source=str(keys))
    say(f"  verify-record: exit {code}: {err.getvalue().strip()}")
    if code != OK:
        raise SystemExit(f"the decision record of stage {stage} does not verify")
    return record
