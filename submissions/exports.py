"""Cells of the files the portal exports (CSV today, any spreadsheet format later), made safe to
open in a spreadsheet: text that applicants choose, such as an application's title, must never
run as a formula there (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``)."""

from collections.abc import Iterable
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the start of a formula (OWASP's list)."""

Cell = str | int | Decimal | bool | None


def neutralized(text: str) -> str:
    """``text`` for a spreadsheet cell: prefixed with ``'`` when it starts with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return, so that it is shown as text and never evaluated."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_cell(value: Cell) -> str:
    """The text of one exported cell. Every text is ``neutralized``, whoever wrote it. A number
    the server computed (``int``, a finite ``Decimal``) is written as the number it is, a
    negative one with its minus sign: a spreadsheet reads ``-0.25`` as a number, and no formula
    can be spelled with digits and one point, so a quote would only turn data into text.
    ``None`` is an empty cell; booleans are ``True`` and ``False``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")
    return neutralized(str(value))


def csv_line(cells: Iterable[Cell]) -> str:
    """One CSV record (RFC 4180, ending with a line feed) of ``export_cell`` texts. A cell
    holding a comma, a double quote, a carriage return or a line feed is quoted (Python's
    ``csv`` module leaves a lone carriage return unquoted when records end with a line feed)."""
    out = []
    for cell in cells:
        text = export_cell(cell)
        if any(c in text for c in ',"\r\n'):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out) + "\n"
