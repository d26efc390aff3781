"""``shortlist verify-result`` with a round it cannot verify, or a database it cannot read: one
line on stderr, exit 1, no traceback."""

import uuid
from pathlib import Path

import pytest
from sqlmodel import Session

from cli import main as cli
from infra.settings import Settings
from tests.factories import make_round

UNREADABLE = ["no such database", "not migrated"]


@pytest.mark.parametrize("which", ["unknown", "not closed", "not an id", *UNREADABLE])
def test_verify_result_without_a_result_or_a_database_is_one_line_and_exit_1(
    settings: Settings,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    which: str,
) -> None:
    if which == "unknown":
        round_id = str(uuid.uuid4())
    elif which == "not closed":
        round_id = str(make_round(session).id)
    elif which == "not an id":
        round_id = "round-7"
    else:
        round_id = str(uuid.uuid4())
        if which == "no such database":
            url = f"sqlite:///{tmp_path / 'missing' / 'shortlist.db'}"  # its folder is missing
        else:
            (tmp_path / "empty.db").touch()
            url = f"sqlite:///{tmp_path / 'empty.db'}"
        settings = settings.model_copy(update={"database_url": url})
    session.commit()
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["verify-result", round_id]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("verify-result: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    if which in UNREADABLE:
        assert err.startswith("verify-result: cannot read the database (SHORTLIST_DATABASE_URL): ")
