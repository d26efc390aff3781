"""The active-content scan on crafted files: where a reader could find an object that a path
walk would miss, the window boundaries of the scan, and its limits (a file beyond them is refused
as too complex to check, quickly, and never let through)."""

import io
import itertools
import re
import zlib
from collections.abc import Iterator

import pytest
from pypdf import PdfWriter

from submissions import active_content
from submissions.active_content import ActiveContent, ActiveContentScan
from submissions.content import BrokenFile, PdfEncrypted, inspect_pdf
from tests.security.crafted_pdfs import build, javascript_action, objects

JS = javascript_action()


def check(data: bytes) -> None:
    """The check both ways, which must agree: reading the file itself, and fed the file as it
    streams in (in chunks of 64 KiB, as an upload arrives) before finishing with it."""
    read = _outcome(data, fed=False)
    fed = _outcome(data, fed=True)
    assert type(read) is type(fed), (read, fed)
    if read is not None:
        raise read


def _outcome(data: bytes, *, fed: bool) -> Exception | None:
    scan = ActiveContentScan()
    try:
        if fed:
            for start in range(0, len(data), 64 * 1024):
                scan.feed(data[start : start + 64 * 1024])  # refuses as early as it can
        inspect_pdf(io.BytesIO(data), scan=scan)
    except (ActiveContent, BrokenFile, PdfEncrypted) as exc:
        return exc
    return None


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def test_an_object_hidden_in_stream_data_behind_a_short_length_is_found() -> None:
    # A reader that trusts "endstream" over /Length sees object 9; the scan reads every byte.
    hidden = b"endstream\nendobj\n9 0 obj\n" + JS + b"\nendobj\n"
    body = b"<< /Length 4 >>\nstream\nq Q\n" + hidden + b"\nendstream"
    data = build(objects(page=b"/Contents 4 0 R") | {4: body})
    with pytest.raises(ActiveContent):
        check(data)


@pytest.mark.parametrize("shift", [-12, -9, -6, -4, -3, -2, -1, 0, 1, 2, 5])
def test_an_object_at_a_window_boundary_is_found(shift: int) -> None:
    """Object 5's header (``5 0 obj``) placed across, just before and just after the point where
    one window of the scan ends and the next begins."""

    def pdf(padding: int) -> bytes:
        return build(objects() | {4: stream(b"%" * padding), 5: JS})

    window = active_content._WINDOW
    probe = pdf(window)  # the same number of digits in /Length as the file tested
    keyword = probe.index(b"5 0 obj") + len(b"5 0 ")
    data = pdf(window - (keyword - window) + shift)
    assert data.index(b"5 0 obj") + len(b"5 0 ") == active_content._WINDOW + shift
    with pytest.raises(ActiveContent):
        check(data)


def test_an_object_larger_than_a_window_is_read_whole() -> None:
    numbers = b" ".join(b"%d" % i for i in range(400_000))  # about 2.6 MB
    big = b"<< /Type /Action /Widths [" + numbers + b"] /S /Launch /F (x.exe) >>"
    with pytest.raises(ActiveContent):
        check(build(objects() | {4: big}))


def test_an_object_larger_than_the_limit_is_refused_as_too_complex(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(active_content, "MAX_OBJECT_BYTES", 2 * 1024 * 1024)
    numbers = b" ".join(b"%d" % i for i in range(400_000))
    with pytest.raises(BrokenFile, match="too large or complex"):
        check(build(objects() | {4: b"<< /Widths [" + numbers + b"] >>"}))


def test_too_many_tokens_are_refused_as_too_complex(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(active_content, "MAX_TOKENS", 1000)
    numbers = b" ".join(b"%d" % i for i in range(2000))
    with pytest.raises(BrokenFile, match="too large or complex"):
        check(build(objects() | {4: b"[" + numbers + b"]"}))


class _Counted:
    """One of the scanner's patterns, counting the matches it hands out (each is a step of the
    scanner's work: a token, or a parenthesis or escape inside a string)."""

    def __init__(self, pattern: re.Pattern[bytes], work: list[int]) -> None:
        self.pattern, self.work = pattern, work

    def match(self, buffer: bytes, position: int) -> re.Match[bytes] | None:
        self.work[0] += 1
        return self.pattern.match(buffer, position)

    def finditer(self, buffer: bytes, position: int) -> Iterator[re.Match[bytes]]:
        for found in self.pattern.finditer(buffer, position):
            self.work[0] += 1
            yield found


def test_headers_nested_in_strings_cost_a_bounded_work(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each "1 0 obj" inside the string is a place a repairing reader could start an object:
    # parsed from each, the string would cost quadratic work (60,000 restarts, each over the
    # string's 120,000 parentheses); the token budget, spent across every restart rather than
    # per parse, stops it. The work is counted, not timed, under a smaller budget that keeps
    # the test quick. A string is counted once as tokens but may be gone over twice (once more
    # when a window of the file ends inside it): the steps in all stay within twice the budget,
    # plus one string's stops (quadratic work would be thousands of times the budget).
    budget = 200_000
    monkeypatch.setattr(active_content, "MAX_TOKENS", budget)
    work = [0]
    monkeypatch.setattr(active_content, "_TOKEN", _Counted(active_content._TOKEN, work))
    monkeypatch.setattr(
        active_content, "_STRING_STOPS", _Counted(active_content._STRING_STOPS, work)
    )
    depth = 60_000
    nested = b"(1 0 obj " * depth + b")" * depth
    data = build(objects() | {4: nested})
    with pytest.raises(BrokenFile, match="too large or complex"):
        check(data)
    assert budget < work[0] <= 2 * budget + 2 * (2 * depth + 100)


def test_deep_nesting_is_parsed_without_recursion() -> None:
    depth = 50_000
    check(build(objects() | {4: b"[" * depth + b"]" * depth}))
    with pytest.raises(ActiveContent):
        check(build(objects() | {4: b"[" * depth + b"<< /JS (x) >>" + b"]" * depth}))


def test_an_action_type_given_by_reference_is_resolved() -> None:
    data = build(objects(catalog=b"/OpenAction << /S 9 0 R /F (calc.exe) >>") | {9: b"/Launch"})
    with pytest.raises(ActiveContent, match="Launch"):
        check(data)


def test_a_repeated_key_is_seen_in_each_of_its_values() -> None:
    # (pypdf refuses repeated keys in what it reads, and it does not read object 9.)
    data = build(objects() | {9: b"<< /S /GoTo /D [3 0 R /Fit] /S /Launch >>"})
    with pytest.raises(ActiveContent, match="Launch"):
        check(data)


def test_a_trailer_is_looked_at_too() -> None:
    data = build(objects())
    data = data.replace(b"trailer\n<<", b"trailer\n<< /OpenAction << /S /JavaScript >>")
    with pytest.raises(ActiveContent):
        check(data)


def test_an_object_stream_without_its_type_is_still_read() -> None:
    # Not every reader checks /Type /ObjStm; an unreferenced object in it is never read by
    # pypdf, so only the scan sees it. The type is blanked with as many spaces (offsets hold).
    data = build(objects() | {4: JS}, in_object_stream=frozenset({4}))
    data = data.replace(b"/Type /ObjStm", b" " * len(b"/Type /ObjStm"))
    with pytest.raises(ActiveContent):
        check(data)


def test_an_object_stream_header_pointing_inside_a_string_is_refused() -> None:
    # A reader takes object 4 from inside the string, where the scan sees only text.
    inner = b"(x << /S /Launch /F (calc.exe) >> )"
    head = b"4 3\n"
    data = zlib.compress(head + inner)
    body = stream(data, b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode " % len(head))
    pdf = build(objects() | {5: body})
    with pytest.raises(BrokenFile, match="header points inside"):
        check(pdf)


def test_a_listed_object_that_is_not_pdf_syntax_is_refused() -> None:
    # pypdf never reads object 9 (nothing refers to it); a lenient reader might.
    with pytest.raises(BrokenFile, match="no object where the cross-reference says"):
        check(build(objects() | {9: b"<< /S ) /Launch >>"}))


def test_the_words_of_a_harmless_file_are_not_active_content() -> None:
    # Names and text that merely mention active content are not active content.
    text = b"(/JavaScript /Launch /EmbeddedFiles << /JS (x) >> /S /SubmitForm)"
    content = zlib.compress(b"BT " + text + b" Tj ET")
    page = stream(content, b"/Filter /FlateDecode ")
    check(build(objects(page=b"/Contents 4 0 R") | {4: page}))
    check(build(objects() | {4: b"<< /Title " + text + b" /Subject (/S /JavaScript) >>"}))
    uncompressed = stream(b"BT " + text + b" Tj ET")
    check(build(objects(page=b"/Contents 4 0 R") | {4: uncompressed}))


def test_an_object_header_inside_a_string_starts_an_object() -> None:
    # A repairing reader looking for "N G obj" anywhere would take it for one: so does the scan.
    text = b"(see 7 0 obj << /JS (x) >> endobj)"
    with pytest.raises(ActiveContent):
        check(build(objects() | {4: b"<< /Title " + text + b" >>"}))


def _appended(data: bytes, tail: bytes) -> bytes:
    """``data`` with ``tail`` after its end, then its own ``startxref`` repeated (readers look
    for the last one)."""
    startxref = data[data.rindex(b"startxref") :]
    return data + tail + b"\n" + startxref


def test_an_object_after_the_end_of_file_marker_is_found() -> None:
    data = _appended(build(objects()), b"9 0 obj\n" + JS + b"\nendobj\n")
    with pytest.raises(ActiveContent):
        check(data)


def test_an_encrypted_file_with_an_object_stream_it_does_not_list_cannot_be_checked() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    packed = zlib.compress(b"9 0\n" + JS)
    orphan = b"8 0 obj\n" + stream(packed, b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode ")
    data = _appended(out.getvalue(), orphan + b"\nendobj\n")
    inspect_pdf(io.BytesIO(out.getvalue()), allow_encrypted=True)
    with pytest.raises(PdfEncrypted, match="cannot be checked"):
        inspect_pdf(io.BytesIO(data), allow_encrypted=True)


def test_an_object_inside_stream_data_whose_end_is_not_where_length_says_is_found() -> None:
    # /Length runs past the hidden object, but "endstream" is not where it ends: a reader
    # looks for "endstream" and takes what comes before it for objects.
    hidden = b"endstream\nendobj\n9 0 obj\n" + JS + b"\nendobj\n"
    data = b"q Q\n" + hidden + b"% padding " * 20
    body = b"<< /Length %d >>\nstream\n" % (len(data) - 40) + data + b"\nendstream"
    with pytest.raises(ActiveContent):
        check(build(objects(page=b"/Contents 4 0 R") | {4: body}))


def test_stream_data_that_ends_where_length_says_is_data() -> None:
    """Where ``endstream`` follows the data exactly as ``/Length`` says, every reader takes the
    data for data: what looks like an object there is not one, and is not looked at (this is
    what lets the scan skip the bulk of a large file). If a cross-reference pointed there, the
    file would be refused as broken."""
    inside = b"9 0 obj\n" + JS + b"\nendobj\n"
    check(build(objects(page=b"/Contents 4 0 R") | {4: stream(b"q Q\n" + inside)}))


# -- long stream data, passed over as it is fed ----------------------------------------------

LONG = 3 * active_content._WINDOW + 12_345  # stream data over several windows


def _fed_in(data: bytes, cuts: list[int], chunk: int) -> Exception | None:
    """The check fed ``data`` cut at each of ``cuts``, in chunks of at most ``chunk`` between."""
    scan = ActiveContentScan()
    places = sorted({*cuts, *range(0, len(data), chunk), len(data)})
    try:
        for start, end in itertools.pairwise(places):
            scan.feed(data[start:end])
        inspect_pdf(io.BytesIO(data), scan=scan)
    except (ActiveContent, BrokenFile, PdfEncrypted) as exc:
        return exc
    return None


def _long_stream_then(hidden: bytes) -> tuple[bytes, int]:
    """A file whose object 4 holds ``LONG`` bytes of stream data (ending where its /Length
    says), and object 5 ``hidden``; with where that data ends."""
    filler = bytes(range(256)) * (LONG // 256) + b"q" * (LONG % 256)
    data = build(objects(page=b"/Contents 4 0 R") | {4: stream(filler), 5: hidden})
    return data, data.index(filler) + len(filler)


@pytest.mark.parametrize("chunk", [64 * 1024, 256 * 1024 + 7, 1024 * 1024 + 1, 3 * 1024 * 1024])
@pytest.mark.parametrize("shift", [-1025, -1024, -1023, -1, 0, 1, 60])
def test_an_object_right_after_long_stream_data_is_found(chunk: int, shift: int) -> None:
    """Object 5 follows stream data that the scan passes over as it is fed (nothing held, as an
    upload streams in); fed cut just before, at and after where the data ends, whatever the
    chunks, its header and the end of the data are still looked at."""
    data, end = _long_stream_then(JS)
    assert isinstance(_fed_in(data, [end + shift], chunk), ActiveContent)
    harmless, end = _long_stream_then(b"<< /S /GoTo /D [3 0 R /Fit] >>")
    assert _fed_in(harmless, [end + shift], chunk) is None


@pytest.mark.parametrize("chunk", [64 * 1024, 1024 * 1024 + 1])
def test_an_object_deep_in_long_stream_data_whose_end_is_not_where_length_says_is_found(
    chunk: int,
) -> None:
    """/Length covers several windows, and ``endstream`` is not where it ends: the data passed
    over as it was fed is looked at after all, from the stored file, and object 9, two windows
    into it, is found."""
    hidden = b"endstream\nendobj\n9 0 obj\n" + JS + b"\nendobj\n"
    front = b"q Q\n" * (2 * active_content._WINDOW // 4)
    data = front + hidden + b"% padding " * (active_content._WINDOW // 10)
    body = b"<< /Length %d >>\nstream\n" % (len(data) - 40) + data + b"\nendstream"
    pdf = build(objects(page=b"/Contents 4 0 R") | {4: body})
    found = _fed_in(pdf, [], chunk)
    assert isinstance(found, ActiveContent)


@pytest.mark.parametrize("chunk", [64 * 1024, 1024 * 1024 + 1])
def test_a_header_cut_where_length_says_long_stream_data_ends_is_found(chunk: int) -> None:
    """/Length ends the data between ``9 0`` and ``obj``, several windows in, and no
    ``endstream`` follows: a reader looking for ``endstream`` finds object 9, whose header
    begins inside what was passed over (the overlap before the end of the data is kept)."""
    filler = bytes(range(256)) * (LONG // 256)
    data = filler + b"\n9 0 obj\n" + JS + b"\nendobj\n"
    length = len(filler) + len(b"\n9 0 ")
    body = b"<< /Length %d >>\nstream\n" % length + data + b"\nendstream"
    pdf = build(objects(page=b"/Contents 4 0 R") | {4: body})
    end = pdf.index(b"9 0 obj") + len(b"9 0 ")
    assert pdf[end : end + 3] == b"obj"
    assert isinstance(_fed_in(pdf, [end - 1024, end, end + 1], chunk), ActiveContent)


def test_long_stream_data_is_passed_over_as_it_is_fed() -> None:
    """Once a stream's header has been looked at, the bulk of its data is only counted: the
    scan says so (``passes_over``) until an overlap before its end."""
    data, end = _long_stream_then(JS)
    scan = ActiveContentScan()
    chunk = 64 * 1024
    position = 0
    while position + chunk <= 2 * active_content._WINDOW:
        scan.feed(data[position : position + chunk])
        position += chunk
    assert scan.passes_over(chunk)
    assert scan.passes_over(end - active_content._OVERLAP - position)
    assert not scan.passes_over(end - active_content._OVERLAP - position + 1)


@pytest.mark.parametrize("after", ["object", "trailer"])
def test_what_follows_each_of_many_streams_in_one_window_is_looked_at(after: str) -> None:
    """Forty streams in one window, each holding an object and a trailer with active content
    in its data (data, as ``endstream`` follows where /Length says: not looked at, nor even
    searched), and the last of them followed by active content in an object or the trailer."""
    inside = b"9 0 obj\n" + JS + b"\nendobj\ntrailer\n<< /OpenAction << /S /JavaScript >> >>\n"
    streams = {10 + i: stream(inside + bytes(range(256)) * 40) for i in range(40)}
    data = build(objects() | streams)
    check(data)
    if after == "object":
        data = build(objects() | streams | {60: JS})
    else:
        data = data.replace(
            b"trailer\n<< /Size", b"trailer\n<< /OpenAction << /S /JavaScript >> /Size"
        )
    assert len(data) < active_content._WINDOW
    with pytest.raises(ActiveContent):
        check(data)
