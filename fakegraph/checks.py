"""What Instagram checks on a container: the caption, and the media it downloads from the URL.

Images are checked while the create call waits (as Meta does: the errors come
back from `POST /media`); videos are downloaded and probed then too, but their
verdict only shows in the container's status after processing.
"""

from __future__ import annotations

import io
import re
import tempfile
import time
from dataclasses import dataclass
from typing import IO

import av
import httpx
from PIL import Image, UnidentifiedImageError

from fakegraph import errors
from fakegraph.errors import GraphError

MAX_CAPTION_CHARS = 2200
MAX_HASHTAGS = 30
MAX_MENTIONS = 20
MAX_COLLABORATORS = 3
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_REEL_BYTES = 300 * 1024 * 1024
MAX_SHORT_VIDEO_BYTES = 100 * 1024 * 1024  # carousel videos and stories
USERNAME = re.compile(r"[A-Za-z0-9._]{1,30}")
_HASHTAG = re.compile(r"(?<![\w#])#\w+")
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")


def check_caption(caption: str) -> None:
    if len(caption) > MAX_CAPTION_CHARS:
        raise errors.caption_too_long(f"{len(caption)} characters")
    hashtags = len(_HASHTAG.findall(caption))
    if hashtags > MAX_HASHTAGS:
        raise errors.caption_too_long(f"{hashtags} hashtags")
    mentions = len(_MENTION.findall(caption))
    if mentions > MAX_MENTIONS:
        raise errors.too_many_tags(mentions)


def _open_stream(url: str, timeout: float, limit: int, sink: IO[bytes]) -> int:
    """Download `url` into `sink`, at most `limit` + 1 bytes; returns the bytes read."""
    if not url.isascii() or not url.startswith(("http://", "https://")):
        raise errors.fetch_failed(url)
    deadline = time.monotonic() + timeout
    size = 0
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url, headers={"User-Agent": "facebookexternalhit/1.1 (fake)"}) as response,
        ):
            if response.status_code >= 400:
                raise errors.fetch_failed(url)
            for chunk in response.iter_bytes(64 * 1024):
                sink.write(chunk)
                size += len(chunk)
                if size > limit:
                    break
                if time.monotonic() > deadline:
                    raise errors.download_timeout()
    except httpx.TimeoutException as exc:
        raise errors.download_timeout() from exc
    except httpx.HTTPError as exc:
        raise errors.fetch_failed(url) from exc
    return size


def check_image(url: str, *, timeout: float, check_aspect: bool) -> tuple[int, int]:
    """Download and check a feed image as Instagram does; returns (width, height)."""
    buffer = io.BytesIO()
    size = _open_stream(url, timeout, MAX_IMAGE_BYTES, buffer)
    if size > MAX_IMAGE_BYTES:
        raise errors.image_too_large(size)
    buffer.seek(0)
    try:
        with Image.open(buffer) as image:
            # MPO (extended JPEG from phone cameras) is not accepted either.
            if image.format != "JPEG":
                raise errors.image_format(image.format or "unknown")
            image.load()
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise errors.image_format("not an image") from exc
    # 4:5 (0.8) to 1.91:1, in integers so that the bounds themselves pass.
    if check_aspect and not (width * 100 >= height * 80 and width * 100 <= height * 191):
        raise errors.aspect_ratio(width, height)
    return width, height


def _top_level_boxes(fp: IO[bytes]) -> list[bytes]:
    """The MP4/MOV file's top-level box types, in order (the first 64)."""
    boxes = []
    for _box in range(64):
        header = fp.read(8)
        if len(header) < 8:
            break
        size, kind = int.from_bytes(header[:4], "big"), header[4:8]
        boxes.append(kind)
        if size == 1:
            size = int.from_bytes(fp.read(8), "big") - 8
        if size == 0:
            break  # to the end of the file
        if size < 8:
            break
        fp.seek(size - 8, 1)
    return boxes


@dataclass(frozen=True)
class VideoVerdict:
    """The outcome of processing: None for a publishable video, else Meta's subcode and our reason."""

    subcode: int | None
    reason: str
    duration: float = 0.0


def check_video(
    url: str, *, timeout: float, max_bytes: int, min_seconds: float, max_seconds: float, thumb_offset_ms: int | None
) -> VideoVerdict:
    """Download and probe a video; a failure here ends the container in ERROR, not the create call."""
    with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as spool:
        try:
            size = _open_stream(url, timeout, max_bytes, spool)
        except GraphError as error:
            # Observed: a video that cannot be fetched fails processing with 2207082 or 2207076.
            return VideoVerdict(2207082, f"download failed: {error.user_msg or error.message}")
        if size > max_bytes:
            return VideoVerdict(2207082, f"the video is larger than {max_bytes} bytes")
        spool.seek(0)
        boxes = _top_level_boxes(spool)
        spool.seek(0)
        try:
            with av.open(spool, mode="r") as container:
                formats = set(container.format.name.split(","))
                streams = container.streams.video
                codec = streams[0].codec_context.name if streams else ""
                pixel_format = streams[0].codec_context.pix_fmt if streams else None
                duration = container.duration / 1_000_000 if container.duration else 0.0
        except (av.FFmpegError, ValueError, OSError) as exc:
            return VideoVerdict(2207026, f"not a readable video ({exc})")
    if not formats & {"mov", "mp4"}:
        return VideoVerdict(2207026, f"container {'/'.join(sorted(formats))} is not MOV or MP4", duration)
    if codec not in {"h264", "hevc"}:
        return VideoVerdict(2207026, f"video codec {codec or 'none'} is not H.264 or HEVC", duration)
    # The Reels spec (GRAPH_API.md §3): chroma subsampling 4:2:0 at 8 bits, and the index (moov) at the front.
    if pixel_format not in {"yuv420p", "yuvj420p"}:
        return VideoVerdict(2207026, f"pixel format {pixel_format} is not 8-bit 4:2:0", duration)
    if b"moov" not in boxes or b"mdat" not in boxes or boxes.index(b"moov") > boxes.index(b"mdat"):
        return VideoVerdict(2207026, "the moov atom is not at the front of the file (no fast start)", duration)
    if not min_seconds <= duration <= max_seconds:
        return VideoVerdict(
            2207026, f"duration {duration:.1f} s is outside {min_seconds:g} s to {max_seconds:g} s", duration
        )
    if thumb_offset_ms is not None and not 0 <= thumb_offset_ms < duration * 1000:
        return VideoVerdict(2207057, f"thumb_offset {thumb_offset_ms} ms is outside the video", duration)
    return VideoVerdict(None, "", duration)
