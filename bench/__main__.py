"""Run every benchmark in bench/ (``make bench``).

Each benchmark module exposes ``run() -> list[dict]`` of figures, each with its value, unit,
baseline (measured in the same run, on the same machine) and ratio, and where it has one, its
``target`` and whether it is met (``ok``). The runner writes ``bench/results.json`` and prints a
table of every figure with the commit, the date, the machine and its load.

``python -m bench [NAME ...]`` runs only the named modules (``read``, ``bench_closing``...).
The read throughput benchmark needs ``wrk`` (``apt-get install -y wrk``); the database ones use
the PostgreSQL server of ``SHORTLIST_BENCH_PG_URL`` (default postgres@127.0.0.1:5432) and skip
their PostgreSQL half when it is not reachable.
"""

import importlib
import json
import math
import os
import pkgutil
import platform
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, check=True, cwd=HERE)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _commit() -> str:
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+changes" if _git("status", "--porcelain", "--untracked-files=no") else "")


def _machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_gib, 1),
    }


def _finite(value: Any) -> Any:
    """JSON has no NaN: a figure that could not be measured is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _number(value: Any) -> str:
    if not isinstance(value, int | float) or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"


def _idle_share(seconds: float) -> float:
    """The share of the machine's CPU time that was idle over the next ``seconds``."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # idle + iowait

    total, idle = sample()
    time.sleep(seconds)
    total_after, idle_after = sample()
    return (idle_after - idle) / max(1, total_after - total)


def settle(*, quiet: float = 0.9, max_seconds: float = 20.0) -> float:
    """Before each benchmark: dirty pages written out and the machine quiet (at least ``quiet``
    of its CPU idle over half a second; at most ``max_seconds`` of waiting), so that what the
    previous benchmark left running (writeback, a database's checkpoint, servers stopping) weighs
    on neither side of the next one's ratios. Returns the seconds waited."""
    started = time.monotonic()
    os.sync()
    try:
        while _idle_share(0.5) < quiet and time.monotonic() - started < max_seconds:
            pass
    except OSError:  # no /proc: nothing to wait for
        pass
    return time.monotonic() - started


def _verdict(figure: dict[str, Any]) -> str:
    """A figure's own ``ok``; else, for a numeric target, the value against it (below it, or at
    least it when ``higher_is_better``)."""
    ok = figure.get("ok")
    target = figure.get("target")
    if ok is None and isinstance(target, int | float) and not isinstance(target, bool):
        value = figure["value"]
        ok = value >= target if figure.get("higher_is_better") else value < target
    if ok is None:
        return ""
    return "meets" if ok else "MISSES"


def table(result: dict[str, Any]) -> str:
    machine = result["machine"]
    lines = [
        f"commit {result['commit']}  date {result['date']}  took {result['seconds']:.0f} s",
        f"machine {machine['cpu']} x{machine['cores']}, {machine['memory_gib']} GiB, "
        f"{machine['platform']}, Python {machine['python']}",
        f"load average at start {result['load_average']['start']}, "
        f"at end {result['load_average']['end']}",
        "",
        f"{'figure':<62} {'value':>11} {'unit':<6} {'baseline':>11} {'ratio':>8}  "
        f"{'target':<22} verdict",
    ]
    for f in result["figures"]:
        target = str(f.get("target", ""))
        if isinstance(f.get("target"), int | float):
            sign = ">=" if f.get("higher_is_better") else "<"
            target = f"{sign} {f['target']} {f.get('unit', '')}"
        lines.append(
            f"{f['name'][:62]:<62} {_number(f['value']):>11} {f.get('unit', ''):<6} "
            f"{_number(f.get('baseline')):>11} {_number(f.get('ratio')):>8}  "
            f"{target[:22]:<22} {_verdict(f)}"
        )
    for failure in result["failures"]:
        lines.append(f"FAILED {failure['module']}: {failure['error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in (argv or sys.argv[1:])}
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name.startswith("bench_") and (not wanted or m.name in wanted)
    )
    started = time.monotonic()
    load_start = round(os.getloadavg()[0], 2)
    figures: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    for name in names:
        waited = settle()
        print(f"== {name} (after {waited:.1f} s settling)", flush=True)
        module_started = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            measured = module.run()
        except (Exception, SystemExit) as exc:
            # One broken benchmark must not cost the others' figures.
            traceback.print_exc()
            failures.append({"module": name, "error": str(exc) or type(exc).__name__})
            continue
        for figure in measured:
            figure.setdefault("benchmark", name)
        figures.extend(measured)
        print(f"   {name}: {time.monotonic() - module_started:.0f} s", flush=True)
    result = {
        "commit": _commit(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "machine": _machine(),
        "load_average": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
        "figures": figures,
        "failures": failures,
    }
    (HERE / "results.json").write_text(json.dumps(_finite(result), indent=2, default=str) + "\n")
    print()
    print(table(result))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
