"""Video clips for tests, made with Debian's ffmpeg once per session, and reading a rendition the way Meta would.

Shared by the reel rendition tests (tests/production/test_transcode.py), the worker's
(tests/production/test_reel_renditions.py) and the fake Graph API's check of what it downloads.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from production.processing import burn_subtitles


def require_media_tools() -> None:
    """Skip (fail on CI) when the ffmpeg command or the subtitle font is missing."""
    if shutil.which("ffmpeg") is None or not (burn_subtitles.FONTS_DIR / "NotoSans-Regular.ttf").exists():
        message = "ffmpeg or Noto Sans is missing (make media-tools: apt-get install ffmpeg fonts-noto-core)."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def picture(size: str, rate: int | str, seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}:d={seconds}"]


def tone(seconds: float, rate: int = 48_000) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=f=440:d={seconds}:sample_rate={rate}"]


H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def hevc_mov(dest: Path, *, size: str = "240x426", seconds: float = 3.2) -> Path:
    """A small phone-like HEVC MOV with sound (its index at the end, as a phone writes it): Instagram refuses
    nothing here by codec, but the reel rendition turns it into the H.264 MP4 the spec prefers."""
    ffmpeg(
        *picture(size, 30, seconds),
        *tone(seconds),
        *("-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1"),
        *("-pix_fmt", "yuv420p10le", "-c:a", "aac"),
        str(dest),
    )
    return dest


def h264_mp4(dest: Path, *, size: str = "240x426", seconds: float = 3.2) -> Path:
    ffmpeg(*picture(size, 30, seconds), *tone(seconds), *H264, "-c:a", "aac", str(dest))
    return dest


def top_level_boxes(path: Path) -> list[bytes]:
    boxes = []
    with path.open("rb") as fp:
        while len(header := fp.read(8)) == 8:
            size = int.from_bytes(header[:4], "big")
            boxes.append(header[4:8])
            if size == 1:
                size = int.from_bytes(fp.read(8), "big") - 8
            fp.seek(size - 8, os.SEEK_CUR)
    return boxes


@dataclass(frozen=True)
class Streams:
    width: int
    height: int
    fps: float
    constant_rate: bool
    audio: tuple[str, int, int] | None


def assert_meets_spec(path: Path) -> Streams:
    boxes = top_level_boxes(path)
    assert boxes.index(b"moov") < boxes.index(b"mdat"), boxes
    assert path.stat().st_size <= 300 * 1000 * 1000
    with av.open(str(path)) as opened:
        assert opened.format.name.startswith("mov,mp4")
        video = opened.streams.video[0]
        frames = list(opened.decode(video))
        first = frames[0]
        assert video.codec_context.name == "h264"
        assert video.codec_context.profile == "High"
        assert first.format.name == "yuv420p"
        assert int(first.color_trc) == 1, "BT.709 transfer"  # not 18 (HLG) or 16 (PQ)
        assert int(first.color_primaries) == 1, "BT.709 primaries"
        assert first.rotation == 0
        assert max(first.width, first.height) <= 1920
        assert (opened.bit_rate or 0) <= 25_000_000
        fps = float(video.average_rate)
        steps = {round(float((b.pts - a.pts) * video.time_base), 4) for a, b in itertools.pairwise(frames)}
        audio = None
        if opened.streams.audio:
            sound = opened.streams.audio[0].codec_context
            audio = (sound.name, sound.sample_rate, sound.channels)
            assert sound.profile == "LC"
    assert 23 <= fps <= 60
    return Streams(first.width, first.height, round(fps, 3), len(steps) == 1, audio)
