"""Every setting is documented: each field of ``infra.settings.Settings`` has its row in the
README's settings table (``| `SHORTLIST_NAME` | default | meaning |``), and the table names no
setting that does not exist."""

import re
from pathlib import Path

from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(SHORTLIST_[A-Z0-9_]+)` \|[^|\n]*\|[^|\n]*\S[^|\n]*\|$", re.MULTILINE)


def settings_table(readme: str) -> str:
    """The README's ``## Settings`` section, up to the next second-level heading."""
    start = readme.index("\n## Settings\n")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end != -1 else len(readme)]


def documented(readme: str) -> set[str]:
    return set(ROW.findall(settings_table(readme)))


def expected() -> set[str]:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return {f"{prefix}{name}".upper() for name in Settings.model_fields}


def test_every_setting_has_a_row_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = expected() - documented(readme)
    assert not missing, f"settings missing from README.md's settings table: {sorted(missing)}"


def test_the_readme_documents_no_setting_that_does_not_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    unknown = documented(readme) - expected()
    assert not unknown, f"README.md documents settings that do not exist: {sorted(unknown)}"


def test_a_setting_missing_from_the_table_is_caught() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    without_redis = "\n".join(
        line for line in readme.splitlines() if not line.startswith("| `SHORTLIST_REDIS_URL` |")
    )
    assert "SHORTLIST_REDIS_URL" in documented(readme)
    assert expected() - documented(without_redis) == {"SHORTLIST_REDIS_URL"}
