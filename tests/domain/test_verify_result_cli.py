"""``shortlist verify-result`` with a round it cannot verify: one line on stderr, exit 1, no
traceback."""

import uuid

import pytest
from sqlmodel import Session

from cli import main as cli
from infra.settings import Settings
from tests.factories import make_round


@pytest.mark.parametrize("which", ["unknown", "not closed", "not an id"])
def test_verify_result_of_a_round_without_a_result_is_one_line_and_exit_1(
    settings: Settings,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    which: str,
) -> None:
    if which == "unknown":
        round_id = str(uuid.uuid4())
    elif which == "not closed":
        round_id = str(make_round(session).id)
    else:
        round_id = "round-7"
    session.commit()
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["verify-result", round_id]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("verify-result: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
