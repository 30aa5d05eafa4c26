"""Resumable uploads on disk: the tus store behind production.views.uploads.

An upload of a photo or video for an idea or a recording day arrives in
chunks (the protocol is in the views); here is where its bytes and its
description wait until the last byte is in, and the limits checked before
any byte is accepted.

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
from typing import Literal

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy

from libraries.access import CountyAccess, county_accesses
from libraries.models import County, User
from production.access import can_upload_to_idea
from production.models import Asset, Idea, RecordingDay
from production.processing.files import MediaRejected, detect_format
from production.processing.inspection import inspect_upload
from production.services import media as asset_services

logger = logging.getLogger(__name__)

# Unfinished uploads one person may have at a time, and the bytes they may announce in all
# (each reserves disk space under UPLOAD_TEMP_DIR until it is finished or cleaned up).
MAX_PENDING_UPLOADS = 50
MAX_PENDING_BYTES = 4 * 1024 * 1024 * 1024
# Enough of the file to know its type (production.processing.files sniffs the first 1 KB).
SNIFF_BYTES = 1024
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
VIDEO_EXTENSIONS = {"mp4", "m4v", "mov", "qt"}
IMAGE_EXTENSIONS = {"jpg", "jpeg", "png", "heic", "heif"}

type TargetKind = Literal["idea", "recording_day", "county"]


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


def _may_still_add(accesses: list[CountyAccess], upload: PendingUpload) -> bool:
    """Whether the person may still finish this upload (the rule `_finish` applies through the access gate)."""
    if upload.target == "idea":
        idea = Idea.objects.filter(pk=upload.target_id).select_related("library").first()
        return idea is not None and any(
            held.county.pk == idea.library.county_id and can_upload_to_idea(held, idea) for held in accesses
        )
    if upload.target == "county":  # the county's own media (an editor uploading from the compose form)
        return any(held.county.pk == upload.target_id and held.is_editor for held in accesses)
    day = RecordingDay.objects.filter(pk=upload.target_id).first()
    return day is not None and any(held.county.pk == day.county_id and held.is_editor for held in accesses)


def discard_uploads_of_removed_member(*, user_id: int, library_id: int) -> int:
    """Someone left a library (MEMBERSHIP_REMOVED_HOOKS): their uploads to what they can no longer
    add to are deleted at once, rather than holding disk until UPLOAD_ABANDONED_AFTER_HOURS.

    Uploads they may still finish (through another membership) stay. One that a request is appending
    to at this moment is left to that request, whose `_finish` refuses and deletes it.
    """
    user = User.objects.filter(pk=user_id).first()
    accesses = county_accesses(user) if user is not None else []
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


def unfinished_lengths(user_id: int) -> list[int]:
    """The announced lengths of a person's unfinished uploads (each reserves that much disk)."""
    directory = _user_dir(user_id)
    if not directory.is_dir():
        return []
    uploads = (PendingUpload.load(user_id=user_id, upload_id=path.stem) for path in directory.glob("*.part"))
    return [upload.length for upload in uploads if upload is not None and not upload.is_complete]


# --- Limits checked before any byte is accepted ---


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


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


# --- Finishing ---


def finish(pending: PendingUpload, *, by: User, target: Idea | RecordingDay | County) -> Asset:
    """All bytes are in (the caller holds the lock): check the file and make it an asset of `target`.

    A refused file raises `MediaRejected`; the upload is then deleted, as it is on any other failure.
    """
    try:
        info = inspect_upload(
            pending.part_path,
            max_image_bytes=settings.UPLOAD_IMAGE_MAX_BYTES,
            max_video_bytes=settings.UPLOAD_VIDEO_MAX_BYTES,
        )
    except MediaRejected:
        pending.discard()
        raise
    try:
        asset = asset_services.add_asset(
            by=by, target=target, source=pending.part_path, original_name=pending.filename, info=info
        )
    except BaseException:  # MediaRejected: its metadata cannot be read, so it cannot be removed
        pending.discard()
        raise
    pending.asset_id = asset.pk
    pending.save()
    pending.part_path.unlink(missing_ok=True)  # moved into storage on disk; still here when streamed to S3
    return asset
