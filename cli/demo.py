"""``shortlist demo``: a ministry's sovereign AI foundation model competition, played against a
running server through the public API only.

Stage 1: six consortia (a lead company and member organizations each) bid; six reviewers, two of
them conflicted, score a weighted rubric and an "independent development" pass/fail gate; three
are shortlisted. Stage 2: an additional round open to the eliminated and closed to the
shortlisted. The admin's client comes from ``shortlist create-admin`` (the same settings as the
server); everything else is HTTP.
"""

import io
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from cli.demo_outbox import DemoOutbox

# (lead company, its email domain, member organizations, scores (technology, data, impact),
# the "independent development" gate as reviewers judge it)
CONSORTIA = [
    (
        "Hanbit AI",
        "hanbit-ai.example.kr",
        ["Seoul National University", "Daehan Cloud"],
        (9, 8, 9),
        "pass",
    ),
    ("Mirae Labs", "mirae-labs.example.kr", ["KAIST", "Busan Data Center"], (8, 9, 8), "pass"),
    ("Nuri Intelligence", "nuri.example.kr", ["Yonsei University"], (7, 7, 8), "pass"),
    (
        "Saebyeok Systems",
        "saebyeok.example.kr",
        ["Korea University", "Incheon Compute"],
        (9, 9, 9),
        "fail",
    ),
    ("Gaon Models", "gaon.example.kr", ["POSTECH"], (6, 7, 6), "pass"),
    ("Dasom Tech", "dasom.example.kr", ["UNIST", "Jeju Energy"], (5, 6, 7), "pass"),
]
REVIEWERS = [
    ("Dr. Kim Jiwoo", "kim@etri.example.kr"),
    ("Dr. Lee Seoyeon", "lee@kisti.example.kr"),
    ("Prof. Park Minjun", "park@skku.example.kr"),
    ("Dr. Choi Yuna", "choi@nia.example.kr"),
    # Conflicted: a subdomain of Hanbit AI's domain, which its CEO's own address verifies.
    ("Dr. Jung Hyun", "jung@lab.hanbit-ai.example.kr"),
    ("Prof. Kang Dohyun", "kang@inha.example.kr"),  # declares a conflict with Mirae Labs
]
CRITERIA = [
    {"key": "technology", "title": "Technical capability", "weight": 0.4, "min": 0, "max": 10},
    {
        "key": "data",
        "title": "Data and compute plan",
        "weight": 0.3,
        "min": 0,
        "max": 10,
        "threshold": 5,
    },
    {"key": "impact", "title": "National impact", "weight": 0.3, "min": 0, "max": 10},
]


def _slug(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


class Api:
    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.token = self._token(client_id, client_secret)

    def _token(self, client_id: str, client_secret: str) -> str:
        response = self.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        response = self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code != expect:
            raise SystemExit(
                f"{method} {path}: expected {expect}, got {response.status_code}: {response.text}"
            )
        return response.json() if response.content else None

    def serves(self, path: str) -> bool:
        """Whether the server has this route, by its OpenAPI document; a server that does not
        publish one (production, unless enabled) is taken to have them all."""
        response = self.http.get("/openapi.json")
        if response.status_code == 404:
            return True
        response.raise_for_status()
        return path in response.json()["paths"]

    def as_user(self, user_id: str, name: str, scopes: list[str]) -> "Api":
        client = self.call(
            "POST",
            "/api/v1/oauth-clients",
            201,
            json={"name": f"demo: {name}", "scopes": scopes, "user_id": user_id},
        )
        return Api(str(self.http.base_url), client["client_id"], client["client_secret"])


def _pdf(title: str) -> bytes:
    """A small, valid one-page PDF (no external tools)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def run_demo(
    *, base_url: str, admin_id: str, admin_secret: str, smtp_url: str | None = None
) -> int:
    say = print
    admin = Api(base_url, admin_id, admin_secret)
    stamp = datetime.now(UTC).strftime("%H%M%S")
    say(f"Shortlist demo against {base_url}")
    outbox = DemoOutbox(say)
    if admin.serves("/api/v1/webhooks"):
        outbox.start(admin, smtp_url)

    program = admin.call(
        "POST",
        "/api/v1/programs",
        201,
        json={
            "name": f"Sovereign AI Foundation Model Program ({stamp})",
            "description": "Selecting national AI foundation model developers",
        },
    )
    uses_documents = admin.serves("/api/v1/applications/{application_id}/documents")

    def new_round(name: str, eligibility: dict[str, Any], size: int) -> dict[str, Any]:
        now = datetime.now(UTC)
        body = {
            "name": name,
            "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "submission_deadline": (now + timedelta(seconds=20)).isoformat(),
            "grace_seconds": 0,
            "review_deadline": (now + timedelta(days=14)).isoformat(),
            "criteria": CRITERIA,
            "gates": [{"key": "independent", "title": "Independent development (no fine-tune)"}],
            "required_documents": (
                [
                    {
                        "kind": "proposal",
                        "title": "Proposal",
                        "content_types": ["application/pdf"],
                        "max_bytes": 20_000_000,
                    }
                ]
                if uses_documents
                else []
            ),
            "reviewers_per_application": 3,
            "shortlist": {
                "size": size,
                "aggregate": "mean",
                "calibration": "none",
                "tie_break": ["criterion:technology", "submitted_at"],
            },
            "eligibility": eligibility,
            "blind": False,
        }
        created = admin.call("POST", f"/api/v1/programs/{program['id']}/rounds", 201, json=body)
        admin.call("POST", f"/api/v1/rounds/{created['id']}/open")
        return dict(created)

    applicant_scopes = ["applications:read", "applications:write"]
    reviewer_scopes = ["applications:read", "reviews:read", "reviews:write"]

    # People and organizations.
    leads: list[tuple[str, Api, str, list[str]]] = []
    for name, domain, members, _, _ in CONSORTIA:
        user = admin.call(
            "POST",
            "/api/v1/users",
            201,
            json={
                "email": f"ceo-{stamp}@{domain}",
                "name": f"CEO of {name}",
                "roles": ["applicant"],
            },
        )
        api = admin.as_user(user["id"], name, applicant_scopes)
        lead = api.call(
            "POST",
            "/api/v1/organizations",
            201,
            json={
                "name": name,
                "registration_number": f"KR-{_slug(name)[:6]}",
                "country": "KR",
                "email_domains": [domain],
            },
        )
        member_ids = []
        for member in members:
            org = api.call(
                "POST",
                "/api/v1/organizations",
                201,
                json={
                    "name": member,
                    "registration_number": f"KR-{_slug(member)[:6]}",
                    "country": "KR",
                    "email_domains": [],
                },
            )
            member_ids.append(org["id"])
        leads.append((name, api, lead["id"], member_ids))

    reviewer_apis: list[tuple[str, str, Api]] = []
    for name, email in REVIEWERS:
        local, domain = email.split("@")
        user = admin.call(
            "POST",
            "/api/v1/users",
            201,
            json={"email": f"{local}-{stamp}@{domain}", "name": name, "roles": ["reviewer"]},
        )
        reviewer_apis.append((user["id"], name, admin.as_user(user["id"], name, reviewer_scopes)))

    def bid(round_id: str, who: tuple[str, Api, str, list[str]]) -> tuple[int, Any]:
        name, api, lead_id, member_ids = who
        body = {
            "title": f"{name} national foundation model",
            "summary": "A sovereign LLM",
            "lead_organization_id": lead_id,
            "members": [{"organization_id": m, "role": "partner"} for m in member_ids],
            "keywords": ["llm", "korean"],
        }
        response = api.http.post(
            f"/api/v1/rounds/{round_id}/applications",
            json=body,
            headers={"Authorization": f"Bearer {api.token}"},
        )
        if response.status_code != 201:
            return response.status_code, response.json()
        application = response.json()
        for m in member_ids:
            api.call("POST", f"/api/v1/applications/{application['id']}/members/{m}/confirm")
        if uses_documents:
            api.call(
                "POST",
                f"/api/v1/applications/{application['id']}/documents",
                201,
                data={"kind": "proposal"},
                files={"file": ("proposal.pdf", _pdf(name), "application/pdf")},
            )
        submitted = api.call("POST", f"/api/v1/applications/{application['id']}/submit")
        return 201, submitted

    def review_round(
        round_: dict[str, Any], scores: dict[str, tuple[tuple[int, int, int], str]], declare: bool
    ) -> dict[str, Any]:
        rid = round_["id"]
        wait = (
            datetime.fromisoformat(round_["submission_deadline"]) - datetime.now(UTC)
        ).total_seconds()
        if wait > 0:
            say(f"  waiting {wait:.0f} s for the submission deadline ...")
            time.sleep(wait + 1)
        admin.call("POST", f"/api/v1/rounds/{rid}/start-review")
        for user_id, _, _ in reviewer_apis:
            admin.call(
                "POST",
                f"/api/v1/rounds/{rid}/reviewers",
                201,
                json={"user_id": user_id, "max_assignments": 4, "expertise": ["llm"]},
            )
        if declare:
            admin.call(
                "POST",
                f"/api/v1/rounds/{rid}/conflicts",
                201,
                json={
                    "reviewer_id": reviewer_apis[5][0],
                    "organization_id": leads[1][2],
                    "reason": "advised Mirae Labs in 2025",
                },
            )
        conflicts = admin.call("GET", f"/api/v1/rounds/{rid}/conflicts")["items"]
        say(f"  conflicts: {len(conflicts)}")
        for c in conflicts:
            say(f"    - {c['source']}: {c['reason']}")
        plan = admin.call("POST", f"/api/v1/rounds/{rid}/assignments/auto", json={"dry_run": False})
        say(
            f"  assignments: {len(plan['assignments'])} (loads {plan['stats']['min_load']}"
            f"..{plan['stats']['max_load']})"
        )
        for _, _, api in reviewer_apis:
            mine = api.call("GET", "/api/v1/me/assignments", params={"round_id": rid})["items"]
            for assignment in mine:
                (tech, data, impact), gate = scores[assignment["application_id"]]
                api.call(
                    "PUT",
                    f"/api/v1/assignments/{assignment['id']}/review",
                    201,
                    json={
                        "scores": {"technology": tech, "data": data, "impact": impact},
                        "gates": {"independent": gate},
                        "comment_to_applicant": "Clear plan; strengthen the data section.",
                        "confidential_comment": "Budget looks optimistic.",
                    },
                )
                api.call("POST", f"/api/v1/assignments/{assignment['id']}/review/submit")
        admin.call("POST", f"/api/v1/rounds/{rid}/close")
        admin.call("POST", f"/api/v1/rounds/{rid}/publish")
        return dict(admin.call("GET", f"/api/v1/rounds/{rid}/results"))

    def table(results: dict[str, Any], titles: dict[str, str]) -> None:
        say(f"  inputs sha256 {results['inputs_sha256']}")
        say(f"  {'rank':>4}  {'consortium':<20} {'total':>7}  {'outcome':<12} reason")
        for row in results["ranking"]:
            rank = row["rank"] if row["rank"] is not None else "-"
            total = f"{row['total']:.3f}" if row["total"] is not None else "-"
            outcome = "SHORTLISTED" if row["shortlisted"] else "not selected"
            say(
                f"  {rank!s:>4}  {titles[row['application_id']]:<20} {total:>7}  {outcome:<12} "
                f"{row['reason']}"
            )

    # Stage 1.
    say("\nStage 1: open call, 6 consortia, 3 to be shortlisted")
    stage1 = new_round("Stage 1: open call", {}, 3)
    titles: dict[str, str] = {}
    scores: dict[str, tuple[tuple[int, int, int], str]] = {}
    for who, (name, _, _, marks, gate) in zip(leads, CONSORTIA, strict=True):
        _, application = bid(stage1["id"], who)
        titles[application["id"]] = name
        scores[application["id"]] = (marks, gate)
        say(f"  {name}: submitted, receipt {application['receipt']['receipt_id']}")
    results1 = review_round(stage1, scores, declare=True)
    table(results1, titles)
    shortlisted = {titles[r["application_id"]] for r in results1["ranking"] if r["shortlisted"]}

    # Stage 2: the eliminated may bid again; the shortlisted may not.
    say("\nStage 2: additional round for the eliminated (excludes Stage 1's shortlist)")
    stage2 = new_round("Stage 2: additional call", {"exclude_shortlisted_from": [stage1["id"]]}, 1)
    titles2: dict[str, str] = {}
    scores2: dict[str, tuple[tuple[int, int, int], str]] = {}
    for who, (name, _, _, marks, _) in zip(leads, CONSORTIA, strict=True):
        status, application = bid(stage2["id"], who)
        if status != 201:
            say(f"  {name}: refused ({application['type']})")
            assert name in shortlisted
            continue
        titles2[application["id"]] = name
        tech, data, impact = (min(10, m + 1) for m in marks)
        scores2[application["id"]] = ((tech, data, impact), "pass")
        say(f"  {name}: submitted")
    results2 = review_round(stage2, scores2, declare=False)
    table(results2, titles2)
    verify = (
        admin.call("GET", "/api/v1/audit/verify") if admin.serves("/api/v1/audit/verify") else None
    )
    if verify is not None:
        say(f"\nAudit chain: ok={verify['ok']} length={verify['length']}")
    outbox.report()
    say(json.dumps({"stage1": sorted(shortlisted)}))
    return 0
