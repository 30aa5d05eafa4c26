"""Instagram's specifications for videos, and whether Instagram takes a photo or video as it is.

From ../shared/GRAPH_API.md §3; Instagram's numbers for photos are in
`production.processing.images`, where the renditions are made to fit them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from production.processing.files import MediaInfo
from production.processing.images import (
    ASPECT_RATIOS,
    ASPECT_TOLERANCE,
    IG_FEED_MAX_ASPECT,
    IG_FEED_MIN_ASPECT,
    IG_IMAGE_MAX_WIDTH,
    IG_IMAGE_MIN_WIDTH,
    MB,
    Aspect,
    decimal,
    plan_crop,
)

type Verdict = Literal["ok", "will_be_cropped", "rejected"]
type VideoUse = Literal["reel", "carousel"]

# --- Instagram's numbers for videos ---

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
    "reel": VideoLimits(min_seconds=3, max_seconds=15 * 60, max_bytes=300 * MB, min_aspect=0.01, max_aspect=10),
    # Carousel video children: the current docs give no numbers; these are the
    # older "video" specs GRAPH_API.md tells us to use as the safe envelope.
    "carousel": VideoLimits(min_seconds=3, max_seconds=60, max_bytes=100 * MB, min_aspect=4 / 5, max_aspect=16 / 9),
}


@dataclass(frozen=True)
class InstagramCheck:
    """Whether Instagram takes the asset as it is, cropped, or not at all, and why."""

    verdict: Verdict
    reasons: list[str] = field(default_factory=list)


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
        if abs(ratio - value) / value <= ASPECT_TOLERANCE:
            return name
    return f"{number_format(f'{ratio:.3g}')}:1"  # 3 significant digits: 1.38, 0.00781


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
    # has_gps/has_exif: what the stored original still has (its county keeps them, production/processing/metadata/).
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
            % {"seconds": decimal(duration, 1), "min": number_format(limits.min_seconds)}
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
                "size": decimal(info.file_size / MB, 1),
                "max": number_format(limits.max_bytes // MB),
            }
        )
    ratio = info.aspect_ratio
    if not limits.min_aspect * (1 - ASPECT_TOLERANCE) <= ratio <= limits.max_aspect * (1 + ASPECT_TOLERANCE):
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
                "rate": decimal(info.bit_rate / 1_000_000, 1),
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
                    "rate": decimal(info.audio_sample_rate / 1000, 1),
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
    if kind == "reel" and abs(ratio - IG_REEL_RECOMMENDED_ASPECT) / IG_REEL_RECOMMENDED_ASPECT > ASPECT_TOLERANCE:
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
