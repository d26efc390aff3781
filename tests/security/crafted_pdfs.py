"""Hostile PDFs written byte by byte, as an attacker would craft them: numbered objects, an object
stream with a cross-reference stream, and incremental updates appended to a finished file.

Every file is a valid one-page PDF (pypdf opens it in strict mode); what is hidden in it, and
where, is up to each test. Object bodies are PDF syntax, given as ``bytes``.
"""

import re
import struct
import zlib
from collections.abc import Mapping

CATALOG = 1
PAGES = 2
PAGE = 3

# A one-page document: the catalog, the page tree and the page, to which tests add entries.
BASE: dict[int, bytes] = {
    CATALOG: b"<< /Type /Catalog /Pages 2 0 R >>",
    PAGES: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    PAGE: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << >> >>",
}


def with_entries(body: bytes, entries: bytes) -> bytes:
    """A dictionary body with ``entries`` added before its closing ``>>``."""
    assert body.rstrip().endswith(b">>")
    return body.rstrip()[:-2] + b" " + entries + b" >>"


def objects(**changes: bytes) -> dict[int, bytes]:
    """The base document with entries added: ``catalog=b"/OpenAction 4 0 R"``, ``page=...``."""
    numbers = {"catalog": CATALOG, "pages": PAGES, "page": PAGE}
    out = dict(BASE)
    for name, entries in changes.items():
        out[numbers[name]] = with_entries(out[numbers[name]], entries)
    return out


def _object(number: int, body: bytes) -> bytes:
    return b"%d 0 obj\n" % number + body + b"\nendobj\n"


def _table(entries: Mapping[int, int | None]) -> bytes:
    """A classic cross-reference table for the given objects (``None``: a free entry), one
    subsection per run of consecutive numbers."""
    out = [b"xref\n"]
    numbers = sorted(entries)
    runs: list[list[int]] = []
    for n in numbers:
        if runs and runs[-1][-1] == n - 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    for run in runs:
        out.append(b"%d %d\n" % (run[0], len(run)))
        for n in run:
            offset = entries[n]
            if n == 0:
                out.append(b"0000000000 65535 f\r\n")
            elif offset is None:
                out.append(b"0000000000 00001 f\r\n")
            else:
                out.append(b"%010d 00000 n\r\n" % offset)
    return b"".join(out)


def build(
    bodies: Mapping[int, bytes],
    *,
    in_object_stream: frozenset[int] = frozenset(),
    root: int = CATALOG,
) -> bytes:
    """A complete PDF. Objects named in ``in_object_stream`` are packed, Flate-compressed, into
    one object stream, which needs a cross-reference stream instead of a table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(bodies):
        if number in in_object_stream:
            continue
        offsets[number] = len(out)
        out += _object(number, bodies[number])
    size = max(bodies) + 1
    if not in_object_stream:
        xref_at = len(out)
        out += _table({0: 0, **offsets})
        out += b"trailer\n<< /Size %d /Root %d 0 R >>\n" % (size, root)
        out += b"startxref\n%d\n%%%%EOF\n" % xref_at
        return bytes(out)

    # The object stream: "number offset" pairs, then the objects themselves.
    packed = sorted(in_object_stream)
    header, payload = [], b""
    for number in packed:
        header.append(b"%d %d" % (number, len(payload)))
        payload += bodies[number] + b"\n"
    head = b" ".join(header) + b"\n"
    data = zlib.compress(head + payload)
    stream_number, xref_number = size, size + 1
    offsets[stream_number] = len(out)
    out += _object(
        stream_number,
        b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(packed), len(head), len(data))
        + data
        + b"\nendstream",
    )
    # The cross-reference stream: type 1 (offset), type 2 (in the object stream), type 0 (free).
    offsets[xref_number] = len(out)
    rows = []
    for number in range(xref_number + 1):
        if number in offsets:
            rows.append(struct.pack(">BIH", 1, offsets[number], 0))
        elif number in in_object_stream:
            rows.append(struct.pack(">BIH", 2, stream_number, packed.index(number)))
        else:
            rows.append(struct.pack(">BIH", 0, 0, 0xFFFF if number == 0 else 1))
    table = zlib.compress(b"".join(rows))
    out += _object(
        xref_number,
        b"<< /Type /XRef /Size %d /W [1 4 2] /Root %d 0 R /Filter /FlateDecode /Length %d >>\n"
        b"stream\n" % (xref_number + 1, root, len(table)) + table + b"\nendstream",
    )
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)


def update(
    pdf: bytes,
    bodies: Mapping[int, bytes],
    *,
    freed: frozenset[int] = frozenset(),
    root: int = CATALOG,
) -> bytes:
    """``pdf`` with an incremental update appended: new or replacing objects, objects marked
    free, and a new trailer pointing back (``/Prev``) at the previous cross-reference table."""
    previous = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    size = max(int(re.findall(rb"/Size (\d+)", pdf)[-1]), max([*bodies, *freed]) + 1)
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    entries: dict[int, int | None] = {0: 0}  # the head of the free list, as writers repeat it
    for number in sorted(bodies):
        entries[number] = len(out)
        out += _object(number, bodies[number])
    for number in freed:
        entries[number] = None
    xref_at = len(out)
    out += _table(entries)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\n" % (size, root, previous)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def javascript_action(script: bytes = b"app.alert('pwned');") -> bytes:
    return b"<< /Type /Action /S /JavaScript /JS (" + script + b") >>"
