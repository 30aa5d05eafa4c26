"""Reel renditions (production/processing/transcode.py) of clips made once per session with Debian's ffmpeg.

Every rendition is read back with PyAV here, independently of the module's
own check, and held against Meta's Reels spec: H.264 High, yuv420p, BT.709,
upright, constant frame rate, the size, AAC 48 kHz stereo, the index first.
The clips are small and short except where the size is what is tested.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import av
import pytest
from django.utils import translation
from PIL import Image, ImageChops, ImageStat

from production.processing import burn_subtitles, transcode
from production.processing.files import MediaRejected
from tests.factories.clips import (
    H264,
    assert_meets_spec,
    ffmpeg,
    picture,
    require_media_tools,
    tone,
    top_level_boxes,
)


@pytest.fixture(scope="session", autouse=True)
def _ffmpeg() -> None:
    require_media_tools()


def with_rotation(source: Path, dest: Path, degrees: int) -> Path:
    """The same streams with a display rotation, as a phone writes it (ffmpeg 5.1's CLI cannot set one)."""
    with av.open(str(source)) as original, av.open(str(dest), "w", format="mov") as turned:
        stream = turned.add_stream_from_template(original.streams.video[0])
        stream.set_display_rotation(degrees)
        for packet in original.demux(original.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                turned.mux(packet)
    return dest


def with_damaged_audio(source: Path, dest: Path) -> Path:
    """A copy whose sound packets in the middle third are overwritten with garbage."""
    with av.open(str(source)) as opened:
        stream = opened.streams.audio[0]
        spans = [
            (packet.pos, packet.size)
            for packet in opened.demux(stream)
            if packet.pos is not None and packet.pts is not None and 1.2 < float(packet.pts * stream.time_base) < 2.4
        ]
    data = bytearray(source.read_bytes())
    for position, size in spans:
        data[position : position + size] = bytes((index * 151 + 7) % 256 for index in range(size))
    dest.write_bytes(bytes(data))
    assert spans
    return dest


@dataclass(frozen=True)
class Clips:
    hlg_4k_rotated: Path
    vfr_portrait: Path
    landscape_60_44k: Path
    mov_moov_at_end: Path
    no_audio: Path
    surround: Path
    vp9_webm: Path
    damaged_audio: Path
    two_seconds: Path
    sixteen_minutes: Path
    sound_only: Path
    flat_portrait: Path


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    folder = tmp_path_factory.mktemp("clips")
    # An iPhone-like HDR clip: HEVC Main 10, HLG, BT.2020, 4K, turned 90°; few frames (10 fps) to stay cheap.
    ffmpeg(
        *picture("3840x2160", 10, 3.2),
        *("-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le"),
        *("-x265-params", "log-level=error:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc"),
        *("-color_primaries", "bt2020", "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc"),
        str(folder / "hlg.mov"),
    )
    hlg = with_rotation(folder / "hlg.mov", folder / "hlg-rotated.mov", 90)
    # Variable frame rate near 60 fps: frame times jitter by up to 10 ms.
    ffmpeg(
        *picture("240x426", 60, 3.5),
        *tone(3.5),
        *("-vf", "setpts=N/(60*TB)+mod(N\\,3)*0.005/TB", "-fps_mode", "vfr", *H264, "-c:a", "aac"),
        str(folder / "vfr.mp4"),
    )
    ffmpeg(*picture("320x180", 60, 3.2), *tone(3.2, 44_100), *H264, "-c:a", "aac", str(folder / "landscape.mp4"))
    ffmpeg(*picture("240x426", 30, 3.2), *tone(3.2), *H264, "-c:a", "aac", str(folder / "moov-at-end.mov"))
    ffmpeg(*picture("240x426", 30, 3.2), *H264, str(folder / "silent.mp4"))
    ffmpeg(*picture("240x426", 30, 3.2), *tone(3.2), *H264, "-c:a", "aac", "-ac", "6", str(folder / "surround.mp4"))
    ffmpeg(
        *picture("240x426", 25, 3.2),
        *tone(3.2),
        *("-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-c:a", "libopus"),
        str(folder / "clip.webm"),
    )
    ffmpeg(*picture("240x426", 30, 3.6), *tone(3.6), *H264, "-c:a", "aac", str(folder / "whole.mp4"))
    damaged = with_damaged_audio(folder / "whole.mp4", folder / "damaged-audio.mp4")
    ffmpeg(*picture("240x426", 30, 2), *H264, str(folder / "two-seconds.mp4"))
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=16x16:r=1:d=960", *H264, str(folder / "sixteen-minutes.mp4"))
    ffmpeg(*tone(4), "-c:a", "aac", str(folder / "sound.mp4"))
    ffmpeg("-f", "lavfi", "-i", "color=c=0x336699:s=360x640:r=30:d=3.5", *H264, str(folder / "flat.mp4"))
    return Clips(
        hlg_4k_rotated=hlg,
        vfr_portrait=folder / "vfr.mp4",
        landscape_60_44k=folder / "landscape.mp4",
        mov_moov_at_end=folder / "moov-at-end.mov",
        no_audio=folder / "silent.mp4",
        surround=folder / "surround.mp4",
        vp9_webm=folder / "clip.webm",
        damaged_audio=damaged,
        two_seconds=folder / "two-seconds.mp4",
        sixteen_minutes=folder / "sixteen-minutes.mp4",
        sound_only=folder / "sound.mp4",
        flat_portrait=folder / "flat.mp4",
    )


# --- Reading a rendition the way Meta would ---


@pytest.fixture
def output(tmp_path: Path) -> Path:
    return tmp_path / "reel.mp4"


def refusal(source: Path, dest: Path) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        transcode.make_reel_rendition(source, dest)
    assert not dest.exists()
    return caught.value


# --- Renditions ---


def test_4k_hdr_hlg_phone_clip_becomes_upright_1080p_sdr(clips: Clips, output: Path) -> None:
    before = clips.hlg_4k_rotated.read_bytes()
    rendition = transcode.make_reel_rendition(clips.hlg_4k_rotated, output)
    streams = assert_meets_spec(output)
    assert (streams.width, streams.height) == (1080, 1920)  # turned upright, long side 1920
    assert streams.audio is None
    assert rendition.color_transfer == "bt709"
    assert clips.hlg_4k_rotated.read_bytes() == before  # the original is untouched
    # Tone-mapped, not washed out: testsrc2's coloured bars keep their colour (a grey wash has R ≈ G ≈ B).
    with av.open(str(output)) as opened:
        image = next(opened.decode(video=0)).to_image()
    small = image.convert("RGB").resize((9, 16))
    colourful = [max(small.getpixel((x, y))) - min(small.getpixel((x, y))) for x in range(9) for y in range(16)]
    assert max(colourful) > 150


def test_variable_frame_rate_portrait_becomes_constant_30(clips: Clips, output: Path) -> None:
    transcode.make_reel_rendition(clips.vfr_portrait, output)
    streams = assert_meets_spec(output)
    assert streams.fps == 30
    assert streams.constant_rate
    assert streams.audio == ("aac", 48_000, 2)


def test_landscape_60_fps_keeps_60_and_44_1_khz_becomes_48(clips: Clips, output: Path) -> None:
    transcode.make_reel_rendition(clips.landscape_60_44k, output)
    streams = assert_meets_spec(output)
    assert (streams.width, streams.height, streams.fps) == (320, 180, 60)
    assert streams.constant_rate
    assert streams.audio == ("aac", 48_000, 2)


def test_mov_with_index_at_the_end_gets_it_first(clips: Clips, output: Path) -> None:
    boxes = top_level_boxes(clips.mov_moov_at_end)
    assert boxes.index(b"mdat") < boxes.index(b"moov")
    transcode.make_reel_rendition(clips.mov_moov_at_end, output)
    assert assert_meets_spec(output).audio == ("aac", 48_000, 2)


def test_video_without_sound_gets_no_invented_track(clips: Clips, output: Path) -> None:
    rendition = transcode.make_reel_rendition(clips.no_audio, output)
    assert assert_meets_spec(output).audio is None
    assert rendition.audio_codec is None


def test_surround_sound_is_mixed_down_to_stereo(clips: Clips, output: Path) -> None:
    transcode.make_reel_rendition(clips.surround, output)
    assert assert_meets_spec(output).audio == ("aac", 48_000, 2)


def test_vp9_webm_becomes_h264_mp4(clips: Clips, output: Path) -> None:
    transcode.make_reel_rendition(clips.vp9_webm, output)
    streams = assert_meets_spec(output)
    assert (streams.width, streams.height) == (240, 426)
    assert streams.fps == 25  # a standard rate within the spec is kept
    assert streams.audio == ("aac", 48_000, 2)


def test_damaged_sound_half_way_still_gives_a_whole_rendition(clips: Clips, output: Path) -> None:
    rendition = transcode.make_reel_rendition(clips.damaged_audio, output)
    streams = assert_meets_spec(output)
    assert streams.audio == ("aac", 48_000, 2)
    assert rendition.duration == pytest.approx(3.6, abs=0.2)


# --- Refusals ---


def test_clip_of_two_seconds_is_refused(clips: Clips, output: Path) -> None:
    error = refusal(clips.two_seconds, output)
    assert error.code == "too_short"
    assert str(error) == "The video lasts 2.0 seconds; a reel must last at least 3 seconds."
    with translation.override("nb"):
        assert "sekund" in str(error)


def test_clip_over_fifteen_minutes_is_refused(clips: Clips, output: Path) -> None:
    error = refusal(clips.sixteen_minutes, output)
    assert error.code == "too_long"
    assert str(error) == "The video lasts 16.0 minutes; a reel can last at most 15 minutes."
    with translation.override("da"):
        assert "minutter" in str(error)


def test_sound_without_picture_is_refused(clips: Clips, output: Path) -> None:
    assert refusal(clips.sound_only, output).code == "no_video_stream"


def test_unreadable_file_is_refused(clips: Clips, tmp_path: Path, output: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clips.mov_moov_at_end.read_bytes()[:5000])  # the index (at the end) is missing
    error = refusal(cut, output)
    assert error.code == "unreadable_video"
    with translation.override("nb"):
        assert str(error) != "This video cannot be read; it may be damaged or incomplete. Upload it again."


# --- Progress, cancelling, time limit ---


def test_progress_is_reported_up_to_done(clips: Clips, output: Path) -> None:
    seen: list[float] = []
    transcode.make_reel_rendition(clips.landscape_60_44k, output, progress=seen.append)
    assert seen[-1] == 1.0
    assert seen == sorted(seen)
    assert all(0 <= fraction <= 1 for fraction in seen)


def test_cancelling_kills_the_encode_and_leaves_nothing(clips: Clips, output: Path) -> None:
    asked: list[bool] = []

    def cancelled() -> bool:
        asked.append(True)
        return True

    with pytest.raises(transcode.TranscodeCancelled):
        transcode.make_reel_rendition(clips.hlg_4k_rotated, output, cancelled=cancelled)
    assert asked
    assert not output.exists()


def test_encode_over_its_time_limit_is_stopped_with_a_message(clips: Clips, output: Path) -> None:
    with pytest.raises(MediaRejected) as caught:
        transcode.make_reel_rendition(clips.hlg_4k_rotated, output, limit_seconds=0)
    assert caught.value.code == "transcode_timeout"
    assert not output.exists()


def test_time_limit_grows_with_duration() -> None:
    assert transcode.time_limit(900) > transcode.time_limit(60) > transcode.time_limit(3) >= 120


# --- Subtitles ---

SUBTITLES = """WEBVTT

00:00:00.200 --> 00:00:02.000
Blåbærsyltetøy på brødskiva, sa Åse - café crème für Müller

00:00:01.500 --> 00:00:02.600
Overlapping: {braces} and a back\\slash \\N stay text

00:00:02.600 --> 00:00:03.200
مرحبا بكم في المكتبة

00:00:03.300 --> 00:00:09.000
This one runs past the end of the video

00:00:10.000 --> 00:00:12.000
This one starts after the end
""".encode()


def test_captions_are_wrapped_clipped_and_kept_inside_the_video() -> None:
    long_text = " ".join(["ordet"] * 50)  # 299 characters
    data = f"1\n00:00:01,000 --> 00:00:09,000\n{long_text}\n".encode()
    captions = burn_subtitles.captions_from(data, duration=20)
    assert all(len(caption.lines) <= 2 for caption in captions)
    assert all(len(line) <= 42 for caption in captions for line in caption.lines)
    assert " ".join(" ".join(caption.lines) for caption in captions) == long_text
    assert captions[0].start == 1
    assert captions[-1].end == 9
    assert all(a.end == b.start for a, b in itertools.pairwise(captions))  # one after another

    captions = burn_subtitles.captions_from(SUBTITLES, duration=3.5)
    assert [(round(c.start, 2), round(c.end, 2)) for c in captions] == [
        (0.2, 1.5),  # cut where the overlapping one begins
        (1.5, 2.6),
        (2.6, 3.2),
        (3.3, 3.5),  # cut at the end; the one after the end is gone
    ]


def test_ass_text_is_escaped_and_placed_above_instagrams_controls() -> None:
    captions = burn_subtitles.captions_from(SUBTITLES, duration=3.5)
    document = burn_subtitles.ass_document(captions, width=1080, height=1920)
    # Wrapped at 42 characters: the only real line break is the one written as ASS line break.
    assert "Overlapping: \\{braces\\} and a back\\\u2060slash \\\u2060N\\Nstay text" in document
    style = next(line for line in document.splitlines() if line.startswith("Style:")).split(",")
    assert int(style[21]) > 0.2 * 1920  # MarginV: above the bottom fifth of a 9:16 reel
    assert style[-1] == "-1"  # libass finds each line's direction (Arabic, Hebrew)
    assert burn_subtitles.covered_fraction(1080, 1080) == 0  # a square reel sits between bars


def test_burned_subtitles_are_in_the_pixels_above_the_covered_strip(clips: Clips, tmp_path: Path) -> None:
    plain, captioned = tmp_path / "plain.mp4", tmp_path / "captioned.mp4"
    transcode.make_reel_rendition(clips.flat_portrait, plain)
    rendition = transcode.make_reel_rendition(clips.flat_portrait, captioned, subtitles=SUBTITLES)
    assert rendition.captions == 4
    assert_meets_spec(captioned)
    for at in (1.0, 2.9):  # the Norwegian line, then the Arabic one
        without, with_ = frame_at(plain, at), frame_at(captioned, at)
        width, height = without.size
        band = (0, round(height * 0.6), width, round(height * 0.8))  # above the covered bottom fifth
        strip = (0, round(height * 0.8), width, height)
        assert changed(without, with_, band) > 0.01
        assert changed(without, with_, strip) == 0


def frame_at(path: Path, seconds: float) -> Image.Image:
    with av.open(str(path)) as opened:
        stream = opened.streams.video[0]
        for frame in opened.decode(stream):
            if frame.time is not None and frame.time >= seconds:
                return frame.to_image()
    raise AssertionError(f"no frame at {seconds} s")


def changed(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    """The share of the box's pixels that differ clearly (more than coding noise) between two frames."""
    diff = ImageChops.difference(a.crop(box), b.crop(box)).convert("L").point(lambda value: 255 if value > 40 else 0)
    return float(ImageStat.Stat(diff).mean[0]) / 255
