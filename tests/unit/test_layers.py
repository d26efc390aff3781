"""The house's contracts hold, and fail on a planted violation: import-linter's layers, the
fastapi/starlette edge and the ban on circles (``[tool.importlinter]`` in pyproject.toml), and
ruff's ban on fastapi and starlette outside api/ and on their private modules anywhere
(``banned-api``, api/ruff.toml). Each check runs the tool, as ``make lint`` does, on a copy of
the packages and their configuration in a temporary directory."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "api",
    "cli",
    "identity",
    "infra",
    "notifications",
    "reviewers",
    "submissions",
    "models",
)
TOOLS = Path(sys.executable).parent


@pytest.fixture
def house(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for config in ("pyproject.toml", "tests/ruff.toml"):
        (tmp_path / config).parent.mkdir(exist_ok=True)
        shutil.copy(ROOT / config, tmp_path / config)
    return tmp_path


def plant(house: Path, module: str, line: str) -> None:
    with (house / module).open("a") as file:
        file.write(f"\n{line}\n")


def lint_imports(house: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TOOLS / "lint-imports"), "--no-cache"],
        cwd=house,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def banned_imports(house: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(TOOLS / "ruff"),
            "check",
            "--no-cache",
            "--select",
            "TID251",
            "--output-format",
            "concise",
            ".",
        ],
        cwd=house,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_house_keeps_its_contracts(house: Path) -> None:
    result = lint_imports(house)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 5 kept, 0 broken." in result.stdout
    banned = banned_imports(house)
    assert banned.returncode == 0, banned.stdout + banned.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract", "named"),
    [
        ("submissions/rounds.py", "import api.app", "Layers", "submissions.rounds -> api.app"),
        (
            "models/base.py",
            "import submissions.audit",
            "Layers",
            "models.base -> submissions.audit",
        ),
        (
            "submissions/rounds.py",
            "import reviewers.pool",
            "Layers",
            "submissions.rounds -> reviewers.pool",
        ),
        (
            "reviewers/pool.py",
            "from infra.settings import Settings",
            "Layers",
            "reviewers.pool -> infra.settings",
        ),
        ("infra/db.py", "import identity.tokens", "Layers", "infra.db -> identity.tokens"),
        ("cli/main.py", "import api.security", "Layers", "cli.main -> api.security"),
        (
            "reviewers/pool.py",
            "import fastapi",
            "Only api imports fastapi",
            "reviewers.pool -> fastapi",
        ),
        (
            "identity/oauth/login.py",
            "from starlette.responses import HTMLResponse",
            "Only api imports fastapi or starlette",
            "identity.oauth.login -> starlette",
        ),
        (
            "identity/oauth/grants.py",
            "from identity.oauth import server",
            "No import circle",
            ".server -> .grants",
        ),
        (
            "infra/jobs/scans.py",
            "from infra.jobs.sqlite import ScanWorker",
            "No import circle",
            "infra.jobs",
        ),
        (
            "reviewers/decision/ranking.py",
            "from models.rounds import Round",
            "The decision core is pure",
            "reviewers.decision.ranking -> models.rounds",
        ),
        (
            "reviewers/decision/canonical.py",
            "from submissions.canonical import rfc3339",
            "The decision core is pure",
            "reviewers.decision.canonical -> submissions.canonical",
        ),
        (
            "reviewers/decision/types.py",
            "import sqlalchemy",
            "The decision core is pure",
            "reviewers.decision.types -> sqlalchemy",
        ),
        (
            "reviewers/decision/validation.py",
            "from sqlmodel import Session",
            "The decision core is pure",
            "reviewers.decision.validation -> sqlmodel",
        ),
        (
            "reviewers/decision/stability.py",
            "from reviewers.pool import load_round",
            "The decision core is pure",
            "reviewers.decision.stability -> reviewers.pool",
        ),
        (
            "reviewers/planner.py",
            "from models.errors import Unprocessable",
            "The assignment planner is pure",
            "reviewers.planner -> models.errors",
        ),
    ],
)
def test_a_planted_import_breaks_its_contract(
    house: Path, module: str, line: str, contract: str, named: str
) -> None:
    plant(house, module, line)
    result = lint_imports(house)
    assert result.returncode != 0, result.stdout
    broken = [row for row in result.stdout.splitlines() if " BROKEN" in row]
    assert any(row.startswith(contract) for row in broken), result.stdout
    assert named in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "banned"),
    [
        ("submissions/seal.py", "from fastapi import FastAPI", "`fastapi` is banned"),
        ("infra/storage/base.py", "import starlette.responses", "`starlette` is banned"),
        (
            "api/routes/me.py",
            "from starlette._utils import get_route_path",
            "`starlette._utils` is banned",
        ),
        (
            "api/http/etag.py",
            "from fastapi._compat import ModelField",
            "`fastapi._compat` is banned",
        ),
        (
            "tests/test_planted.py",
            "from starlette._exception_handler import wrap_app_handling_exceptions",
            "`starlette._exception_handler` is banned",
        ),
        (
            "models/base.py",
            "from pydantic._internal import _repr",
            "`pydantic._internal` is banned",
        ),
    ],
)
def test_a_planted_import_is_banned(house: Path, module: str, line: str, banned: str) -> None:
    plant(house, module, line)
    result = banned_imports(house)
    assert result.returncode != 0, result.stdout
    lines = [row for row in result.stdout.splitlines() if row.startswith(f"{module}:")]
    assert len(lines) == 1, result.stdout
    assert banned in lines[0]


def test_fastapi_and_starlette_are_the_edges_own(house: Path) -> None:
    plant(house, "api/routes/me.py", "from starlette.responses import HTMLResponse")
    plant(house, "tests/test_planted.py", "from fastapi.testclient import TestClient")
    result = banned_imports(house)
    assert result.returncode == 0, result.stdout
