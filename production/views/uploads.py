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

The uploads themselves (on disk, their locks and limits) are `production.uploads`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from libraries.access import AuthenticatedHttpRequest, require_role
from libraries.models import County, Role
from production.access import get_idea_for_upload, get_recording_day_for_upload
from production.models import Idea, RecordingDay
from production.processing.files import MediaRejected
from production.uploads import (
    MAX_PENDING_BYTES,
    MAX_PENDING_UPLOADS,
    SNIFF_BYTES,
    PendingUpload,
    TargetKind,
    check_declared_size,
    check_head,
    finish,
    unfinished_lengths,
)

logger = logging.getLogger(__name__)


TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination"
OFFSET_OCTET_STREAM = "application/offset+octet-stream"
READ_CHUNK_BYTES = 256 * 1024
# A byte count in a header: ASCII digits only. str.isdigit() and int() also take other
# scripts' digits ("١٢٣") and isdigit() superscripts ("²", which int() then refuses: a 500);
# 18 digits are far beyond any file and keep int() away from its 4,300-digit limit.
BYTE_COUNT = re.compile(r"[0-9]{1,18}", re.ASCII)


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
        idea = get_idea_for_upload(request, pk)
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
        day = get_recording_day_for_upload(request, pk)
    except PermissionDenied:
        return _refusal(403, _("Only the county's editors add media to a recording day."), "forbidden")
    return _create(request, target="recording_day", target_id=day.pk)


@require_http_methods(["OPTIONS", "POST"])
def county_upload_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """tus creation: a new upload filed to the county itself (the compose form, with no idea chosen)."""
    if request.method == "OPTIONS":
        return _options()
    if error := _protocol_error(request):
        return error
    try:
        access = require_role(request, Role.EDITOR)
    except PermissionDenied:
        return _refusal(403, _("Only the county's editors add media to the county's own."), "forbidden")
    return _create(request, target="county", target_id=access.county.pk)


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
    unfinished = unfinished_lengths(request.user.pk)
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
    require_role(request)
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
        target: Idea | RecordingDay | County
        if pending.target == "idea":
            target = get_idea_for_upload(request, pending.target_id)
        elif pending.target == "county":
            target = require_role(request, Role.EDITOR).county
            if target.pk != pending.target_id:  # the person switched county since: not this one's upload
                raise PermissionDenied
        else:
            target = get_recording_day_for_upload(request, pending.target_id)
    except (Http404, PermissionDenied):
        pending.discard()  # the idea or day is gone, or the person may no longer add to it
        raise
    try:
        asset = finish(pending, by=request.user, target=target)
    except MediaRejected as error:
        return _rejected(error)
    # The row in the browser follows what the worker does with the file at Asset-State-Location.
    return _tus(
        204,
        Upload_Offset=str(pending.length),
        Asset_Location=asset.get_absolute_url(),
        Asset_State_Location=reverse("production:asset_upload_state", args=[asset.pk]),
    )
