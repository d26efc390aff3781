"""A streaming ``multipart/form-data`` reader for uploads: small fields first, then one file part
whose bytes pass straight through, never buffered whole and never spooled to disk.

An upload route reads the form, checks the fields, and hands the file's chunk stream to the
domain, which sniffs it, streams it into the blob store and inspects it::

    reader = MultipartReader.from_request(request, limits=LIMITS)
    form = await read_upload_form(reader, fields={"kind"}, file="file")
    rule = ...  # the document kind's rule, from form.fields["kind"]
    form.check_declared_size(rule.max_bytes)  # 413 at once when Content-Length proves it
    upload = await store_checked_upload(chunks=form.file_chunks(), filename=form.file.filename,
                                        declared_type=form.file.content_type, rule=rule, ...)
    ...  # the row, written only now that the blob is durable

The file's stream ends only once the whole body has been read and found well formed, so a
trailing part, a missing closing boundary or a client that goes away raise inside the stream,
and the blob store's write aborts, leaving nothing behind.
"""

from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Collection, Mapping
from dataclasses import dataclass

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from models.errors import DomainError, Unprocessable
from submissions.blobs import ContentTooLarge


@dataclass(frozen=True, slots=True)
class MultipartLimits:
    max_parts: int = 16
    max_field_bytes: int = 64 * 1024  # one non-file field's value
    max_header_bytes: int = 16 * 1024  # all the headers of one part
    max_body_bytes: int | None = None  # the whole body, counted as it arrives


class MultipartRequired(DomainError):
    status = 415
    type = "multipart-required"
    title = "Multipart form data required"


class MalformedMultipart(DomainError):
    status = 400
    type = "malformed-multipart"
    title = "Malformed multipart body"


class TooManyParts(DomainError):
    status = 400
    type = "too-many-parts"
    title = "Too many form parts"


class FieldTooLarge(DomainError):
    status = 413
    type = "field-too-large"
    title = "Form field too large"


class ClientDisconnected(DomainError):
    """The client went away mid-body; nobody reads the answer, but the upload is abandoned."""

    status = 400
    type = "client-disconnected"
    title = "Client disconnected"


@dataclass(slots=True)
class _PartStart:
    name: str
    filename: str | None
    content_type: str | None
    headers: dict[str, str]


class _PartEnd:
    pass


_END = _PartEnd()
_Event = _PartStart | bytes | _PartEnd


class MultipartReader:
    """Pulls parts out of a body stream one at a time, with every size and count bounded."""

    def __init__(
        self,
        body: AsyncIterable[bytes],
        *,
        content_type: str | None,
        content_length: int | None = None,
        limits: MultipartLimits = MultipartLimits(),
    ) -> None:
        media, params = parse_options_header(content_type or "")
        boundary = params.get(b"boundary")
        if media != b"multipart/form-data" or not boundary:
            raise MultipartRequired("send the upload as multipart/form-data with a boundary")
        if (
            content_length is not None
            and limits.max_body_bytes is not None
            and content_length > limits.max_body_bytes
        ):
            raise ContentTooLarge(f"the request body is larger than {limits.max_body_bytes} bytes")
        self.limits = limits
        self.content_length = content_length
        self.closing_size = len(boundary) + 8  # CRLF "--" boundary "--" CRLF
        self.received = 0  # body bytes read so far
        self._body = aiter(body)
        self._events: deque[_Event] = deque()
        self._parts = 0
        self._header_bytes = 0
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, str] = {}
        self._finished = False  # the parser saw the closing boundary
        self._exhausted = False  # the body stream ended
        self._current: Part | None = None
        try:
            self._parser = MultipartParser(
                boundary,
                {
                    "on_part_begin": self._on_part_begin,
                    "on_header_field": self._on_header_field,
                    "on_header_value": self._on_header_value,
                    "on_header_end": self._on_header_end,
                    "on_headers_finished": self._on_headers_finished,
                    "on_part_data": self._on_part_data,
                    "on_part_end": self._on_part_end,
                    "on_end": self._on_end,
                },
            )
        except FormParserError as exc:
            raise MalformedMultipart(f"unusable multipart boundary: {exc}") from exc

    @classmethod
    def from_request(
        cls,
        request: Request,
        *,
        limits: MultipartLimits = MultipartLimits(),
    ) -> "MultipartReader":
        length = request.headers.get("content-length")
        return cls(
            _request_body(request),
            content_type=request.headers.get("content-type"),
            content_length=int(length) if length and length.isdigit() else None,
            limits=limits,
        )

    # -- parser callbacks (run inside ``parser.write``) ------------------------------------------

    def _on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > self.limits.max_parts:
            raise TooManyParts(f"a form may have at most {self.limits.max_parts} parts")
        self._header_bytes = 0
        self._headers = {}

    def _count_header(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.limits.max_header_bytes:
            raise MalformedMultipart("a part's headers are too large")

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header(end - start)
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        name = self._header_name.decode("latin-1").strip().lower()
        self._headers[name] = self._header_value.decode("latin-1").strip()
        self._header_name.clear()
        self._header_value.clear()

    def _on_headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get("content-disposition"))
        if disposition != b"form-data" or b"name" not in params:
            raise MalformedMultipart("every part needs Content-Disposition: form-data; name=...")
        filename = params.get(b"filename")
        self._events.append(
            _PartStart(
                name=_text(params[b"name"]),
                filename=_text(filename) if filename is not None else None,
                content_type=self._headers.get("content-type"),
                headers=self._headers,
            )
        )

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if end > start:
            # Inside a large file a whole network chunk is data: pass it on without a copy.
            self._events.append(data if start == 0 and end == len(data) else data[start:end])

    def _on_part_end(self) -> None:
        self._events.append(_END)

    def _on_end(self) -> None:
        self._finished = True

    # -- pulling ----------------------------------------------------------------------------

    async def _pump(self) -> bool:
        """Feed the parser one more body chunk; ``False`` once the body has ended."""
        if self._exhausted:
            return False
        chunk = await anext(self._body, None)
        if chunk is None:
            self._exhausted = True
            if not self._finished:
                raise MalformedMultipart("the body ended before the closing boundary")
            return False
        self.received += len(chunk)
        limit = self.limits.max_body_bytes
        if limit is not None and self.received > limit:
            raise ContentTooLarge(f"the request body is larger than {limit} bytes")
        if self._finished:
            return True  # the epilogue after the closing boundary is ignored
        try:
            self._parser.write(chunk)
        except FormParserError as exc:
            raise MalformedMultipart(f"the multipart body is malformed: {exc}") from exc
        return True

    async def _next_event(self) -> _Event | None:
        while not self._events:
            if not await self._pump():
                return None
        return self._events.popleft()

    async def next_part(self) -> "Part | None":
        """The next part, once the previous one has been read or skipped; ``None`` at the end."""
        if self._current is not None and not self._current.done:
            await self._current.discard()
        event = await self._next_event()
        if event is None:
            return None
        if not isinstance(event, _PartStart):
            raise MalformedMultipart("unexpected data between parts")
        self._current = Part(self, event)
        return self._current

    async def finish(self) -> None:
        """Read to the end of the body; any further part is refused."""
        part = await self.next_part()
        if part is not None:
            raise Unprocessable(
                f"unexpected form part {part.name!r} after the file",
                errors=[{"loc": ["body", part.name], "msg": "unexpected form part"}],
            )
        while await self._pump():
            pass


class Part:
    """One part of the form; its data can be read once, as text or as a stream of chunks."""

    def __init__(self, reader: MultipartReader, start: _PartStart) -> None:
        self._reader = reader
        self.name = start.name
        self.filename = start.filename
        self.content_type = start.content_type
        self.headers: Mapping[str, str] = start.headers
        self.done = False
        self._started = False

    @property
    def is_file(self) -> bool:
        return self.filename is not None

    async def chunks(self) -> AsyncIterator[bytes]:
        """This part's bytes as they arrive."""
        if self._started:
            raise RuntimeError("a part's data can be read only once")
        self._started = True
        while not self.done:
            event = await self._reader._next_event()
            if event is None:
                raise MalformedMultipart("the body ended inside a part")
            if isinstance(event, _PartEnd):
                self.done = True
            elif isinstance(event, bytes):
                yield event
            else:
                raise MalformedMultipart("a part began inside another")

    async def text(self, *, max_bytes: int | None = None) -> str:
        """The whole value of a small field, as UTF-8 text."""
        limit = self._reader.limits.max_field_bytes if max_bytes is None else max_bytes
        value = bytearray()
        async for chunk in self.chunks():
            value += chunk
            if len(value) > limit:
                raise FieldTooLarge(f"the form field {self.name!r} is larger than {limit} bytes")
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Unprocessable(
                f"the form field {self.name!r} is not UTF-8 text",
                errors=[{"loc": ["body", self.name], "msg": "not UTF-8 text"}],
            ) from exc

    async def discard(self) -> None:
        if not self._started:
            async for _chunk in self.chunks():
                pass
        elif not self.done:
            raise RuntimeError("a part being read cannot be skipped")


@dataclass(slots=True)
class UploadForm:
    """The fields that came before the file, and the file part, ready to stream."""

    reader: MultipartReader
    fields: dict[str, str]
    file: Part

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes; the stream ends only after the rest of the body has been checked."""
        async for chunk in self.file.chunks():
            yield chunk
        await self.reader.finish()

    def check_declared_size(self, max_bytes: int) -> None:
        """``ContentTooLarge`` now, before a byte is stored, when ``Content-Length`` proves that
        the file is larger than ``max_bytes``."""
        length = self.reader.content_length
        if length is None:
            return
        # Everything after the bytes read so far belongs to the file, but for the closing
        # delimiter (no part may follow the file).
        queued = sum(len(e) for e in self.reader._events if isinstance(e, bytes))
        at_least = length - self.reader.received + queued - self.reader.closing_size
        if at_least > max_bytes:
            raise ContentTooLarge(f"the file is larger than {max_bytes} bytes")


async def read_upload_form(
    reader: MultipartReader, *, fields: Collection[str], file: str = "file"
) -> UploadForm:
    """Read the named text ``fields`` (each exactly once, all before the file) up to the
    ``file`` part, and stop there with the file's bytes still unread.

    Any other part, a missing field or file, or a field after the file is 422.
    """
    values: dict[str, str] = {}
    while True:
        part = await reader.next_part()
        if part is None:
            missing = [name for name in (*fields, file) if name not in values]
            raise Unprocessable(
                "missing form fields: " + ", ".join(missing),
                errors=[{"loc": ["body", name], "msg": "field required"} for name in missing],
            )
        if part.name == file and part.is_file:
            absent = [name for name in fields if name not in values]
            if absent:
                raise Unprocessable(
                    "send the fields " + ", ".join(absent) + " before the file",
                    errors=[
                        {"loc": ["body", name], "msg": "must come before the file"}
                        for name in absent
                    ],
                )
            return UploadForm(reader=reader, fields=values, file=part)
        if part.name in fields and not part.is_file and part.name not in values:
            values[part.name] = await part.text()
            continue
        problem = "repeated form field" if part.name in values else "unexpected form part"
        raise Unprocessable(
            f"{problem} {part.name!r}", errors=[{"loc": ["body", part.name], "msg": problem}]
        )


async def _request_body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect as exc:
        raise ClientDisconnected("the client disconnected during the upload") from exc


def _text(raw: bytes) -> str:
    """A header parameter's bytes: UTF-8 as browsers send it, else Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
