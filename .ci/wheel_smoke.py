"""The installed wheel, used as an operator would: migrate, bootstrap, serve, call the API.

Run by ``.ci/wheel-check`` with the fresh virtual environment's Python, from a temporary
directory outside the source tree (copied there first, so nothing of the source tree is on
``sys.path``). Standard library only. Exits non-zero, saying why, at the first failure."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from base64 import b64encode
from pathlib import Path


def fail(message: str) -> None:
    print(f"wheel-check: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def run(
    *args: str, stdin: str | None = None, expect: int = 0, env: dict[str, str] | None = None
) -> str:
    print("+ " + " ".join(args), flush=True)
    done = subprocess.run(  # noqa: S603
        args, input=stdin, capture_output=True, text=True, check=False, env=env
    )
    if done.returncode != expect:
        fail(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310 - loopback
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def main() -> None:
    bindir = Path(sys.executable).parent
    shortlist = str(bindir / "shortlist")
    work = Path.cwd()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    os.environ.update(
        SHORTLIST_ENVIRONMENT="production",
        SHORTLIST_SECRET_KEY=b64encode(os.urandom(32)).decode(),
        SHORTLIST_DATABASE_URL=f"sqlite:///{work}/var/shortlist.db",
        SHORTLIST_STORAGE_URL=f"file://{work}/var/blobs",
        SHORTLIST_PUBLIC_URL=base,
    )
    (work / "var").mkdir(exist_ok=True)

    # The package is the wheel's, not a source tree's.
    origin = run(str(bindir / "python"), "-c", "import infra, cli; print(infra.__file__)").strip()
    if not origin.startswith(str(work)):
        fail(f"infra is imported from {origin}, not from the virtual environment in {work}")

    migrated = json.loads(run(shortlist, "migrate"))
    if migrated.get("migrated") is not True:
        fail(f"shortlist migrate said {migrated}")
    out = run(shortlist, "bootstrap", "--email", "admin@example.org")
    block = out[out.index("{") : out.rindex("}") + 1]
    admin = json.loads(block)
    print(f"bootstrap: admin client {admin['client_id']}")
    # Every other command, from the wheel.
    run(shortlist, "create-admin", "second-admin@example.org")
    run(shortlist, "set-password", "admin@example.org", stdin="a long enough passphrase 1\n")
    run(shortlist, "rotate-keys")
    run(shortlist, "storage", "sweep", "--dry-run")
    worker = subprocess.run([shortlist, "worker"], capture_output=True, text=True, check=False)  # noqa: S603
    if worker.returncode != 2 or "needs PostgreSQL" not in worker.stderr:
        fail(f"shortlist worker on SQLite: {worker.returncode} {worker.stderr}")
    for command in ("serve", "migrate", "worker", "bootstrap", "demo", "audit"):
        run(shortlist, command, "--help")

    # The server's log goes to a file: a pipe that nobody reads while the demo runs fills up
    # (64 kB of JSON lines), and the server then blocks on its next log line.
    server_log = (work / "server.log").open("w+b")
    server = subprocess.Popen(  # noqa: S603 - our own command
        [shortlist, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=server_log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = request(f"{base}/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                server_log.seek(0)
                output = server_log.read().decode(errors="replace")
                fail(f"the server did not answer /healthz:\n{output}")
            time.sleep(0.2)
        status, body = request(f"{base}/readyz")
        if status != 200:
            fail(f"/readyz answered {status}: {body!r}")
        basic = b64encode(f"{admin['client_id']}:{admin['client_secret']}".encode()).decode()
        status, body = request(
            f"{base}/oauth/token",
            data=urllib.parse.urlencode(
                {"grant_type": "client_credentials", "scope": "rounds:admin"}
            ).encode(),
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        if status != 200:
            fail(f"/oauth/token answered {status}: {body!r}")
        token = json.loads(body)["access_token"]
        status, body = request(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        if status != 200 or json.loads(body).get("email") != "admin@example.org":
            fail(f"GET /api/v1/me answered {status}: {body!r}")
        status, _ = request(f"{base}/api/v1/me")
        if status != 401:
            fail(f"GET /api/v1/me without a token answered {status}, not 401")
        demo_env = dict(
            os.environ,
            SHORTLIST_DEMO_CLIENT_ID=admin["client_id"],
            SHORTLIST_DEMO_CLIENT_SECRET=admin["client_secret"],
        )
        run(shortlist, "demo", "--url", base, env=demo_env)
        # Each stage's report (its template ships in the wheel), workbook and decision record.
        for stage in (1, 2):
            for name in ("report.html", "results.xlsx", "decision-record.jws"):
                kept = work / "var" / "demo" / f"stage{stage}-{name}"
                if not kept.is_file() or kept.stat().st_size == 0:
                    fail(f"the demo did not write {kept}")
        run(shortlist, "audit", "verify")
        with sqlite3.connect(work / "var" / "shortlist.db") as db:
            closed = [row[0] for row in db.execute("SELECT round_id FROM round_result")]
        if len(closed) != 2:
            fail(f"the demo should have closed 2 rounds, not {len(closed)}")
        for round_id in closed:
            # Stored as 32 hex digits; the command takes the usual form.
            outcome = json.loads(run(shortlist, "verify-result", str(uuid.UUID(round_id))))
            if outcome["ok"] is not True:
                fail(f"verify-result {round_id}: {outcome}")
        print(
            f"wheel-check: served on {base}: /healthz, /readyz, a token, /api/v1/me, the demo: ok"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
