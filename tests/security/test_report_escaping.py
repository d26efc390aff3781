"""Hostile text in the program officer's report and workbook: an application title, a reviewer's
name, a declared conflict's reason and a review's comments carrying ``</svg>``, ``<script>``,
an ``<img onerror>`` and a formula. The report shows every one of them as text (the template
autoescapes, matplotlib escapes what it draws in the charts): no element comes out of them, and
the five charts stay five well-closed ``<svg>`` elements; the comments are not in the report at
all. In ``results.xlsx`` each such text is a string cell, neutralized as the CSV's cells."""

import io
import re
import uuid
from html.parser import HTMLParser

import openpyxl
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.desk_world import review_all
from tests.api.test_review_flow import Round
from tests.factories import ok

PAYLOAD = (
    '=HYPERLINK("https://evil.example")</svg></title><script>alert(1)</script>'
    "<img src=x onerror=alert(2)>$\\x$"
)
COMMENT = "</svg><script>alert('comment')</script>"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.started: list[str] = []
        self.ended: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.started.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.ended.append(tag)


def _id(connection: sa.Connection, value: str) -> str:
    return value if connection.dialect.name == "postgresql" else uuid.UUID(value).hex


def test_hostile_text_stays_text_in_the_report_and_the_workbook(
    app: FastAPI, client: TestClient
) -> None:
    c = Round(app, client)
    c.start_review()
    c.panel()
    # The title is the applicant's and the name the reviewer's (from an identity provider);
    # the seal has lifted, so both reach the report as they are stored.
    with app.state.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE application SET title = :t WHERE id = :i"),
            {"t": PAYLOAD, "i": _id(connection, c.apps[3])},
        )
        connection.execute(
            sa.text('UPDATE "user" SET name = :n WHERE id = :i'),
            {"n": PAYLOAD, "i": _id(connection, c.reviewers[0][0])},
        )
    ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/conflicts",
            json={"reviewer_id": c.reviewers[1][0], "application_id": c.apps[1], "reason": PAYLOAD},
            headers=c.admin,
        ),
        201,
    )
    review_all(c, client, comment=COMMENT)
    ok(client.post(f"/api/v1/rounds/{c.rid}/close", headers=c.admin))

    page = client.get(f"/api/v1/rounds/{c.rid}/report", headers=c.admin).text
    assert "<script" not in page.lower()
    assert "alert('comment')" not in page  # comments are not the report's
    tags = Tags()
    tags.feed(page)
    assert "script" not in tags.started
    assert "img" not in tags.started
    assert tags.started.count("svg") == tags.ended.count("svg") == 5
    assert tags.started.count("title") == tags.ended.count("title") == 6  # the page's and 5
    # Shown as text: in the tables (Jinja) and in the charts' labels (matplotlib).
    escaped = "&lt;/svg&gt;&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert page.count(escaped) >= 3  # the ranking, the gate votes, the conflict, the tie
    svgs = re.findall(r"<svg .*?</svg>", page, re.S)
    assert any(
        "=HYPERLINK(&quot;https://evil" in s or '=HYPERLINK("https://evil' in s for s in svgs
    )

    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/api/v1/rounds/{c.rid}/results.xlsx", headers=c.admin).content)
    )
    cells = [
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and "HYPERLINK" in cell.value
    ]
    # The title in Ranking and Reviews, the name in Reviews and Conflicts, the reason.
    assert {c.parent.title for c in cells} == {"Ranking", "Reviews", "Conflicts"}
    for cell in cells:
        assert cell.data_type == "s"
        assert cell.value == "'" + PAYLOAD
