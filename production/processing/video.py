"""Videos: what PyAV tells us about one (`probe_video`) and its poster frame."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import IO, Literal

import av
import av.error
from django.utils.translation import gettext_lazy
from PIL import Image

from production.processing.files import SNIFF_BYTES, MediaRejected, Source, detect_format, file_size, opened, write
from production.processing.images import IG_IMAGE_MAX_BYTES, IG_IMAGE_MAX_WIDTH, RENDITION_QUALITY, encode_jpeg

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
class PosterFrame:
    width: int
    height: int
    at_seconds: float  # where the frame was taken
    file_size: int


# --- Reading a video ---


def probe_video(source: Source) -> VideoInfo:
    """Duration, codecs, size, frame rate and rotation of an MP4 or MOV file, or `MediaRejected`.

    The MOV/MP4 demuxer is forced, so FFmpeg never guesses another format
    (playlists, concat lists) from the bytes, and the first picture is
    decoded to prove the video can be read.
    """
    with opened(source) as fp:
        size = file_size(fp)
        head = fp.read(SNIFF_BYTES)
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


# --- Poster frame ---


def make_poster_frame(
    source: Source,
    dest: Source,
    *,
    at_seconds: float = 1.0,
    chosen: bool = False,
    max_width: int = IG_IMAGE_MAX_WIDTH,
    quality: int = RENDITION_QUALITY,
) -> PosterFrame:
    """Save the picture at `at_seconds` as an upright sRGB JPEG.

    At most the middle of the video (1 s into a long one, by default); a `chosen` moment (a reel's cover) is
    only kept inside the video.
    """
    with opened(source) as fp:
        try:
            container = av.open(fp, mode="r", format="mov")
        except (av.error.FFmpegError, OSError, ValueError) as error:
            raise _unreadable_video() from error
        with container:
            if not container.streams.video:
                raise _unreadable_video()
            stream = container.streams.video[0]
            if container.duration:
                length = container.duration / av.time_base
                at_seconds = min(at_seconds, max(0.0, length - 0.1) if chosen else length / 2)
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
    data, _quality = encode_jpeg(image, quality=quality, max_bytes=IG_IMAGE_MAX_BYTES)
    write(dest, data)
    return PosterFrame(width=image.width, height=image.height, at_seconds=round(taken_at, 3), file_size=len(data))
