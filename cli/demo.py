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
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from shortlist_client import AuthenticatedClient, Client
from shortlist_client.api.applications import confirm_member, submit_application
from shortlist_client.api.assignments import auto_assign, list_my_assignments
from shortlist_client.api.audit import verify_audit_chain
from shortlist_client.api.documents import get_document, upload_document
from shortlist_client.api.identity import create_oauth_client, create_user
from shortlist_client.api.oauth import issue_token
from shortlist_client.api.organizations import create_organization
from shortlist_client.api.programs_and_rounds import (
    create_application,
    create_program,
    create_round,
    open_round,
    start_review,
)
from shortlist_client.api.results import close_round, get_results, publish_results
from shortlist_client.api.reviewers import add_round_reviewer, declare_conflict, list_conflicts
from shortlist_client.api.reviews import submit_review, write_review
from shortlist_client.models import (
    ApplicationCreate,
    ApplicationPublic,
    AuditVerification,
    AutoAssignRequest,
    AutoAssignResult,
    CloseRequest,
    ConflictCreate,
    DeclaredConflictPublic,
    DocumentPublic,
    DocumentStatus,
    IssueTokenBody,
    IssueTokenBodyGrantType,
    OAuthClientCreate,
    OAuthClientCreated,
    OAuthTokenResponse,
    OrganizationCreate,
    OrganizationPublic,
    PageConflictPublic,
    PageMyAssignmentPublic,
    Problem,
    ProgramCreate,
    ProgramPublic,
    ResultsAdmin,
    ReviewIn,
    ReviewPublic,
    RoundCreate,
    RoundPublic,
    RoundReviewerCreate,
    RoundReviewerPublic,
    UploadDocumentBody,
    UserCreate,
    UserPublic,
)
from shortlist_client.types import File, Response

from cli.demo_files import REPORT_PATH, save_stage_files
from cli.demo_outbox import DemoOutbox
from cli.demo_record import RECORD_PATH, save_decision_record

T = TypeVar("T")

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
    # Ties Nuri Intelligence at the cut-off: the same total (7.3) and technology score, so
    # the tie-break chain's submitted_at (Nuri bids first) keeps Gaon below the line.
    ("Gaon Models", "gaon.example.kr", ["POSTECH"], (7, 8, 7), "pass"),
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


def expect(response: Response[Any], status: int, kind: type[T]) -> T:
    """The parsed answer of a call that had to answer ``status`` with a ``kind``; anything else
    ends the demo with what the server said."""
    if response.status_code != status or not isinstance(response.parsed, kind):
        raise SystemExit(
            f"expected {status} with a {kind.__name__}, got {response.status_code}: "
            f"{response.content.decode(errors='replace')}"
        )
    return response.parsed


class Api:
    """One caller of the API, through the typed client (``clients/python``): signed in with its
    OAuth client's credentials."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.base_url = base_url
        timeout = httpx.Timeout(30)
        signing_in = Client(
            base_url=base_url, timeout=timeout, httpx_args={"auth": (client_id, client_secret)}
        )
        grant = IssueTokenBody(grant_type=IssueTokenBodyGrantType.CLIENT_CREDENTIALS)
        with signing_in:
            token = expect(
                issue_token.sync_detailed(client=signing_in, body=grant), 200, OAuthTokenResponse
            )
        self.client = AuthenticatedClient(
            base_url=base_url, token=token.access_token, timeout=timeout
        )

    def wait_scanned(self, document: DocumentPublic, timeout: float = 120.0) -> None:
        """A server with a malware scanner answers an upload ``pending_scan`` and scans it in the
        background; it can be submitted once clean."""
        deadline = time.monotonic() + timeout
        while document.status == DocumentStatus.PENDING_SCAN:
            if time.monotonic() > deadline:
                raise SystemExit(f"document {document.id} still pending a scan after {timeout} s")
            time.sleep(0.25)
            document = expect(
                get_document.sync_detailed(document.id, client=self.client), 200, DocumentPublic
            )
        if document.status != DocumentStatus.CLEAN:
            raise SystemExit(f"document {document.id} is {document.status.value}")

    def serves(self, path: str) -> bool:
        """Whether the server has this route, by its OpenAPI document; a server that does not
        publish one (production, unless enabled) is taken to have them all."""
        response = self.client.get_httpx_client().get("/openapi.json")
        if response.status_code == 404:
            return True
        response.raise_for_status()
        return path in response.json()["paths"]

    def as_user(self, user_id: uuid.UUID, name: str, scopes: list[str]) -> "Api":
        body = OAuthClientCreate.from_dict(
            {"name": f"demo: {name}", "scopes": scopes, "user_id": str(user_id)}
        )
        created = expect(
            create_oauth_client.sync_detailed(client=self.client, body=body),
            201,
            OAuthClientCreated,
        )
        return Api(self.base_url, created.client_id, created.client_secret)


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
    *,
    base_url: str,
    admin_id: str,
    admin_secret: str,
    deadline_seconds: float = 20,
    smtp_url: str | None = None,
    output: Path | None = None,
) -> int:
    """Play both stages against the server at ``base_url`` as the admin whose OAuth client is
    ``admin_id``; each round's submission deadline is ``deadline_seconds`` after it opens.
    With ``output``, each stage's report and results workbook are written there."""
    say = print
    admin = Api(base_url, admin_id, admin_secret)
    stamp = datetime.now(UTC).strftime("%H%M%S")
    say(f"Shortlist demo against {base_url}")
    outbox = DemoOutbox(say)
    if admin.serves("/api/v1/webhooks"):
        outbox.start(admin, smtp_url)

    program = expect(
        create_program.sync_detailed(
            client=admin.client,
            body=ProgramCreate(
                name=f"Sovereign AI Foundation Model Program ({stamp})",
                description="Selecting national AI foundation model developers",
            ),
        ),
        201,
        ProgramPublic,
    )
    uses_documents = admin.serves("/api/v1/applications/{application_id}/documents")
    records = admin.serves(RECORD_PATH)

    def new_round(name: str, eligibility: dict[str, Any], size: int) -> RoundPublic:
        now = datetime.now(UTC)
        body = {
            "name": name,
            "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "submission_deadline": (now + timedelta(seconds=deadline_seconds)).isoformat(),
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
        created = expect(
            create_round.sync_detailed(
                program.id, client=admin.client, body=RoundCreate.from_dict(body)
            ),
            201,
            RoundPublic,
        )
        expect(open_round.sync_detailed(created.id, client=admin.client), 200, RoundPublic)
        return created

    applicant_scopes = ["applications:read", "applications:write"]
    reviewer_scopes = ["applications:read", "reviews:read", "reviews:write"]

    # People and organizations.
    leads: list[tuple[str, Api, uuid.UUID, list[uuid.UUID]]] = []
    for name, domain, members, _, _ in CONSORTIA:
        user = expect(
            create_user.sync_detailed(
                client=admin.client,
                body=UserCreate.from_dict(
                    {
                        "email": f"ceo-{stamp}@{domain}",
                        "name": f"CEO of {name}",
                        "roles": ["applicant"],
                    }
                ),
            ),
            201,
            UserPublic,
        )
        api = admin.as_user(user.id, name, applicant_scopes)

        def organization(api: Api, name: str, domains: list[str]) -> uuid.UUID:
            body = OrganizationCreate(
                name=name,
                registration_number=f"KR-{_slug(name)[:6]}",
                country="KR",
                email_domains=domains,
            )
            created = create_organization.sync_detailed(client=api.client, body=body)
            return expect(created, 201, OrganizationPublic).id

        lead_id = organization(api, name, [domain])
        member_ids = [organization(api, member, []) for member in members]
        leads.append((name, api, lead_id, member_ids))

    reviewer_apis: list[tuple[uuid.UUID, str, Api]] = []
    for name, email in REVIEWERS:
        local, domain = email.split("@")
        body = UserCreate.from_dict(
            {"email": f"{local}-{stamp}@{domain}", "name": name, "roles": ["reviewer"]}
        )
        user = expect(create_user.sync_detailed(client=admin.client, body=body), 201, UserPublic)
        reviewer_apis.append((user.id, name, admin.as_user(user.id, name, reviewer_scopes)))

    def bid(
        round_id: uuid.UUID, who: tuple[str, Api, uuid.UUID, list[uuid.UUID]]
    ) -> ApplicationPublic | Problem:
        """The consortium's application, submitted; or the problem that refused it."""
        name, api, lead_id, member_ids = who
        body = ApplicationCreate.from_dict(
            {
                "title": f"{name} national foundation model",
                "summary": "A sovereign LLM",
                "lead_organization_id": str(lead_id),
                "members": [{"organization_id": str(m), "role": "partner"} for m in member_ids],
                "keywords": ["llm", "korean"],
            }
        )
        response = create_application.sync_detailed(
            round_id, client=api.client, body=body, idempotency_key=str(uuid.uuid4())
        )
        if response.status_code != 201 and isinstance(response.parsed, Problem):
            return response.parsed
        application = expect(response, 201, ApplicationPublic)
        for m in member_ids:
            confirmed = confirm_member.sync_detailed(application.id, m, client=api.client)
            expect(confirmed, 200, ApplicationPublic)
        if uses_documents:
            upload = UploadDocumentBody(
                kind="proposal",
                file=File(
                    payload=io.BytesIO(_pdf(name)),
                    file_name="proposal.pdf",
                    mime_type="application/pdf",
                ),
            )
            uploaded = upload_document.sync_detailed(application.id, client=api.client, body=upload)
            api.wait_scanned(expect(uploaded, 201, DocumentPublic))
        submitted = submit_application.sync_detailed(application.id, client=api.client)
        return expect(submitted, 200, ApplicationPublic)

    def review_round(
        round_: RoundPublic,
        scores: dict[uuid.UUID, tuple[tuple[int, int, int], str]],
        declare: bool,
    ) -> dict[str, Any]:
        rid = round_.id
        wait = (round_.submission_deadline - datetime.now(UTC)).total_seconds()
        if wait > 0:
            say(f"  waiting {wait:.0f} s for the submission deadline ...")
            time.sleep(wait + 1)
        expect(start_review.sync_detailed(rid, client=admin.client), 200, RoundPublic)
        for user_id, _, _ in reviewer_apis:
            body = RoundReviewerCreate.from_dict(
                {"user_id": str(user_id), "max_assignments": 4, "expertise": ["llm"]}
            )
            added = add_round_reviewer.sync_detailed(rid, client=admin.client, body=body)
            expect(added, 201, RoundReviewerPublic)
        if declare:
            conflict = ConflictCreate.from_dict(
                {
                    "reviewer_id": str(reviewer_apis[5][0]),
                    "organization_id": str(leads[1][2]),
                    "reason": "advised Mirae Labs in 2025",
                }
            )
            declared = declare_conflict.sync_detailed(rid, client=admin.client, body=conflict)
            expect(declared, 201, DeclaredConflictPublic)
        conflicts = expect(
            list_conflicts.sync_detailed(rid, client=admin.client, limit=100),
            200,
            PageConflictPublic,
        ).items
        say(f"  conflicts: {len(conflicts)}")
        for c in conflicts:
            say(f"    - {c.source}: {c.reason}")
        plan = expect(
            auto_assign.sync_detailed(
                rid, client=admin.client, body=AutoAssignRequest(dry_run=False)
            ),
            200,
            AutoAssignResult,
        )
        say(
            f"  assignments: {len(plan.assignments)} (loads {plan.stats.min_load}"
            f"..{plan.stats.max_load})"
        )
        for _, _, api in reviewer_apis:
            mine = expect(
                list_my_assignments.sync_detailed(client=api.client, round_id=rid, limit=100),
                200,
                PageMyAssignmentPublic,
            ).items
            for assignment in mine:
                (tech, data, impact), gate = scores[assignment.application_id]
                review = ReviewIn.from_dict(
                    {
                        "scores": {"technology": tech, "data": data, "impact": impact},
                        "gates": {"independent": gate},
                        "comment_to_applicant": "Clear plan; strengthen the data section.",
                        "confidential_comment": "Budget looks optimistic.",
                    }
                )
                written = write_review.sync_detailed(assignment.id, client=api.client, body=review)
                expect(written, 201, ReviewPublic)
                submitted = submit_review.sync_detailed(assignment.id, client=api.client)
                expect(submitted, 200, ReviewPublic)
        closing = close_round.sync_detailed(rid, client=admin.client, body=CloseRequest())
        expect(closing, 200, RoundPublic)
        expect(publish_results.sync_detailed(rid, client=admin.client), 200, RoundPublic)
        results = get_results.sync_detailed(rid, client=admin.client)
        return expect(results, 200, ResultsAdmin).to_dict()

    def table(results: dict[str, Any], titles: dict[uuid.UUID, str]) -> None:
        say(f"  inputs sha256 {results['inputs_sha256']}")
        say(f"  {'rank':>4}  {'consortium':<20} {'total':>7}  {'outcome':<12} reason")
        for row in results["ranking"]:
            rank = row["rank"] if row["rank"] is not None else "-"
            total = f"{row['total']:.3f}" if row["total"] is not None else "-"
            outcome = "SHORTLISTED" if row["shortlisted"] else "not selected"
            title = titles[uuid.UUID(row["application_id"])]
            say(f"  {rank!s:>4}  {title:<20} {total:>7}  {outcome:<12} {row['reason']}")

    def keep_files(round_id: uuid.UUID, stage: int) -> None:
        if output is not None and admin.serves(REPORT_PATH):
            http = admin.client.get_httpx_client()
            save_stage_files(http, round_id=round_id, stage=stage, output=output, say=say)
        if output is not None and records:
            http = admin.client.get_httpx_client()
            save_decision_record(http, round_id=round_id, stage=stage, output=output, say=say)

    # Stage 1.
    say("\nStage 1: open call, 6 consortia, 3 to be shortlisted")
    stage1 = new_round("Stage 1: open call", {}, 3)
    titles: dict[uuid.UUID, str] = {}
    scores: dict[uuid.UUID, tuple[tuple[int, int, int], str]] = {}
    for who, (name, _, _, marks, gate) in zip(leads, CONSORTIA, strict=True):
        application = bid(stage1.id, who)
        if isinstance(application, Problem):
            raise SystemExit(f"{name}: refused in stage 1 ({application.type_})")
        titles[application.id] = name
        scores[application.id] = (marks, gate)
        receipt = application.receipt.receipt_id if application.receipt else None
        say(f"  {name}: submitted, receipt {receipt}")
    results1 = review_round(stage1, scores, declare=True)
    table(results1, titles)
    keep_files(stage1.id, 1)
    shortlisted = {
        titles[uuid.UUID(r["application_id"])] for r in results1["ranking"] if r["shortlisted"]
    }

    # Stage 2: the eliminated may bid again; the shortlisted may not.
    say("\nStage 2: additional round for the eliminated (excludes Stage 1's shortlist)")
    stage2 = new_round(
        "Stage 2: additional call", {"exclude_shortlisted_from": [str(stage1.id)]}, 1
    )
    titles2: dict[uuid.UUID, str] = {}
    scores2: dict[uuid.UUID, tuple[tuple[int, int, int], str]] = {}
    for who, (name, _, _, marks, _) in zip(leads, CONSORTIA, strict=True):
        application = bid(stage2.id, who)
        if isinstance(application, Problem):
            say(f"  {name}: refused ({application.type_})")
            assert name in shortlisted
            continue
        titles2[application.id] = name
        tech, data, impact = (min(10, m + 1) for m in marks)
        scores2[application.id] = ((tech, data, impact), "pass")
        say(f"  {name}: submitted")
    results2 = review_round(stage2, scores2, declare=False)
    table(results2, titles2)
    keep_files(stage2.id, 2)
    if admin.serves("/api/v1/audit/verify"):
        verify = expect(
            verify_audit_chain.sync_detailed(client=admin.client), 200, AuditVerification
        )
        say(f"\nAudit chain: ok={verify.ok} length={verify.length}")
    outbox.report()
    say(json.dumps({"stage1": sorted(shortlisted)}))
    return 0
