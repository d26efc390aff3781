"""What a submission receipt proves: the SHA-256 of the application's canonical JSON.

Anyone holding the application's content can recompute ``application_sha256`` with
``application_content``: canonical JSON (``submissions.canonical``) of the fields below, with
organizations sorted by id and documents by kind and id.
"""

import hashlib
from collections.abc import Iterable
from typing import Any

from models.applications import Application, ApplicationOrganization
from models.documents import Document
from submissions.canonical import canonical_json


def receipt_documents(documents: Iterable[Document]) -> list[dict[str, Any]]:
    return [
        {"id": str(d.id), "kind": d.kind, "sha256": d.sha256}
        for d in sorted(documents, key=lambda d: (d.kind, str(d.id)))
    ]


def application_content(
    *,
    application: Application,
    organizations: Iterable[ApplicationOrganization],
    documents: Iterable[Document],
) -> dict[str, Any]:
    return {
        "id": str(application.id),
        "round_id": str(application.round_id),
        "lead_organization_id": str(application.lead_organization_id),
        "title": application.title,
        "summary": application.summary,
        "keywords": list(application.keywords),
        "organizations": [
            {"organization_id": str(o.organization_id), "role": o.role, "lead": o.is_lead}
            for o in sorted(organizations, key=lambda o: str(o.organization_id))
        ],
        "documents": receipt_documents(documents),
    }


def application_sha256(
    *,
    application: Application,
    organizations: Iterable[ApplicationOrganization],
    documents: Iterable[Document],
) -> str:
    content = application_content(
        application=application, organizations=organizations, documents=documents
    )
    return hashlib.sha256(canonical_json(content)).hexdigest()
