"""``results.xlsx``: a closed round's decision as a workbook (xlsxwriter), sheets ``Ranking``,
``Reviews`` (one row per submitted review) and ``Conflicts``.

Numbers are written as numbers; each exact decimal the result's hash covers (totals, margins,
aggregates) is written beside its number as text, as spelled in the stored result. Every text
cell goes through the CSV export's ``neutralized`` (titles and names are people's input: a
spreadsheet must never run them as formulas), and is written as a string, never interpreted
(no formulas, no URLs)."""

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from reviewers.desk import Desk
from submissions.canonical import rfc3339
from submissions.exports import neutralized

RANKING_COLUMNS = (
    "rank",
    "application_id",
    "title",
    "total",
    "total_exact",
    "margin",
    "margin_exact",
    "n_reviews",
    "gates_passed",
    "failed_gates",
    "shortlisted",
    "reason",
    "stable",
)


def _write(sheet: Worksheet, row: int, col: int, value: Any) -> None:
    if value is None:
        sheet.write_blank(row, col, None)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, col, float(value))
    else:
        sheet.write_string(row, col, neutralized(str(value)))


def _rows(sheet: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    for c, name in enumerate(header):
        sheet.write_string(0, c, neutralized(name))
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values):
            _write(sheet, r, c, value)
    sheet.freeze_panes(1, 0)


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def results_xlsx(desk: Desk) -> bytes:
    """The workbook's bytes."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties({"title": neutralized(f"Results: {desk.round.name}")})
    keys = [c["key"] for c in desk.inputs["rules"]["criteria"]]
    gates = list(desk.inputs["rules"]["gates"])
    titles = desk.titles

    ranking = workbook.add_worksheet("Ranking")
    _rows(
        ranking,
        [
            *RANKING_COLUMNS,
            *(f"criterion:{k}" for k in keys),
            *(f"criterion:{k}:exact" for k in keys),
        ],
        [
            [
                row["rank"],
                row["application_id"],
                titles.get(row["application_id"], ""),
                _number(row["total"]),
                row["total"],
                _number(row["margin"]),
                row["margin"],
                row["n_reviews"],
                row["gates_passed"],
                ", ".join(row["failed_gates"]),
                row["shortlisted"],
                row["reason"],
                row["stable"],
                *(_number(row["criteria"].get(k)) for k in keys),
                *(row["criteria"].get(k) for k in keys),
            ]
            for row in desk.result["rows"]
        ],
    )

    reviews = workbook.add_worksheet("Reviews")
    _rows(
        reviews,
        [
            "application_id",
            "title",
            "reviewer_id",
            "reviewer",
            *(f"criterion:{k}" for k in keys),
            *(f"gate:{g}" for g in gates),
            "submitted_at",
            "counted",
        ],
        [
            [
                r.application_id,
                r.application,
                r.reviewer_id,
                r.reviewer,
                *(_number(_spelled(r.scores.get(k))) for k in keys),
                *(r.gates.get(g) for g in gates),
                rfc3339(r.submitted_at) if r.submitted_at else None,
                r.counted,
            ]
            for r in desk.reviews
        ],
    )

    conflicts = workbook.add_worksheet("Conflicts")
    ended = {(e.reviewer_id, e.application_id): e.status for e in desk.ended}
    _rows(
        conflicts,
        ["reviewer_id", "reviewer", "application_id", "title", "source", "reason", "assignment"],
        [
            [
                c.reviewer_id,
                c.reviewer,
                c.application_id,
                c.application,
                c.source,
                c.reason,
                ended.get((c.reviewer_id, c.application_id)),
            ]
            for c in desk.conflicts
        ],
    )
    workbook.close()
    return buffer.getvalue()


def _spelled(value: Any) -> str | None:
    """A stored score as the decimal it spells (scores are kept as JSON numbers or text)."""
    if value is None:
        return None
    return str(value)
