"""Content checks on plain values: sniffing, type agreement, PDF inspection, file names,
Content-Disposition and byte ranges."""

import io
import re
import struct
import zipfile
from urllib.parse import unquote

import pytest
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, TextStringObject

from submissions.active_content import ActiveContent
from submissions.blobs import (
    RangeNotSatisfiable,
    check_key,
    new_blob_key,
    parse_byte_range,
)
from submissions.content import (
    BrokenFile,
    PdfEncrypted,
    UnsupportedMediaType,
    check_media_type,
    content_disposition,
    inspect_pdf,
    sanitize_filename,
    sniff_media_type,
)

PDF = "application/pdf"
ONLY_PDF = frozenset({PDF})


def make_pdf(*, pages: int = 1) -> PdfWriter:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    return writer


def pdf_bytes(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def windows_executable() -> bytes:
    """The start of a PE file: an MZ stub whose header points at a PE signature for i386."""
    dos = bytearray(b"MZ" + b"\x00" * 126)
    dos[0x3C:0x40] = struct.pack("<I", 0x80)
    pe = b"PE\x00\x00" + struct.pack("<HHIIIHH", 0x14C, 3, 0, 0, 0, 0xE0, 0x102)
    return bytes(dos) + pe + b"\x00" * 512


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("budget.txt", "not a PDF")
    return out.getvalue()


# -- sniffing and type agreement ----------------------------------------------------------------


def test_a_generated_pdf_sniffs_as_pdf_and_passes() -> None:
    data = pdf_bytes(make_pdf(pages=2))
    sniffed = sniff_media_type(data)
    assert sniffed == PDF
    stored = check_media_type(
        sniffed=sniffed, filename="proposal.pdf", declared=PDF, allowed=ONLY_PDF
    )
    assert stored == PDF
    report = inspect_pdf(io.BytesIO(data))
    assert (report.pages, report.encrypted) == (2, False)


def test_a_windows_executable_named_pdf_is_415() -> None:
    sniffed = sniff_media_type(windows_executable())
    assert sniffed in {"application/vnd.microsoft.portable-executable", "application/x-dosexec"}
    with pytest.raises(UnsupportedMediaType) as caught:
        check_media_type(sniffed=sniffed, filename="budget.pdf", declared=PDF, allowed=ONLY_PDF)
    assert caught.value.status == 415
    assert caught.value.type == "unsupported-media-type"
    assert sniffed in caught.value.detail


def test_a_zip_named_pdf_is_415() -> None:
    sniffed = sniff_media_type(zip_archive())
    assert sniffed == "application/zip"
    with pytest.raises(UnsupportedMediaType):
        check_media_type(sniffed=sniffed, filename="budget.pdf", declared=None, allowed=ONLY_PDF)


def test_an_allowed_type_under_another_extension_is_415() -> None:
    with pytest.raises(UnsupportedMediaType, match=r"extension \.docx"):
        check_media_type(sniffed=PDF, filename="proposal.docx", declared=None, allowed=ONLY_PDF)


@pytest.mark.parametrize("declared", ["image/png", "application/zip", "text/plain"])
def test_a_declared_part_type_that_disagrees_is_415(declared: str) -> None:
    with pytest.raises(UnsupportedMediaType, match="declared type"):
        check_media_type(sniffed=PDF, filename="a.pdf", declared=declared, allowed=ONLY_PDF)


@pytest.mark.parametrize(
    "declared",
    [None, "", "application/octet-stream", "APPLICATION/PDF; charset=binary", "application/x-pdf"],
)
def test_undeclared_octet_stream_and_aliases_are_accepted(declared: str | None) -> None:
    assert (
        check_media_type(sniffed=PDF, filename="a.PDF", declared=declared, allowed=ONLY_PDF) == PDF
    )


def test_a_name_without_extension_is_judged_by_content_alone() -> None:
    assert (
        check_media_type(sniffed=PDF, filename="proposal", declared=None, allowed=ONLY_PDF) == PDF
    )


def test_csv_sniffed_as_plain_text_is_stored_as_the_kind_allows() -> None:
    sniffed = sniff_media_type(b"region,amount\nnorth,10\nsouth,20\n")
    assert sniffed in {"text/csv", "text/plain"}
    allowed = frozenset({"text/csv"})
    assert check_media_type(sniffed="text/plain", filename="b.csv", declared=None, allowed=allowed)
    assert (
        check_media_type(
            sniffed=sniffed, filename="b.csv", declared="application/vnd.ms-excel", allowed=allowed
        )
        == "text/csv"
    )
    with pytest.raises(UnsupportedMediaType):
        check_media_type(sniffed="text/plain", filename="b.txt", declared=None, allowed=allowed)


def test_an_office_document_is_told_from_a_plain_zip() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<document/>")
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert sniff_media_type(out.getvalue()) == docx
    assert check_media_type(
        sniffed=docx, filename="cv.docx", declared=None, allowed=frozenset({docx})
    )


# -- PDF inspection -----------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [60, 400])
def test_a_truncated_pdf_is_broken(cut: int) -> None:
    data = pdf_bytes(make_pdf())
    truncated = data[: len(data) - cut]
    assert sniff_media_type(truncated) == PDF  # the name and the magic say PDF; the body does not
    with pytest.raises(BrokenFile) as caught:
        inspect_pdf(io.BytesIO(truncated))
    assert caught.value.status == 422
    assert caught.value.type == "broken-file"


def test_a_pdf_with_a_corrupt_cross_reference_table_is_broken() -> None:
    data = pdf_bytes(make_pdf())
    start = data.rindex(b"startxref")
    corrupt = data[:start] + b"startxref\n99999999\n%%EOF\n"
    with pytest.raises(BrokenFile):
        inspect_pdf(io.BytesIO(corrupt))


def test_garbage_after_a_pdf_header_is_broken() -> None:
    with pytest.raises(BrokenFile):
        inspect_pdf(io.BytesIO(b"%PDF-1.7\n" + b"\x00garbage" * 200 + b"\n%%EOF\n"))


def test_an_encrypted_pdf_is_refused_unless_allowed() -> None:
    writer = make_pdf()
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    data = pdf_bytes(writer)
    with pytest.raises(PdfEncrypted) as caught:
        inspect_pdf(io.BytesIO(data))
    assert caught.value.type == "pdf-encrypted"
    # Allowing encryption is not enough: a password-protected file cannot be checked for active
    # content, and active content is never allowed.
    with pytest.raises(PdfEncrypted, match="cannot be checked"):
        inspect_pdf(io.BytesIO(data), allow_encrypted=True)


def test_a_pdf_encrypted_without_user_password_is_still_inspected() -> None:
    writer = make_pdf()
    writer.add_open_action(JavaScript("app.alert('owner-only encryption');"))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    data = pdf_bytes(writer)
    with pytest.raises(ActiveContent):
        inspect_pdf(io.BytesIO(data), allow_encrypted=True)
    # Encrypted without a user password and harmless, it passes when encryption is allowed.
    writer = make_pdf(pages=2)
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    report = inspect_pdf(io.BytesIO(pdf_bytes(writer)), allow_encrypted=True)
    assert (report.encrypted, report.pages) == (True, 2)


def test_document_level_javascript_is_refused_as_active_content() -> None:
    writer = make_pdf()
    writer.add_open_action(JavaScript("app.alert('hello');"))
    data = pdf_bytes(writer)
    with pytest.raises(ActiveContent) as caught:
        inspect_pdf(io.BytesIO(data))
    assert caught.value.status == 415
    assert caught.value.type == "active-content"
    assert "JavaScript" in caught.value.found
    assert f"({caught.value.found})" in caught.value.detail
    assert "hello" not in str(caught.value)


def _javascript_action() -> DictionaryObject:
    return DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("this.submitForm('https://example.invalid');"),
        }
    )


def test_an_open_action_script_is_found() -> None:
    writer = make_pdf()
    writer.root_object[NameObject("/OpenAction")] = _javascript_action()
    with pytest.raises(ActiveContent):
        inspect_pdf(io.BytesIO(pdf_bytes(writer)))


def test_a_script_behind_a_link_annotation_on_a_later_page_is_found() -> None:
    writer = make_pdf(pages=3)
    rect = ArrayObject([FloatObject(10), FloatObject(10), FloatObject(100), FloatObject(40)])
    link = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): rect,
            NameObject("/A"): _javascript_action(),
        }
    )
    writer.add_annotation(page_number=2, annotation=link)
    with pytest.raises(ActiveContent):
        inspect_pdf(io.BytesIO(pdf_bytes(writer)))


def test_a_page_trigger_script_is_found() -> None:
    writer = make_pdf(pages=2)
    writer.pages[1][NameObject("/AA")] = DictionaryObject({NameObject("/O"): _javascript_action()})
    with pytest.raises(ActiveContent):
        inspect_pdf(io.BytesIO(pdf_bytes(writer)))


def test_a_script_in_an_outline_item_is_found() -> None:
    writer = make_pdf(pages=2)
    writer.add_outline_item(title="Budget", page_number=1)
    item = writer.add_outline_item(title="Run me", page_number=0)
    outline_item = item.get_object()
    assert isinstance(outline_item, DictionaryObject)
    outline_item[NameObject("/A")] = _javascript_action()
    with pytest.raises(ActiveContent):
        inspect_pdf(io.BytesIO(pdf_bytes(writer)))


def test_harmless_links_and_outlines_are_not_active_content() -> None:
    writer = make_pdf(pages=2)
    writer.add_outline_item(title="Budget", page_number=1)
    rect = ArrayObject([FloatObject(10), FloatObject(10), FloatObject(100), FloatObject(40)])
    uri = DictionaryObject(
        {
            NameObject("/S"): NameObject("/URI"),
            NameObject("/URI"): TextStringObject("https://example.org/"),
        }
    )
    link = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): rect,
            NameObject("/A"): uri,
        }
    )
    writer.add_annotation(page_number=0, annotation=link)
    report = inspect_pdf(io.BytesIO(pdf_bytes(writer)))
    assert report.pages == 2


# -- file names and Content-Disposition ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\budget.pdf", "budget.pdf"),
        ("C:\\Users\\ana\\Desktop\\Proposal final.pdf", "Proposal final.pdf"),
        ("report\x00\x07.pdf", "report.pdf"),
        ("two\nlines\r\n.pdf", "two lines .pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # a right-to-left override hiding ".exe"
        ("zero\u200bwidth.pdf", "zerowidth.pdf"),
        ('what?<is>:"this"|*.pdf', "what__is___this___.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("trailing dots... ", "trailing dots"),
        ("CON.pdf", "_CON.pdf"),
        ("Prüfbericht 2024.pdf", "Prüfbericht 2024.pdf"),
        ("", "document"),
        (None, "document"),
        ("../..", "document"),
        ("/", "document"),
    ],
)
def test_sanitize_filename(raw: str | None, safe: str) -> None:
    assert sanitize_filename(raw) == safe


def test_sanitize_filename_limits_length_and_keeps_the_extension() -> None:
    name = sanitize_filename("x" * 1000 + ".pdf", max_length=100)
    assert len(name) == 100
    assert name.endswith("xx.pdf")


def test_sanitize_filename_is_idempotent() -> None:
    for raw in ["../../etc/passwd.pdf", "a\u202eb.pdf", "  spaced  out  .pdf", "ü" * 300 + ".pdf"]:
        once = sanitize_filename(raw)
        assert sanitize_filename(once) == once


_DISPOSITION = re.compile(
    r"""(\w+); filename="([^"\\]*)"; filename\*=UTF-8''([A-Za-z0-9%!#$&+.^_`|~-]+)"""
)


def _parse_disposition(value: str) -> tuple[str, str, str]:
    match = _DISPOSITION.fullmatch(value)
    assert match is not None, value
    return match.group(1), match.group(2), unquote(match.group(3))


def test_content_disposition_for_a_plain_name() -> None:
    value = content_disposition("report.pdf")
    assert value == "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"


@pytest.mark.parametrize(
    ("name", "fallback", "exact"),
    [
        ("Prüfbericht 2024.pdf", "Prufbericht 2024.pdf", "Prüfbericht 2024.pdf"),
        ("사업계획서.pdf", "download.pdf", "사업계획서.pdf"),
        ("100% budget.pdf", "100_ budget.pdf", "100% budget.pdf"),
        ("../../etc/passwd.pdf", "passwd.pdf", "passwd.pdf"),
        ('say "hi"; x=1.pdf', "say _hi_; x=1.pdf", "say _hi_; x=1.pdf"),
    ],
)
def test_content_disposition_carries_an_ascii_fallback_and_the_exact_name(
    name: str, fallback: str, exact: str
) -> None:
    value = content_disposition(name)
    assert value.isascii()
    assert "\r" not in value
    assert "\n" not in value
    assert _parse_disposition(value) == ("attachment", fallback, exact)


def test_content_disposition_percent_encodes_everything_outside_attr_char() -> None:
    value = content_disposition("a b;c'd.pdf")
    assert value.endswith("filename*=UTF-8''a%20b%3Bc%27d.pdf")


# -- keys and byte ranges -----------------------------------------------------------------------


def test_blob_keys_are_generated_under_their_prefix() -> None:
    first, second = new_blob_key("documents"), new_blob_key("documents")
    assert first != second
    prefix, fan, token = first.split("/")
    assert prefix == "documents"
    assert len(token) == 32
    assert token.startswith(fan)
    assert check_key(first) == first


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "/abs/key", "a//b", ".hidden/x", "a/./b", "a/../b", "", "a b"]
)
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="not a blob key"):
        check_key(key)


@pytest.mark.parametrize("prefix", ["", "../x", "Documents", "a//b", "x/"])
def test_malformed_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        new_blob_key(prefix)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-99", (0, 100)),
        ("bytes=100-", (100, 1000)),
        ("bytes=-10", (990, 1000)),
        ("bytes=-5000", (0, 1000)),
        ("bytes=990-5000", (990, 1000)),
        ("BYTES = 5 - 9", (5, 10)),
        ("bytes=0-1,5-6", None),  # multiple ranges: the whole representation instead
        ("items=0-5", None),
        ("bytes=9-3", None),
        ("bytes=-", None),
        ("bytes=abc", None),
        ("bytes=²-5", None),
    ],
)
def test_parse_byte_range(header: str | None, expected: tuple[int, int] | None) -> None:
    parsed = parse_byte_range(header, 1000)
    assert (None if parsed is None else (parsed.start, parsed.end)) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=1000-", 1000), ("bytes=-0", 1000)])
def test_unsatisfiable_ranges_are_416_with_the_size(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_byte_range(header, size)
    assert caught.value.status == 416
    assert caught.value.headers == {"Content-Range": f"bytes */{size}"}


def test_content_range_header_of_a_range() -> None:
    parsed = parse_byte_range("bytes=10-19", 100)
    assert parsed is not None
    assert parsed.length == 10
    assert parsed.content_range(100) == "bytes 10-19/100"
