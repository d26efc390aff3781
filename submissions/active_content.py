"""Active content in a PDF, looked for in every object the file holds, whatever leads to it.

A PDF reader may run what it finds through any path of the object graph, in any revision of an
incrementally updated file, or (when it repairs a file) in objects that no cross-reference lists.
So this follows no path: it reads the file once from start to end and parses, once each, every
indirect object defined anywhere in its bytes (``N G obj``: every revision's, referenced or not,
shared or not), every object packed in an object stream among them, and every trailer; and it
looks at every dictionary in them, however deeply nested. A dictionary is active content when it
is or holds

- a JavaScript action (``/S /JavaScript``, or a ``/JS`` entry in any action) or a document-level
  ``/JavaScript`` name tree;
- a Launch, SubmitForm, ImportData or RichMediaExecute action (``/S``);
- a RichMedia annotation (``/Subtype /RichMedia``, ``/RichMediaContent``, ``/RichMediaSettings``);
- an embedded file: an ``/EmbeddedFiles`` name tree, a file specification with ``/EF``, an
  ``/EmbeddedFile`` stream, a ``/FileAttachment`` annotation;
- an XFA form (``/XFA``): its XML packets can carry scripts, so every XFA form is refused.

Triggers (``/OpenAction``, ``/AA``, ``/A``, ``/Next``) need no rule of their own: whatever action
they lead to is itself one of the dictionaries looked at. Names are compared decoded
(``/J#61vaScript`` is ``/JavaScript``), every entry is seen even when a key is repeated, and an
``/S``, ``/Subtype`` or ``/Type`` given by reference is judged by what the referenced object is.
Links (``/URI``, ``/GoTo``, named actions) and outlines are not active content.

An object is wherever ``N G obj`` stands at a token boundary, even inside another object's string
(a reader repairing a file looks for objects that way): what follows is parsed as an object, and
where it is not PDF syntax it is passed over as the data it is, unless the latest cross-reference
lists an object there (``Malformed``: the file is refused as broken, since a more lenient reader
might make something of it). A stream's data is skipped when ``endstream`` follows it where its
``/Length`` says (every reader takes it for data then); otherwise it is looked at too, since a
reader looking for ``endstream`` would take what is before it for objects. In an encrypted file,
an object stream that the cross-reference does not list cannot be decrypted (``NotDecryptable``:
refused as unchecked).

Memory holds one window of the file (1 MiB) and one object at a time, never the whole file. A
file beyond the limits below is refused as too complex to check (``ScanLimit``), never let
through: the portal answers 422 ``broken-file`` for these, as a file it cannot check.
"""

import bisect
import re
from array import array
from collections import defaultdict
from collections.abc import Iterable
from typing import BinaryIO, NamedTuple

from pypdf import PdfReader
from pypdf.filters import decode_stream_data
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from models.errors import DomainError

MAX_TOKENS = 5_000_000
"""Tokens parsed in one file (objects, names, numbers...; stream data is not tokenized)."""
MAX_OBJECT_BYTES = 16 * 1024 * 1024
"""The largest object (without its stream data) or compressed object stream read at once."""
MAX_DECODED_BYTES = 32 * 1024 * 1024
"""The largest decoded object stream."""
MAX_PARSED_BYTES_PER_FILE_BYTE = 4
"""Bytes parsed (objects, decoded object streams, re-reads) per byte of the file, plus 64 MiB."""

_WINDOW = 1024 * 1024
_OVERLAP = 1024  # longer than the longest object header accepted (10 + 256 + 5 + 256 + 3)
_HEADER_SLACK = 32  # whitespace allowed between a cross-reference offset and its object
# What an indirect object and a dictionary count for beyond their own tokens (the work on them).
_OBJECT_COST = 10
_DICTIONARY_COST = 4

_WHITESPACE = b"\x00\t\n\f\r "
_WS = rb"\x00\t\n\f\r "  # the same, as pattern text
_DELIMITERS = rb"()<>\[\]{}/%"
_REGULAR = rb"[^" + _WS + _DELIMITERS + rb"]"
_DIGITS = b"0123456789"
_IS_REGULAR = re.compile(_REGULAR)
# One token after white space and comments; the group that matched says which kind it is.
_TOKEN = re.compile(
    rb"(?:[" + _WS + rb"]+|%[^\r\n]*)*"
    rb"(?:([+-]?[0-9]{1,18})(?!" + _REGULAR + rb")"  # an integer
    rb"|(/" + _REGULAR + rb"*)"  # a name
    rb"|(<<)|(>>)|(\[)|(\])|(\()|(<)"
    rb"|(" + _REGULAR + rb"+)"  # any other word: a real, a keyword
    rb"|(.))?",  # anything else (a delimiter out of place); nothing at the end
    re.S,
)
_INT, _NAME, _OPEN_DICTIONARY, _CLOSE_DICTIONARY, _OPEN_ARRAY, _CLOSE_ARRAY = 1, 2, 3, 4, 5, 6
_STRING, _HEX, _WORD, _OTHER = 7, 8, 9, 10
_MAY_GO_ON = frozenset({_INT, _NAME, _HEX, _WORD, _OTHER})  # at a buffer's end, may be longer
_HEX_STRING = re.compile(rb"<[0-9A-Fa-f" + _WS + rb"]*>")
_STRING_STOPS = re.compile(rb"\\.|[()]", re.S)
_REAL = re.compile(rb"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM_EOL = re.compile(rb" *(?:\r\n|\n|\r)")
_ENDSTREAM = re.compile(rb"[" + _WS + rb"]*endstream")

# What ends the values of an indirect object (or a trailer) in the file.
_OBJECT_ENDS = frozenset(
    {b"endobj", b"stream", b"endstream", b"obj", b"xref", b"trailer", b"startxref"}
)

_ACTIONS = {
    "/JavaScript": "a JavaScript action",
    "/Launch": "a Launch action",
    "/SubmitForm": "a SubmitForm action",
    "/ImportData": "an ImportData action",
    "/RichMediaExecute": "a RichMedia action",
}
_KEYS = {
    "/JS": "a JavaScript action",
    "/JavaScript": "document-level JavaScript",
    "/EF": "an embedded file",
    "/EmbeddedFiles": "embedded files",
    "/RichMediaContent": "a RichMedia annotation",
    "/RichMediaSettings": "a RichMedia annotation",
    "/XFA": "an XFA form",
}
_TYPED = {
    ("/Subtype", "/RichMedia"): "a RichMedia annotation",
    ("/Subtype", "/FileAttachment"): "an embedded file (file attachment annotation)",
    ("/Type", "/EmbeddedFile"): "an embedded file",
    **{("/S", action): found for action, found in _ACTIONS.items()},
}
_TYPING_KEYS = frozenset(key for key, _ in _TYPED)
_LOOKED_AT = frozenset(_KEYS) | _TYPING_KEYS


class ActiveContent(DomainError):
    status = 415
    type = "active-content"
    title = "Active content"

    def __init__(self, found: str) -> None:
        super().__init__(
            f"the PDF carries active content ({found}): PDFs with JavaScript, Launch, SubmitForm,"
            " ImportData or RichMedia actions, embedded files or XFA forms are not accepted"
        )
        self.found = found


class ScanLimit(Exception):
    """The file is beyond what a check may read."""


class Malformed(Exception):
    """Not PDF syntax where an object must be."""


class NotDecryptable(Exception):
    """An encrypted file's object stream that its cross-reference does not list (so it cannot
    be decrypted), which leaves the file unchecked."""


class Name(str):
    """A PDF name, decoded, with its slash: ``/JavaScript``."""


class Ref(NamedTuple):
    number: int
    generation: int


class _NeedMore(Exception):
    """The buffer ends before the object does."""


_TEXT = b""  # what a string becomes: its content is never looked at
_NUMBER = 0.0  # a real (or an over-long integer): its value is never looked at


def _name(raw: bytes) -> Name:
    if b"#" in raw:
        raw = _NAME_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), raw)
    return Name(raw.decode("latin-1"))


def _finding(key: str, value: object) -> str | None:
    found = _KEYS.get(key)
    if found is None and isinstance(value, Name):
        found = _TYPED.get((key, value))
    return found


class ActiveContentScan:
    """One file's scan: ``feed`` it the file's bytes in order as they arrive (while the file is
    being stored, say), then ``finish`` it with the stored file. What needs the whole file (an
    object longer than what is held, object streams, references) waits for ``finish``; fed
    nothing, ``finish`` reads the file itself. Not for use by two threads at once."""

    def __init__(self) -> None:
        self.tokens = 0
        self.parsed_bytes = 0
        self.fed = 0  # bytes fed so far
        self.object_starts = array("q")  # where objects that parsed begin
        self.typed_by_reference: list[tuple[str, Ref]] = []
        self.names: defaultdict[Ref, set[str]] = defaultdict(set)  # objects that are a name
        self.deferred: list[tuple[int, int, Ref | None]] = []  # (at, body - at, ref)
        self.object_streams: list[tuple[Ref, int, dict[str, object], int]] = []
        self.stream: BinaryIO | None = None
        self.size = 0
        self.reader: PdfReader | None = None
        self._position = 0  # the next window to look at begins here
        self._held = b""  # the file's bytes from _held_at on (what a window still needs)
        self._held_at = 0
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._skip_from = self._skip_to = 0  # the data of the last stream met, skipped
        self._skip_unverified = False
        self._rescan: list[tuple[int, int]] = []  # skipped after all wrongly: look again

    # -- the file, window by window -------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """The file's next bytes. Raises ``ActiveContent`` (or ``ScanLimit``) as soon as it can."""
        self.fed += len(data)
        if self.passes_over(0):
            # Inside the data of a stream met, which no window looks at: a window beyond it
            # needs only the overlap before its end (headers), ``_check_skip`` only what follows
            # it, and a look again (``_rescan``) reads the stored file. Nothing held, nothing
            # copied: most of a large file costs nothing here.
            self._held, self._held_at, self._pending, self._pending_size = b"", self.fed, [], 0
            return
        self._pending.append(data)
        self._pending_size += len(data)
        if self._held_at + len(self._held) + self._pending_size >= (
            self._position + _WINDOW + _OVERLAP
        ):
            self._look(final=False)

    def passes_over(self, size: int) -> bool:
        """Whether the next ``size`` bytes fall inside the data of a stream that is skipped, so
        that ``feed`` only counts them (at once: no need for a worker thread)."""
        return self.fed + size <= self._skip_to - _OVERLAP

    def _look(self, *, final: bool) -> None:
        """Look at every window whose bytes (and the overlap after it) are held."""
        buffer = b"".join([self._held, *self._pending])
        self._pending, self._pending_size = [], 0
        base, end = self._held_at, self._held_at + len(buffer)
        while self._position < end and (final or self._position + _WINDOW + _OVERLAP <= end):
            # Each window owns the keywords (``obj``, ``trailer``) that begin inside it; the
            # overlap before it holds their headers, the one after it their first bytes.
            # (``low`` is negative after ``feed`` dropped skipped data: that data then ends an
            # overlap or more after ``base``, so ``first`` is not.)
            low = self._position - base
            self._check_skip(buffer, base, final)
            first = max(low, self._skip_to - base)
            if first >= low + _WINDOW:  # the whole window is skipped stream data
                self._position += _WINDOW
                continue
            keywords = _Keywords(buffer, low + _WINDOW)
            keyword = keywords.next(first)
            while keyword >= 0:
                found = _definition_at(buffer, keyword, final)
                if found is not None:
                    self._definition(buffer, base, *found, final=final, may_skip=True)
                    self._check_skip(buffer, base, final)
                # The data of a stream met here is skipped: not even searched.
                keyword = keywords.next(max(keyword + 1, self._skip_to - base))
            self._position += _WINDOW
        keep = max(self._position - _OVERLAP, base)
        self._held, self._held_at = buffer[keep - base :], keep

    def finish(self, stream: BinaryIO, *, size: int, reader: PdfReader) -> None:
        """Scan what is left of the file in ``stream`` (``size`` bytes, opened as ``reader``,
        decrypted if encrypted) and raise ``ActiveContent`` for the first active content found
        in it. Also raises ``ScanLimit``, ``Malformed`` (an object the latest cross-reference
        lists, or an object stream, is not PDF syntax) and ``NotDecryptable``."""
        if 0 < self.fed != size:  # fed other bytes than the file's: start again from the file
            ActiveContentScan().finish(stream, size=size, reader=reader)
            return
        self.stream, self.size, self.reader = stream, size, reader
        if not self.fed:
            for start in range(0, size, _WINDOW):
                self.feed(self._read(start, _WINDOW))
        self._look(final=True)
        self._held = b""
        for start, end in self._rescan:
            self._look_again(start, end)
        for at, body, ref in self.deferred:
            buffer = self._read(at, _WINDOW)
            self._definition(buffer, at, 0, body, ref, final=at + len(buffer) >= size)
        for object_stream in self.object_streams:
            self._object_stream(*object_stream)
        self._check_typed_by_reference()
        self._check_listed_objects_parsed()

    def _check_skip(self, buffer: bytes, base: int, final: bool) -> None:
        """Whether the stream data skipped last really ends where its ``/Length`` says, once that
        place is held: if ``endstream`` is not there, a reader looking for it would take the
        bytes skipped for objects, so they are looked at after all (in ``finish``)."""
        if not self._skip_unverified:
            return
        at = self._skip_to - base
        if at + 64 > len(buffer) and not final:
            return
        self._skip_unverified = False
        if not _ENDSTREAM.match(buffer, at):
            self._rescan.append((self._skip_from, self._skip_to))

    def _look_again(self, start: int, end: int) -> None:
        """Look at the bytes ``[start, end)`` of the stored file (stream data not skipped after
        all), skipping nothing."""
        for window in range(start, end, _WINDOW):
            at = max(window - _OVERLAP, 0)
            stop = min(window + _WINDOW, end)
            buffer = self._read(at, stop - at + _OVERLAP)
            final = at + len(buffer) >= self.size
            keywords = _Keywords(buffer, stop - at)
            keyword = keywords.next(window - at)
            while keyword >= 0:
                found = _definition_at(buffer, keyword, final)
                if found is not None:
                    self._definition(buffer, at, *found, final=final)
                keyword = keywords.next(keyword + 1)

    def _read(self, start: int, length: int) -> bytes:
        assert self.stream is not None
        self.stream.seek(start)
        return self.stream.read(length)

    def _definition(
        self,
        buffer: bytes,
        base: int,
        begin: int,
        body: int,
        ref: Ref | None,
        *,
        final: bool,
        may_skip: bool = False,
    ) -> None:
        """An indirect object ``ref`` (or a trailer, ``None``) whose header begins at
        ``buffer[begin]`` (the file's byte ``base + begin``) and whose values at ``body``.
        ``may_skip``: the data of its stream, if it has one of a known length, is skipped."""
        at = base + begin
        while True:
            try:
                values, stop, after = self._values(buffer, body, final=final)
                break
            except _NeedMore:
                if self.stream is None:  # the rest of it has not come yet
                    self.deferred.append((at, body - begin, ref))
                    return
                length = max(2 * (len(buffer) - begin), _WINDOW)
                if length > MAX_OBJECT_BYTES:
                    raise ScanLimit("an object is too large to check") from None
                buffer = self._read(at, length)
                final = at + len(buffer) >= self.size
                base, begin, body = at, 0, body - begin
            except Malformed:
                # Not an object after all (a header's bytes inside stream data or a string); if
                # a cross-reference lists this place, the final check says so.
                return
        if ref is None:
            return
        self.tokens += _OBJECT_COST
        self.object_starts.append(at)
        if values and isinstance(values[0], Name):
            self.names[ref].add(values[0])
        head = values[0] if values else None
        if stop != b"stream" or not isinstance(head, dict):
            return
        if _is_object_stream(head):
            self.object_streams.append((ref, at, head, base + after))
        declared = head.get("/Length")
        eol = _STREAM_EOL.match(buffer, after)
        if may_skip and type(declared) is int and declared > 0 and eol is not None:
            # Stream data (most of a large file) holds no objects: skipped, once its end is
            # seen where /Length says (``_check_skip``).
            self._skip_from = base + eol.end()
            self._skip_to = self._skip_from + declared
            self._skip_unverified = True

    # -- object streams ----------------------------------------------------------------------

    def _object_stream(self, ref: Ref, at: int, head: dict[str, object], after: int) -> None:
        assert self.reader is not None
        if self.reader.is_encrypted:
            data = self._decrypted_object_stream(ref, at)
        else:
            data = self._decoded_object_stream(head, after)
        if len(data) > MAX_DECODED_BYTES:
            raise ScanLimit("an object stream is too large to check")
        self._count_bytes(len(data))
        values, starts, _, _ = self._parse(data, 0, final=True, ends=frozenset())
        # Readers take each packed object at /First plus its offset from the stream's header:
        # each such place must be where a value begins, so that what they read is what was
        # looked at (every byte of the stream was, whatever the header says).
        first, count = head.get("/First"), head.get("/N")
        if type(first) is not int or type(count) is not int or not 0 <= 2 * count <= len(values):
            raise Malformed("an object stream's header is not PDF syntax")
        index_at = {start: i for i, start in enumerate(starts)}
        for i in range(count):
            number, offset = values[2 * i], values[2 * i + 1]
            if type(number) is not int or type(offset) is not int:
                raise Malformed("an object stream's header is not PDF syntax")
            index = index_at.get(first + offset)
            if index is None:
                raise Malformed("an object stream's header points inside its objects")
            packed = values[index]
            if isinstance(packed, Name):
                self.names[Ref(number, 0)].add(packed)

    def _stream_length(self, head: dict[str, object]) -> int:
        length = head.get("/Length")
        if isinstance(length, Ref):
            assert self.reader is not None
            resolved = self.reader.get_object(IndirectObject(*length, self.reader))
            length = int(resolved) if isinstance(resolved, NumberObject) else None
        if type(length) is not int or length < 0:
            raise Malformed("an object stream has no length")
        return length

    def _decoded_object_stream(self, head: dict[str, object], after: int) -> bytes:
        length = self._stream_length(head)
        if length > MAX_OBJECT_BYTES:
            raise ScanLimit("an object stream is too large to check")
        self._count_bytes(length)
        eol = _STREAM_EOL.match(self._read(after, 64))
        if eol is None:
            raise Malformed("stream data must follow an end of line")
        data = self._read(after + eol.end(), length)
        stream = StreamObject()
        for key in ("/Filter", "/DecodeParms"):
            if key in head:
                stream[NameObject(key)] = _pypdf(head[key])
        stream.set_data(data)
        return decode_stream_data(stream)

    def _decrypted_object_stream(self, ref: Ref, at: int) -> bytes:
        assert self.reader is not None
        listed = self.reader.xref.get(ref.generation, {}).get(ref.number)
        if listed is None or not 0 <= at - listed <= _HEADER_SLACK:
            raise NotDecryptable
        stream = self.reader.get_object(IndirectObject(*ref, self.reader))
        if not isinstance(stream, StreamObject):
            raise Malformed("an object stream is not a stream")
        return stream.get_data()

    # -- the last checks ------------------------------------------------------------------

    def _check_typed_by_reference(self) -> None:
        for key, ref in self.typed_by_reference:
            for name in self.names.get(ref, ()):
                found = _finding(key, name)
                if found is not None:
                    raise ActiveContent(found)

    def _check_listed_objects_parsed(self) -> None:
        """Every object the latest cross-reference lists must be one that was parsed (an
        object only a more lenient reader could make sense of would go unchecked)."""
        assert self.reader is not None
        starts = sorted(self.object_starts)  # objects read late come last
        for offsets in self.reader.xref.values():
            for offset in offsets.values():
                i = bisect.bisect_left(starts, offset)
                if i == len(starts) or starts[i] - offset > _HEADER_SLACK:
                    raise Malformed(f"no object where the cross-reference says (byte {offset})")

    # -- the syntax -----------------------------------------------------------------------

    def _count_bytes(self, count: int) -> None:
        self.parsed_bytes += count
        limit = MAX_PARSED_BYTES_PER_FILE_BYTE * max(self.fed, self.size) + 64 * 1024 * 1024
        if self.parsed_bytes > limit:
            raise ScanLimit("the PDF is too complex to check")

    def _values(
        self, buffer: bytes, position: int, *, final: bool
    ) -> tuple[list[object], bytes | None, int]:
        values, _, stop, end = self._parse(buffer, position, final=final, ends=_OBJECT_ENDS)
        if stop == b"obj" and len(values) >= 2:
            del values[-2:]  # the next object's number and generation
        return values, stop, end

    def _parse(
        self, buffer: bytes, position: int, *, final: bool, ends: frozenset[bytes]
    ) -> tuple[list[object], list[int], bytes | None, int]:
        """The values from ``position`` until a keyword in ``ends`` (or the end of a final
        buffer): the values, where each begins, the keyword, and where parsing stopped. Every
        dictionary met is looked at as soon as it closes."""
        top: list[object] = []
        starts: list[int] = []
        frames: list[list[object]] = [top]
        kinds: list[int] = []  # _OPEN_ARRAY or _OPEN_DICTIONARY for each open one
        openings: list[int] = []  # where each of them opens
        size, start, tokens = len(buffer), position, 0
        budget = MAX_TOKENS - self.tokens
        try:
            while True:
                match = _TOKEN.match(buffer, position)
                assert match is not None  # the pattern matches the empty string
                kind, position = match.lastindex, match.end()
                if kind is None:  # nothing but white space and comments up to the end
                    if not final:
                        raise _NeedMore
                    if kinds:
                        raise Malformed("an array or dictionary is not closed")
                    return top, starts, None, position
                if position == size and not final and kind in _MAY_GO_ON:
                    raise _NeedMore
                tokens += 1
                if tokens > budget:
                    raise ScanLimit("the PDF is too complex to check")
                begin = match.start(kind)
                value: object
                if kind == _INT:
                    value = int(match.group(kind))
                elif kind == _NAME:
                    value = _name(match.group(kind))
                elif kind in (_OPEN_DICTIONARY, _OPEN_ARRAY):
                    frames.append([])
                    kinds.append(kind)
                    openings.append(begin)
                    continue
                elif kind == _CLOSE_DICTIONARY:
                    if not kinds or kinds.pop() != _OPEN_DICTIONARY:
                        raise Malformed("a dictionary is not closed as it was opened")
                    begin = openings.pop()
                    tokens += _DICTIONARY_COST
                    value = self._dictionary(frames.pop())
                elif kind == _CLOSE_ARRAY:
                    if not kinds or kinds.pop() != _OPEN_ARRAY:
                        raise Malformed("an array is not closed as it was opened")
                    begin = openings.pop()
                    value = frames.pop()
                elif kind == _STRING:
                    position, stops = _string_end(buffer, begin, final)
                    tokens += stops
                    value = _TEXT
                elif kind == _HEX:
                    hex_string = _HEX_STRING.match(buffer, begin)
                    if hex_string is None:
                        if buffer.find(b">", begin) < 0 and not final:
                            raise _NeedMore
                        raise Malformed("a hexadecimal string is not PDF syntax")
                    value, position = _TEXT, hex_string.end()
                elif kind == _WORD:
                    word = match.group(kind)
                    if word == b"R":
                        items = frames[-1]
                        if (
                            len(items) < 2
                            or type(items[-1]) is not int
                            or type(items[-2]) is not int
                        ):
                            raise Malformed("a reference is not PDF syntax")
                        generation = items.pop()
                        value = Ref(items.pop(), generation)  # type: ignore[arg-type]
                        if not kinds:
                            starts.pop()
                            begin = starts.pop()
                    elif _REAL.fullmatch(word) or word.lstrip(b"+-").isdigit():
                        value = _NUMBER
                    elif word in (b"true", b"false"):
                        value = word == b"true"
                    elif word == b"null":
                        value = None
                    elif word in ends and not kinds:
                        return top, starts, word, position
                    else:
                        raise Malformed("a keyword out of place")
                else:
                    raise Malformed("a delimiter out of place")
                frames[-1].append(value)
                if not kinds:
                    starts.append(begin)
        finally:
            self.tokens += tokens
            self._count_bytes(max(position - start, 0))

    def _dictionary(self, items: list[object]) -> dict[str, object]:
        keys, values = items[0::2], items[1::2]
        if len(keys) != len(values):
            raise Malformed("a dictionary has a key without a value")
        if set(map(type, keys)) - {Name}:
            raise Malformed("a dictionary key is not a name")
        out: dict[str, object] = dict(zip(keys, values, strict=True))  # type: ignore[arg-type]
        if len(out) == len(keys):
            pairs: Iterable[tuple[str, object]] = ((k, out[k]) for k in _LOOKED_AT & out.keys())
        else:  # a key is repeated: each of its values is looked at
            pairs = zip(keys, values, strict=True)  # type: ignore[arg-type]
        for key, value in pairs:
            found = _finding(key, value)
            if found is not None:
                raise ActiveContent(found)
            if isinstance(value, Ref) and key in _TYPING_KEYS:
                self.typed_by_reference.append((key, value))
        return out


def _string_end(buffer: bytes, position: int, final: bool) -> tuple[int, int]:
    """Where the literal string opening at ``position`` ends (balanced parentheses, with
    backslash escapes), and how many parentheses and escapes it holds (each counts as a
    token)."""
    depth = 0
    for stops, match in enumerate(_STRING_STOPS.finditer(buffer, position), start=1):
        token = match.group()
        if token == b"(":
            depth += 1
        elif token == b")":
            depth -= 1
            if depth == 0:
                return match.end(), stops
    if not final:
        raise _NeedMore
    raise Malformed("a string is not closed")


class _Keywords:
    """Where ``obj`` and ``trailer`` begin in ``buffer`` before ``high``, in order, found with
    ``bytes.find`` (far faster than a pattern) from wherever the caller goes on: no byte is
    searched twice, and bytes it jumps over (skipped stream data, most of a large file) are
    never searched."""

    def __init__(self, buffer: bytes, high: int) -> None:
        self.buffer, self.high = buffer, high
        self.obj = -2  # the next "obj" at or after the last ``at`` (-1: none before ``high``)

    def next(self, at: int) -> int:
        """The first place at or after ``at`` where a keyword begins (``at`` never goes back);
        -1 when there is none."""
        if -1 != self.obj < at:
            self.obj = self.buffer.find(b"obj", at, self.high + 2)
        # "trailer" is looked for only up to the next "obj", so nothing is searched twice.
        before = self.high if self.obj < 0 else self.obj
        trailer = self.buffer.find(b"trailer", at, before + 6)
        return self.obj if trailer < 0 else trailer


def _definition_at(buffer: bytes, keyword: int, final: bool) -> tuple[int, int, Ref | None] | None:
    """``(header start, body start, ref)`` for the object header ``N G obj`` (ref ``None``
    for ``trailer``) whose keyword is at ``buffer[keyword]``, or ``None`` if none is there."""
    is_trailer = buffer.startswith(b"trailer", keyword)
    end = keyword + (7 if is_trailer else 3)
    if end < len(buffer):
        if _IS_REGULAR.match(buffer, end):
            return None
    elif not final:
        return None  # cannot happen: a window reads past what it owns
    if is_trailer:
        if keyword > 0 and _IS_REGULAR.match(buffer, keyword - 1):
            return None
        return keyword, end, None
    # N, white space, G, white space before "obj": walked back byte by byte (a pattern searched
    # over the bytes before would try every place they could start, a cost in files dense with
    # headers). The limits are those of readers: 10 and 5 digits, runs of 256 white spaces.
    generation_end = _back(buffer, keyword, _WHITESPACE, 256)
    generation_start = _back(buffer, generation_end, _DIGITS, 5)
    number_end = _back(buffer, generation_start, _WHITESPACE, 256)
    number_start = _back(buffer, number_end, _DIGITS, 10)
    if (
        generation_end == keyword
        or generation_start == generation_end
        or number_end == generation_start
        or number_start == number_end
        or (number_start > 0 and buffer[number_start - 1] in _DIGITS)
    ):
        return None
    number = int(buffer[number_start:number_end])
    generation = int(buffer[generation_start:generation_end])
    return number_start, end, Ref(number, generation)


def _back(buffer: bytes, position: int, allowed: bytes, limit: int) -> int:
    """Where the run of at most ``limit`` bytes in ``allowed`` that ends at ``position``
    begins."""
    stop = max(position - limit, 0)
    while position > stop and buffer[position - 1] in allowed:
        position -= 1
    return position


def _is_object_stream(head: dict[str, object]) -> bool:
    # Readers find an object stream by number, and not all of them check its /Type.
    return head.get("/Type") == "/ObjStm" or ("/N" in head and "/First" in head)


def _pypdf(value: object) -> PdfObject:
    """A parsed filter or decoding parameter as pypdf's decoders take it."""
    if isinstance(value, Name):
        return NameObject(value)
    if isinstance(value, bool):
        return BooleanObject(value)
    if isinstance(value, int):
        return NumberObject(value)
    if isinstance(value, float):
        return FloatObject(value)
    if value is None:
        return NullObject()
    if isinstance(value, list):
        return ArrayObject(_pypdf(item) for item in value)
    if isinstance(value, dict):
        return DictionaryObject({NameObject(k): _pypdf(v) for k, v in value.items()})
    raise Malformed("an object stream's filter is not PDF syntax")


def find_active_content(stream: BinaryIO, *, size: int, reader: PdfReader) -> None:
    """``ActiveContentScan.finish`` on a whole file, read from ``stream``."""
    ActiveContentScan().finish(stream, size=size, reader=reader)
