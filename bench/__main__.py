"""Run every benchmark in bench/ (``make bench``).

Each benchmark module exposes ``run() -> list[dict]`` of figures with their baseline and ratio;
the runner writes ``bench/results.json`` and prints a table.
"""

import importlib
import json
import pkgutil
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    figures: list[dict[str, Any]] = []
    names = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", flush=True)
        figures.extend(module.run())
    result = {
        "commit": _commit(),
        "date": datetime.now(UTC).isoformat(),
        "machine": {"platform": platform.platform(), "python": sys.version.split()[0]},
        "figures": figures,
    }
    (HERE / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    if not figures:
        print("no benchmarks yet")
    for f in figures:
        print(
            f"{f['name']:<48} {f['value']:>12.3f} {f.get('unit', ''):<8} "
            f"baseline {f.get('baseline', float('nan')):>12.3f}  "
            f"ratio {f.get('ratio', float('nan')):.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
