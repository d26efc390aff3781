"""``make bench``'s table: a figure's verdict from its own ``ok``, else from its numeric target
(below it, or at least it when higher is better)."""

from bench.__main__ import _verdict, table


def test_a_figure_without_ok_is_judged_against_its_numeric_target() -> None:
    assert _verdict({"value": 0.75, "target": 1.0}) == "meets"
    assert _verdict({"value": 1.2, "target": 1.0}) == "MISSES"
    assert _verdict({"value": 1.0, "target": 0.9, "higher_is_better": True}) == "meets"
    assert _verdict({"value": 0.5, "target": 0.9, "higher_is_better": True}) == "MISSES"


def test_a_figure_s_own_ok_wins_and_no_target_means_no_verdict() -> None:
    assert _verdict({"value": 5.0, "target": 1.0, "ok": True}) == "meets"
    assert _verdict({"value": 0.1, "target": "(informative)"}) == ""
    assert _verdict({"value": 0.1}) == ""


def test_the_table_shows_the_direction_of_the_target() -> None:
    result = {
        "commit": "c",
        "date": "d",
        "seconds": 1.0,
        "machine": {"cpu": "x", "cores": 2, "memory_gib": 1, "platform": "p", "python": "3"},
        "load_average": {"start": 0.1, "end": 0.2},
        "figures": [
            {"name": "share", "value": 1.0, "target": 0.9, "higher_is_better": True},
            {"name": "time", "value": 2.0, "unit": "s", "target": 1.0},
        ],
        "failures": [],
    }
    lines = table(result).splitlines()
    share = next(line for line in lines if line.startswith("share"))
    time = next(line for line in lines if line.startswith("time"))
    assert ">= 0.9" in share
    assert share.endswith("meets")
    assert "< 1.0 s" in time
    assert time.endswith("MISSES")
