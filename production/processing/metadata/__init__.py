"""Removing location and personal metadata from originals, losslessly (DESIGN.md §3, issue 12).

An original is kept as it was uploaded, except that where it was taken
(GPS), the camera's make, model, serial numbers and owner, maker notes,
XMP, IPTC, comments, embedded preview pictures and other private blocks
are taken out at ingest, unless the county keeps them
(`County.keep_original_metadata`). The picture and the sound are never
re-encoded: only the containers around them are edited.

* JPEG: the marker segments are rewritten. The EXIF block is rebuilt with
  only what affects how the picture is shown (orientation, resolution,
  colour space, YCbCr layout) and when it was taken (dates), plus the
  copyright notice; the ICC profile (APP2), the Adobe colour transform
  (APP14), JFIF, the tables, frames and entropy-coded scans are copied byte
  for byte. Multi-picture files (MPF: stereo pairs, HDR gain maps) have
  each picture cleaned and the MPF offsets rewritten; data after the last
  picture (motion-photo videos, vendor trailers) is dropped.
* PNG: only the chunks that draw the picture stay (IHDR, PLTE, IDAT,
  transparency, colour and gamma, pHYs, animation); text chunks (where XMP
  lives) and the rest go. eXIf is rebuilt like JPEG's EXIF, with a new CRC.
* HEIC and MP4/MOV: layout-preserving edits in place. HEIC's Exif items are
  overwritten with the rebuilt EXIF (padded with zeros to the same length)
  and its XMP items with an empty XMP packet, so every offset stays valid.
  A video's `udta` and `meta` boxes (moov and track level: ©xyz, Apple's
  location, make, model and software keys, XMP_) and XMP `uuid` boxes become
  `free` boxes of the same size; the track headers (rotation) stay.
  Samples in the media data are not touched: GPS recorded as a timed track
  (action cameras, drones) stays. WebP is not accepted at all.

Something that cannot be parsed safely goes whole (an EXIF block with a
broken directory, a box that runs past its parent); a file whose structure
cannot be walked at all is refused with `MediaRejected`. XMP goes even where
it also carries HDR gain-map parameters: such photos then show as their
standard-range picture, as Instagram shows them.
"""

from __future__ import annotations

import mmap
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import ExifTags, Image

from libraries.services import audit
from production.models import Asset
from production.processing.files import MediaFormat, MediaInfo
from production.processing.metadata.boxes import clean_heif, clean_movie
from production.processing.metadata.exif import COPY_CHUNK, Removed
from production.processing.metadata.pictures import Piece, clean_jpeg, clean_png

# What was removed, in the words the asset page uses (stored as the keys).
REMOVED_LABELS = {
    "location": gettext_lazy("the location (GPS)"),
    "camera": gettext_lazy("camera details (make, model, serial numbers, settings)"),
    "xmp": gettext_lazy("XMP metadata"),
    "iptc": gettext_lazy("IPTC and Photoshop data"),
    "comments": gettext_lazy("comments and descriptions"),
    "preview": gettext_lazy("embedded preview pictures"),
    "other": gettext_lazy("other embedded data"),
}


# --- The file ---


def remove_personal_metadata(path: Path, media_format: MediaFormat) -> list[str]:
    """Take location and personal metadata out of the file at `path`, in place; what was removed (keys).

    Photos that change are written beside it and renamed over it, so a
    reader never sees half a file; HEIC and videos are edited where they lie
    (sizes and offsets unchanged). A file with nothing to remove is left alone.
    """
    removed: Removed = set()
    if media_format in ("jpeg", "png"):
        with path.open("rb") as source, mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            pieces = clean_jpeg(buf, removed) if media_format == "jpeg" else clean_png(buf, removed)
            if removed:
                _write_pieces(path, buf, pieces)
    else:
        with path.open("r+b") as fp:
            size = os.fstat(fp.fileno()).st_size
            if media_format == "heif":
                clean_heif(fp, size, removed)
            else:
                clean_movie(fp, size, removed)
    return [key for key in REMOVED_LABELS if key in removed]


def _write_pieces(path: Path, buf: Any, pieces: list[Piece]) -> None:
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            for piece in pieces:
                if not isinstance(piece, tuple):
                    out.write(piece)
                    continue
                for at in range(piece[0], piece[1], COPY_CHUNK):
                    out.write(buf[at : min(at + COPY_CHUNK, piece[1])])
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


@dataclass
class PreparedOriginal:
    """The file to store as an asset's original, and what is known about it now."""

    source: Path | File  # type: ignore[type-arg]  # File is generic over str/bytes in the stubs
    info: MediaInfo
    temporary: Path | None = None  # a copy made here; `discard()` removes what storage did not take

    def discard(self) -> None:
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)


def prepare_original(source: Path | File, *, info: MediaInfo, keep: bool) -> PreparedOriginal:  # type: ignore[type-arg]  # django-stubs' File is generic over the content type, which varies here
    """The checked upload without location and personal metadata, unless the county keeps them.

    A path (the finished resumable upload) or Django's temporary upload
    file is changed where it lies: storage takes it next. Any other file (a
    small upload held in memory, the demo's) is copied to a temporary file
    first. Raises `MediaRejected` for a file whose structure cannot be walked.
    """
    if keep:
        return PreparedOriginal(source, replace(info, metadata_kept=True))
    temporary = None
    if isinstance(source, Path):
        path = source
    elif hasattr(source, "temporary_file_path"):
        path = Path(source.temporary_file_path())
    else:
        handle, name = tempfile.mkstemp(suffix=".upload")
        temporary = path = Path(name)
        with os.fdopen(handle, "wb") as copy:
            source.seek(0)
            shutil.copyfileobj(source, copy, COPY_CHUNK)
    try:
        removed = remove_personal_metadata(path, info.format)
    except BaseException:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise
    return PreparedOriginal(path, _cleaned_info(path, info, removed), temporary)


def _cleaned_info(path: Path, info: MediaInfo, removed: list[str]) -> MediaInfo:
    """The upload's info after cleaning: its size, and no personal EXIF left (the Instagram check says so).

    The orientation is read again from the rebuilt EXIF: where a damaged
    block was dropped, the picture is described as the worker will see it.
    """
    cleaned = replace(info, file_size=path.stat().st_size, has_exif=False, has_gps=False, metadata_removed=removed)
    if info.format not in ("jpeg", "png") or not removed:
        return cleaned
    with Image.open(path, formats=["PNG"] if info.format == "png" else ["JPEG", "MPO"]) as image:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1
    if (orientation in (5, 6, 7, 8)) != (info.orientation in (5, 6, 7, 8)):
        cleaned = replace(cleaned, display_width=info.display_height, display_height=info.display_width)
    return replace(cleaned, orientation=orientation)


def original_metadata_note(info: dict[str, Any]) -> str:
    """What the asset page says about location and camera details in the original (`Asset.info`)."""
    if info.get("metadata_kept"):
        return _(
            "Your county keeps location and camera details in originals, so this file is stored exactly as it "
            "was uploaded."
        )
    removed = info.get("metadata_removed")
    if removed is None:
        return _(
            "This file was uploaded before location and camera details were removed from originals, "
            "so it may still have them."
        )
    if not removed:
        return _("The original had no location or camera details to remove.")
    labels = [str(label) for key, label in REMOVED_LABELS.items() if key in removed]
    return _("Removed from the original when it was uploaded: %(removed)s.") % {
        "removed": get_text_list(labels or [str(REMOVED_LABELS["other"])], _("and"))
    }


# --- Originals stored before location and personal metadata were removed at upload ---


def needs_cleaning(asset: Asset) -> bool:
    """An original that may still carry what its county no longer keeps (uploaded before issue 12, or while
    the county kept it). Not while the worker may be reading it: that one waits for the next run."""
    info = asset.info or {}
    return (
        "format" in info
        and asset.status != Asset.Status.PROCESSING
        and not asset.county.keep_original_metadata
        and (info.get("metadata_removed") is None or bool(info.get("metadata_kept")))
    )


def clean_stored_original(*, asset_id: int) -> list[str] | None:
    """Take location and personal metadata out of an asset's stored original (`manage.py remove_original_metadata`).

    Returns what was removed, or None when there was nothing to do.
    Idempotent: an original already cleaned, or kept by its county, is left
    alone. A changed copy is stored under a new name and the row points at
    it before the old file is deleted (after commit), so nobody reads half a
    file; a video's Instagram rendition, which is the original itself, moves
    with it. `MediaRejected` for a file whose metadata cannot be read.
    """
    asset = Asset.objects.select_related("county").filter(pk=asset_id).first()
    if asset is None or not needs_cleaning(asset) or not asset.original.name:
        return None
    info = MediaInfo.from_json(asset.info)
    old_name: str = asset.original.name
    storage = asset.original.storage
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / Path(old_name).name
        with storage.open(old_name, "rb") as stored, path.open("wb") as copy:
            shutil.copyfileobj(stored, copy, COPY_CHUNK)
        removed = remove_personal_metadata(path, info.format)
        cleaned = replace(_cleaned_info(path, info, removed), metadata_kept=False)
        new_name = None
        if removed:
            with path.open("rb") as handle:
                new_name = storage.save(asset.original.field.generate_filename(asset, path.name), File(handle))
    try:
        with transaction.atomic():
            locked = Asset.objects.select_for_update(of=("self",)).select_related("county").filter(pk=asset_id).first()
            if locked is None or locked.original.name != old_name or not needs_cleaning(locked):
                if new_name:
                    storage.delete(new_name)
                return None
            fields = ["info", "file_size", "updated_at"]
            if new_name:
                if locked.rendition.name == old_name:
                    locked.rendition.name = new_name
                    fields.append("rendition")
                locked.original.name = new_name
                fields.append("original")
                # Rows copied from one upload (the benchmarks' data) share a file: it goes with the last of them.
                if not Asset.objects.filter(Q(original=old_name) | Q(rendition=old_name)).exclude(pk=asset_id).exists():
                    transaction.on_commit(lambda: storage.delete(old_name))
            locked.info, locked.file_size = cleaned.as_json(), cleaned.file_size
            locked.save(update_fields=fields)
            audit(
                county=locked.county,
                actor=None,
                action="asset.metadata_removed",
                obj=locked,
                summary=str(locked),
                removed=removed,
            )
    except BaseException:
        if new_name:
            storage.delete(new_name)
        raise
    return removed
