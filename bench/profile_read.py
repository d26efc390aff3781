"""Where the time of an authenticated ``GET /api/v1/applications/{id}`` goes, on a served app.

Seeds a throw-away database like ``bench_read``, serves the app with one uvicorn worker, loads
it with ``wrk`` (16 connections) while ``py-spy`` samples the worker, and prints the functions
with the largest share of samples, inclusive and by themselves. This is how the read path was
profiled (issue 8); rerun it after a change to the hot path.

    python -m bench.profile_read [--db sqlite|postgresql] [--seconds 8] [--top 40]
"""

import argparse
import collections
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_read import CONNECTIONS, seed
from bench.support import Server, require_wrk, run_wrk, server_env, temporary_database

ROOT = Path(__file__).resolve().parent.parent


def shares(raw: Path) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """Samples in all, and per function (file:line dropped): inclusive and self counts."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    return total, inclusive, own


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    require_wrk()
    py_spy = Path(sys.executable).with_name("py-spy")
    with tempfile.TemporaryDirectory(prefix="shortlist-profile-") as scratch:
        work = Path(scratch)
        with temporary_database(args.db, work) as url:
            path, header = seed(url)
            with Server(
                "api.app:app_from_env", workers=1, env=server_env(url, work / "blobs")
            ) as app:
                app.wait_ready("/healthz")
                target = app.base_url + path
                run_wrk(target, connections=CONNECTIONS, seconds=2, headers=[header])  # warm up
                raw = work / "samples.txt"
                spy = subprocess.Popen(
                    [
                        str(py_spy),
                        "record",
                        "--pid",
                        str(app.process.pid),
                        "--duration",
                        str(args.seconds),
                        "--rate",
                        "200",
                        "--format",
                        "raw",
                        "--output",
                        str(raw),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(0.5)
                load = run_wrk(
                    target, connections=CONNECTIONS, seconds=args.seconds - 1, headers=[header]
                )
                spy.wait()
        total, inclusive, own = shares(raw)
    print(
        f"{args.db}: {load.rps:,.0f} req/s while sampled (py-spy slows the server), {total} samples"
    )
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"== {title}")
        for frame, n in counter.most_common(args.top):
            print(f"{100 * n / max(total, 1):5.1f}%  {frame[:140]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
