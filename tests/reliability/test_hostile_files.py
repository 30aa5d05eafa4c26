"""Hostile files through every upload: media (resumable and plain), subtitles, consent forms, idea attachments;
and uploads cut off halfway over a real socket.

One table of files, each sent through both media uploads: what is refused
is refused with a clear message and leaves nothing behind; what is accepted
(a genuine photo with a script hidden in it, a name that tries to climb out
of the media folder) is stored under a safe name and never served as
anything but what it is.
"""

from __future__ import annotations

import base64
import io
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from production.models import Asset, Idea, IdeaAttachment
from production.services.media import confirm_no_people
from tests.conftest import World, client_for
from tests.factories.media import html_renamed, jpeg_bytes, jpeg_scan, png_bomb, truncated_jpeg
from tests.factories.production import IdeaFactory
from tests.factories.publishing import make_asset, show_person
from tests.production.test_media import png_declaring
from tests.production.test_metadata import HOSTILE_EXIF, exif_jpeg

TUS = {"Tus-Resumable": "1.0.0"}
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real JPEG whose frame header is rewritten to declare `width` x `height` (a bomb by its header)."""
    data = bytearray(jpeg_bytes((64, 64), gps=False))
    marker = data.index(b"\xff\xc0")
    data[marker + 5 : marker + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def jpeg_with_html_inside() -> bytes:
    """A genuine JPEG carrying an HTML page in a comment: a polyglot that sniffing browsers could run."""
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (20, 90, 160)).save(buffer, "JPEG", comment=b"<html><script>alert(3)</script></html>")
    return buffer.getvalue()


# (what, the bytes, the file name, status of the resumable upload, words of the refusal or None when accepted)
FILES: list[tuple[str, Callable[[], bytes], str, int, str | None]] = [
    ("svg-with-script", lambda: SVG, "logo.svg", 422, "SVG"),
    ("svg-named-jpeg", lambda: SVG, "logo.jpg", 422, "SVG"),
    ("html-named-jpeg", html_renamed, "side.jpg", 422, "not a photo or video"),
    ("pdf-jpeg-polyglot", lambda: b"%PDF-1.4\n" + jpeg_bytes((64, 64)), "skjema.jpg", 422, "not a photo or video"),
    ("zip-named-png", lambda: b"PK\x03\x04" + b"\0" * 200, "bilder.png", 422, "not a photo or video"),
    ("png-decompression-bomb", png_bomb, "bomb.png", 422, "megapixels"),
    ("jpeg-declaring-gigapixels", lambda: jpeg_declaring(65000, 65000), "stor.jpg", 422, "megapixels"),
    ("png-just-over-the-pixel-limit", lambda: png_declaring(10001, 10000), "bred.png", 422, "megapixels"),
    ("truncated-jpeg", truncated_jpeg, "halv.jpg", 422, "damaged"),
    ("empty", lambda: b"", "tom.jpg", 422, "empty"),
    ("jpeg-with-html-inside", jpeg_with_html_inside, "polyglot.jpg", 204, None),
    # Damaged EXIF (a directory longer than its block, offsets far outside it): the block goes, the photo stays.
    ("jpeg-with-truncated-exif", lambda: exif_jpeg(HOSTILE_EXIF["truncated-directory"]), "exif.jpg", 204, None),
    ("jpeg-with-exif-pointing-outside", lambda: exif_jpeg(HOSTILE_EXIF["offsets-outside"]), "ut.jpg", 204, None),
    ("path-traversal-name", lambda: jpeg_bytes((640, 480)), "../../../../etc/passwd.jpg", 204, None),
    ("windows-traversal-name", lambda: jpeg_bytes((640, 480)), "..\\..\\Windows\\win.ini.jpg", 204, None),
    ("right-to-left-name", lambda: jpeg_bytes((640, 480)), "bilde\u202egpj.exe", 204, None),
    ("control-characters-name", lambda: jpeg_bytes((640, 480)), "bi\x00l\r\nde\x1b[31m.jpg", 204, None),
    ("overlong-name", lambda: jpeg_bytes((640, 480)), "å" * 400 + ".jpg", 204, None),
]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def tus_upload(client: Client, url: str, data: bytes, filename: str) -> Client:  # type: ignore[return]
    metadata = f"filename {b64(filename)},filetype {b64('image/jpeg')}"
    created = client.post(url, headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": metadata})
    if created.status_code != 201:
        return created
    return client.generic(
        "PATCH",
        created["Location"],
        data=data,
        content_type="application/offset+octet-stream",
        headers={**TUS, "Upload-Offset": "0"},
    )


def stored_files() -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def leftovers() -> list[Path]:
    return [path for path in Path(settings.UPLOAD_TEMP_DIR).rglob("*") if path.suffix == ".part"]


def assert_safe_name(asset: Asset) -> None:
    """Shown as the person named it (less what cannot be shown), stored under our own name inside MEDIA_ROOT."""
    media_root = Path(settings.MEDIA_ROOT).resolve()
    for field in (asset.original, asset.rendition):
        if field:
            stored = Path(field.path).resolve()
            assert stored.is_relative_to(media_root), stored
            assert ".." not in field.name
    assert "/" not in asset.original_name
    assert "\\" not in asset.original_name
    assert asset.original_name.isprintable()
    assert len(asset.original_name) <= 255


@pytest.fixture
def idea(world: World) -> Idea:
    return IdeaFactory(library=world.library, status=Idea.Status.ACCEPTED)


@pytest.mark.django_db
@pytest.mark.parametrize(("what", "make", "filename", "status", "refusal"), FILES, ids=[row[0] for row in FILES])
def test_hostile_files_through_the_resumable_upload(
    what: str, make: Callable[[], bytes], filename: str, status: int, refusal: str | None, idea: Idea, world: World
) -> None:
    client = client_for(world.librarian)
    response = tus_upload(client, reverse("production:idea_upload_create", args=[idea.pk]), make(), filename)

    assert response.status_code == status, (what, response.status_code, getattr(response, "content", b"")[:300])
    assert leftovers() == []
    if refusal is not None:
        assert refusal in response.json()["error"], response.json()
        assert not Asset.objects.exists()
        assert stored_files() == []
        return
    asset = Asset.objects.get()
    assert_safe_name(asset)
    assert response["Asset-Location"] == asset.get_absolute_url()


@pytest.mark.django_db
@pytest.mark.parametrize(("what", "make", "filename", "status", "refusal"), FILES, ids=[row[0] for row in FILES])
def test_hostile_files_through_the_plain_upload_form(
    what: str, make: Callable[[], bytes], filename: str, status: int, refusal: str | None, idea: Idea, world: World
) -> None:
    client = client_for(world.librarian)
    upload = SimpleUploadedFile(filename, make(), content_type="image/jpeg")

    response = client.post(reverse("production:idea_upload_form", args=[idea.pk]), {"uploads": [upload]}, follow=True)

    assert response.status_code == 200, what
    if refusal is not None:
        assert refusal in response.text or (what == "empty" and "empty" in response.text.lower()), what
        assert not Asset.objects.exists()
        assert stored_files() == []
        return
    asset = Asset.objects.get()
    assert_safe_name(asset)


@pytest.mark.django_db
def test_a_polyglot_photo_is_only_ever_served_as_a_photo(world: World, idea: Idea) -> None:
    """A genuine JPEG with HTML inside is accepted (it is a photo), but nothing on our origin will run it."""
    client = client_for(world.librarian)
    tus_upload(client, reverse("production:idea_upload_create", args=[idea.pk]), jpeg_with_html_inside(), "p.jpg")
    asset = Asset.objects.get()
    # Originals go to editors, and only of an asset whose people are reviewed (production/release.py).
    confirm_no_people(by=world.editor, asset=asset)

    response = client_for(world.editor).get(reverse("production:asset_file", args=[asset.pk, "original"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.django_db
def test_an_idea_attachment_of_html_or_svg_is_always_a_download_under_a_safe_name(world: World) -> None:
    """Attachments may be any kind of file (a script, a PDF): sent with the idea form, never shown on our origin."""
    client = client_for(world.librarian)
    files = [
        SimpleUploadedFile("side.html", html_renamed(), content_type="text/html"),
        SimpleUploadedFile("logo.svg", SVG, content_type="image/svg+xml"),
        SimpleUploadedFile("../../../etc/passwd", b"root:x:0:0", content_type="text/plain"),
    ]
    response = client.post(
        reverse("production:idea_create"),
        {
            "library": world.library.pk,
            "title": "Idé med vedlegg",
            "pitch": "Se vedleggene.",
            "content_type": "offers",
            "audiences": ["adults"],
            "attachments": files,
        },
    )
    assert response.status_code == 302, response.content[:500]
    attachments = list(IdeaAttachment.objects.order_by("pk"))
    assert [attachment.name for attachment in attachments] == ["side.html", "logo.svg", "passwd"]
    media_root = Path(settings.MEDIA_ROOT).resolve()
    for attachment in attachments:
        assert Path(attachment.file.path).resolve().is_relative_to(media_root)

        served = client.get(reverse("production:idea_attachment", args=[attachment.pk]))

        assert served["Content-Disposition"].startswith("attachment;"), attachment.name
        assert served["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in served["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("subs.vtt", b"WEBVTT\n\n00:00.000 --> 00:02.000\n<script>alert(1)</script>\n", None),
        ("subs.vtt", SVG, "WebVTT"),
        ("subs.srt", b"\xff\xfe\x00\x00binary", "UTF-8"),
        ("subs.vtt", b"WEBVTT\n\n" + b"00:00.000 --> 00:02.000\n" + b"x" * 3_000_000, None),
    ],
    ids=["script-in-a-cue", "svg-as-subtitles", "not-utf8", "one-huge-cue"],
)
def test_hostile_subtitle_files_are_refused_or_kept_as_text(
    world: World, name: str, data: bytes, message: str | None
) -> None:
    asset = make_asset(county=world.county, library=world.library, kind=Asset.Kind.VIDEO, uploaded_by=world.librarian)
    client = client_for(world.librarian)

    response = client.post(
        reverse("production:asset_subtitles", args=[asset.pk]),
        {"file": SimpleUploadedFile(name, data)},
        follow=True,
    )

    assert response.status_code in (200, 400)
    asset.refresh_from_db()
    if message is None:
        if asset.subtitles:
            served = client.get(reverse("production:asset_file", args=[asset.pk, "subtitles"]))
            assert served["Content-Type"].startswith("text/vtt")
            assert served["X-Content-Type-Options"] == "nosniff"
        else:
            assert "errorlist" in response.text or 'role="alert"' in response.text
    else:
        assert not asset.subtitles
        assert message in response.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data"),
    [("skjema.html", html_renamed()), ("skjema.svg", SVG), ("skjema.pdf.exe", b"MZ\x90\x00" + b"\0" * 100)],
)
def test_a_consent_form_that_is_not_a_pdf_or_photo_is_refused(world: World, name: str, data: bytes) -> None:
    asset = make_asset(county=world.county, library=world.library, uploaded_by=world.librarian)
    person = show_person(asset, consent=False)
    client = client_for(world.librarian)

    response = client.post(
        reverse("production:consent_create", args=[person.pk]),
        {"covers_publishing": "on", "given_at": "2026-01-15", "evidence": SimpleUploadedFile(name, data)},
    )

    assert response.status_code == 400
    assert "must be a PDF or a photo of the form" in response.text
    assert not person.consents.exists()
    assert [path for path in stored_files() if "consents" in str(path)] == []


# --- Uploads cut off halfway, over a real socket ---


def raw_request(url: str, head: str, body: bytes, *, send: int) -> bytes:
    """Send `head` and the first `send` bytes of `body` (announced whole), then cut the connection."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n" + body[:send])
        sock.shutdown(socket.SHUT_WR)  # the laptop's lid closes: nothing more comes
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.django_db(transaction=True)
def test_an_upload_cut_off_mid_chunk_keeps_what_arrived_saves_nothing_half_and_resumes(
    world: World, idea: Idea, live_server, settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client = client_for(world.librarian)
    data = jpeg_bytes((2400, 1800))
    metadata = f"filename {b64('avbrutt.jpg')},filetype {b64('image/jpeg')}"
    created = client.post(
        reverse("production:idea_upload_create", args=[idea.pk]),
        headers={**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": metadata},
    )
    location = urlsplit(created["Location"]).path
    # The browser's session and CSRF cookies (the raw request passes Django's CSRF check as upload.js does).
    csrf = "c" * 32
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}; csrftoken={csrf}"
    host = urlsplit(live_server.url).netloc

    # The whole file is announced in one PATCH; the connection dies after 40 % of it.
    cut = len(data) * 2 // 5
    head = (
        f"PATCH {location} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nTus-Resumable: 1.0.0\r\n"
        f"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {len(data)}\r\n"
        f"X-CSRFToken: {csrf}\r\nConnection: close"
    )
    raw_request(live_server.url, head, data, send=cut)

    # Nothing half-saved: no asset, no file under media; the bytes that arrived are kept for the resume.
    assert not Asset.objects.exists()
    assert stored_files() == []
    offset = int(client.head(location, headers=TUS)["Upload-Offset"])
    assert 0 < offset <= cut

    # A second cut, in the last chunk this time.
    rest = data[offset:]
    head = head.replace("Upload-Offset: 0", f"Upload-Offset: {offset}").replace(
        f"Content-Length: {len(data)}", f"Content-Length: {len(rest)}"
    )
    raw_request(live_server.url, head, rest, send=len(rest) - 10)
    assert not Asset.objects.exists()
    offset = int(client.head(location, headers=TUS)["Upload-Offset"])
    assert offset < len(data)

    # The browser asks where it stands and sends the rest: one asset, the bytes exactly the file.
    with django_capture_on_commit_callbacks(execute=True):
        finished = client.generic(
            "PATCH",
            location,
            data=data[offset:],
            content_type="application/offset+octet-stream",
            headers={**TUS, "Upload-Offset": str(offset)},
        )
    assert finished.status_code == 204
    asset = Asset.objects.get()
    with asset.original.open("rb") as original:
        assert jpeg_scan(original.read()) == jpeg_scan(data)  # every byte of the picture (its GPS was taken out)
    assert leftovers() == []
