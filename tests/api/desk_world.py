"""A closed round for the program officer's desk: five bids, four reviewers (one conflicted),
two reviews each; bid 0 fails the gate (both its reviewers fail it) and bids 3 and 4 tie at the
cut-off (size 3): equal totals and equal ``tech``, so ``submitted_at`` puts bid 3 above the line."""

from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_review_flow import Round, submit_review
from tests.factories import ok

# (tech, team, gate) per bid: totals (2 tech + team) / 3 are 9, 7, 6.33, 6, 6.
MARKS = [(9, 9, "fail"), (8, 5, "pass"), (7, 5, "pass"), (6, 6, "pass"), (6, 6, "pass")]


def review_all(c: Round, client: TestClient, comment: str = "feedback") -> None:
    ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": False}, headers=c.admin
        )
    )
    for _, headers in c.reviewers:
        for assignment in ok(client.get("/api/v1/me/assignments", headers=headers))["items"]:
            tech, team, gate = MARKS[c.apps.index(assignment["application_id"])]
            body: dict[str, Any] = {
                "scores": {"tech": tech, "team": team},
                "gates": {"independent": gate},
                "comment_to_applicant": comment,
                "confidential_comment": comment,
            }
            submit_review(client, assignment, headers, body)


def closed_round(c: Round, client: TestClient, comment: str = "feedback") -> dict[str, Any]:
    """Review, close; the admin's results."""
    c.start_review()
    c.panel()
    review_all(c, client, comment)
    ok(client.post(f"/api/v1/rounds/{c.rid}/close", headers=c.admin))
    results: dict[str, Any] = ok(client.get(f"/api/v1/rounds/{c.rid}/results", headers=c.admin))
    return results
