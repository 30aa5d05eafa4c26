"""Downloading from the archive: one file, or a zip of several streamed as it is written.

A zip is written into the response chunk by chunk: each stored file is read
through Django's storage API a chunk at a time and passed on at once, so a
zip of large videos takes no more memory than one chunk, on the filesystem
and on S3 alike. (django-storages reads an S3 object into a temporary file
that stays in memory up to AWS_S3_MAX_MEMORY_SIZE and spills to disk past it.)
Media are stored, not compressed again: photos and videos are compressed
already. A small text file with the credit lines and the consent scope of
every item goes with them.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models.fields.files import FieldFile
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from libraries.services import absolute_url
from production.models import AssetPerson
from publishing.models import ArchiveItem

# Which file of an item: the original as uploaded, or the Instagram-ready rendition.
ORIGINAL = "original"
INSTAGRAM = "instagram"
VERSIONS = {ORIGINAL: _("Originals"), INSTAGRAM: _("Instagram versions")}
CHUNK_BYTES = 1024 * 1024
CREDITS_NAME = "credits-and-consent.txt"


def stored_file(item: ArchiveItem, version: str) -> FieldFile:
    """The file to send: the rendition for "instagram" when one was made, else the original."""
    asset = item.asset
    if version == INSTAGRAM and asset.rendition:
        return asset.rendition
    return asset.original


def content_type(item: ArchiveItem, version: str) -> str:
    asset = item.asset
    if version == INSTAGRAM and asset.rendition and asset.is_image:
        return "image/jpeg"
    if version == INSTAGRAM and asset.rendition and asset.rendition.name != asset.original.name:
        return "video/mp4"  # the reel rendition
    return asset.mime_type or "application/octet-stream"


def _slug(text: str) -> str:
    """A file name part from a title: ASCII letters, digits and dashes (what every unzip tool reads)."""
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O").replace("æ", "ae"))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:60]


def download_name(item: ArchiveItem, version: str) -> str:
    """A unique, readable name: the title, the item's number, which version, the file's own extension."""
    field_file = stored_file(item, version)
    extension = (field_file.name or "").rsplit(".", 1)[-1].lower() if "." in (field_file.name or "") else "bin"
    suffix = "-instagram" if version == INSTAGRAM and field_file.name == item.asset.rendition.name else ""
    return f"{_slug(str(item)) or 'item'}-{item.pk}{suffix}.{extension}"


def zip_name(now: datetime | None = None) -> str:
    return f"innspill-archive-{timezone.localtime(now or timezone.now()):%Y-%m-%d-%H%M}.zip"


def credits_text(items: Sequence[tuple[ArchiveItem, str, list[tuple[AssetPerson, str]]]]) -> str:
    """The credits file: each item's name in the zip, credit line, consent scope and address."""
    return render_to_string(
        "publishing/archive_credits.txt",
        {"entries": [(item, name, scope, absolute_url(item.get_absolute_url())) for item, name, scope in items]},
    )


# --- Writing a zip as a stream ---


class _Spool(io.RawIOBase):
    """Where zipfile writes: it keeps what was written until the response takes it.

    It cannot seek, so zipfile writes each entry's sizes after its data (a
    data descriptor) instead of going back to the header.
    """

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]  # bytes-like in, count out
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


@dataclass(frozen=True)
class ZipEntry:
    """One file in the zip: a stored file (read in chunks) or a small text."""

    name: str
    field_file: FieldFile | None = None
    text: str = ""
    modified: datetime | None = None


def _chunks(field_file: FieldFile) -> Iterator[bytes]:
    with field_file.storage.open(field_file.name or "", "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def _info(entry: ZipEntry, size: int | None) -> zipfile.ZipInfo:
    moment = timezone.localtime(entry.modified or timezone.now())
    info = zipfile.ZipInfo(entry.name, date_time=moment.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED if entry.field_file is not None else zipfile.ZIP_DEFLATED
    # Plain files readable by their owner and others (unzip keeps the mode).
    info.external_attr = 0o644 << 16
    if size is not None:
        info.file_size = size  # zipfile switches to ZIP64 for this entry when it needs to
    return info


def zip_stream(entries: Iterable[ZipEntry]) -> Iterator[bytes]:
    """The zip's bytes as they are written: at most about one chunk of a file in memory at a time."""
    spool = _Spool()
    with zipfile.ZipFile(spool, mode="w", allowZip64=True) as archive:
        for entry in entries:
            if entry.field_file is None:
                archive.writestr(_info(entry, None), entry.text.encode("utf-8"))
                yield spool.take()
                continue
            size = entry.field_file.storage.size(entry.field_file.name or "")
            with archive.open(_info(entry, size), mode="w") as target:
                for chunk in _chunks(entry.field_file):
                    target.write(chunk)
                    if data := spool.take():
                        yield data
            yield spool.take()
    yield spool.take()
