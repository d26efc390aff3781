"""Export cells on plain values: neutralized text, numbers as numbers, CSV quoting."""

import csv
import io
from decimal import Decimal

import pytest

from submissions.exports import Cell, csv_line, export_cell, neutralized


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\n=1", "\n=1"),  # not a formula start; quoted by the CSV writer instead
        ("a=1", "a=1"),
        (" =1", " =1"),
        ("'=1", "'=1"),
        ("", ""),
    ],
)
def test_text_that_starts_like_a_formula_is_prefixed(text: str, cell: str) -> None:
    assert neutralized(text) == cell
    assert export_cell(text) == cell


def test_numbers_the_server_computed_stay_numbers() -> None:
    assert export_cell(Decimal("-0.250000000000")) == "-0.250000000000"
    assert export_cell(Decimal("7.5")) == "7.5"
    assert export_cell(-3) == "-3"
    assert export_cell(True) == "True"
    assert export_cell(None) == ""
    # Not a finite number: text, and neutralized as text.
    assert export_cell(Decimal("-Infinity")) == "'-Infinity"


def test_csv_lines_quote_what_would_break_a_record() -> None:
    cells: list[Cell] = ["a\rb", "c\nd", 'say "hi"', "x,y", "plain", "-2+3", Decimal("-1.5"), None]
    line = csv_line(cells)
    assert line == '"a\rb","c\nd","say ""hi""","x,y",plain,\'-2+3,-1.5,\n'
    assert list(csv.reader(io.StringIO(line, newline=""))) == [
        ["a\rb", "c\nd", 'say "hi"', "x,y", "plain", "'-2+3", "-1.5", ""]
    ]
