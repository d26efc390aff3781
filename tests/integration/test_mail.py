"""Mail end to end against a real SMTP server on loopback (aiosmtpd): receipts, assignment
notices, review reminders at 72 and 24 hours, outcomes on publish; in each user's language,
plain text and HTML; once per event and recipient even when the server fails once. (That no
mail carries another bidder's bid or outcome: tests/security/test_mail_seal_attacks.py.)"""

import uuid
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.test_review_flow import T0, Round, submit_review
from tests.factories import ok
from tests.smtp_sink import (
    MailPasses,
    Sink,
    app,
    body,
    mail_passes,
    queue_all_mail,
    sink,
    to,
)

__all__ = ["app", "mail_passes", "sink"]  # (fixtures, used by name)


def set_locale(app: FastAPI, user_id: uuid.UUID, locale: str) -> None:
    with app.state.engine.begin() as connection:
        connection.execute(
            sa.text('UPDATE "user" SET locale = :locale WHERE id = :id'),
            {
                "locale": locale,
                "id": user_id if connection.dialect.name == "postgresql" else user_id.hex,
            },
        )


def test_mail_for_a_whole_round(
    app: FastAPI, client: TestClient, sink: tuple[Sink, int], mail_passes: MailPasses
) -> None:
    smtp, _ = sink
    smtp.fail_next = 1  # the first mail is refused once, and retried
    c = Round(app, client)
    # The receipts are composed now, before anyone chooses a language (a mail pass running
    # after set_locale would compose one in Korean: seen under make test-faketime).
    queue_all_mail(app)
    set_locale(app, c.applicant_users[1].id, "ko")
    set_locale(app, c.reviewer_users[0].id, "ko")
    # (Applicant 1 and reviewer 0 read Korean from now on.)
    # The world was made at T0: receipts for the five submissions; the refused one comes later.
    smtp.wait_for(4)
    assert smtp.refused == 1
    c.clock.now = T0 + timedelta(seconds=30)
    receipts = smtp.wait_for(5)
    assert Counter(to(m) for m in receipts) == Counter(u.email for u in c.applicant_users)
    with app.state.engine.connect() as connection:
        hashes = dict(
            connection.execute(
                sa.text(
                    "SELECT a.title, r.application_sha256 FROM receipt r "
                    "JOIN application a ON a.id = r.application_id"
                )
            ).all()
        )
    for i, user in enumerate(c.applicant_users):
        [mail] = [m for m in receipts if to(m) == user.email]
        text, page = body(mail), body(mail, "html")
        # Its own receipt (that it carries nothing of another bid: tests/security/).
        assert hashes[f"Model {i}"] in text
        assert hashes[f"Model {i}"] in page
        assert mail["Message-ID"].endswith("@shortlist.example>")
        # Composed before anyone chose a language: the portal's default.
        assert mail["Content-Language"] == "en"
        assert mail["Subject"] == f"Receipt for “Model {i}”"

    # Review: a notice per assignment, to its reviewer.
    c.start_review()
    c.panel()
    ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": False}, headers=c.admin
        )
    )
    assignments = ok(client.get(f"/api/v1/rounds/{c.rid}/assignments", headers=c.admin))["items"]
    notices = smtp.wait_for(5 + len(assignments))[5:]
    per_reviewer = Counter(a["reviewer_id"] for a in assignments)
    emails = {str(u.id): u.email for u in c.reviewer_users}
    assert Counter(to(m) for m in notices) == Counter(
        {emails[r]: n for r, n in per_reviewer.items()}
    )
    korean = [m for m in notices if to(m) == c.reviewer_users[0].email]
    assert korean
    assert all("심사 배정" in m["Subject"] for m in korean)

    # Reminders: 72 hours before the review deadline, then 24; each once.
    deadline = T0 + timedelta(days=10)
    reviewers_with_work = len(per_reviewer)
    before = len(smtp.messages)
    c.clock.now = deadline - timedelta(hours=71)
    smtp.wait_for(before + reviewers_with_work)
    mail_passes.wait()  # further passes add nothing
    assert len(smtp.messages) == before + reviewers_with_work
    assert all("72" in m["Subject"] for m in smtp.messages[before:])

    # Two reviewers finish; only the others hear at 24 hours.
    done = set()
    for user_id, headers in c.reviewers[:2]:
        for assignment in ok(client.get("/api/v1/me/assignments", headers=headers))["items"]:
            i = c.apps.index(assignment["application_id"])
            submit_review(
                client,
                assignment,
                headers,
                {
                    "scores": {"tech": 9 - i, "team": 5},
                    "gates": {"independent": "pass"},
                    "comment_to_applicant": "ok",
                    "confidential_comment": "secret note",
                },
            )
        done.add(user_id)
    before = len(smtp.messages)
    c.clock.now = deadline - timedelta(hours=23)
    expected = {emails[r] for r in per_reviewer if r not in done}
    late = smtp.wait_for(before + len(expected))[before:]
    assert {to(m) for m in late} == expected
    assert all("24" in m["Subject"] for m in late)

    # Close and publish: each lead owner hears their own outcome, never another's.
    for _user_id, headers in c.reviewers[2:]:
        for assignment in ok(client.get("/api/v1/me/assignments", headers=headers))["items"]:
            i = c.apps.index(assignment["application_id"])
            submit_review(
                client,
                assignment,
                headers,
                {
                    "scores": {"tech": 9 - i, "team": 5},
                    "gates": {"independent": "pass"},
                    "comment_to_applicant": "ok",
                    "confidential_comment": "secret note",
                },
            )
    ok(client.post(f"/api/v1/rounds/{c.rid}/close", headers=c.admin))
    mail_passes.wait()  # whatever the reviews and the close send is sent
    before = len(smtp.messages)
    ok(client.post(f"/api/v1/rounds/{c.rid}/publish", headers=c.admin))
    outcomes = smtp.wait_for(before + 5)[before:]
    results = ok(client.get(f"/api/v1/rounds/{c.rid}/results", headers=c.admin))["ranking"]
    shortlisted = {r["application_id"] for r in results if r["shortlisted"]}
    for i, user in enumerate(c.applicant_users):
        [mail] = [m for m in outcomes if to(m) == user.email]
        text = body(mail)
        assert f"Model {i}" in text
        won = c.apps[i] in shortlisted
        if i == 1:
            assert ("선정되었습니다" in text) == won
        else:
            assert ("has been shortlisted" in text) == won
            assert ("was not selected" in text) == (not won)

    # Exactly once per event and recipient, whatever the passes and the refusal.
    mail_passes.wait()
    keys = Counter((to(m), m["Subject"], body(m)) for m in smtp.messages)
    assert max(keys.values()) == 1
    ids = Counter(m["Message-ID"] for m in smtp.messages)
    assert max(ids.values()) == 1
