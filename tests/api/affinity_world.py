"""A round whose bids and reviewers are about two topics, told apart only by what they wrote:
the bids' keyword lists share nothing with the reviewers' expertise lists, and the topic of a
bid is in its PDF, not in its title or summary."""

import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.identity import Role, User
from models.reviewers import AffinityComputation
from tests.api.uploads import upload_body
from tests.factories import Clock, bearer, make_principal, make_token, ok

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

MARINE = (
    "coral reef restoration in warming oceans: we will breed heat tolerant coral larvae, monitor"
    " reef fish populations and seagrass meadows, and measure ocean acidification along the"
    " coast with autonomous buoys; marine ecology field stations will track coral bleaching"
)
QUANTUM = (
    "fault tolerant quantum computing with superconducting qubits: we will build surface code"
    " error correction, improve qubit coherence and two qubit gate fidelity, and benchmark"
    " quantum algorithms on a cryogenic processor with microwave control electronics"
)
GENERAL = (
    "This project will deliver research results, train young researchers, publish in open"
    " access journals and work with partners in industry over three years."
)


def text_pdf(text: str) -> bytes:
    """A one-page PDF whose page shows ``text`` (Helvetica), as pypdf reads it back."""
    lines = textwrap.wrap(text, 90)
    shown = " ".join(f"({line}) '" for line in lines)
    content = f"BT /F1 10 Tf 12 TL 40 800 Td {shown} ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


class TopicRound:
    """Four bids (0 and 1 marine, 2 and 3 quantum, by their PDFs only) and two panel reviewers
    (``marine``: a statement; ``quantum``: publications), one reviewer per bid, two each."""

    def __init__(self, app: FastAPI, client: TestClient, *, affinity: str = "text") -> None:
        self.app, self.client = app, client
        self.clock = Clock(T0)
        app.state.clock = self.clock
        self.admin_user, _ = make_principal(app, roles=[Role.admin])
        program = ok(
            client.post(
                "/api/v1/programs",
                json={"name": "Science", "description": "Two topics"},
                headers=self.admin,
            ),
            201,
        )
        self.round = ok(
            client.post(
                f"/api/v1/programs/{program['id']}/rounds",
                json={
                    "name": "Call 1",
                    "opens_at": (T0 - timedelta(hours=1)).isoformat(),
                    "submission_deadline": (T0 + timedelta(hours=1)).isoformat(),
                    "grace_seconds": 60,
                    "review_deadline": (T0 + timedelta(days=10)).isoformat(),
                    "criteria": [
                        {"key": "merit", "title": "Merit", "weight": 1, "min": 0, "max": 10}
                    ],
                    "required_documents": [
                        {
                            "kind": "proposal",
                            "title": "Proposal",
                            "content_types": ["application/pdf"],
                            "max_bytes": 10_000_000,
                        }
                    ],
                    "reviewers_per_application": 1,
                    "affinity": affinity,
                },
                headers=self.admin,
            ),
            201,
        )
        self.rid: str = self.round["id"]
        ok(client.post(f"/api/v1/rounds/{self.rid}/open", headers=self.admin))
        self.applicant_users: list[User] = []
        self.apps: list[str] = []
        for i, topic in enumerate([MARINE, MARINE, QUANTUM, QUANTUM]):
            user, headers = make_principal(
                app, roles=[Role.applicant], email=f"lead{i}@org{i}.example.org"
            )
            org = ok(
                client.post(
                    "/api/v1/organizations",
                    json={"name": f"Org {i}", "registration_number": f"R-{i}", "country": "KR"},
                    headers=headers,
                ),
                201,
            )
            application = ok(
                client.post(
                    f"/api/v1/rounds/{self.rid}/applications",
                    json={
                        "title": f"Proposal {i}",
                        "summary": GENERAL,
                        "lead_organization_id": org["id"],
                        "members": [],
                        "keywords": [f"call-1-topic-{i}", "national programme"],
                    },
                    headers=headers,
                ),
                201,
            )
            content_type, body = upload_body(text_pdf(f"{GENERAL} {topic}"))
            ok(
                client.post(
                    f"/api/v1/applications/{application['id']}/documents",
                    content=body,
                    headers={**headers, "Content-Type": content_type},
                ),
                201,
            )
            ok(client.post(f"/api/v1/applications/{application['id']}/submit", headers=headers))
            self.applicant_users.append(user)
            self.apps.append(application["id"])
        self.marine_user, _ = make_principal(
            app, roles=[Role.reviewer], email="m@university-a.ac.kr"
        )
        self.quantum_user, _ = make_principal(
            app, roles=[Role.reviewer], email="q@university-b.ac.kr"
        )
        self.outsider_user, _ = make_principal(
            app, roles=[Role.reviewer], email="o@university-c.ac.kr"
        )
        ok(
            client.put(
                f"/api/v1/reviewers/{self.marine_user.id}/profile",
                json={
                    "expertise": ["oceanography"],
                    "statement": "I study coral bleaching, reef fish and seagrass ecology, and"
                    " ocean acidification on coasts.",
                },
                headers=self.admin,
            )
        )
        ok(
            client.put(
                f"/api/v1/reviewers/{self.quantum_user.id}/profile",
                json={
                    "expertise": ["physics"],
                    "publications": [
                        {
                            "title": "Surface code error correction on superconducting qubits",
                            "abstract": "We raise two qubit gate fidelity and qubit coherence.",
                            "year": 2024,
                        }
                    ],
                },
                headers=self.admin,
            )
        )
        for user in (self.marine_user, self.quantum_user):
            ok(
                client.post(
                    f"/api/v1/rounds/{self.rid}/reviewers",
                    json={"user_id": str(user.id), "max_assignments": 2, "expertise": []},
                    headers=self.admin,
                ),
                201,
            )

    @property
    def admin(self) -> dict[str, str]:
        return bearer(make_token(self.app, self.admin_user))

    @property
    def marine(self) -> dict[str, str]:
        return bearer(make_token(self.app, self.marine_user))

    @property
    def quantum(self) -> dict[str, str]:
        return bearer(make_token(self.app, self.quantum_user))

    @property
    def outsider(self) -> dict[str, str]:
        return bearer(make_token(self.app, self.outsider_user))

    def applicant(self, i: int) -> dict[str, str]:
        return bearer(make_token(self.app, self.applicant_users[i]))

    def start_review(self) -> None:
        self.clock.now = T0 + timedelta(hours=2)
        ok(self.client.post(f"/api/v1/rounds/{self.rid}/start-review", headers=self.admin))

    def compute(self) -> AffinityComputation:
        """Run the background job's work for this round, as the worker would."""
        worker = self.app.state.affinities
        result: AffinityComputation = anyio.run(worker.compute, uuid.UUID(self.rid))
        return result

    def dry_run(self) -> dict[str, Any]:
        result: dict[str, Any] = ok(
            self.client.post(
                f"/api/v1/rounds/{self.rid}/assignments/auto",
                json={"dry_run": True},
                headers=self.admin,
            )
        )
        return result

    def topic_of(self, application_id: str) -> str:
        return "marine" if self.apps.index(application_id) < 2 else "quantum"

    def reviewer_topic(self, reviewer_id: str) -> str:
        return "marine" if reviewer_id == str(self.marine_user.id) else "quantum"
