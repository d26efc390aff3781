"""The text of an application's documents, for text affinity. Pure: bytes in, text out.

PDFs are read with pypdf (lenient: a page it cannot read is skipped, and a file it cannot read
at all gives no text rather than an error; uploads were checked strictly when accepted). Text is
cut at ``max_chars``: a proposal's first pages say what it is about.
"""

import io
from typing import Final

from pypdf import PdfReader

MAX_DOCUMENT_CHARS: Final = 200_000
MAX_DOCUMENT_BYTES: Final = 64 * 1024 * 1024
MAX_PAGES: Final = 200


def document_text(data: bytes, content_type: str, *, max_chars: int = MAX_DOCUMENT_CHARS) -> str:
    """The document's text (empty for a type or file that gives none)."""
    if content_type == "text/plain":
        return data[: max_chars * 4].decode("utf-8", errors="replace")[:max_chars]
    if content_type != "application/pdf":
        return ""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return ""
        parts: list[str] = []
        size = 0
        for page in reader.pages[:MAX_PAGES]:
            try:
                text = page.extract_text() or ""
            except Exception:  # one unreadable page does not spoil the rest
                text = ""
            parts.append(text)
            size += len(text)
            if size >= max_chars:
                break
        return "\n".join(parts)[:max_chars]
    except Exception:  # whatever a malformed file makes the parser raise
        return ""
