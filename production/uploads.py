"""Resumable uploads: the tus 1.0 protocol (core, creation, termination) as Django views.

Reference: https://tus.io/protocols/resumable-upload (version 1.0.0).

The browser (static/js/upload.js, with tus-js-client) creates an upload for
an idea or a recording day with POST and the file's length, then sends the
bytes in chunks with PATCH; after an interruption it asks with HEAD how much
arrived and sends the rest. Chunks are appended to a file under
UPLOAD_TEMP_DIR and never held in memory. When the last byte is in, the file
is checked (`production.processing.inspection.inspect_upload`: the real type from the bytes)
and becomes an Asset, or is refused with a message for the person and
deleted: nothing is half-saved.

On disk, each person's uploads live in `<UPLOAD_TEMP_DIR>/<user id>/`: the
bytes in `<upload id>.part`, what the upload is for in `<upload id>.json`.
The JSON file is also the upload's lock (`flock`), so two requests for one
upload take turns. After completion only the JSON file stays (with the
asset's id), so a client that missed the last answer learns with HEAD that
the upload is complete and does not send it again. With several web
processes, UPLOAD_TEMP_DIR must be shared by all of them, or requests of
one person must stick to one process (see config/settings.py).
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import io
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from libraries import access
from libraries.access import AuthenticatedHttpRequest
from libraries.models import User
from production.models import Idea, RecordingDay
from production.processing.files import MediaRejected, detect_format
from production.processing.inspection import inspect_upload
from production.services import media as asset_services

logger = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination"
OFFSET_OCTET_STREAM = "application/offset+octet-stream"
READ_CHUNK_BYTES = 256 * 1024
# Unfinished uploads one person may have at a time, and the bytes they may announce in all
# (each reserves disk space under UPLOAD_TEMP_DIR until it is finished or cleaned up).
MAX_PENDING_UPLOADS = 50
MAX_PENDING_BYTES = 4 * 1024 * 1024 * 1024
# Enough of the file to know its type (production.processing.files sniffs the first 1 KB).
SNIFF_BYTES = 1024
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
# A byte count in a header: ASCII digits only. str.isdigit() and int() also take other
# scripts' digits ("١٢٣") and isdigit() superscripts ("²", which int() then refuses: a 500);
# 18 digits are far beyond any file and keep int() away from its 4,300-digit limit.
BYTE_COUNT = re.compile(r"[0-9]{1,18}", re.ASCII)
VIDEO_EXTENSIONS = {"mp4", "m4v", "mov", "qt"}
IMAGE_EXTENSIONS = {"jpg", "jpeg", "png", "heic", "heif"}

type TargetKind = Literal["idea", "recording_day"]


# --- The uploads on disk ---


def _user_dir(user_id: int) -> Path:
    return Path(settings.UPLOAD_TEMP_DIR) / str(int(user_id))


@dataclass
class PendingUpload:
    """One resumable upload: whose it is, what for, how long it will be, and (when done) its asset."""

    id: str
    user_id: int
    target: TargetKind
    target_id: int
    length: int
    filename: str
    filetype: str
    created_at: float
    asset_id: int | None = None

    @property
    def part_path(self) -> Path:
        return _user_dir(self.user_id) / f"{self.id}.part"

    @property
    def info_path(self) -> Path:
        return _user_dir(self.user_id) / f"{self.id}.json"

    @property
    def is_complete(self) -> bool:
        return self.asset_id is not None

    def offset(self) -> int:
        if self.is_complete:
            return self.length
        try:
            return self.part_path.stat().st_size
        except FileNotFoundError:
            return 0

    @classmethod
    def start(
        cls, *, user_id: int, target: TargetKind, target_id: int, length: int, filename: str, filetype: str
    ) -> PendingUpload:
        directory = _user_dir(user_id)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        upload = cls(
            id=secrets.token_hex(16),
            user_id=user_id,
            target=target,
            target_id=target_id,
            length=length,
            filename=filename,
            filetype=filetype,
            created_at=time.time(),
        )
        upload.part_path.touch(mode=0o600, exist_ok=False)
        upload.save()
        return upload

    @classmethod
    def load(cls, *, user_id: int, upload_id: str) -> PendingUpload | None:
        """The upload of this person with this id, or None (another person's uploads are not found)."""
        if not UPLOAD_ID.match(upload_id):
            return None
        try:
            data = json.loads((_user_dir(user_id) / f"{upload_id}.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        return cls(**data)

    def save(self) -> None:
        # Written whole and renamed, so a reader never sees half a file.
        temporary = self.info_path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(asdict(self)))
        os.replace(temporary, self.info_path)

    def discard(self) -> None:
        self.part_path.unlink(missing_ok=True)
        self.info_path.unlink(missing_ok=True)

    @contextmanager
    def locked(self) -> Iterator[bool]:
        """Hold the upload's lock while appending or finishing; yields False when another request has it."""
        try:
            handle = self.info_path.open("rb")
        except FileNotFoundError:
            yield False
            return
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def reload(self) -> PendingUpload | None:
        return PendingUpload.load(user_id=self.user_id, upload_id=self.id)


def clean_abandoned_uploads(*, older_than_hours: int | None = None, now: float | None = None) -> int:
    """Delete uploads (finished or not) untouched for a while; returns how many went. Skips any in use."""
    hours = settings.UPLOAD_ABANDONED_AFTER_HOURS if older_than_hours is None else older_than_hours
    cutoff = (now or time.time()) - hours * 3600
    root = Path(settings.UPLOAD_TEMP_DIR)
    if not root.is_dir():
        return 0
    removed = 0
    for directory in root.iterdir():
        if not directory.is_dir() or not directory.name.isdigit():
            continue
        ids = {path.name.split(".", 1)[0] for path in directory.iterdir() if UPLOAD_ID.match(path.name.split(".")[0])}
        for upload_id in ids:
            files = [directory / f"{upload_id}{suffix}" for suffix in (".part", ".json", ".json.tmp")]
            touched = max((path.stat().st_mtime for path in files if path.exists()), default=0)
            if touched >= cutoff:
                continue
            upload = PendingUpload.load(user_id=int(directory.name), upload_id=upload_id)
            if upload is None:  # a part without its description: nothing can resume it
                for path in files:
                    path.unlink(missing_ok=True)
                removed += 1
                continue
            with upload.locked() as mine:
                if mine:
                    upload.discard()
                    (directory / f"{upload_id}.json.tmp").unlink(missing_ok=True)
                    removed += 1
        if not any(directory.iterdir()):
            directory.rmdir()
    if removed:
        logger.info("Deleted %s abandoned uploads", removed)
    return removed


def _uploads_of(user_id: int) -> list[PendingUpload]:
    directory = _user_dir(user_id)
    if not directory.is_dir():
        return []
    uploads = (PendingUpload.load(user_id=user_id, upload_id=path.stem) for path in directory.glob("*.json"))
    return [upload for upload in uploads if upload is not None]


def _may_still_add(accesses: list[access.CountyAccess], upload: PendingUpload) -> bool:
    """Whether the person may still finish this upload (the rule `_finish` applies through the access gate)."""
    if upload.target == "idea":
        idea = Idea.objects.filter(pk=upload.target_id).select_related("library").first()
        return idea is not None and any(
            held.county.pk == idea.library.county_id and access.can_upload_to_idea(held, idea) for held in accesses
        )
    day = RecordingDay.objects.filter(pk=upload.target_id).first()
    return day is not None and any(held.county.pk == day.county_id and held.is_editor for held in accesses)


def discard_uploads_of_removed_member(*, user_id: int, library_id: int) -> int:
    """Someone left a library (MEMBERSHIP_REMOVED_HOOKS): their uploads to what they can no longer
    add to are deleted at once, rather than holding disk until UPLOAD_ABANDONED_AFTER_HOURS.

    Uploads they may still finish (through another membership) stay. One that a request is appending
    to at this moment is left to that request, whose `_finish` refuses and deletes it.
    """
    user = User.objects.filter(pk=user_id).first()
    accesses = access.county_accesses(user) if user is not None else []
    removed = 0
    for pending in _uploads_of(user_id):
        if _may_still_add(accesses, pending):
            continue
        with pending.locked() as mine:
            if mine:
                pending.discard()
                removed += 1
    if removed:
        logger.info("Deleted %s uploads of user %s, who left library %s", removed, user_id, library_id)
    return removed


def _unfinished_lengths(user_id: int) -> list[int]:
    """The announced lengths of a person's unfinished uploads (each reserves that much disk)."""
    directory = _user_dir(user_id)
    if not directory.is_dir():
        return []
    uploads = (PendingUpload.load(user_id=user_id, upload_id=path.stem) for path in directory.glob("*.part"))
    return [upload.length for upload in uploads if upload is not None and not upload.is_complete]


# --- Reading the protocol's headers ---


def parse_metadata(header: str) -> dict[str, str]:
    """`Upload-Metadata`: comma-separated `key base64(value)` pairs (a value may be left out)."""
    metadata: dict[str, str] = {}
    for pair in header.split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _space, encoded = pair.partition(" ")
        if not key or " " in encoded.strip():
            raise ValueError(f"Bad metadata pair {pair!r}")
        try:
            metadata[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8") if encoded else ""
        except (binascii.Error, UnicodeDecodeError) as error:
            raise ValueError(f"Bad metadata value for {key!r}") from error
    return metadata


def _non_negative_int(value: str | None) -> int | None:
    """A header's byte count, or None when it is missing or anything but ASCII digits."""
    if value is None or not BYTE_COUNT.fullmatch(value):
        return None
    return int(value)


def _safe_filename(name: str) -> str:
    """The last part of a file name, without control characters (it is only shown, never used as a path)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(char for char in name if char.isprintable())[:255] or _("file")


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


# --- Limits checked before any byte is accepted ---


def check_declared_size(length: int, *, filename: str, filetype: str) -> None:
    """Refuse an upload whose announced length is over the limit for what it says it is.

    The real type is known only from the bytes (checked with the first
    chunk, and again in full at the end); the name and type the browser
    reports decide only which limit applies before that.
    """
    image_limit, video_limit = settings.UPLOAD_IMAGE_MAX_BYTES, settings.UPLOAD_VIDEO_MAX_BYTES
    extension = _extension(filename)
    says_video = filetype.startswith("video/") or extension in VIDEO_EXTENSIONS
    says_image = filetype.startswith("image/") or extension in IMAGE_EXTENSIONS
    if says_video and length > video_limit:
        raise MediaRejected(
            gettext_lazy("This video is %(size)s, but videos can be at most %(limit)s."),
            code="too_large",
            params={"size": filesizeformat(length), "limit": filesizeformat(video_limit)},
        )
    if says_image and not says_video and length > image_limit:
        raise MediaRejected(
            gettext_lazy("This photo is %(size)s, but photos can be at most %(limit)s."),
            code="too_large",
            params={"size": filesizeformat(length), "limit": filesizeformat(image_limit)},
        )
    if length > max(image_limit, video_limit):
        raise MediaRejected(
            gettext_lazy("This file is %(size)s, but photos can be at most %(image)s and videos %(video)s."),
            code="too_large",
            params={
                "size": filesizeformat(length),
                "image": filesizeformat(image_limit),
                "video": filesizeformat(video_limit),
            },
        )


def check_head(head: bytes, *, length: int) -> None:
    """With the first bytes in: refuse what is not a photo or video, and a photo over the photo limit."""
    detected = detect_format(head)
    if detected not in ("jpeg", "png", "heif", "mp4", "mov"):
        # inspect_upload says in its own words what the file is instead (SVG, subtitles, anything else).
        inspect_upload(io.BytesIO(head))
        raise MediaRejected(gettext_lazy("This file is not a photo or video we can use."), code="unsupported")
    if detected in ("jpeg", "png", "heif") and length > settings.UPLOAD_IMAGE_MAX_BYTES:
        raise MediaRejected(
            gettext_lazy("This photo is %(size)s, but photos can be at most %(limit)s."),
            code="too_large",
            params={"size": filesizeformat(length), "limit": filesizeformat(settings.UPLOAD_IMAGE_MAX_BYTES)},
        )


# --- Responses ---


def _tus(status: int, **headers: str) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _refusal(status: int, message: str, code: str) -> JsonResponse:
    """A refusal the browser shows next to the file: `{"error": message, "code": code}`."""
    response = JsonResponse({"error": message, "code": code}, status=status)
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    return response


def _rejected(error: MediaRejected) -> JsonResponse:
    return _refusal(413 if error.code == "too_large" else 422, str(error), error.code)


def _options() -> HttpResponse:
    return _tus(
        204,
        Tus_Version=TUS_VERSION,
        Tus_Extension=TUS_EXTENSIONS,
        Tus_Max_Size=str(max(settings.UPLOAD_IMAGE_MAX_BYTES, settings.UPLOAD_VIDEO_MAX_BYTES)),
    )


def _protocol_error(request: HttpRequest) -> HttpResponse | None:
    """A logged-out person or a client speaking another tus version is answered here."""
    if not request.user.is_authenticated:
        return _refusal(403, _("You are logged out. Log in again, then try the upload again."), "logged_out")
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        response = _tus(412, Tus_Version=TUS_VERSION)
        return response
    return None


# --- Views ---


@require_http_methods(["OPTIONS", "POST"])
def idea_upload_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """tus creation: a new upload of a photo or video for an idea."""
    if request.method == "OPTIONS":
        return _options()
    if error := _protocol_error(request):
        return error
    try:
        idea = access.get_idea_for_upload(request, pk)
    except PermissionDenied:
        return _refusal(403, _("Librarians add media to their own library's ideas."), "forbidden")
    return _create(request, target="idea", target_id=idea.pk)


@require_http_methods(["OPTIONS", "POST"])
def recording_day_upload_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """tus creation: a new upload of a photo or video for a recording day."""
    if request.method == "OPTIONS":
        return _options()
    if error := _protocol_error(request):
        return error
    try:
        day = access.get_recording_day_for_upload(request, pk)
    except PermissionDenied:
        return _refusal(403, _("Only the county's editors add media to a recording day."), "forbidden")
    return _create(request, target="recording_day", target_id=day.pk)


def _create(request: AuthenticatedHttpRequest, *, target: TargetKind, target_id: int) -> HttpResponse:
    if "Upload-Defer-Length" in request.headers:
        return _refusal(400, _("The file's length must be known when the upload starts."), "defer_length")
    if "Upload-Length" not in request.headers:
        return _refusal(400, _("The upload did not say how long the file is (Upload-Length)."), "no_length")
    length = _non_negative_int(request.headers["Upload-Length"])
    if length is None:
        return _refusal(
            400, _("The file's length (Upload-Length) must be a number of bytes in the digits 0-9."), "bad_length"
        )
    try:
        metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
    except ValueError:
        return _refusal(400, _("The upload's description (Upload-Metadata) cannot be read."), "bad_metadata")
    filename = _safe_filename(metadata.get("filename", ""))
    filetype = metadata.get("filetype", "")[:100]
    try:
        check_declared_size(length, filename=filename, filetype=filetype)
    except MediaRejected as error:
        return _rejected(error)
    unfinished = _unfinished_lengths(request.user.pk)
    if len(unfinished) >= MAX_PENDING_UPLOADS or sum(unfinished) + length > MAX_PENDING_BYTES:
        return _refusal(
            429,
            _("You have many unfinished uploads. Let them finish, or wait a day until they are cleared."),
            "too_many_uploads",
        )
    upload = PendingUpload.start(
        user_id=request.user.pk,
        target=target,
        target_id=target_id,
        length=length,
        filename=filename,
        filetype=filetype,
    )
    location = request.build_absolute_uri(reverse("production:upload", args=[upload.id]))
    if length == 0:
        # Nothing to send: check (and refuse) the empty file at once.
        with upload.locked():
            return _finish(request, upload)
    return _tus(201, Location=location, Upload_Offset="0")


@require_http_methods(["OPTIONS", "HEAD", "PATCH", "DELETE"])
def upload(request: AuthenticatedHttpRequest, upload_id: str) -> HttpResponse:
    """tus core and termination: how far an upload is (HEAD), the next chunk (PATCH), giving up (DELETE)."""
    if request.method == "OPTIONS":
        return _options()
    if error := _protocol_error(request):
        return error
    access.require_role(request)
    pending = PendingUpload.load(user_id=request.user.pk, upload_id=upload_id)
    if pending is None:
        raise Http404
    if request.method == "HEAD":
        if not pending.is_complete and pending.length and pending.offset() == pending.length:
            # Every byte arrived, but the request that was finishing it died (a worker timeout while
            # the original went to storage): finish it now rather than tell the browser "complete"
            # for an upload that has no asset.
            with pending.locked() as mine:
                if not mine:
                    return _tus(423)
                current = pending.reload()
                if current is not None and not current.is_complete:
                    finished = _finish(request, current)
                    if finished.status_code >= 400:
                        raise Http404  # refused and deleted; the browser starts again and is told why
                pending = current or pending
        return _tus(200, Upload_Offset=str(pending.offset()), Upload_Length=str(pending.length))
    if request.method == "DELETE":
        with pending.locked() as mine:
            if not mine:
                return _refusal(423, _("This upload is busy; try again in a moment."), "locked")
            pending.discard()
        return _tus(204)
    return _append(request, pending)


def _append(request: AuthenticatedHttpRequest, pending: PendingUpload) -> HttpResponse:
    if request.content_type != OFFSET_OCTET_STREAM:
        return _refusal(415, _("Chunks are sent as application/offset+octet-stream."), "content_type")
    if "Upload-Offset" not in request.headers:
        return _refusal(400, _("The chunk did not say where it belongs (Upload-Offset)."), "no_offset")
    offset = _non_negative_int(request.headers["Upload-Offset"])
    if offset is None:
        return _refusal(
            400, _("The chunk's place (Upload-Offset) must be a number of bytes in the digits 0-9."), "bad_offset"
        )
    with pending.locked() as mine:
        if not mine:
            return _refusal(423, _("This upload is busy; try again in a moment."), "locked")
        # Read again under the lock: another request may have finished it meanwhile.
        current_upload = pending.reload()
        if current_upload is None:
            raise Http404
        pending = current_upload
        if pending.is_complete:
            return _tus(204, Upload_Offset=str(pending.length))
        current = pending.offset()
        if offset != current:
            return _tus(409, Upload_Offset=str(current))
        declared = _non_negative_int(request.META.get("CONTENT_LENGTH")) or 0
        if current + declared > pending.length:
            return _refusal(400, _("The chunk goes past the end of the file."), "past_end")
        with pending.part_path.open("ab") as part:
            received = _copy_body(request, part, limit=pending.length - current)
        new_offset = current + received
        if current < SNIFF_BYTES <= new_offset or (current < SNIFF_BYTES and new_offset == pending.length):
            with pending.part_path.open("rb") as part:
                head = part.read(SNIFF_BYTES)
            try:
                check_head(head, length=pending.length)
            except MediaRejected as error:
                pending.discard()
                return _rejected(error)
        if new_offset == pending.length:
            return _finish(request, pending)
    return _tus(204, Upload_Offset=str(new_offset))


def _copy_body(request: HttpRequest, part: IO[bytes], *, limit: int) -> int:
    """Append the request body to the part file in small pieces; what arrived before a drop is kept."""
    received = 0
    while received < limit:
        try:
            chunk = request.read(min(READ_CHUNK_BYTES, limit - received))
        except OSError:  # the client went away mid-chunk (UnreadablePostError is an OSError)
            logger.info("An upload chunk was cut off after %s bytes", received)
            break
        if not chunk:
            break
        part.write(chunk)
        received += len(chunk)
    part.flush()
    return received


def _finish(request: AuthenticatedHttpRequest, pending: PendingUpload) -> HttpResponse:
    """All bytes are in (the caller holds the lock): check the file, then make it an asset or refuse it."""
    try:
        target: Idea | RecordingDay = (
            access.get_idea_for_upload(request, pending.target_id)
            if pending.target == "idea"
            else access.get_recording_day_for_upload(request, pending.target_id)
        )
    except (Http404, PermissionDenied):
        pending.discard()  # the idea or day is gone, or the person may no longer add to it
        raise
    try:
        info = inspect_upload(
            pending.part_path,
            max_image_bytes=settings.UPLOAD_IMAGE_MAX_BYTES,
            max_video_bytes=settings.UPLOAD_VIDEO_MAX_BYTES,
        )
    except MediaRejected as error:
        pending.discard()
        return _rejected(error)
    try:
        asset = asset_services.add_asset(
            by=request.user, target=target, source=pending.part_path, original_name=pending.filename, info=info
        )
    except MediaRejected as error:  # its metadata cannot be read, so it cannot be removed
        pending.discard()
        return _rejected(error)
    except BaseException:
        pending.discard()
        raise
    pending.asset_id = asset.pk
    pending.save()
    pending.part_path.unlink(missing_ok=True)  # moved into storage on disk; still here when streamed to S3
    return _tus(204, Upload_Offset=str(pending.length), Asset_Location=asset.get_absolute_url())
