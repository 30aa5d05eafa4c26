"""production/processing/ on real files made here with Pillow, pillow-heif and PyAV (no database)."""

from __future__ import annotations

import dataclasses
import io
import math
import pickle
import struct
import zlib
from pathlib import Path

import av
import pillow_heif
import pytest
from django.utils.functional import Promise
from PIL import ExifTags, Image, ImageCms

from production.processing.files import MediaInfo, MediaRejected, detect_format
from production.processing.images import (
    IG_IMAGE_MAX_BYTES,
    make_image_rendition,
    make_image_renditions,
    make_thumbnail,
)
from production.processing.inspection import inspect_upload
from production.processing.instagram import instagram_check_image, instagram_check_video
from production.processing.subtitles import srt_to_vtt, validate_subtitles
from production.processing.video import make_poster_frame, probe_video

RED = (255, 0, 0)
BLUE = (0, 0, 255)

# --- Making real files ---


def halves(size: tuple[int, int], left: tuple[int, int, int], right: tuple[int, int, int]) -> Image.Image:
    """An RGB picture whose left half is one colour and right half another (to see crops and turns)."""
    image = Image.new("RGB", size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def camera_exif(orientation: int = 1, *, gps: bool = True) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "Testcam"
    if gps:
        location = exif.get_ifd(ExifTags.IFD.GPSInfo)
        location[ExifTags.GPS.GPSLatitudeRef] = "N"
        location[ExifTags.GPS.GPSLatitude] = (58.0, 51.0, 12.0)
        location[ExifTags.GPS.GPSLongitudeRef] = "E"
        location[ExifTags.GPS.GPSLongitude] = (5.0, 44.0, 3.0)
    return exif


def save_jpeg(path: Path, image: Image.Image, **options: object) -> Path:
    image.save(path, "JPEG", quality=90, **options)
    return path


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a `width` x `height` 1-bit picture (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 4096))
        + chunk(b"IEND", b"")
    )


def swapped_rgb_profile() -> bytes:
    """An ICC v2 RGB profile whose red and blue colorants are sRGB's blue and red.

    ImageCms can only create sRGB, LAB and XYZ profiles, so this one is
    written by hand: a colour-managed conversion turns its red into blue,
    which a plain mode conversion would not.
    """

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    description = b"Swapped test RGB"
    tags = {
        b"desc": b"desc\0\0\0\0"
        + struct.pack(">I", len(description) + 1)
        + description
        + b"\0"
        + b"\0" * 8
        + b"\0\0\0"
        + b"\0" * 67,
        b"wtpt": xyz(0.9642, 1.0, 0.8249),
        b"rXYZ": xyz(0.1431, 0.0606, 0.7141),  # sRGB's blue (D50)
        b"gXYZ": xyz(0.3851, 0.7169, 0.0971),
        b"bXYZ": xyz(0.4361, 0.2225, 0.0139),  # sRGB's red (D50)
        b"rTRC": b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233) + b"\0\0",  # gamma 2.2
        b"cprt": b"text\0\0\0\0No copyright\0",
    }
    tags[b"gTRC"] = tags[b"bTRC"] = tags[b"rTRC"]
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, data = struct.pack(">I", len(tags)), b""
    for signature, body in tags.items():
        body += b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = 128 + table_size + len(data)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + table + data


def write_video(
    path: Path,
    *,
    size: tuple[int, int] = (320, 568),
    fps: int = 30,
    seconds: float = 2.0,
    audio: bool = True,
    picture: bool = True,
    rotation: int = 0,
    faststart: bool = False,
) -> Path:
    """An H.264 MP4 whose frame n has red = 4n (so a frame's time can be read back), with AAC sound."""
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as container:
        video = None
        if picture:
            video = container.add_stream("libx264", rate=fps)
            video.width, video.height = size
            video.pix_fmt = "yuv420p"
            if rotation:
                video.set_display_rotation(rotation)
        sound = container.add_stream("aac", rate=44100, layout="stereo") if audio else None
        if video is not None:
            for index in range(round(fps * seconds)):
                frame = av.VideoFrame.from_image(Image.new("RGB", size, (min(255, index * 4), 90, 40)))
                for packet in video.encode(frame):
                    container.mux(packet)
            for packet in video.encode():
                container.mux(packet)
        if sound is not None:
            samples_per_frame = 1024
            for start in range(0, round(44100 * seconds), samples_per_frame):
                frame = av.AudioFrame(format="s16", layout="stereo", samples=samples_per_frame)
                tone = (round(3000 * math.sin((start + k) / 8)) for k in range(samples_per_frame))
                frame.planes[0].update(b"".join(struct.pack("<hh", value, value) for value in tone))
                frame.sample_rate = 44100
                frame.pts = start
                for packet in sound.encode(frame):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return path


@pytest.fixture(scope="module")
def portrait_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("video") / "clip.mp4")


def rejection(source: object, **limits: int) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        inspect_upload(source, **limits)  # type: ignore[arg-type]
    return caught.value


def opened(path: Path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


def assert_no_metadata(path: Path) -> None:
    data = path.read_bytes()
    image = opened(path)
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert not image.getexif()
    assert "exif" not in image.info
    assert "icc_profile" not in image.info
    assert "xmp" not in image.info
    assert b"Exif\0\0" not in data
    assert b"Testcam" not in data


def near(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(actual, expected, strict=True))


# --- Inspecting uploads ---


def test_jpeg_is_inspected_upright_with_its_exif_and_gps(tmp_path: Path) -> None:
    path = save_jpeg(tmp_path / "photo.jpg", halves((600, 400), RED, BLUE), exif=camera_exif(6))

    info = inspect_upload(path)

    assert (info.kind, info.format, info.mime_type) == ("image", "jpeg", "image/jpeg")
    assert (info.width, info.height) == (600, 400)
    assert (info.display_width, info.display_height) == (400, 600)
    assert info.orientation == 6
    assert info.has_exif
    assert info.has_gps
    assert info.color_mode == "RGB"
    assert info.color_profile is None
    assert info.is_srgb
    assert info.file_size == path.stat().st_size


def test_png_with_transparency_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "logo.png"
    Image.new("RGBA", (300, 200), (0, 128, 0, 0)).save(path)

    info = inspect_upload(path)

    assert (info.kind, info.format, info.color_mode) == ("image", "png", "RGBA")
    assert not info.has_exif


def test_cmyk_jpeg_is_accepted_and_marked_for_colour_conversion(tmp_path: Path) -> None:
    path = save_jpeg(tmp_path / "print.jpg", Image.new("CMYK", (200, 200), (0, 255, 255, 0)))

    info = inspect_upload(path)

    assert info.color_mode == "CMYK"
    assert not info.is_srgb


def test_embedded_icc_profile_is_named(tmp_path: Path) -> None:
    path = save_jpeg(tmp_path / "wide.jpg", Image.new("RGB", (100, 100), RED), icc_profile=swapped_rgb_profile())

    info = inspect_upload(path)

    assert info.color_profile == "Swapped test RGB"
    assert not info.is_srgb


def test_heic_from_a_phone_is_recognised_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    pillow_heif.register_heif_opener()
    path = tmp_path / "IMG_0001.jpg"  # the name lies
    Image.new("RGB", (400, 300), RED).save(path, format="HEIF", exif=camera_exif(1).tobytes())

    info = inspect_upload(path)

    assert (info.kind, info.format, info.mime_type) == ("image", "heif", "image/heic")
    assert (info.display_width, info.display_height) == (400, 300)
    assert info.has_gps


def test_mp4_is_probed_for_codecs_size_frame_rate_and_duration(portrait_video: Path) -> None:
    info = inspect_upload(portrait_video)

    assert (info.kind, info.format, info.mime_type) == ("video", "mp4", "video/mp4")
    assert (info.width, info.height) == (320, 568)
    assert (info.display_width, info.display_height) == (320, 568)
    assert info.video_codec == "h264"
    assert info.pixel_format == "yuv420p"
    assert info.fps == pytest.approx(30)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert (info.audio_codec, info.audio_sample_rate, info.audio_channels) == ("aac", 44100, 2)
    assert info.rotation == 0
    assert info.bit_rate
    assert info.moov_at_front is False  # PyAV writes the index at the end by default


def test_rotated_phone_video_reports_its_upright_size(tmp_path: Path) -> None:
    path = write_video(tmp_path / "turned.mov", size=(568, 320), rotation=-90, audio=False, faststart=True)

    video = probe_video(path)

    assert (video.width, video.height) == (568, 320)
    assert video.rotation == -90
    assert (video.display_width, video.display_height) == (320, 568)
    assert video.audio_codec is None
    assert video.moov_at_front


def test_upload_can_be_inspected_from_a_binary_file_object(tmp_path: Path, portrait_video: Path) -> None:
    photo = save_jpeg(tmp_path / "photo.jpg", Image.new("RGB", (320, 400), RED))

    assert inspect_upload(io.BytesIO(photo.read_bytes())).format == "jpeg"
    with portrait_video.open("rb") as video:
        assert inspect_upload(video).kind == "video"


def test_media_info_survives_a_json_round_trip(tmp_path: Path, portrait_video: Path) -> None:
    photo = inspect_upload(save_jpeg(tmp_path / "photo.jpg", Image.new("RGB", (320, 400), RED)))
    video = inspect_upload(portrait_video)

    assert MediaInfo.from_json(photo.as_json()) == photo
    assert MediaInfo.from_json(video.as_json()) == video


# --- Refusals ---


def test_zero_byte_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")

    error = rejection(path)

    assert error.code == "empty"
    assert str(error) == "The file is empty (0 bytes)."


def test_photo_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = save_jpeg(tmp_path / "photo.jpg", Image.new("RGB", (320, 400), RED))

    error = rejection(path, max_image_bytes=100)

    assert error.code == "too_large"
    assert "photos can be at most 100\xa0bytes" in str(error)


def test_video_over_the_size_limit_is_refused(portrait_video: Path) -> None:
    error = rejection(portrait_video, max_video_bytes=1024)

    assert error.code == "too_large"
    assert "videos can be at most 1.0\xa0KB" in str(error)


def test_html_renamed_to_jpg_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_text("<!doctype html><html><body><script>alert(1)</script></body></html>")

    error = rejection(path)

    assert error.code == "unsupported"
    assert "not a photo or video we can use" in str(error)


def test_svg_is_refused_because_it_can_carry_scripts(tmp_path: Path) -> None:
    path = tmp_path / "logo.png"
    path.write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')

    error = rejection(path)

    assert error.code == "svg"
    assert "SVG drawings cannot be uploaded" in str(error)


def test_jpeg_hidden_behind_other_bytes_is_refused(tmp_path: Path) -> None:
    photo = save_jpeg(tmp_path / "photo.jpg", Image.new("RGB", (320, 400), RED)).read_bytes()
    path = tmp_path / "polyglot.jpg"
    path.write_bytes(b"<html><script>alert(1)</script></html>" + photo)

    assert rejection(path).code == "unsupported"


def test_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    data = save_jpeg(tmp_path / "photo.jpg", Image.effect_noise((800, 600), 50).convert("RGB")).read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])

    error = rejection(path)

    assert error.code == "corrupt"
    assert "damaged or incomplete" in str(error)


def test_truncated_png_is_refused(tmp_path: Path) -> None:
    full = tmp_path / "full.png"
    Image.effect_noise((400, 300), 50).save(full)
    data = full.read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])

    assert rejection(path).code == "corrupt"


def test_png_just_over_the_pixel_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_declaring(10_001, 10_000))  # 100.01 megapixels in a few hundred bytes

    error = rejection(path)

    assert path.stat().st_size < 1000
    assert error.code == "too_many_pixels"
    assert str(error) == (
        "This image is 10001 x 10000 pixels, more than the 100 megapixels we accept. "
        "Make it smaller and upload it again."
    )


def test_png_declaring_gigapixels_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_declaring(100_000, 100_000))

    assert rejection(path).code == "too_many_pixels"


def test_pixel_limit_is_an_argument(tmp_path: Path) -> None:
    path = save_jpeg(tmp_path / "photo.jpg", Image.new("RGB", (400, 300), RED))

    assert rejection(path, max_pixels=100_000).code == "too_many_pixels"


def test_mp4_without_a_picture_is_refused(tmp_path: Path) -> None:
    path = write_video(tmp_path / "sound.mp4", picture=False)

    error = rejection(path)

    assert error.code == "no_video_stream"


def test_damaged_video_is_refused(portrait_video: Path, tmp_path: Path) -> None:
    data = portrait_video.read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])  # the index (moov) was at the end

    error = rejection(path)

    assert error.code == "unreadable_video"
    assert "cannot be read" in str(error)


def test_subtitle_file_uploaded_as_media_is_pointed_to_subtitles(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_text("WEBVTT\n\n00:01.000 --> 00:02.000\nHei\n")

    assert rejection(path).code == "subtitles"


def test_refusal_is_translated_when_shown_and_survives_pickling(tmp_path: Path) -> None:
    path = save_jpeg(tmp_path / "photo.jpg", Image.new("RGB", (320, 400), RED))

    error = rejection(path, max_image_bytes=100)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 -- our own bytes

    assert isinstance(error.message, Promise)
    assert (copy.code, str(copy)) == (error.code, str(error))


def test_detect_format_reads_magic_numbers_at_offset_zero() -> None:
    assert detect_format(b"\xff\xd8\xff\xe0" + b"\0" * 28) == "jpeg"
    assert detect_format(b"\x89PNG\r\n\x1a\n" + b"\0" * 24) == "png"
    assert detect_format(b"\0\0\0\x18ftypqt  \0\0\0\0qt  \0\0\0\0") == "mov"
    assert detect_format(b"\0\0\0\x1cftypmif1\0\0\0\0mif1heicmiaf") == "heif"
    assert detect_format(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf") is None  # AVIF is not on our list
    assert detect_format(b"\0\0\0\x18ftypM4A \0\0\0\0M4A isom") is None  # sound only
    assert detect_format(b"\xef\xbb\xbfWEBVTT\n") == "vtt"
    assert detect_format(b"1\r\n00:00:01,000 --> 00:00:02,000\r\n") == "srt"
    assert detect_format(b"GIF89a" + b"\0" * 26) is None
    assert detect_format(b"  \xff\xd8\xff\xe0" + b"\0" * 26) is None


# --- Renditions ---


def test_rendition_is_upright_cropped_and_without_exif_or_gps(tmp_path: Path) -> None:
    # Stored 600x400 with left red and right blue; orientation 6 turns it a
    # quarter clockwise, so upright it is 400x600 with red on top.
    source = save_jpeg(tmp_path / "photo.jpg", halves((600, 400), RED, BLUE), exif=camera_exif(6))
    dest = tmp_path / "rendition.jpg"

    rendition = make_image_rendition(source, dest, aspect="4:5")

    assert (rendition.width, rendition.height) == (400, 500)
    assert rendition.cropped
    assert not rendition.upscaled
    assert rendition.file_size == dest.stat().st_size
    image = opened(dest)
    assert image.size == (400, 500)
    assert near(image.getpixel((200, 10)), RED)
    assert near(image.getpixel((200, 490)), BLUE)
    assert_no_metadata(dest)


def test_rendition_width_is_clamped_to_instagrams_maximum(tmp_path: Path) -> None:
    source = save_jpeg(tmp_path / "big.jpg", halves((4000, 3000), RED, BLUE))
    dest = tmp_path / "rendition.jpg"

    rendition = make_image_rendition(source, dest, aspect="1.91:1")

    assert (rendition.width, rendition.height) == (1440, 754)
    assert opened(dest).size == (1440, 754)
    assert near(opened(dest).getpixel((10, 377)), RED)
    assert near(opened(dest).getpixel((1430, 377)), BLUE)


def test_square_rendition_of_a_landscape_photo(tmp_path: Path) -> None:
    source = save_jpeg(tmp_path / "photo.jpg", Image.new("RGB", (3000, 2000), RED))

    rendition = make_image_rendition(source, tmp_path / "square.jpg", aspect="1:1")

    assert (rendition.width, rendition.height) == (1440, 1440)
    assert rendition.box == pytest.approx((1 / 6, 0.0, 5 / 6, 1.0))


def test_small_photo_is_enlarged_to_instagrams_minimum_with_a_flag(tmp_path: Path) -> None:
    source = save_jpeg(tmp_path / "small.jpg", Image.new("RGB", (200, 250), RED))

    rendition = make_image_rendition(source, tmp_path / "rendition.jpg", aspect="4:5")

    assert (rendition.width, rendition.height) == (320, 400)
    assert rendition.upscaled
    assert not rendition.cropped


def test_crop_follows_the_focus_point(tmp_path: Path) -> None:
    source = save_jpeg(tmp_path / "wide.jpg", halves((1000, 500), RED, BLUE))

    make_image_rendition(source, tmp_path / "left.jpg", aspect="1:1", crop_focus=(0.0, 0.5))
    make_image_rendition(source, tmp_path / "right.jpg", aspect="1:1", crop_focus=(1.0, 0.5))

    left, right = opened(tmp_path / "left.jpg"), opened(tmp_path / "right.jpg")
    assert left.size == right.size == (500, 500)
    assert near(left.getpixel((480, 250)), RED)
    assert near(right.getpixel((20, 250)), BLUE)


def test_photo_already_in_range_keeps_its_shape_without_an_aspect(tmp_path: Path) -> None:
    source = save_jpeg(tmp_path / "photo.jpg", Image.new("RGB", (1200, 800), RED))

    rendition = make_image_rendition(source, tmp_path / "rendition.jpg", aspect=None)

    assert (rendition.width, rendition.height) == (1200, 800)
    assert not rendition.cropped


def test_transparent_png_gets_a_white_background(tmp_path: Path) -> None:
    source = tmp_path / "logo.png"
    logo = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    logo.paste((0, 0, 255, 255), (100, 100, 300, 300))
    logo.save(source)
    dest = tmp_path / "rendition.jpg"

    make_image_rendition(source, dest, aspect="1:1")

    image = opened(dest)
    assert near(image.getpixel((10, 10)), (255, 255, 255))
    assert near(image.getpixel((200, 200)), BLUE)
    assert_no_metadata(dest)


def test_palette_png_with_transparency_gets_a_white_background(tmp_path: Path) -> None:
    source = tmp_path / "palette.png"
    Image.new("RGBA", (400, 400), (0, 0, 0, 0)).convert("P").save(source, transparency=0)
    dest = tmp_path / "rendition.jpg"

    make_image_rendition(source, dest, aspect="1:1")

    assert near(opened(dest).getpixel((200, 200)), (255, 255, 255))


def test_sixteen_bit_greyscale_png_keeps_its_tones(tmp_path: Path) -> None:
    source = tmp_path / "scan.png"
    Image.new("I;16", (400, 400), 32768).save(source)
    dest = tmp_path / "rendition.jpg"

    make_image_rendition(source, dest, aspect="1:1")

    assert near(opened(dest).getpixel((200, 200)), (128, 128, 128), tolerance=3)


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    source = save_jpeg(tmp_path / "print.jpg", Image.new("CMYK", (500, 500), (0, 255, 255, 0)))
    dest = tmp_path / "rendition.jpg"

    make_image_rendition(source, dest, aspect="1:1")

    assert near(opened(dest).getpixel((250, 250)), RED, tolerance=20)
    assert_no_metadata(dest)


def test_large_turned_photo_becomes_an_upright_rendition_true_to_colour(tmp_path: Path) -> None:
    # Upright 4000x3000 (a 12 MP camera photo), red left and blue right, stored upside down
    # (orientation 3): decoded at a reduced size, resized to Instagram's 1440 px and turned back.
    stored = halves((4000, 3000), RED, BLUE).transpose(Image.Transpose.ROTATE_180)
    source = save_jpeg(tmp_path / "photo.jpg", stored, exif=camera_exif(3))
    dest = tmp_path / "rendition.jpg"

    rendition = make_image_rendition(source, dest, aspect=None)

    assert (rendition.width, rendition.height) == (1440, 1080)
    assert not rendition.cropped
    image = opened(dest)
    assert image.size == (1440, 1080)
    assert near(image.getpixel((20, 540)), RED)
    assert near(image.getpixel((1420, 540)), BLUE)
    assert_no_metadata(dest)


def test_turned_cmyk_photo_becomes_an_upright_rendition_true_to_colour(tmp_path: Path) -> None:
    # Stored 1600x1000 with red (C0 M255 Y255) left and blue (C255 M255 Y0) right; orientation 6
    # turns it a quarter clockwise, so upright it is 1000x1600 with red on top.
    stored = Image.new("CMYK", (1600, 1000), (0, 255, 255, 0))
    stored.paste((255, 255, 0, 0), (800, 0, 1600, 1000))
    source = tmp_path / "print.jpg"
    stored.save(source, "JPEG", quality=90, exif=camera_exif(6))
    dest = tmp_path / "rendition.jpg"

    rendition = make_image_rendition(source, dest, aspect=None)

    assert (rendition.width, rendition.height) == (1000, 1250)  # cropped to 4:5, Instagram's tallest
    image = opened(dest)
    assert near(image.getpixel((500, 20)), RED)
    assert near(image.getpixel((500, 1230)), BLUE)
    assert_no_metadata(dest)


def test_embedded_colour_profile_is_converted_to_srgb(tmp_path: Path) -> None:
    # In the swapped profile, "red" pixels are sRGB blue: only a real
    # colour-managed conversion gets this right.
    source = save_jpeg(tmp_path / "wide.jpg", Image.new("RGB", (500, 500), RED), icc_profile=swapped_rgb_profile())
    dest = tmp_path / "rendition.jpg"

    make_image_rendition(source, dest, aspect="1:1", crop_focus=(0.2, 0.8))

    assert near(opened(dest).getpixel((250, 250)), BLUE, tolerance=20)
    assert_no_metadata(dest)


def test_srgb_profile_needs_no_conversion(tmp_path: Path) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    source = save_jpeg(tmp_path / "photo.jpg", Image.new("RGB", (500, 500), RED), icc_profile=srgb)
    dest = tmp_path / "rendition.jpg"

    make_image_rendition(source, dest, aspect="1:1")

    assert near(opened(dest).getpixel((250, 250)), RED)
    assert_no_metadata(dest)


def test_heic_becomes_a_jpeg_rendition(tmp_path: Path) -> None:
    pillow_heif.register_heif_opener()
    source = tmp_path / "IMG_0002.heic"
    halves((800, 600), RED, BLUE).save(source, format="HEIF", exif=camera_exif(6).tobytes())
    dest = tmp_path / "rendition.jpg"

    rendition = make_image_rendition(source, dest, aspect="4:5")

    # pillow-heif applies the turn itself: upright 600x800, cropped to 600x750.
    assert (rendition.width, rendition.height) == (600, 750)
    assert near(opened(dest).getpixel((300, 10)), RED, tolerance=25)
    assert_no_metadata(dest)


def test_rendition_lowers_quality_to_stay_under_the_size_ceiling(tmp_path: Path) -> None:
    source = save_jpeg(tmp_path / "noise.jpg", Image.effect_noise((1440, 1440), 100).convert("RGB"))
    dest = tmp_path / "rendition.jpg"

    generous = make_image_rendition(source, tmp_path / "generous.jpg", aspect="1:1")
    rendition = make_image_rendition(source, dest, aspect="1:1", max_bytes=generous.file_size * 3 // 4)

    assert IG_IMAGE_MAX_BYTES <= 8 * 1024 * 1024
    assert generous.file_size <= IG_IMAGE_MAX_BYTES
    assert rendition.file_size <= generous.file_size * 3 // 4
    assert dest.stat().st_size == rendition.file_size
    assert rendition.quality < generous.quality


def test_rendition_that_cannot_fit_is_refused(tmp_path: Path) -> None:
    source = save_jpeg(tmp_path / "noise.jpg", Image.effect_noise((800, 800), 100).convert("RGB"))

    with pytest.raises(MediaRejected) as caught:
        make_image_rendition(source, tmp_path / "rendition.jpg", aspect="1:1", max_bytes=1000)

    assert caught.value.code == "rendition_too_large"


def test_rendition_writes_to_a_binary_file_object(tmp_path: Path) -> None:
    source = save_jpeg(tmp_path / "photo.jpg", Image.new("RGB", (1000, 1000), RED))
    output = io.BytesIO()

    with source.open("rb") as original:
        rendition = make_image_rendition(original, output, aspect="1:1")

    assert len(output.getvalue()) == rendition.file_size
    assert Image.open(io.BytesIO(output.getvalue())).size == (1000, 1000)


def test_thumbnail_is_a_small_upright_webp_without_metadata(tmp_path: Path) -> None:
    source = save_jpeg(tmp_path / "photo.jpg", halves((1200, 800), RED, BLUE), exif=camera_exif(6))
    dest = tmp_path / "thumb.webp"

    thumbnail = make_thumbnail(source, dest)

    assert (thumbnail.width, thumbnail.height, thumbnail.format) == (320, 480, "webp")
    image = opened(dest)
    assert (image.format, image.size) == ("WEBP", (320, 480))
    assert near(image.getpixel((160, 10)), RED)
    assert not image.getexif()
    assert b"Testcam" not in dest.read_bytes()


@pytest.mark.parametrize(
    ("stored", "orientation", "upright"),
    [
        ((2880, 2160), 1, (2880, 2160)),  # landscape: the thumbnail is the 1440 px rendition averaged 3 x 3
        ((2160, 2880), 8, (2880, 2160)),  # the same, stored turned
        ((2400, 3600), 1, (2400, 3600)),  # portrait, cropped to 4:5: the thumbnail comes from the decode
    ],
)
def test_one_decode_makes_the_rendition_and_thumbnail_each_makes_alone(
    tmp_path: Path, stored: tuple[int, int], orientation: int, upright: tuple[int, int]
) -> None:
    picture = halves(upright, RED, BLUE)
    if orientation == 8:  # stored a quarter turn clockwise; the orientation turns it back
        picture = picture.transpose(Image.Transpose.ROTATE_270)
    assert picture.size == stored
    source = save_jpeg(tmp_path / "photo.jpg", picture, exif=camera_exif(orientation))

    rendition, thumbnail = make_image_renditions(source, tmp_path / "r.jpg", tmp_path / "t.webp", aspect=None)

    alone = make_image_rendition(source, tmp_path / "r1.jpg", aspect=None)
    assert rendition == alone
    assert thumbnail == dataclasses.replace(make_thumbnail(source, tmp_path / "t1.webp"), file_size=thumbnail.file_size)
    made = opened(tmp_path / "t.webp")
    assert made.size == (thumbnail.width, thumbnail.height) == opened(tmp_path / "t1.webp").size
    assert near(made.getpixel((2, made.height // 2)), RED)
    assert near(made.getpixel((made.width - 3, made.height // 2)), BLUE)


def test_thumbnail_can_be_jpeg_and_never_enlarges(tmp_path: Path) -> None:
    source = tmp_path / "logo.png"
    Image.new("RGBA", (200, 100), (0, 0, 0, 0)).save(source)

    thumbnail = make_thumbnail(source, tmp_path / "thumb.jpg", format="jpeg")

    assert (thumbnail.width, thumbnail.height) == (200, 100)
    assert opened(tmp_path / "thumb.jpg").format == "JPEG"


def test_poster_frame_is_taken_at_the_asked_time(tmp_path: Path, portrait_video: Path) -> None:
    dest = tmp_path / "poster.jpg"

    poster = make_poster_frame(portrait_video, dest, at_seconds=1.0)

    assert poster.at_seconds == pytest.approx(1.0, abs=0.04)
    image = opened(dest)
    assert (image.format, image.size) == ("JPEG", (320, 568))
    red, _green, _blue = image.getpixel((160, 284))
    assert abs(red - 120) <= 12  # frame 30 of 30 fps has red = 4 x 30


def test_poster_frame_of_a_rotated_video_is_upright(tmp_path: Path) -> None:
    video = write_video(tmp_path / "turned.mp4", size=(568, 320), rotation=-90, audio=False)

    poster = make_poster_frame(video, tmp_path / "poster.jpg")

    assert (poster.width, poster.height) == (320, 568)
    assert opened(tmp_path / "poster.jpg").size == (320, 568)


def test_poster_frame_of_a_short_video_comes_from_its_middle(tmp_path: Path) -> None:
    video = write_video(tmp_path / "short.mp4", seconds=1.0, audio=False)

    poster = make_poster_frame(video, tmp_path / "poster.jpg", at_seconds=5.0)

    assert poster.at_seconds == pytest.approx(0.5, abs=0.04)


# --- Instagram checks ---


def photo(**changes: object) -> MediaInfo:
    info = MediaInfo(
        kind="image",
        format="jpeg",
        mime_type="image/jpeg",
        file_size=900_000,
        width=1080,
        height=1350,
        display_width=1080,
        display_height=1350,
        color_mode="RGB",
    )
    return dataclasses.replace(info, **changes)  # type: ignore[arg-type]


def video(**changes: object) -> MediaInfo:
    info = MediaInfo(
        kind="video",
        format="mp4",
        mime_type="video/mp4",
        file_size=40_000_000,
        width=1080,
        height=1920,
        display_width=1080,
        display_height=1920,
        duration=20.0,
        video_codec="h264",
        pixel_format="yuv420p",
        fps=30.0,
        bit_rate=12_000_000,
        audio_codec="aac",
        audio_sample_rate=48_000,
        audio_channels=2,
        moov_at_front=True,
    )
    return dataclasses.replace(info, **changes)  # type: ignore[arg-type]


def test_photo_in_the_chosen_shape_is_fine() -> None:
    assert instagram_check_image(photo(), "4:5") == instagram_check_image(photo(), None)
    assert instagram_check_image(photo(), "4:5").verdict == "ok"
    assert instagram_check_image(photo(), "4:5").reasons == []


def test_photo_of_another_shape_will_be_cropped_to_the_chosen_one() -> None:
    check = instagram_check_image(photo(width=4032, height=3024, display_width=4032, display_height=3024), "4:5")

    assert check.verdict == "will_be_cropped"
    assert check.reasons == [
        "The photo is 4032 x 3024 (4:3); it will be cropped to the chosen 4:5.",
        "It will be scaled down to 1440 pixels wide, Instagram's maximum.",
    ]


def test_tall_photo_is_cropped_to_instagrams_portrait_limit_without_a_choice() -> None:
    check = instagram_check_image(photo(width=1000, height=3000, display_width=1000, display_height=3000))

    assert check.verdict == "will_be_cropped"
    assert check.reasons == [
        "The photo is 1000 x 3000 (0.333:1), but Instagram shows feed photos between 4:5 (portrait) "
        "and 1.91:1 (landscape); it will be cropped to 4:5."
    ]


def test_nine_by_sixteen_is_refused_for_a_feed_photo() -> None:
    check = instagram_check_image(photo(), "9:16")

    assert check.verdict == "rejected"
    assert "between 4:5 (portrait) and 1.91:1 (landscape)" in check.reasons[0]


def test_video_is_refused_as_a_photo() -> None:
    assert instagram_check_image(video()).verdict == "rejected"


def test_photo_check_explains_what_the_rendition_will_change() -> None:
    check = instagram_check_image(
        photo(
            format="heif",
            width=300,
            height=300,
            display_width=300,
            display_height=300,
            color_profile="Display P3",
            has_exif=True,
            has_gps=True,
        ),
        "1:1",
    )

    assert check.verdict == "ok"
    assert check.reasons == [
        "The photo is only 300 pixels wide; it will be enlarged to 320 pixels, Instagram's minimum, and may look soft.",
        "It will be converted to JPEG, the only photo format Instagram accepts.",
        "Its colours will be converted to sRGB, the colour space Instagram expects.",
        "The Instagram version leaves out the location (GPS) that the original keeps.",
    ]


def test_photo_check_reads_an_inspected_upload(tmp_path: Path) -> None:
    info = inspect_upload(save_jpeg(tmp_path / "photo.jpg", Image.new("RGB", (600, 400), RED), exif=camera_exif(6)))

    check = instagram_check_image(info, "4:5")

    assert check.verdict == "will_be_cropped"
    assert check.reasons[0] == "The photo is 400 x 600 (2:3); it will be cropped to the chosen 4:5."


def test_nine_by_sixteen_reel_is_fine() -> None:
    assert instagram_check_video(video(), "reel") == instagram_check_video(video())
    assert instagram_check_video(video(), "reel").verdict == "ok"


def test_landscape_reel_will_be_cropped() -> None:
    check = instagram_check_video(video(width=1920, height=1080, display_width=1920, display_height=1080))

    assert check.verdict == "will_be_cropped"
    assert check.reasons == [
        "The video's shape is 16:9; Instagram shows reels at 9:16, so the Reels tab will crop it or show it with bars."
    ]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"video_codec": "prores"}, "The video is encoded as PRORES; Instagram needs H.264 or HEVC."),
        ({"pixel_format": "yuv422p"}, "The video's colour sampling is yuv422p; Instagram needs 4:2:0."),
        ({"fps": 120.0}, "The video has 120 frames per second; Instagram needs 23 to 60."),
        ({"fps": 15.0}, "The video has 15 frames per second; Instagram needs 23 to 60."),
        (
            {"width": 2160, "height": 3840, "display_width": 2160, "display_height": 3840},
            "The video is 2160 pixels wide; Instagram allows at most 1920.",
        ),
        ({"duration": 2.0}, "The video lasts 2.0 seconds; Instagram needs at least 3."),
        ({"duration": 1000.0}, "The video lasts 16 min 40 s; Instagram allows at most 15 min 0 s."),
        ({"file_size": 400_000_000}, "The video is 400.0 MB; Instagram allows at most 300 MB."),
        ({"bit_rate": 80_000_000}, "The video uses 80.0 megabits per second; Instagram allows at most 25."),
        ({"audio_codec": "pcm_s16le"}, "The sound is encoded as PCM_S16LE; Instagram needs AAC."),
        (
            {"audio_sample_rate": 96_000},
            "The sound has a sample rate of 96.0 kHz; Instagram allows at most 48 kHz.",
        ),
        ({"audio_channels": 6}, "The sound has 6 channels; Instagram takes mono or stereo."),
        (
            {"width": 30, "height": 3840, "display_width": 30, "display_height": 3840},
            "The video's shape is 0.00781:1; Instagram needs between 0.01:1 and 10:1.",
        ),
    ],
)
def test_reel_outside_metas_limits_is_refused_with_the_reason(changes: dict[str, object], reason: str) -> None:
    check = instagram_check_video(video(**changes), "reel")

    assert check.verdict == "rejected"
    assert reason in check.reasons


def test_square_carousel_video_is_fine() -> None:
    check = instagram_check_video(video(display_width=1080, display_height=1080), "carousel")

    assert check == instagram_check_video(video(display_width=1080, display_height=1080), "carousel")
    assert check.verdict == "ok"


def test_carousel_video_has_stricter_limits_than_a_reel() -> None:
    check = instagram_check_video(video(duration=75.0, file_size=150_000_000), "carousel")

    assert check.verdict == "rejected"
    assert check.reasons == [
        "The video lasts 1 min 15 s; Instagram allows at most 1 min 0 s.",
        "The video is 150.0 MB; Instagram allows at most 100 MB.",
        "The video's shape is 9:16; Instagram needs between 4:5 and 16:9.",
    ]


def test_photo_is_refused_as_a_video() -> None:
    assert instagram_check_video(photo()).verdict == "rejected"


def test_real_two_second_clip_is_too_short_for_a_reel(portrait_video: Path) -> None:
    check = instagram_check_video(inspect_upload(portrait_video), "reel")

    assert check.verdict == "rejected"
    assert any(reason.startswith("The video lasts 2.0 seconds") for reason in check.reasons)


# --- Subtitles ---

VALID_VTT = """\ufeffWEBVTT - Eventyrstund

NOTE made by hand

1
00:00:01.000 --> 00:00:04.000
Hei, og velkommen!

intro-2
00:04.500 --> 00:07.250 align:start
<v Kari>Dette er <i>biblioteket</i>.

01:00:00.000 --> 01:00:02.000
Takk for nå.
"""

VALID_SRT = (
    "\ufeff1\r\n"
    "00:00:01,000 --> 00:00:04,000\r\n"
    "Hei, og <i>velkommen</i>!\r\n"
    "\r\n"
    "2\r\n"
    "00:00:04,500 --> 00:00:07,250\r\n"
    '<font color="#ffff00">Bøker & blader</font>\r\n'
    "{\\an8}på to linjer\r\n"
    "\r\n"
)


def subtitle_rejection(data: bytes) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        validate_subtitles(data)
    return caught.value


def test_valid_webvtt_is_accepted() -> None:
    info = validate_subtitles(VALID_VTT.encode())

    assert (info.format, info.cue_count, info.last_cue_end) == ("vtt", 3, 3602.0)


def test_valid_srt_with_bom_and_windows_line_ends_is_accepted() -> None:
    info = validate_subtitles(VALID_SRT.encode())

    assert (info.format, info.cue_count, info.last_cue_end) == ("srt", 2, 7.25)


def test_webvtt_with_a_broken_time_names_the_line() -> None:
    data = VALID_VTT.replace("00:04.500 --> 00:07.250", "00:04,500 --> 00:07.250").encode()

    error = subtitle_rejection(data)

    assert error.code == "bad_timing"
    assert str(error) == (
        "Line 10: “00:04,500 --> 00:07.250 align:start” is not a valid time line; "
        "write it as “00:00:01.000 --> 00:00:04.000”."
    )


def test_srt_with_a_broken_time_names_the_line() -> None:
    data = VALID_SRT.replace("00:00:04,500", "00:00:4,500").encode()

    error = subtitle_rejection(data)

    assert error.code == "bad_timing"
    assert str(error).startswith("Line 6: “00:00:4,500 --> 00:00:07,250” is not a valid time line")


def test_subtitle_ending_before_it_starts_is_refused() -> None:
    error = subtitle_rejection(b"WEBVTT\n\n00:05.000 --> 00:04.000\nBaklengs\n")

    assert str(error) == "Line 3: the subtitle ends before it starts (“00:05.000 --> 00:04.000”)."


def test_subtitles_out_of_order_are_refused() -> None:
    data = b"1\n00:00:05,000 --> 00:00:06,000\nTo\n\n2\n00:00:01,000 --> 00:00:02,000\nEn\n"

    assert subtitle_rejection(data).message == subtitle_rejection(data).message
    assert str(subtitle_rejection(data)).startswith("Line 6: this subtitle starts before the one above it")


def test_missing_blank_line_between_cues_is_named() -> None:
    data = b"WEBVTT\n\n00:01.000 --> 00:02.000\nEn\n00:02.000 --> 00:03.000\nTo\n"

    assert str(subtitle_rejection(data)).startswith("Line 5: subtitle text cannot contain “-->”")


def test_srt_with_a_blank_line_inside_a_subtitle_is_named() -> None:
    data = b"1\n00:00:01,000 --> 00:00:02,000\nEn\n\nlinje til\n\n2\n00:00:03,000 --> 00:00:04,000\nTo\n"

    assert str(subtitle_rejection(data)).startswith("Line 5: expected the number of a subtitle (found “linje til”)")


def test_subtitles_that_are_not_utf8_name_the_line() -> None:
    data = "WEBVTT\n\n00:01.000 --> 00:02.000\nBl\u00e5b\u00e6r\n".encode("latin-1")

    error = subtitle_rejection(data)

    assert error.code == "not_utf8"
    assert str(error).startswith("Line 4 is not UTF-8 text.")


def test_text_that_is_not_subtitles_is_refused() -> None:
    assert subtitle_rejection(b"Dear diary,\ntoday I read a book.\n").code == "not_subtitles"
    assert subtitle_rejection(b"").code == "empty"
    assert subtitle_rejection(b"WEBVTT\n\nNOTE nothing here\n").code == "no_cues"
    assert subtitle_rejection(b"WEBVTTX\n\n00:01.000 --> 00:02.000\nHei\n").code == "invalid_subtitles"


def test_srt_becomes_webvtt_with_the_same_subtitles() -> None:
    vtt = srt_to_vtt(VALID_SRT.encode())

    assert vtt == (
        "WEBVTT\n"
        "\n"
        "1\n"
        "00:00:01.000 --> 00:00:04.000\n"
        "Hei, og <i>velkommen</i>!\n"
        "\n"
        "2\n"
        "00:00:04.500 --> 00:00:07.250\n"
        "Bøker &amp; blader\n"
        "på to linjer\n"
    )
    info = validate_subtitles(vtt.encode())
    assert (info.format, info.cue_count, info.last_cue_end) == ("vtt", 2, 7.25)


def test_only_srt_is_converted() -> None:
    with pytest.raises(MediaRejected) as caught:
        srt_to_vtt(VALID_VTT.encode())

    assert caught.value.code == "not_srt"
