"""Checking and converting uploaded photos, videos and subtitle files.

Pure functions: a file path or a binary file object in, a typed dataclass out.
No models and no database; the upload views and the rendition tasks build on
these. Every refusal is a `MediaRejected` with a translated message in plain
words, so a view can show it as it is and a task can store it.

The real type of a file comes from its first bytes, never from its name:
a file is a JPEG only when it starts with the JPEG marker, and it is then
opened with Pillow's JPEG reader and nothing else.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
import struct
import warnings
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import av
import av.error
import pillow_heif
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import ExifTags, Image, ImageCms

from production.processing import decoding

logger = logging.getLogger(__name__)

# Phones send HEIC; pillow-heif teaches Pillow to read it (idempotent).
pillow_heif.register_heif_opener()

type Source = str | os.PathLike[str] | IO[bytes]
"""A file path, or a binary file object (a Django `File`/`UploadedFile` works)."""

type Aspect = Literal["1:1", "4:5", "1.91:1", "9:16"]
type MediaKind = Literal["image", "video"]
type MediaFormat = Literal["jpeg", "png", "heif", "mp4", "mov"]
type Verdict = Literal["ok", "will_be_cropped", "rejected"]
type VideoUse = Literal["reel", "carousel"]

# --- What we accept at all (our limits, not Instagram's) ---

IMAGE_MAX_BYTES = 50 * 1024 * 1024
VIDEO_MAX_BYTES = 1024 * 1024 * 1024  # issue 4: videos up to 1 GB
# Decoding is refused above this many pixels (a decompression bomb: a small
# file that declares a huge picture). 100 MP is above any phone's normal mode.
MAX_IMAGE_PIXELS = 100_000_000
SUBTITLE_MAX_BYTES = 2 * 1024 * 1024
THUMBNAIL_SIZE = 480
RENDITION_QUALITY = 85
# The lowest JPEG quality we go down to before giving up on the size limit.
RENDITION_MIN_QUALITY = 35

# --- Instagram's numbers ---
# From ../shared/GRAPH_API.md §3, which summarises Meta's content publishing
# docs ("Media requirements" of the ig-user/media reference). Meta writes "MB";
# we read it as 1,000,000 bytes, the stricter of the two readings.
_MB = 1000 * 1000

IG_IMAGE_MAX_BYTES = 8 * _MB  # feed and carousel images: JPEG, ≤ 8 MB
IG_IMAGE_MIN_WIDTH = 320  # width 320-1440 px (Instagram rescales outside)
IG_IMAGE_MAX_WIDTH = 1440
IG_FEED_MIN_ASPECT = 4 / 5  # aspect ratio 4:5 (portrait) …
IG_FEED_MAX_ASPECT = 1.91  # … to 1.91:1 (landscape)
IG_VIDEO_CODECS = frozenset({"h264", "hevc"})  # container MOV or MP4
IG_AUDIO_CODECS = frozenset({"aac"})
IG_AUDIO_MAX_SAMPLE_RATE = 48_000
IG_AUDIO_MAX_CHANNELS = 2  # mono or stereo
IG_REEL_RECOMMENDED_ASPECT = 9 / 16


@dataclass(frozen=True)
class VideoLimits:
    """Instagram's envelope for one use of a video (GRAPH_API.md §3)."""

    min_seconds: float
    max_seconds: float
    max_bytes: int
    min_aspect: float
    max_aspect: float
    min_fps: float = 23
    max_fps: float = 60
    max_width: int = 1920
    # Reels: VBR ≤ 25 Mbps. Older specs said 5 Mbps for carousel video; we
    # apply the current 25 Mbps to both, as Instagram re-encodes anyway and
    # 5 Mbps would refuse nearly every phone clip.
    max_bit_rate: int = 25_000_000


IG_VIDEO_LIMITS: dict[VideoUse, VideoLimits] = {
    # Reels: 3 s to 15 min, ≤ 300 MB (an older copy said 1 GB), 0.01:1 to 10:1.
    "reel": VideoLimits(min_seconds=3, max_seconds=15 * 60, max_bytes=300 * _MB, min_aspect=0.01, max_aspect=10),
    # Carousel video children: the current docs give no numbers; these are the
    # older "video" specs GRAPH_API.md tells us to use as the safe envelope.
    "carousel": VideoLimits(min_seconds=3, max_seconds=60, max_bytes=100 * _MB, min_aspect=4 / 5, max_aspect=16 / 9),
}

ASPECT_RATIOS: dict[Aspect, float] = {"1:1": 1.0, "4:5": 4 / 5, "1.91:1": 1.91, "9:16": 9 / 16}
FEED_ASPECTS: tuple[Aspect, ...] = ("1:1", "4:5", "1.91:1")
# Two ratios this close are the same picture shape (rounding of pixel sizes).
_ASPECT_TOLERANCE = 0.01

_MIME_TYPES: dict[MediaFormat, str] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "heif": "image/heif",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
}
# The Pillow readers allowed for each detected format; nothing else may parse the bytes.
_PILLOW_FORMATS: dict[MediaFormat, list[str]] = {"jpeg": ["JPEG", "MPO"], "png": ["PNG"], "heif": ["HEIF"]}

# Pillow raises these for damaged or truncated image data.
_IMAGE_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)

_SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


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


# --- Results ---


@dataclass(frozen=True, kw_only=True)
class VideoInfo:
    """What PyAV tells us about a video."""

    format: Literal["mp4", "mov"]
    file_size: int
    duration: float  # seconds
    width: int  # the coded frame size
    height: int
    rotation: int  # degrees a player turns the frames counter-clockwise (0, 90, 180, -90)
    display_width: int  # as shown, after rotation
    display_height: int
    video_codec: str  # FFmpeg's name: "h264", "hevc", "prores", …
    pixel_format: str | None  # "yuv420p", "yuv420p10le", …
    fps: float | None
    bit_rate: int | None  # bits per second, whole file
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: int | None
    moov_at_front: bool  # the index is before the media data ("fast start")


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
    # The original's location and personal metadata (production/metadata/): what was removed at
    # upload (None: not looked at, as before issue 12), or kept because the county keeps it.
    metadata_removed: list[str] | None = None
    metadata_kept: bool = False

    @property
    def aspect_ratio(self) -> float:
        return self.display_width / self.display_height

    @property
    def is_srgb(self) -> bool:
        """True when the colours need no conversion for Instagram."""
        return self.color_mode not in ("CMYK", "LAB") and (self.color_profile is None or _is_srgb(self.color_profile))

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MediaInfo:
        return cls(**data)


@dataclass(frozen=True, kw_only=True)
class CropPlan:
    """Where a rendition is cut from the (upright) picture and how big it comes out."""

    aspect_ratio: float
    box: tuple[float, float, float, float]  # left, top, right, bottom as fractions 0..1 of the upright picture
    width: int  # of the rendition
    height: int
    cropped: bool  # some of the picture is cut away
    upscaled: bool  # enlarged to Instagram's minimum width


@dataclass(frozen=True, kw_only=True)
class ImageRendition:
    width: int
    height: int
    file_size: int
    quality: int  # the JPEG quality that fitted under the size limit
    aspect: Aspect | None
    box: tuple[float, float, float, float]
    cropped: bool
    upscaled: bool  # enlarged to the minimum width; it may look soft


@dataclass(frozen=True, kw_only=True)
class Thumbnail:
    width: int
    height: int
    format: Literal["webp", "jpeg"]
    file_size: int


@dataclass(frozen=True, kw_only=True)
class PosterFrame:
    width: int
    height: int
    at_seconds: float  # where the frame was taken
    file_size: int


@dataclass(frozen=True)
class InstagramCheck:
    """Whether Instagram takes the asset as it is, cropped, or not at all, and why."""

    verdict: Verdict
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class SubtitleInfo:
    format: Literal["vtt", "srt"]
    cue_count: int
    last_cue_end: float  # seconds


# --- Reading the source ---


@contextmanager
def _opened(source: Source) -> Iterator[IO[bytes]]:
    """A binary file at offset 0; we close only what we opened."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as fp:
            yield fp
    else:
        source.seek(0)
        yield source


def _file_size(fp: IO[bytes]) -> int:
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    fp.seek(0)
    return size


def _write(dest: Source, data: bytes) -> None:
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
_SNIFF_BYTES = 1024

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


# --- Inspecting an upload ---


def inspect_upload(
    source: Source,
    *,
    max_image_bytes: int = IMAGE_MAX_BYTES,
    max_video_bytes: int = VIDEO_MAX_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> MediaInfo:
    """Identify and fully check an uploaded photo or video, or raise `MediaRejected`.

    Photos are decoded completely (JPEG at 1/8 scale, which still reads every
    byte), so a truncated or corrupt file is refused here and not in a
    rendition task later. Videos must open in PyAV with a decodable picture.
    """
    with _opened(source) as fp:
        size = _file_size(fp)
        if size == 0:
            raise MediaRejected(gettext_lazy("The file is empty (0 bytes)."), code="empty")
        detected = detect_format(fp.read(_SNIFF_BYTES))
        fp.seek(0)
        if detected == "svg":
            raise MediaRejected(
                gettext_lazy(
                    "SVG drawings cannot be uploaded, because they can contain scripts. "
                    "Export the drawing as PNG or JPEG and upload that."
                ),
                code="svg",
            )
        if detected == "vtt" or detected == "srt":
            raise MediaRejected(
                gettext_lazy("This is a subtitle file. Add it to a video as the video's subtitles."),
                code="subtitles",
            )
        if detected is None:
            raise MediaRejected(
                gettext_lazy(
                    "This file is not a photo or video we can use. "
                    "Upload photos as JPEG, PNG or HEIC, and videos as MP4 or MOV."
                ),
                code="unsupported",
            )
        if detected in ("mp4", "mov"):
            if size > max_video_bytes:
                raise MediaRejected(
                    gettext_lazy("This video is %(size)s, but videos can be at most %(limit)s."),
                    code="too_large",
                    params={"size": filesizeformat(size), "limit": filesizeformat(max_video_bytes)},
                )
            return _media_info_from_video(probe_video(fp))
        if size > max_image_bytes:
            raise MediaRejected(
                gettext_lazy("This photo is %(size)s, but photos can be at most %(limit)s."),
                code="too_large",
                params={"size": filesizeformat(size), "limit": filesizeformat(max_image_bytes)},
            )
        return _inspect_image(fp, detected, size=size, max_pixels=max_pixels)


def _corrupt_image() -> MediaRejected:
    return MediaRejected(
        gettext_lazy(
            "This photo is damaged or incomplete and cannot be opened. "
            "Upload it again, or export it again from the phone or camera."
        ),
        code="corrupt",
    )


def _open_image(fp: IO[bytes], formats: list[str], *, max_pixels: int) -> Image.Image:
    """Open (not decode) an image with only the named Pillow readers, refusing bombs by their declared size."""
    try:
        # Our own pixel limit below is the one that decides; Pillow's warning
        # between its MAX_IMAGE_PIXELS and twice that would only be noise.
        # (Not thread-safe, like all warning filters: workers are processes.)
        with warnings.catch_warnings(action="ignore", category=Image.DecompressionBombWarning):
            image = Image.open(fp, formats=formats)
    except Image.DecompressionBombError as error:
        raise _too_many_pixels(None, max_pixels) from error
    except _IMAGE_DECODE_ERRORS as error:  # UnidentifiedImageError is an OSError
        raise _corrupt_image() from error
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise _too_many_pixels((width, height), max_pixels)
    return image


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> MediaRejected:
    limit = _decimal(max_pixels / 1_000_000, 0)
    if size is None:
        return MediaRejected(
            gettext_lazy("This image has more than %(limit)s megapixels, more than we accept."),
            code="too_many_pixels",
            params={"limit": limit},
        )
    return MediaRejected(
        gettext_lazy(
            "This image is %(width)s x %(height)s pixels, more than the %(limit)s megapixels we accept. "
            "Make it smaller and upload it again."
        ),
        code="too_many_pixels",
        params={"width": size[0], "height": size[1], "limit": limit},
    )


def _inspect_image(fp: IO[bytes], detected: MediaFormat, *, size: int, max_pixels: int) -> MediaInfo:
    """Check a photo completely without holding its full picture (issue 12: a 100-megapixel PNG
    decoded here took 400 MB in the web process).

    JPEG is decoded at 1/8 scale (DCT scaling still reads every byte, so truncation shows). PNG is
    not decoded at all: every chunk's checksum is checked and the image data inflated in pieces
    (`decoding.check_png_data`), which finds what a decode would. HEIF is read to its header only:
    libheif cannot decode at a reduced size, and a damaged one fails in the worker with the
    reason on the asset's page. What the worker could not decode within `decoding.DECODE_BUDGET`
    is refused here, by its header, before anything is decoded.
    """
    with _open_image(fp, _PILLOW_FORMATS[detected], max_pixels=max_pixels) as image:
        width, height = image.size
        mode = image.mode
        try:
            _refuse_costly_decode(image, fp)
            if image.format == "PNG":
                layout = decoding.read_png_layout(fp)
                decoding.check_png_data(fp, layout)
            elif image.format in ("JPEG", "MPO"):
                image.draft(None, (max(1, width // 8), max(1, height // 8)))
                image.load()
            exif = _exif_of(image, fp)
        except _IMAGE_DECODE_ERRORS as error:
            raise _corrupt_image() from error
        orientation = _orientation(exif)
        has_gps = bool(exif.get_ifd(ExifTags.IFD.GPSInfo))
        icc = image.info.get("icc_profile")
    display = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
    return MediaInfo(
        kind="image",
        format=detected,
        mime_type="image/heic" if detected == "heif" and _is_heic(fp) else _MIME_TYPES[detected],
        file_size=size,
        width=width,
        height=height,
        display_width=display[0],
        display_height=display[1],
        orientation=orientation,
        color_mode=mode,
        color_profile=_profile_description(icc) if icc else None,
        has_exif=bool(exif),
        has_gps=has_gps,
    )


def _exif_of(image: Image.Image, fp: IO[bytes]) -> Image.Exif:
    """The photo's EXIF without decoding it (Pillow's PNG reader decodes the whole picture to look
    for an eXIf chunk after the image data; we find it by walking the chunks)."""
    if image.format != "PNG" or "exif" in image.info:
        return image.getexif()
    exif = Image.Exif()
    layout = decoding.read_png_layout(fp)
    if layout.exif:
        exif.load(layout.exif)
    return exif


def _refuse_costly_decode(image: Image.Image, fp: IO[bytes], *, output: int = 0) -> None:
    """MediaRejected when decoding this photo (and holding `output` bytes of reduced picture) would
    take more than `decoding.DECODE_BUDGET`: a progressive JPEG, an interlaced PNG or a HEIF beyond
    what can be decoded whole within it."""
    cost = decoding.decode_cost(image, fp)
    if cost + output <= decoding.DECODE_BUDGET:
        return
    if cost <= decoding.DECODE_BUDGET // 2:
        # The file decodes cheaply, but even reduced, the picture is too large to hold: a very long
        # strip (a 1000 x 100000 picture keeps its width in a 4:5 crop).
        raise MediaRejected(
            gettext_lazy(
                "This photo is %(width)s x %(height)s pixels, a shape too long to make an Instagram version of. "
                "Crop it and upload it again."
            ),
            code="too_long_to_open",
            params={"width": image.width, "height": image.height},
        )
    forms: dict[str, Promise] = {
        "JPEG": gettext_lazy("a progressive JPEG"),
        "MPO": gettext_lazy("a progressive JPEG"),
        "PNG": gettext_lazy("an interlaced PNG"),
        "HEIF": gettext_lazy("HEIC"),
    }
    raise MediaRejected(
        gettext_lazy(
            "This photo is %(megapixels)s megapixels saved as %(form)s, which needs more memory to open "
            "than we allow. Save it as an ordinary JPEG, or make it smaller, and upload it again."
        ),
        code="too_large_to_open",
        params={
            "megapixels": _decimal(image.width * image.height / 1_000_000, 0),
            "form": forms.get(image.format or "", image.format or "?"),
        },
    )


def _is_heic(fp: IO[bytes]) -> bool:
    fp.seek(0)
    return fp.read(12)[8:12] in (b"heic", b"heix")


def _orientation(exif: Image.Exif) -> int:
    value = exif.get(ExifTags.Base.Orientation, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _profile_description(icc: bytes) -> str:
    try:
        return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip() or "unnamed"
    except (ImageCms.PyCMSError, OSError):
        return "unreadable"


def _is_srgb(description: str) -> bool:
    return "srgb" in description.lower()


# --- Video ---


def probe_video(source: Source) -> VideoInfo:
    """Duration, codecs, size, frame rate and rotation of an MP4 or MOV file, or `MediaRejected`.

    The MOV/MP4 demuxer is forced, so FFmpeg never guesses another format
    (playlists, concat lists) from the bytes, and the first picture is
    decoded to prove the video can be read.
    """
    with _opened(source) as fp:
        size = _file_size(fp)
        head = fp.read(_SNIFF_BYTES)
        detected = detect_format(head)
        if detected not in ("mp4", "mov"):
            raise _unreadable_video()
        moov_at_front = _moov_before_mdat(fp)
        fp.seek(0)
        try:
            container = av.open(fp, mode="r", format="mov")
        except (av.error.FFmpegError, OSError, ValueError) as error:
            raise _unreadable_video() from error
        with container:
            if not container.streams.video:
                raise MediaRejected(
                    gettext_lazy("This file has no moving picture (it may be sound only), so it is not a video."),
                    code="no_video_stream",
                )
            stream = container.streams.video[0]
            audio = container.streams.audio[0] if container.streams.audio else None
            try:
                first = next(container.decode(stream), None)
            except (av.error.FFmpegError, OSError, ValueError) as error:
                raise _unreadable_video() from error
            if first is None:
                raise _unreadable_video()
            rotation = _normal_rotation(first.rotation)
            width, height = stream.codec_context.width or first.width, stream.codec_context.height or first.height
            if container.duration is not None:
                duration = container.duration / av.time_base
            elif stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = 0.0
            rate = stream.average_rate or stream.guessed_rate
            display = (height, width) if rotation in (90, -90) else (width, height)
            return VideoInfo(
                format=detected,
                file_size=size,
                duration=round(duration, 3),
                width=width,
                height=height,
                rotation=rotation,
                display_width=display[0],
                display_height=display[1],
                video_codec=stream.codec_context.name,
                pixel_format=stream.codec_context.pix_fmt,
                fps=round(float(rate), 3) if rate else None,
                bit_rate=container.bit_rate or None,
                audio_codec=audio.codec_context.name if audio else None,
                audio_sample_rate=audio.codec_context.sample_rate if audio else None,
                audio_channels=audio.codec_context.channels if audio else None,
                moov_at_front=moov_at_front,
            )


def _unreadable_video() -> MediaRejected:
    return MediaRejected(
        gettext_lazy("This video cannot be read; it may be damaged or incomplete. Upload it again."),
        code="unreadable_video",
    )


def _normal_rotation(degrees: float) -> int:
    """The display rotation rounded to a quarter turn, in -90, 0, 90, 180."""
    quarter = round(degrees / 90) % 4
    return (0, 90, 180, -90)[quarter]


def _moov_before_mdat(fp: IO[bytes]) -> bool:
    """Walk the top-level MP4 boxes: is the index ("moov") before the media data?"""
    fp.seek(0)
    for _box in range(64):  # real files have a handful of top-level boxes
        header = fp.read(8)
        if len(header) < 8:
            return False
        box_size, box_type = int.from_bytes(header[:4], "big"), header[4:8]
        if box_type == b"moov":
            return True
        if box_type == b"mdat" or box_size == 0:  # size 0: the box runs to the end of the file
            return False
        if box_size == 1:  # a 64-bit size follows
            box_size = int.from_bytes(fp.read(8), "big")
            if box_size < 16:
                return False
            fp.seek(box_size - 16, os.SEEK_CUR)
        elif box_size < 8:
            return False
        else:
            fp.seek(box_size - 8, os.SEEK_CUR)
    return False


def _media_info_from_video(video: VideoInfo) -> MediaInfo:
    return MediaInfo(
        kind="video",
        format=video.format,
        mime_type=_MIME_TYPES[video.format],
        file_size=video.file_size,
        width=video.width,
        height=video.height,
        display_width=video.display_width,
        display_height=video.display_height,
        duration=video.duration,
        video_codec=video.video_codec,
        pixel_format=video.pixel_format,
        fps=video.fps,
        bit_rate=video.bit_rate,
        audio_codec=video.audio_codec,
        audio_sample_rate=video.audio_sample_rate,
        audio_channels=video.audio_channels,
        rotation=video.rotation,
        moov_at_front=video.moov_at_front,
    )


def make_poster_frame(
    source: Source,
    dest: Source,
    *,
    at_seconds: float = 1.0,
    max_width: int = IG_IMAGE_MAX_WIDTH,
    quality: int = RENDITION_QUALITY,
) -> PosterFrame:
    """Save the picture at `at_seconds` (or the middle of a shorter video) as an upright sRGB JPEG."""
    with _opened(source) as fp:
        try:
            container = av.open(fp, mode="r", format="mov")
        except (av.error.FFmpegError, OSError, ValueError) as error:
            raise _unreadable_video() from error
        with container:
            if not container.streams.video:
                raise _unreadable_video()
            stream = container.streams.video[0]
            if container.duration:
                at_seconds = min(at_seconds, container.duration / av.time_base / 2)
            frame = None
            try:
                if at_seconds > 0 and stream.time_base is not None:
                    # Seek lands on the key frame before; decode forward to the moment.
                    container.seek(int(at_seconds / stream.time_base), stream=stream, backward=True)
                for frame in container.decode(stream):
                    if frame.time is None or frame.time >= at_seconds:
                        break
            except (av.error.FFmpegError, OSError, ValueError) as error:
                raise _unreadable_video() from error
            if frame is None:
                raise _unreadable_video()
            taken_at = frame.time or 0.0
            image = frame.to_image()  # type: ignore[no-untyped-call]  # PyAV's stub leaves it unannotated
            rotation = _normal_rotation(frame.rotation)
    if rotation:
        image = image.rotate(rotation, expand=True)  # both counter-clockwise
    if image.width > max_width:
        image = image.resize((max_width, round(image.height * max_width / image.width)), Image.Resampling.LANCZOS)
    data, _quality = _encode_jpeg(image, quality=quality, max_bytes=IG_IMAGE_MAX_BYTES)
    _write(dest, data)
    return PosterFrame(width=image.width, height=image.height, at_seconds=round(taken_at, 3), file_size=len(data))


# --- Image renditions ---


def plan_crop(
    width: int,
    height: int,
    aspect: Aspect | None,
    *,
    focus: tuple[float, float] = (0.5, 0.5),
    min_width: int = IG_IMAGE_MIN_WIDTH,
    max_width: int = IG_IMAGE_MAX_WIDTH,
) -> CropPlan:
    """The crop and size of a rendition of an upright `width` x `height` picture.

    `aspect` None keeps the picture's shape when Instagram's feed allows it
    (4:5 to 1.91:1) and otherwise crops to the nearest end of that range.
    The crop is centred on `focus` (fractions of width and height) as far as
    the edges allow. The result is at most `max_width` wide and is enlarged
    to `min_width` when the crop is narrower.
    """
    ratio = width / height
    target = ASPECT_RATIOS[aspect] if aspect else min(max(ratio, IG_FEED_MIN_ASPECT), IG_FEED_MAX_ASPECT)
    cropped = abs(ratio - target) / target > _ASPECT_TOLERANCE
    if not cropped:
        target = ratio
    crop_w, crop_h = (height * target, float(height)) if ratio > target else (float(width), width / target)
    fx, fy = (min(max(value, 0.0), 1.0) for value in focus)
    left = min(max(fx * width - crop_w / 2, 0.0), width - crop_w)
    top = min(max(fy * height - crop_h / 2, 0.0), height - crop_h)
    out_w = min(round(crop_w), max_width)
    upscaled = out_w < min_width
    out_w = max(out_w, min_width)
    out_h = max(1, round(out_w / target))
    return CropPlan(
        aspect_ratio=target,
        box=(left / width, top / height, (left + crop_w) / width, (top + crop_h) / height),
        width=out_w,
        height=out_h,
        cropped=cropped,
        upscaled=upscaled,
    )


def make_image_rendition(
    source: Source,
    dest: Source,
    *,
    aspect: Aspect | None,
    crop_focus: tuple[float, float] = (0.5, 0.5),
    max_width: int = IG_IMAGE_MAX_WIDTH,
    min_width: int = IG_IMAGE_MIN_WIDTH,
    quality: int = RENDITION_QUALITY,
    max_bytes: int = IG_IMAGE_MAX_BYTES,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> ImageRendition:
    """An Instagram-ready JPEG of an accepted photo.

    Upright (EXIF orientation applied), cropped to `aspect` around
    `crop_focus` (see `plan_crop`), 320-1440 px wide, sRGB, transparency on
    white, no EXIF, GPS, XMP, comments or ICC profile (untagged JPEG is read
    as sRGB), and at most `max_bytes`: the quality steps down until it fits.
    """
    with _opened(source) as fp:
        # Not closed with `with`: for a JPEG the decoded picture may be this very image object.
        image = _open_image(fp, _pillow_formats_of(fp), max_pixels=max_pixels)
        orientation = _orientation(_exif_of(image, fp))
        upright = _upright_size(image.size, orientation)
        plan = plan_crop(*upright, aspect, focus=crop_focus, min_width=min_width, max_width=max_width)
        picture = _decode_for_resize(image, fp, scale=_rendition_scale(plan, upright), orientation=orientation)
    return _write_rendition(picture, plan, dest, aspect=aspect, quality=quality, max_bytes=max_bytes)[0]


def make_thumbnail(
    source: Source,
    dest: Source,
    *,
    size: int = THUMBNAIL_SIZE,
    format: Literal["webp", "jpeg"] = "webp",
    quality: int = 80,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> Thumbnail:
    """A small upright sRGB picture for the UI, fitting in `size` x `size`, without metadata."""
    with _opened(source) as fp:
        # Not closed with `with`: for a JPEG the decoded picture may be this very image object.
        image = _open_image(fp, _pillow_formats_of(fp), max_pixels=max_pixels)
        orientation = _orientation(_exif_of(image, fp))
        upright = _upright_size(image.size, orientation)
        picture = _decode_for_resize(image, fp, scale=_thumbnail_scale(upright, size), orientation=orientation)
    return _write_thumbnail(picture, _thumbnail_size(upright, size), dest, format=format, quality=quality)


def make_image_renditions(
    source: Source,
    rendition_dest: Source,
    thumbnail_dest: Source,
    *,
    aspect: Aspect | None,
    crop_focus: tuple[float, float] = (0.5, 0.5),
    thumbnail_size: int = THUMBNAIL_SIZE,
    max_pixels: int = MAX_IMAGE_PIXELS,
) -> tuple[ImageRendition, Thumbnail]:
    """`make_image_rendition` and `make_thumbnail` of one photo from a single decode (a new upload needs both).

    Decoding is most of the cost of a large JPEG, so the photo is decoded
    once, at the size the larger of the two needs, and both are cut from it
    (the thumbnail from the rendition itself when that shows the whole
    photo); they have the sizes they have when each is made on its own.
    """
    with _opened(source) as fp:
        # Not closed with `with`: for a JPEG the decoded picture may be this very image object.
        image = _open_image(fp, _pillow_formats_of(fp), max_pixels=max_pixels)
        orientation = _orientation(_exif_of(image, fp))
        upright = _upright_size(image.size, orientation)
        plan = plan_crop(*upright, aspect, focus=crop_focus)
        thumbnail_scale = _thumbnail_scale(upright, thumbnail_size)
        scale = max(_rendition_scale(plan, upright), thumbnail_scale)
        picture = _decode_for_resize(image, fp, scale=scale, orientation=orientation)
    rendition, resized = _write_rendition(
        picture, plan, rendition_dest, aspect=aspect, quality=RENDITION_QUALITY, max_bytes=IG_IMAGE_MAX_BYTES
    )
    target = _thumbnail_size(upright, thumbnail_size)
    if not plan.cropped and not plan.upscaled and resized.width >= target[0]:
        # The rendition shows the whole photo and is larger than the thumbnail: shrinking it is the least work.
        picture = resized
    thumbnail = _write_thumbnail(picture, target, thumbnail_dest, format="webp", quality=80)
    return rendition, thumbnail


def _rendition_scale(plan: CropPlan, upright: tuple[int, int]) -> float:
    """How much the upright picture is scaled to make the rendition."""
    return plan.width / ((plan.box[2] - plan.box[0]) * upright[0])


def _thumbnail_scale(upright: tuple[int, int], size: int) -> float:
    return min(1.0, size / max(upright))


def _thumbnail_size(upright: tuple[int, int], size: int) -> tuple[int, int]:
    """The thumbnail's size: the upright picture fitted in `size` x `size` (never enlarged)."""
    scale = _thumbnail_scale(upright, size)
    return max(1, round(upright[0] * scale)), max(1, round(upright[1] * scale))


def _write_rendition(
    picture: Image.Image,
    plan: CropPlan,
    dest: Source,
    *,
    aspect: Aspect | None,
    quality: int,
    max_bytes: int,
) -> tuple[ImageRendition, Image.Image]:
    """Crop and resize a decoded upright picture (at any scale) as planned, and write the JPEG.

    Returns the rendition's description and its pixels (before the colour conversion), from which
    a thumbnail of an uncropped photo is made. Bicubic rather than Lanczos: after the DCT scaling
    in `_decode_for_resize` less than 2x is left to go, where the two differ far less than the JPEG
    coding does (about 47.0 against 47.3 dB PSNR from a full-resolution Lanczos resize) and bicubic
    reads a third fewer pixels per output pixel.
    """
    left, top, right, bottom = plan.box
    box = (left * picture.width, top * picture.height, right * picture.width, bottom * picture.height)
    resized = picture.resize((plan.width, plan.height), Image.Resampling.BICUBIC, box=box, reducing_gap=2.0)
    data, used_quality = _encode_jpeg(_to_srgb(resized), quality=quality, max_bytes=max_bytes)
    _write(dest, data)
    described = ImageRendition(
        width=plan.width,
        height=plan.height,
        file_size=len(data),
        quality=used_quality,
        aspect=aspect,
        box=plan.box,
        cropped=plan.cropped,
        upscaled=plan.upscaled,
    )
    return described, resized


def _write_thumbnail(
    picture: Image.Image, target: tuple[int, int], dest: Source, *, format: Literal["webp", "jpeg"], quality: int
) -> Thumbnail:
    """Resize a decoded upright picture of the whole photo (at any scale) to `target`, and write it.

    Pillow first box-averages by a whole factor while more than 1.5x remains
    (`reducing_gap`), then resamples the rest bicubically: for a 480 px
    picture in the UI that looks the same as a Lanczos pass over all of it,
    at a third of the cost.
    """
    if picture.size != target:
        picture = picture.resize(target, Image.Resampling.BICUBIC, reducing_gap=1.5)
    picture = _to_srgb(picture)
    picture.info = {}
    buffer = io.BytesIO()
    if format == "webp":
        # Method 2 of 0-6 (4 is the default): a thumbnail a few per cent larger, made in half the time.
        picture.save(buffer, "WEBP", quality=quality, method=2)
    else:
        picture.save(buffer, "JPEG", quality=quality, optimize=True)
    data = buffer.getvalue()
    _write(dest, data)
    return Thumbnail(width=picture.width, height=picture.height, format=format, file_size=len(data))


def _pillow_formats_of(fp: IO[bytes]) -> list[str]:
    detected = detect_format(fp.read(_SNIFF_BYTES))
    fp.seek(0)
    if detected not in _PILLOW_FORMATS:
        raise MediaRejected(
            gettext_lazy("This file is not a photo we can use. Upload photos as JPEG, PNG or HEIC."),
            code="unsupported",
        )
    return _PILLOW_FORMATS[detected]


def _upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else size


def _decode_for_resize(image: Image.Image, fp: IO[bytes], *, scale: float, orientation: int) -> Image.Image:
    """Decode at a reduced size, upright, with alpha flattened on white, in a mode we can resample.

    The picture comes out at 1/k of the photo's size for the largest whole k that keeps it at
    least as large as the final size, so less than 2x is left to the bicubic resize that follows.

    A JPEG is decoded at 1/2, 1/4 or 1/8 size when that is still at least the final size:
    libjpeg then computes the smaller picture from the DCT coefficients directly, which is a
    proper low-pass (not a subsampling) and several times faster than decoding every pixel and
    shrinking them. On a 12 MP photo (bench/ingest.py) the 1440 px rendition differs from a
    Lanczos resize of the fully decoded photo by about 47 dB PSNR (the eye sees no difference
    above 40), with a quarter of the decoding memory and a fraction of the time.

    A PNG (not interlaced) is read in bands of rows and a HEIF cut into bands from libheif's
    buffer (`production.processing.decoding`); each band is flattened and box-averaged by k (Pillow's
    `reduce`, the same low-pass `reducing_gap` applies) as it comes, so the full picture is never
    held as a Pillow image: a 100-megapixel RGBA PNG needs tens of megabytes, not 1.2 GiB. An
    interlaced PNG is decoded whole and then shrunk band by band. What would not fit
    `decoding.DECODE_BUDGET` is refused before decoding.
    """
    width, height = image.size
    shrink = max(1, math.floor(1 / scale + 1e-9)) if scale < 1 else 1
    if image.format in ("JPEG", "MPO"):
        shrink = max((factor for factor in (1, 2, 4, 8) if factor <= shrink), default=1)
    output = -(-width // shrink) * -(-height // shrink) * 4
    icc = image.info.get("icc_profile")
    try:
        _refuse_costly_decode(image, fp, output=output)
        if image.format in ("JPEG", "MPO"):
            if shrink > 1:
                image.draft(None, (-(-width // shrink), -(-height // shrink)))
            image.load()
            picture = _flatten(image)
        elif image.format == "HEIF":
            picture = _shrink_bands(decoding.heif_bands(fp, multiple_of=shrink), image.size, shrink)
        else:
            layout = decoding.read_png_layout(fp)
            if layout.interlaced:
                image.load()
                bands = _bands_of(image, multiple_of=shrink)
            else:
                bands = decoding.png_bands(fp, layout, image, multiple_of=shrink)
            picture = _shrink_bands(bands, image.size, shrink)
    except _IMAGE_DECODE_ERRORS as error:
        raise _corrupt_image() from error
    picture = _turn_upright(picture, orientation)
    picture.info = {"icc_profile": icc} if icc else {}
    return picture


def _bands_of(image: Image.Image, *, multiple_of: int) -> Iterator[tuple[int, Image.Image]]:
    """A decoded picture as bands of rows (copies of a few megabytes each)."""
    rows = max(multiple_of, decoding.BAND_BYTES // (image.width * 4) // multiple_of * multiple_of)
    for top in range(0, image.height, rows):
        yield top, image.crop((0, top, image.width, min(image.height, top + rows)))


def _shrink_bands(bands: Iterable[tuple[int, Image.Image]], size: tuple[int, int], shrink: int) -> Image.Image:
    """Flatten each band and box-average it by `shrink` into one picture of the whole."""
    picture: Image.Image | None = None
    for top, band in bands:
        flat = _flatten(band)
        small = flat.reduce(shrink) if shrink > 1 else flat
        if picture is None:
            picture = Image.new(small.mode, (-(-size[0] // shrink), -(-size[1] // shrink)))
        picture.paste(small, (0, top // shrink))
    if picture is None:
        raise decoding.BrokenImage("a photo without rows")
    return picture


_UPRIGHT: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _turn_upright(picture: Image.Image, orientation: int) -> Image.Image:
    """The picture as it is meant to be seen (EXIF orientation, as `ImageOps.exif_transpose` turns it)."""
    method = _UPRIGHT.get(orientation)
    return picture.transpose(method) if method is not None else picture


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, L or CMYK pixels, with any transparency composited on white."""
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode in ("PA", "RGBa", "La"):
        image = image.convert("RGBA")
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode.startswith("I"):
        # 16-bit greyscale (PNG): scale 0..65535 to 0..255; convert() would clip.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    elif image.mode == "L" and "transparency" in image.info:
        image = image.convert("LA")
    if image.mode in ("RGBA", "LA"):
        base = image.mode[:-1]
        background = Image.new(base, image.size, 255 if base == "L" else (255, 255, 255))
        background.paste(image.convert(base), mask=image.getchannel("A"))
        return background
    if image.mode not in ("RGB", "L", "CMYK"):
        return image.convert("RGB")
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB pixels in sRGB, converted from the embedded ICC profile when there is one."""
    icc = image.info.get("icc_profile")
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if not _is_srgb(ImageCms.getProfileDescription(profile)):
                converted = ImageCms.profileToProfile(image, profile, _SRGB_PROFILE, outputMode="RGB")
                if converted is not None:
                    converted.info = {}
                    return converted
        except (ImageCms.PyCMSError, OSError):
            # A broken or mismatched profile: the plain conversion below is
            # the best we can do, and the photo is still usable.
            logger.warning("Ignoring an unusable ICC profile (%d bytes, mode %s)", len(icc), image.mode)
    converted = image.convert("RGB")
    converted.info = {}
    return converted


def _encode_jpeg(image: Image.Image, *, quality: int, max_bytes: int) -> tuple[bytes, int]:
    """JPEG bytes at the highest quality (from `quality` down) that fits in `max_bytes`.

    Optimised Huffman tables (a second pass, twice the coding time for some
    8 % fewer bytes) only when the plain coding does not fit: a rendition is
    far under Instagram's limit as a rule, and Instagram codes it again anyway.
    """
    image.info = {}  # nothing from the source (EXIF, XMP, comments, ICC) may travel along
    for step in range(quality, RENDITION_MIN_QUALITY - 1, -10):
        for optimize in (False, True):
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=step, optimize=optimize)
            if buffer.tell() <= max_bytes:
                return buffer.getvalue(), step
    raise MediaRejected(
        gettext_lazy("We could not make a JPEG of this picture under %(limit)s."),
        code="rendition_too_large",
        params={"limit": filesizeformat(max_bytes)},
    )


# --- Instagram checks ---


_COMMON_RATIOS: dict[str, float] = {
    "16:9": 16 / 9,
    "4:3": 4 / 3,
    "3:4": 3 / 4,
    "3:2": 3 / 2,
    "2:3": 2 / 3,
    "5:4": 5 / 4,
}


def _ratio_text(ratio: float) -> str:
    """A ratio as people write it: "4:5", "1.91:1", "16:9", else "1.38:1" or "0.00781:1"."""
    for name, value in (*ASPECT_RATIOS.items(), *_COMMON_RATIOS.items()):
        if abs(ratio - value) / value <= _ASPECT_TOLERANCE:
            return name
    return f"{number_format(f'{ratio:.3g}')}:1"  # 3 significant digits: 1.38, 0.00781


def _decimal(value: float, places: int = 1) -> str:
    """Rounded (number_format alone would cut off the digits) and in the reader's notation."""
    return str(number_format(round(value, places), decimal_pos=places))


def instagram_check_image(info: MediaInfo, aspect_choice: Aspect | None = None) -> InstagramCheck:
    """Will Instagram take this photo in a feed post or carousel, once we make its rendition?

    Format, colours, width and size are fixed by the rendition, so they only
    add a note; the shape decides between "ok" and "will_be_cropped".
    """
    if info.kind != "image":
        return InstagramCheck("rejected", [_("This is a video, not a photo.")])
    if aspect_choice is not None and not (
        IG_FEED_MIN_ASPECT - 1e-9 <= ASPECT_RATIOS[aspect_choice] <= IG_FEED_MAX_ASPECT + 1e-9
    ):
        return InstagramCheck(
            "rejected",
            [
                _(
                    "Instagram shows feed and carousel photos between 4:5 (portrait) and 1.91:1 (landscape); "
                    "%(aspect)s is for reel covers and stories."
                )
                % {"aspect": aspect_choice}
            ],
        )
    plan = plan_crop(info.display_width, info.display_height, aspect_choice)
    verdict: Verdict = "ok"
    reasons: list[str] = []
    size = {"width": info.display_width, "height": info.display_height, "ratio": _ratio_text(info.aspect_ratio)}
    if plan.cropped:
        verdict = "will_be_cropped"
        if aspect_choice:
            reasons.append(
                _("The photo is %(width)s x %(height)s (%(ratio)s); it will be cropped to the chosen %(aspect)s.")
                % {**size, "aspect": aspect_choice}
            )
        else:
            reasons.append(
                _(
                    "The photo is %(width)s x %(height)s (%(ratio)s), but Instagram shows feed photos between "
                    "4:5 (portrait) and 1.91:1 (landscape); it will be cropped to %(aspect)s."
                )
                % {**size, "aspect": _ratio_text(plan.aspect_ratio)}
            )
    if plan.upscaled:
        reasons.append(
            _(
                "The photo is only %(width)s pixels wide; it will be enlarged to %(min)s pixels, "
                "Instagram's minimum, and may look soft."
            )
            % {"width": round((plan.box[2] - plan.box[0]) * info.display_width), "min": IG_IMAGE_MIN_WIDTH}
        )
    elif plan.width < round((plan.box[2] - plan.box[0]) * info.display_width):
        reasons.append(
            _("It will be scaled down to %(max)s pixels wide, Instagram's maximum.") % {"max": IG_IMAGE_MAX_WIDTH}
        )
    if info.format != "jpeg":
        reasons.append(_("It will be converted to JPEG, the only photo format Instagram accepts."))
    if not info.is_srgb:
        reasons.append(_("Its colours will be converted to sRGB, the colour space Instagram expects."))
    # has_gps/has_exif: what the stored original still has (its county keeps them, production/metadata/).
    if info.has_gps:
        reasons.append(_("The Instagram version leaves out the location (GPS) that the original keeps."))
    elif info.has_exif:
        reasons.append(_("The Instagram version leaves out the camera details (EXIF) that the original keeps."))
    return InstagramCheck(verdict, reasons)


def instagram_check_video(info: MediaInfo, kind: VideoUse = "reel") -> InstagramCheck:
    """Will Instagram take this video as a reel or a carousel item, as it is? We do not re-encode."""
    if info.kind != "video":
        return InstagramCheck("rejected", [_("This is a photo, not a video.")])
    limits = IG_VIDEO_LIMITS[kind]
    problems: list[str] = []
    if info.video_codec not in IG_VIDEO_CODECS:
        problems.append(
            _("The video is encoded as %(codec)s; Instagram needs H.264 or HEVC.")
            % {"codec": (info.video_codec or "?").upper()}
        )
    if info.pixel_format and not _is_420(info.pixel_format):
        problems.append(
            _("The video's colour sampling is %(format)s; Instagram needs 4:2:0.") % {"format": info.pixel_format}
        )
    if info.fps is None or not limits.min_fps <= round(info.fps, 2) <= limits.max_fps:
        problems.append(
            _("The video has %(fps)s frames per second; Instagram needs %(min)s to %(max)s.")
            % {
                "fps": number_format(f"{info.fps:.4g}") if info.fps else "?",
                "min": number_format(limits.min_fps),
                "max": number_format(limits.max_fps),
            }
        )
    if info.display_width > limits.max_width:
        problems.append(
            _("The video is %(width)s pixels wide; Instagram allows at most %(max)s.")
            % {"width": info.display_width, "max": limits.max_width}
        )
    duration = info.duration or 0.0
    if duration < limits.min_seconds:
        problems.append(
            _("The video lasts %(seconds)s seconds; Instagram needs at least %(min)s.")
            % {"seconds": _decimal(duration, 1), "min": number_format(limits.min_seconds)}
        )
    elif duration > limits.max_seconds:
        problems.append(
            _("The video lasts %(length)s; Instagram allows at most %(max)s.")
            % {"length": _minutes_text(duration), "max": _minutes_text(limits.max_seconds)}
        )
    if info.file_size > limits.max_bytes:
        problems.append(
            _("The video is %(size)s MB; Instagram allows at most %(max)s MB.")
            % {
                "size": _decimal(info.file_size / _MB, 1),
                "max": number_format(limits.max_bytes // _MB),
            }
        )
    ratio = info.aspect_ratio
    if not limits.min_aspect * (1 - _ASPECT_TOLERANCE) <= ratio <= limits.max_aspect * (1 + _ASPECT_TOLERANCE):
        problems.append(
            _("The video's shape is %(ratio)s; Instagram needs between %(min)s and %(max)s.")
            % {
                "ratio": _ratio_text(ratio),
                "min": _ratio_text(limits.min_aspect),
                "max": _ratio_text(limits.max_aspect),
            }
        )
    if info.bit_rate and info.bit_rate > limits.max_bit_rate:
        problems.append(
            _("The video uses %(rate)s megabits per second; Instagram allows at most %(max)s.")
            % {
                "rate": _decimal(info.bit_rate / 1_000_000, 1),
                "max": number_format(limits.max_bit_rate // 1_000_000),
            }
        )
    if info.audio_codec is not None:
        if info.audio_codec not in IG_AUDIO_CODECS:
            problems.append(
                _("The sound is encoded as %(codec)s; Instagram needs AAC.") % {"codec": info.audio_codec.upper()}
            )
        if info.audio_sample_rate and info.audio_sample_rate > IG_AUDIO_MAX_SAMPLE_RATE:
            problems.append(
                _("The sound has a sample rate of %(rate)s kHz; Instagram allows at most %(max)s kHz.")
                % {
                    "rate": _decimal(info.audio_sample_rate / 1000, 1),
                    "max": IG_AUDIO_MAX_SAMPLE_RATE // 1000,
                }
            )
        if info.audio_channels and info.audio_channels > IG_AUDIO_MAX_CHANNELS:
            problems.append(
                _("The sound has %(channels)s channels; Instagram takes mono or stereo.")
                % {"channels": info.audio_channels}
            )
    if problems:
        return InstagramCheck("rejected", problems)
    if kind == "reel" and abs(ratio - IG_REEL_RECOMMENDED_ASPECT) / IG_REEL_RECOMMENDED_ASPECT > _ASPECT_TOLERANCE:
        return InstagramCheck(
            "will_be_cropped",
            [
                _(
                    "The video's shape is %(ratio)s; Instagram shows reels at 9:16, "
                    "so the Reels tab will crop it or show it with bars."
                )
                % {"ratio": _ratio_text(ratio)}
            ],
        )
    return InstagramCheck("ok", [])


def _is_420(pixel_format: str) -> bool:
    return "420" in pixel_format or pixel_format in ("nv12", "nv21", "p010le", "p010be")


def _minutes_text(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    if minutes == 0:
        return _("%(seconds)s seconds") % {"seconds": rest}
    return _("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": rest}


# --- Subtitles ---

_VTT_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_VTT_TIMING = re.compile(rf"^{_VTT_TIME}[ \t]+-->[ \t]+{_VTT_TIME}(?:[ \t].*)?$")
# SRT is written by many tools; accept one-digit hours and a full stop for the comma.
_SRT_TIME = r"(\d{1,3}):([0-5]\d):([0-5]\d)[,.](\d{3})"
_SRT_TIMING = re.compile(rf"^[ \t]*{_SRT_TIME}[ \t]+-->[ \t]+{_SRT_TIME}(?:[ \t].*)?$")


@dataclass(frozen=True)
class _Cue:
    line: int  # of the timing line, from 1
    identifier: str
    start: float
    end: float
    text: list[str]


def validate_subtitles(data: bytes, *, max_bytes: int = SUBTITLE_MAX_BYTES) -> SubtitleInfo:
    """Check a WebVTT or SRT file (UTF-8, with or without BOM), or raise `MediaRejected` naming the line."""
    if not data.strip():
        raise MediaRejected(gettext_lazy("The subtitle file is empty."), code="empty")
    if len(data) > max_bytes:
        raise MediaRejected(
            gettext_lazy("The subtitle file is %(size)s; subtitle files can be at most %(limit)s."),
            code="too_large",
            params={"size": filesizeformat(len(data)), "limit": filesizeformat(max_bytes)},
        )
    lines = _subtitle_lines(data)
    if lines[0].startswith("WEBVTT"):
        subtitle_format: Literal["vtt", "srt"] = "vtt"
        cues = _parse_vtt(lines)
    elif lines[_first_filled(lines)].strip().isdigit() or "-->" in lines[_first_filled(lines)]:
        subtitle_format = "srt"
        cues = _parse_srt(lines)
    else:
        raise MediaRejected(
            gettext_lazy("This is not a subtitle file: it should be WebVTT (starting with “WEBVTT”) or SRT."),
            code="not_subtitles",
        )
    if not cues:
        raise MediaRejected(gettext_lazy("The subtitle file contains no subtitles."), code="no_cues")
    return SubtitleInfo(format=subtitle_format, cue_count=len(cues), last_cue_end=max(cue.end for cue in cues))


def srt_to_vtt(data: bytes) -> str:
    """The same subtitles as WebVTT, so that we store one format; `MediaRejected` when `data` is not valid SRT."""
    info = validate_subtitles(data)
    if info.format != "srt":
        raise MediaRejected(gettext_lazy("This subtitle file is not SRT."), code="not_srt")
    blocks = ["WEBVTT"]
    for cue in _parse_srt(_subtitle_lines(data)):
        timing = f"{_vtt_time(cue.start)} --> {_vtt_time(cue.end)}"
        blocks.append("\n".join([cue.identifier, timing, *(_srt_text_to_vtt(text) for text in cue.text)]))
    return "\n\n".join(blocks) + "\n"


def _subtitle_lines(data: bytes) -> list[str]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise MediaRejected(
            gettext_lazy("Line %(line)s is not UTF-8 text. Save the subtitles as UTF-8 and upload them again."),
            code="not_utf8",
            params={"line": data[: error.start].count(b"\n") + 1},
        ) from error
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _first_filled(lines: list[str]) -> int:
    return next((number for number, line in enumerate(lines) if line.strip()), 0)


def _blocks(lines: list[str], start: int) -> Iterator[tuple[int, list[str]]]:
    """Groups of non-blank lines with the number (from 1) of their first line."""
    block: list[str] = []
    first = 0
    for index in range(start, len(lines)):
        if lines[index].strip():
            if not block:
                first = index + 1
            block.append(lines[index])
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


def _bad_line(message: str | Promise, line: int, text: str, code: str = "invalid_subtitles") -> MediaRejected:
    return MediaRejected(message, code=code, params={"line": line, "text": text.strip()[:80]})


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def _timed_cue(
    match: re.Match[str], *, line: int, identifier: str, text: list[str], previous: _Cue | None, raw: str
) -> _Cue:
    groups = match.groups()
    start, end = _seconds(*groups[0:4]), _seconds(*groups[4:8])
    if end <= start:
        raise _bad_line(
            gettext_lazy("Line %(line)s: the subtitle ends before it starts (“%(text)s”)."), line, raw, "bad_timing"
        )
    if previous is not None and start < previous.start:
        raise _bad_line(
            gettext_lazy(
                "Line %(line)s: this subtitle starts before the one above it (“%(text)s”); keep them in order."
            ),
            line,
            raw,
            "bad_timing",
        )
    return _Cue(line=line, identifier=identifier, start=start, end=end, text=text)


def _parse_vtt(lines: list[str]) -> list[_Cue]:
    if not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        raise _bad_line(gettext_lazy("Line %(line)s must be “WEBVTT”, optionally followed by a space and text."), 1, "")
    # The header runs to the first blank line.
    start = next((index for index, line in enumerate(lines) if not line.strip()), len(lines))
    for index in range(1, start):
        if "-->" in lines[index]:
            raise _bad_line(
                gettext_lazy("Line %(line)s: a blank line must come between “WEBVTT” and the first subtitle."),
                index + 1,
                lines[index],
            )
    cues: list[_Cue] = []
    for first, block in _blocks(lines, start):
        keyword = block[0].split(maxsplit=1)[0] if block[0].strip() else ""
        if keyword == "NOTE" or (keyword in ("STYLE", "REGION") and not cues):
            continue
        identifier, timing_offset = ("", 0) if "-->" in block[0] else (block[0], 1)
        line = first + timing_offset
        if timing_offset >= len(block) or "-->" not in block[timing_offset]:
            raise _bad_line(
                gettext_lazy(
                    "Line %(line)s: expected a time line such as “00:00:01.000 --> 00:00:04.000” (found “%(text)s”)."
                ),
                line,
                block[timing_offset] if timing_offset < len(block) else "",
            )
        raw = block[timing_offset]
        match = _VTT_TIMING.match(raw.strip())
        if match is None:
            raise _bad_line(
                gettext_lazy(
                    "Line %(line)s: “%(text)s” is not a valid time line; write it as “00:00:01.000 --> 00:00:04.000”."
                ),
                line,
                raw,
                "bad_timing",
            )
        text = block[timing_offset + 1 :]
        for offset, text_line in enumerate(text, start=line + 1):
            if "-->" in text_line:
                raise _bad_line(
                    gettext_lazy(
                        "Line %(line)s: subtitle text cannot contain “-->”; is a blank line missing before it?"
                    ),
                    offset,
                    text_line,
                )
        cues.append(
            _timed_cue(match, line=line, identifier=identifier, text=text, previous=cues[-1] if cues else None, raw=raw)
        )
    return cues


def _parse_srt(lines: list[str]) -> list[_Cue]:
    cues: list[_Cue] = []
    for first, block in _blocks(lines, 0):
        number = block[0].strip()
        if not number.isdigit():
            raise _bad_line(
                gettext_lazy(
                    "Line %(line)s: expected the number of a subtitle (found “%(text)s”); "
                    "is there a blank line inside a subtitle?"
                ),
                first,
                block[0],
            )
        raw = block[1] if len(block) > 1 else ""
        match = _SRT_TIMING.match(raw)
        if match is None:
            raise _bad_line(
                gettext_lazy(
                    "Line %(line)s: “%(text)s” is not a valid time line; write it as “00:00:01,000 --> 00:00:04,000”."
                ),
                first + 1,
                raw,
                "bad_timing",
            )
        cues.append(
            _timed_cue(
                match, line=first + 1, identifier=number, text=block[2:], previous=cues[-1] if cues else None, raw=raw
            )
        )
    return cues


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


_SRT_MARKUP = re.compile(r"(</?[biu]>)|</?font\b[^>]*>|\{\\[^}]*\}", re.IGNORECASE)


def _srt_text_to_vtt(text: str) -> str:
    """SRT cue text as WebVTT cue text: <b>, <i>, <u> kept, <font> and {\\an8} tags dropped, the rest escaped."""
    parts: list[str] = []
    position = 0
    for match in _SRT_MARKUP.finditer(text):
        parts.append(_escape_vtt(text[position : match.start()]))
        if match.group(1):
            parts.append(match.group(1).lower())
        position = match.end()
    parts.append(_escape_vtt(text[position:]))
    return "".join(parts)


def _escape_vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
