"""Checking an upload: `inspect_upload` finds the real type and hands the file to the photo or video check."""

from __future__ import annotations

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy

from production.processing.files import (
    MIME_TYPES,
    SNIFF_BYTES,
    MediaInfo,
    MediaRejected,
    Source,
    detect_format,
    file_size,
    opened,
)
from production.processing.images import MAX_IMAGE_PIXELS, inspect_image
from production.processing.video import VideoInfo, probe_video

# What we accept at all (our limits, not Instagram's).
IMAGE_MAX_BYTES = 50 * 1024 * 1024
VIDEO_MAX_BYTES = 1024 * 1024 * 1024  # issue 4: videos up to 1 GB


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
    with opened(source) as fp:
        size = file_size(fp)
        if size == 0:
            raise MediaRejected(gettext_lazy("The file is empty (0 bytes)."), code="empty")
        detected = detect_format(fp.read(SNIFF_BYTES))
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
        return inspect_image(fp, detected, size=size, max_pixels=max_pixels)


def _media_info_from_video(video: VideoInfo) -> MediaInfo:
    return MediaInfo(
        kind="video",
        format=video.format,
        mime_type=MIME_TYPES[video.format],
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
