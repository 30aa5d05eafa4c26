"""What a media file is: where it is read from and written to, its real format, and what we know of it.

The lowest of the processing modules (`images`, `video`, `inspection`, `instagram`
and `subtitles` build on it; it imports none of them). Pure functions: a file path
or a binary file object in, a typed dataclass out. No models and no database.
Every refusal is a `MediaRejected` with a translated message in plain words, so a
view can show it as it is and a task can store it.

The real type of a file comes from its first bytes, never from its name:
a file is a JPEG only when it starts with the JPEG marker, and it is then
opened with Pillow's JPEG reader and nothing else.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Literal

from django.utils.functional import Promise

type Source = str | os.PathLike[str] | IO[bytes]
"""A file path, or a binary file object (a Django `File`/`UploadedFile` works)."""

type MediaKind = Literal["image", "video"]
type MediaFormat = Literal["jpeg", "png", "heif", "mp4", "mov"]

MIME_TYPES: dict[MediaFormat, str] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "heif": "image/heif",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
}


class MediaRejected(Exception):
    """A file we refuse, with a message for the person who uploaded it.

    `message` is a lazy translation and `params` fill its placeholders, so
    `str(error)` is in the language active when it is shown. `code` is stable
    for programs (and for `ValidationError(error.message, code=…, params=…)`).
    """

    def __init__(self, message: str | Promise, code: str, params: dict[str, Any] | None = None) -> None:
        self.message = message
        self.code = code
        self.params = params or {}
        # All three in args, so the error pickles (a Celery result, a process pool).
        super().__init__(message, code, self.params)

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


@dataclass(frozen=True, kw_only=True)
class MediaInfo:
    """An accepted upload: what it is and what Instagram will need to know.

    Plain values only, so `as_json()` fits a JSONField and `from_json()`
    brings it back.
    """

    kind: MediaKind
    format: MediaFormat
    mime_type: str
    file_size: int
    width: int  # as stored in the file
    height: int
    display_width: int  # as shown: EXIF orientation (photos) or rotation (videos) applied
    display_height: int
    # Photos
    orientation: int = 1  # EXIF orientation, 1 = upright
    color_mode: str | None = None  # Pillow's mode: "RGB", "CMYK", "RGBA", "P", …
    color_profile: str | None = None  # description of the embedded ICC profile
    has_exif: bool = False
    has_gps: bool = False
    # Videos
    duration: float | None = None
    video_codec: str | None = None
    pixel_format: str | None = None
    fps: float | None = None
    bit_rate: int | None = None
    audio_codec: str | None = None
    audio_sample_rate: int | None = None
    audio_channels: int | None = None
    rotation: int = 0
    moov_at_front: bool | None = None
    # The original's location and personal metadata (production/processing/metadata/): what was removed at
    # upload (None: not looked at, as before issue 12), or kept because the county keeps it.
    metadata_removed: list[str] | None = None
    metadata_kept: bool = False

    @property
    def aspect_ratio(self) -> float:
        return self.display_width / self.display_height

    @property
    def is_srgb(self) -> bool:
        """True when the colours need no conversion for Instagram."""
        return self.color_mode not in ("CMYK", "LAB") and (self.color_profile is None or is_srgb(self.color_profile))

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MediaInfo:
        return cls(**data)


# --- Reading the source ---


@contextmanager
def opened(source: Source) -> Iterator[IO[bytes]]:
    """A binary file at offset 0; we close only what we opened."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fp:
            yield fp
    else:
        source.seek(0)
        yield source


def file_size(fp: IO[bytes]) -> int:
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    fp.seek(0)
    return size


def write(dest: Source, data: bytes) -> None:
    if isinstance(dest, str | os.PathLike):
        Path(dest).write_bytes(data)
    else:
        dest.write(data)


# --- Detecting the type from the bytes ---

_HEIF_BRANDS = frozenset({"heic", "heix", "heim", "heis", "hevc", "hevx"})
_GENERIC_HEIF_BRANDS = frozenset({"mif1", "msf1"})
_AUDIO_ONLY_BRANDS = frozenset({"M4A ", "M4B ", "M4P "})
# Old QuickTime files may start with one of these boxes instead of "ftyp".
_QUICKTIME_FIRST_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_VTT_SIGNATURE = re.compile(rb"\A(?:\xef\xbb\xbf)?WEBVTT(?:[ \t\r\n]|\Z)")
_SRT_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*\d+[ \t]*\r?\n[^\r\n]*-->")
SNIFF_BYTES = 1024

type Detected = MediaFormat | Literal["vtt", "srt", "svg"]


def detect_format(head: bytes) -> Detected | None:
    """The format of a file from its first bytes (at least 32; 1 KB is plenty), or None.

    Magic numbers are matched at offset 0 only, so a file that hides a JPEG
    behind something else (a polyglot) is not a JPEG.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[4:8] == b"ftyp":
        box_size = int.from_bytes(head[0:4], "big")
        major = head[8:12].decode("latin-1")
        # The major brand, a minor version, then the compatible brands.
        brands = {major} | {head[i : i + 4].decode("latin-1") for i in range(16, min(box_size, len(head)) - 3, 4)}
        if "avif" in brands or "avis" in brands:
            return None
        if major in _HEIF_BRANDS or (major in _GENERIC_HEIF_BRANDS and brands & _HEIF_BRANDS):
            return "heif"
        if major in _AUDIO_ONLY_BRANDS or major in _GENERIC_HEIF_BRANDS:
            return None
        return "mov" if major == "qt  " else "mp4"
    if head[4:8] in _QUICKTIME_FIRST_BOXES:
        return "mov"
    if _VTT_SIGNATURE.match(head):
        return "vtt"
    if _SRT_START.match(head):
        return "srt"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith((b"<?xml", b"<!doctype svg", b"<!--")) and b"<svg" in text):
        return "svg"
    return None


# --- Colours ---


def is_srgb(description: str) -> bool:
    return "srgb" in description.lower()
