"""The Instagram reel rendition of a video: to Meta's Reels specification (GRAPH_API.md §3), subtitles burned in.

`make_reel_rendition(source, dest, …)` writes a new MP4 and never touches
the original, which the archive keeps as uploaded. The rendition is:

* **H.264 High, yuv420p, 8 bit, SDR BT.709**, progressive, closed GOP (x264's
  default), tagged BT.709. HDR (HLG or PQ, BT.2020, 10 bit, as phones record)
  is tone-mapped with zimg (`zscale`) and FFmpeg's `tonemap` (Hable): turned
  to linear light, mapped to SDR, converted to BT.709 primaries. Merely
  squeezing 10-bit BT.2020 into 8-bit BT.709 is what makes phone video look
  grey and washed out.
* **Upright**: the rotation a phone records as metadata is applied to the
  pixels (FFmpeg's autorotate), and the output carries none.
* **Constant frame rate**: a variable-rate phone clip becomes constant at its
  average rate, snapped to the nearest standard rate. Decision: a *portrait*
  video (9:16 reels, the normal case) gets at most 30 frames a second, as
  Instagram shows reels and as halves the bits a 60 fps phone clip would
  spend; a square or landscape video keeps up to 60 where it has them (the
  spec allows 23-60). 60 becomes 30 (and 50 becomes 25) by taking every
  other frame; below 23 the frames are repeated up to 30.
* **Long side ≤ 1920 px** (the spec's width limit covers landscape; we apply
  it to the long side so a 4K portrait clip becomes 1080 x 1920), even sizes.
* **Bit rate**: x264 CRF 20, capped by a VBV maximum of about 0.2 bits per
  pixel per frame (12 Mbps at 1080 x 1920 x 30), never above 20 Mbps (the
  spec allows 25), and lowered for long videos so the file stays under
  90 % of 300 MB.
* **Sound**: AAC-LC, 48 kHz, stereo, 128 kbps (5.1 is mixed down; 44.1 kHz
  resampled; a gap in damaged sound filled with silence so it stays in
  step). Decision on **silent tracks**: Meta's rules give the audio format
  *when there is audio* and do not require a track (GRAPH_API.md §3:
  "Audio: AAC, ≤48 kHz, mono or stereo, 128 kbps" sits beside the video
  rules, and silent reels publish). So a video without sound gets no
  invented silent track: the rendition says what the original has.
* **Fast start**: the index (`moov`) before the media data, no edit lists.
* **No metadata**: tags (a phone's location among them) are not copied.

Why Debian's `ffmpeg` command and not PyAV's encoder: the HDR tone-mapping
needs zimg (`zscale`) and burning subtitles needs libass with FriBidi and
HarfBuzz; PyAV's wheels carry neither. The command streams the file through
its own process (our memory stays flat whatever the duration), reports
progress with `-progress`, and can be killed to cancel. PyAV still reads the
source first (to refuse what Instagram will not take, with a message) and
reads the result back (`verify_rendition`) so we never trust our own numbers.
"""

from __future__ import annotations

import logging
import math
import os
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import av.error
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy

from production.processing import burn_subtitles
from production.processing.files import MediaRejected, detect_format
from production.processing.instagram import IG_VIDEO_LIMITS

logger = logging.getLogger(__name__)

FFMPEG = "ffmpeg"
REEL = IG_VIDEO_LIMITS["reel"]
MAX_LONG_SIDE = 1920
PORTRAIT_MAX_FPS = 30
MIN_FPS = 23  # below this the frames are repeated up to 30
MAX_VIDEO_BIT_RATE = 20_000_000  # the spec allows 25 Mbps; VBV peaks stay under it
BITS_PER_PIXEL = 0.2  # per frame: 12 Mbps at 1080 x 1920 x 30
MIN_VIDEO_BIT_RATE = 300_000
SIZE_SHARE = 0.9  # of Instagram's 300 MB, kept for the audio, the index and rounding
AUDIO_BIT_RATE = 128_000
AUDIO_SAMPLE_RATE = 48_000
CRF = 20
PRESET = "veryfast"
# The time limit: a fixed start-up allowance and seconds of work per second of video (a 4K HEVC 10-bit
# phone clip on two cores takes about three; see BENCHMARKS.md), so a stuck encode is stopped.
TIME_LIMIT_BASE_SECONDS = 120
TIME_LIMIT_SECONDS_PER_SECOND = 8.0
_HDR_TRANSFERS = {"arib-std-b67": "arib-std-b67", "smpte2084": "smpte2084"}
_STANDARD_RATES = [Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30)]
_STANDARD_RATES += [Fraction(50), Fraction(60000, 1001), Fraction(60)]
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # Matroska and WebM

type ProgressCallback = Callable[[float], None]
type CancelCheck = Callable[[], bool]


class TranscodeCancelled(Exception):
    """The caller's cancel check said stop; the FFmpeg process was killed and nothing was written."""


@dataclass(frozen=True, kw_only=True)
class SourceVideo:
    """What PyAV reads from the upload, as far as the rendition needs it."""

    container: Literal["mov", "matroska"]
    duration: float
    display_width: int  # after rotation
    display_height: int
    rotation: int
    codec: str
    pixel_format: str | None
    fps: Fraction | None  # average
    color_transfer: str | None
    color_primaries: str | None
    color_space: str | None
    audio_channels: int | None  # None: no sound track

    @property
    def hdr(self) -> bool:
        return self.color_transfer in _HDR_TRANSFERS

    @property
    def portrait(self) -> bool:
        return self.display_height > self.display_width


@dataclass(frozen=True, kw_only=True)
class Plan:
    width: int
    height: int
    fps: Fraction
    video_bit_rate: int  # the VBV maximum
    tone_map: bool


@dataclass(frozen=True, kw_only=True)
class Rendition:
    """The rendition as PyAV reads it back."""

    width: int
    height: int
    fps: float
    duration: float
    file_size: int
    bit_rate: int
    video_codec: str
    profile: str | None
    pixel_format: str | None
    color_transfer: str | None
    rotation: int
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: int | None
    moov_at_front: bool
    captions: int = 0  # burned in


# --- Reading the source ---


def _unreadable() -> MediaRejected:
    return MediaRejected(
        gettext_lazy("This video cannot be read; it may be damaged or incomplete. Upload it again."),
        code="unreadable_video",
    )


def probe_source(source: str | os.PathLike[str]) -> SourceVideo:
    """Read an MP4, MOV or WebM with PyAV, or refuse it with a message (unreadable, no picture, too short or long).

    The demuxer is chosen from the file's first bytes and forced, so FFmpeg
    never guesses another format (a playlist that fetches other files) from
    them; the first picture is decoded to prove the video can be read.
    """
    with open(source, "rb") as fp:
        head = fp.read(64)
    container: Literal["mov", "matroska"]
    if detect_format(head) in ("mp4", "mov"):
        container = "mov"
    elif head.startswith(_EBML_MAGIC):
        container = "matroska"
    else:
        raise _unreadable()
    try:
        opened = av.open(os.fspath(source), mode="r", format=container)
    except (av.error.FFmpegError, OSError, ValueError) as error:
        raise _unreadable() from error
    with opened:
        if not opened.streams.video:
            raise MediaRejected(
                gettext_lazy("This file has no moving picture (it may be sound only), so it is not a video."),
                code="no_video_stream",
            )
        stream = opened.streams.video[0]
        audio = opened.streams.audio[0] if opened.streams.audio else None
        try:
            first = next(opened.decode(stream), None)
        except (av.error.FFmpegError, OSError, ValueError) as error:
            raise _unreadable() from error
        if first is None:
            raise _unreadable()
        quarter = round(first.rotation / 90) % 4
        rotation = (0, 90, 180, -90)[quarter]
        width, height = first.width, first.height
        if opened.duration is not None:
            duration = opened.duration / av.time_base
        elif stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = 0.0
        context = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate
        video = SourceVideo(
            container=container,
            duration=duration,
            display_width=height if rotation in (90, -90) else width,
            display_height=width if rotation in (90, -90) else height,
            rotation=rotation,
            codec=context.name,
            pixel_format=context.pix_fmt,
            fps=Fraction(rate.numerator, rate.denominator) if rate else None,
            color_transfer=_name(first.color_trc, "transfer") or _name(context.color_trc, "transfer"),
            color_primaries=_name(first.color_primaries, "primaries") or _name(context.color_primaries, "primaries"),
            color_space=_name(context.colorspace, "space"),
            audio_channels=audio.codec_context.channels if audio else None,
        )
    _refuse_duration(video.duration)
    return video


# FFmpeg's enum values (libavutil/pixfmt.h) for what we need to tell apart; PyAV gives the numbers.
_TRANSFERS = {1: "bt709", 2: None, 6: "smpte170m", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084"}
_TRANSFERS |= {18: "arib-std-b67", 13: "iec61966-2-1"}
_PRIMARIES = {1: "bt709", 2: None, 5: "bt470bg", 6: "smpte170m", 9: "bt2020"}
_SPACES = {1: "bt709", 2: None, 5: "bt470bg", 6: "smpte170m", 9: "bt2020nc", 10: "bt2020c"}


def _name(value: object, kind: Literal["transfer", "primaries", "space"]) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    table = {"transfer": _TRANSFERS, "primaries": _PRIMARIES, "space": _SPACES}[kind]
    try:
        return table.get(int(value))  # type: ignore[call-overload]  # PyAV's enums are int-like
    except (TypeError, ValueError):
        return None


def _refuse_duration(duration: float) -> None:
    if duration < REEL.min_seconds:
        raise MediaRejected(
            gettext_lazy("The video lasts %(seconds)s seconds; a reel must last at least %(min)s seconds."),
            code="too_short",
            params={"seconds": number_format(round(duration, 1), 1), "min": number_format(REEL.min_seconds)},
        )
    if duration > REEL.max_seconds:
        raise MediaRejected(
            gettext_lazy("The video lasts %(minutes)s minutes; a reel can last at most %(max)s minutes."),
            code="too_long",
            params={"minutes": number_format(round(duration / 60, 1), 1), "max": number_format(REEL.max_seconds // 60)},
        )


# --- The plan ---


def time_limit(duration: float) -> int:
    """Seconds a rendition of a `duration`-second video may take before it is stopped (the task's limit too)."""
    return math.ceil(TIME_LIMIT_BASE_SECONDS + TIME_LIMIT_SECONDS_PER_SECOND * max(duration, 0.0))


def choose_fps(rate: Fraction | None, *, portrait: bool) -> Fraction:
    """The constant output rate (see the module's docstring)."""
    cap = PORTRAIT_MAX_FPS if portrait else REEL.max_fps
    if rate is None or rate < MIN_FPS:
        return Fraction(30)
    nearest = min(_STANDARD_RATES, key=lambda standard: abs(standard - rate))
    chosen = nearest if abs(nearest - rate) / rate < 0.03 else Fraction(round(rate))
    while chosen > cap:
        chosen = chosen / 2 if chosen / 2 >= MIN_FPS else Fraction(cap)
    return chosen


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def plan(video: SourceVideo) -> Plan:
    scale = min(1.0, MAX_LONG_SIDE / max(video.display_width, video.display_height))
    width, height = _even(video.display_width * scale), _even(video.display_height * scale)
    fps = choose_fps(video.fps, portrait=video.portrait)
    quality = BITS_PER_PIXEL * width * height * float(fps)
    budget = SIZE_SHARE * REEL.max_bytes * 8 / max(video.duration, 1.0) - AUDIO_BIT_RATE
    # VBV bounds the file by rate x duration + one buffer (2 x rate); keep that inside the budget.
    budget *= video.duration / (video.duration + 2)
    rate = round(max(MIN_VIDEO_BIT_RATE, min(quality, MAX_VIDEO_BIT_RATE, budget)))
    return Plan(width=width, height=height, fps=fps, video_bit_rate=rate, tone_map=video.hdr)


def _video_filters(video: SourceVideo, chosen: Plan, *, subtitles: bool) -> str:
    """The filter chain after FFmpeg's autorotate: frame rate first (less to scale), size and colour, captions."""
    filters = [f"fps={chosen.fps.numerator}/{chosen.fps.denominator}"]
    size = f"w={chosen.width}:h={chosen.height}"
    if chosen.tone_map:
        transfer = _HDR_TRANSFERS[video.color_transfer or ""]
        filters += [
            f"zscale={size}:f=spline36:tin={transfer}:min=bt2020nc:pin=bt2020:rin=tv:t=linear:npl=100",
            "format=gbrpf32le",
            "zscale=p=bt709",
            "tonemap=tonemap=hable:desat=0",
            "zscale=t=bt709:m=bt709:r=tv",
        ]
    elif video.color_primaries == "bt2020":
        filters.append(f"zscale={size}:f=spline36:min=bt2020nc:pin=bt2020:rin=tv:m=bt709:p=bt709:t=bt709:r=tv")
    else:
        filters.append(f"scale={size}:flags=bicubic:out_color_matrix=bt709:out_range=tv")
    filters.append("format=yuv420p")
    if subtitles:
        # Relative to FFmpeg's working directory (our temporary directory), so no path needs escaping.
        filters.append(f"subtitles=filename=captions.ass:fontsdir={burn_subtitles.FONTS_DIR}")
    return ",".join(filters)


def ffmpeg_command(
    source: str | os.PathLike[str], dest: str | os.PathLike[str], video: SourceVideo, chosen: Plan, *, subtitles: bool
) -> list[str]:
    """The whole command line (the benchmark runs the same one directly)."""
    rate = chosen.video_bit_rate
    gop = max(1, round(float(chosen.fps) * 2))
    command = [
        FFMPEG,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostats",
        "-progress",
        "pipe:1",
        "-y",
        # The demuxer that probe_source chose, forced; local files only.
        "-f",
        video.container,
        "-protocol_whitelist",
        "file",
        "-i",
        os.path.abspath(source),
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-sn",
        "-dn",
        "-vf",
        _video_filters(video, chosen, subtitles=subtitles),
        "-c:v",
        "libx264",
        "-profile:v",
        "high",
        "-preset",
        PRESET,
        "-crf",
        str(CRF),
        "-maxrate",
        str(rate),
        "-bufsize",
        str(2 * rate),
        "-g",
        str(gop),
        "-pix_fmt",
        "yuv420p",
        "-color_primaries",
        "bt709",
        "-color_trc",
        "bt709",
        "-colorspace",
        "bt709",
        "-color_range",
        "tv",
    ]
    if video.audio_channels is not None:
        command += [
            "-af",
            f"aresample={AUDIO_SAMPLE_RATE}:async=1:first_pts=0",
            "-c:a",
            "aac",
            "-profile:a",
            "aac_low",
            "-b:a",
            str(AUDIO_BIT_RATE),
            "-ar",
            str(AUDIO_SAMPLE_RATE),
            "-ac",
            "2",
        ]
    command += ["-movflags", "+faststart", "-use_editlist", "0", "-f", "mp4", os.path.abspath(dest)]
    return command


# --- Running it ---


def make_reel_rendition(
    source: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    subtitles: bytes | None = None,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
    limit_seconds: float | None = None,
) -> Rendition:
    """Write the Instagram reel rendition of `source` to `dest` (an MP4); the original is only read.

    `subtitles`: the editor's WebVTT or SRT file, burned in. `progress` is
    called with the fraction done (0 to 1); `cancelled` is asked about twice
    a second and, when it says yes, the encoder is killed and
    `TranscodeCancelled` raised. The encode is stopped after `limit_seconds`
    (default `time_limit(duration)`). Refusals are `MediaRejected` with a
    message for the editor; `dest` is removed on any failure.
    """
    video = probe_source(source)
    chosen = plan(video)
    limit = time_limit(video.duration) if limit_seconds is None else limit_seconds
    with tempfile.TemporaryDirectory(prefix="innspill-reel-") as workdir:
        captions = 0
        if subtitles is not None:
            captions = burn_subtitles.write_ass(
                subtitles,
                Path(workdir) / "captions.ass",
                duration=video.duration,
                width=chosen.width,
                height=chosen.height,
            )
        command = ffmpeg_command(source, dest, video, chosen, subtitles=captions > 0)
        try:
            _run(command, workdir=workdir, duration=video.duration, limit=limit, progress=progress, cancelled=cancelled)
            rendition = verify_rendition(dest, expected_duration=video.duration)
        except BaseException:
            Path(dest).unlink(missing_ok=True)
            raise
    if progress is not None:
        progress(1.0)
    return Rendition(**{**rendition.__dict__, "captions": captions})


def _run(
    command: list[str],
    *,
    workdir: str,
    duration: float,
    limit: float,
    progress: ProgressCallback | None,
    cancelled: CancelCheck | None,
) -> None:
    if shutil.which(FFMPEG) is None:
        raise RuntimeError("The ffmpeg command is missing; install it with `make media-tools` (Debian's ffmpeg).")
    deadline = time.monotonic() + limit
    with tempfile.TemporaryFile(dir=workdir) as errors:
        process = subprocess.Popen(  # noqa: S603 - our own fixed command line; the paths are arguments, not shell
            command, cwd=workdir, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL
        )
        stdout = process.stdout
        if stdout is None:  # for the type checker: stdout=PIPE always gives one
            raise RuntimeError("ffmpeg has no output pipe")
        os.set_blocking(stdout.fileno(), False)
        pending = b""
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            try:
                while True:
                    if cancelled is not None and cancelled():
                        raise TranscodeCancelled()
                    if time.monotonic() > deadline:
                        raise MediaRejected(
                            gettext_lazy(
                                "Making the Instagram version took longer than %(minutes)s minutes and was stopped. "
                                "Try again later."
                            ),
                            code="transcode_timeout",
                            params={"minutes": number_format(math.ceil(limit / 60))},
                        )
                    chunk = b""
                    if selector.select(timeout=0.5):
                        chunk = stdout.read() or b""
                        if not chunk and process.poll() is not None:
                            break
                    elif process.poll() is not None:
                        break
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    if progress is not None:
                        _report(lines, duration, progress)
            except BaseException:
                process.kill()
                process.wait()
                raise
        returncode = process.wait()
        if returncode != 0:
            errors.seek(max(0, errors.seek(0, os.SEEK_END) - 4000))  # the end of the log is enough
            tail = errors.read().decode(errors="replace")
            logger.warning("ffmpeg failed (exit status %s): %s", returncode, tail)
            raise _unreadable()


def _report(lines: list[bytes], duration: float, progress: ProgressCallback) -> None:
    for line in reversed(lines):
        if line.startswith(b"out_time_us=") and duration > 0:
            try:
                done = int(line.split(b"=", 1)[1]) / 1_000_000
            except ValueError:  # "N/A" before the first frame
                continue
            progress(min(0.99, max(0.0, done / duration)))
            return


# --- Checking the result ---


def _top_level_boxes(path: str | os.PathLike[str]) -> list[bytes]:
    boxes = []
    with open(path, "rb") as fp:
        for _box in range(64):
            header = fp.read(8)
            if len(header) < 8:
                break
            size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            boxes.append(kind)
            if size == 1:
                size = int.from_bytes(fp.read(8), "big") - 8
            if size < 8:
                break
            fp.seek(size - 8, os.SEEK_CUR)
    return boxes


def verify_rendition(path: str | os.PathLike[str], *, expected_duration: float | None = None) -> Rendition:
    """Read the rendition back with PyAV and check it against Meta's Reels spec; `MediaRejected` if it misses."""
    boxes = _top_level_boxes(path)
    moov_at_front = b"moov" in boxes and b"mdat" in boxes and boxes.index(b"moov") < boxes.index(b"mdat")
    size = os.path.getsize(path)
    with av.open(os.fspath(path), mode="r", format="mov") as opened:
        stream = opened.streams.video[0]
        audio = opened.streams.audio[0] if opened.streams.audio else None
        first = next(opened.decode(stream))
        context = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate
        duration = (opened.duration or 0) / av.time_base
        rendition = Rendition(
            width=first.width,
            height=first.height,
            fps=round(float(rate), 3) if rate else 0.0,
            duration=round(duration, 3),
            file_size=size,
            bit_rate=opened.bit_rate or 0,
            video_codec=context.name,
            profile=context.profile,
            pixel_format=context.pix_fmt,
            color_transfer=_name(first.color_trc, "transfer") or _name(context.color_trc, "transfer"),
            rotation=round(first.rotation),
            audio_codec=audio.codec_context.name if audio else None,
            audio_sample_rate=audio.codec_context.sample_rate if audio else None,
            audio_channels=audio.codec_context.channels if audio else None,
            moov_at_front=moov_at_front,
        )
    problems = spec_problems(rendition)
    if expected_duration and abs(rendition.duration - expected_duration) > max(1.0, 0.05 * expected_duration):
        problems.append(f"lasts {rendition.duration} s, the original {expected_duration} s")
    if problems:
        logger.error("The reel rendition %s misses Meta's spec: %s", path, "; ".join(problems))
        raise MediaRejected(
            gettext_lazy("The Instagram version of this video did not come out as Instagram requires."),
            code="rendition_off_spec",
        )
    return rendition


def spec_problems(rendition: Rendition) -> list[str]:
    """How a rendition misses Meta's Reels spec and our own choices (for logs and tests, not for editors)."""
    problems = []
    if rendition.video_codec != "h264" or rendition.profile != "High":
        problems.append(f"video {rendition.video_codec} {rendition.profile}, not H.264 High")
    if rendition.pixel_format != "yuv420p":
        problems.append(f"pixel format {rendition.pixel_format}")
    if rendition.color_transfer != "bt709":
        problems.append(f"transfer {rendition.color_transfer}")
    if max(rendition.width, rendition.height) > MAX_LONG_SIDE or rendition.width % 2 or rendition.height % 2:
        problems.append(f"size {rendition.width} x {rendition.height}")
    if not REEL.min_fps <= rendition.fps <= REEL.max_fps:
        problems.append(f"{rendition.fps} fps")
    if rendition.rotation:
        problems.append(f"rotation {rendition.rotation}")
    if rendition.file_size > REEL.max_bytes or rendition.bit_rate > REEL.max_bit_rate:
        problems.append(f"{rendition.file_size} bytes at {rendition.bit_rate} bit/s")
    sound = (rendition.audio_codec, rendition.audio_sample_rate, rendition.audio_channels)
    if rendition.audio_codec is not None and sound != ("aac", AUDIO_SAMPLE_RATE, 2):
        problems.append(f"sound {rendition.audio_codec} {rendition.audio_sample_rate} Hz {rendition.audio_channels} ch")
    if not rendition.moov_at_front:
        problems.append("index (moov) after the media data")
    return problems
