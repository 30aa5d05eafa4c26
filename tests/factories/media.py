"""Real photos and videos made in the tests (Pillow, pillow-heif, PyAV), and assets made from them.

Assets are made the way an upload makes them: the bytes are checked with
`inspect_upload` and stored by `asset_services.add_asset`; `processed=True`
then runs the worker's service at once.
"""

from __future__ import annotations

import io
from pathlib import Path

import pillow_heif
from django.core.files.base import ContentFile
from PIL import ExifTags, Image

from libraries.models import User
from production.models import Asset, Idea, RecordingDay
from production.processing.inspection import inspect_upload
from production.services import media as asset_services
from tests.production.test_media import camera_exif, png_declaring, write_video

__all__ = [
    "camera_exif",
    "has_location_or_camera",
    "heic_bytes",
    "html_renamed",
    "jpeg_bytes",
    "jpeg_scan",
    "make_asset",
    "png_bomb",
    "png_bytes",
    "truncated_jpeg",
    "video_bytes",
]


def jpeg_bytes(size: tuple[int, int] = (1600, 1200), *, gps: bool = True, orientation: int = 1) -> bytes:
    """A camera-like JPEG: two colours side by side, with EXIF (make, orientation) and, by default, GPS."""
    image = Image.new("RGB", size, (200, 40, 40))
    image.paste((40, 40, 200), (size[0] // 2, 0, size[0], size[1]))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=camera_exif(orientation, gps=gps))
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (900, 900)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (10, 120, 60, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def heic_bytes(size: tuple[int, int] = (1200, 900)) -> bytes:
    buffer = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", size, (90, 160, 30))).save(buffer, quality=80)
    return buffer.getvalue()


def png_bomb() -> bytes:
    """A few hundred bytes that declare a 30 000 x 30 000 picture (900 megapixels)."""
    return png_declaring(30_000, 30_000)


def html_renamed() -> bytes:
    return b"<!doctype html><html><body><script>alert('x')</script></body></html>"


def truncated_jpeg() -> bytes:
    data = jpeg_bytes((1200, 900), gps=False)
    return data[: len(data) // 2]


def video_bytes(tmp_path: Path, *, seconds: float = 3.5, size: tuple[int, int] = (320, 568)) -> bytes:
    return write_video(tmp_path / "clip.mp4", seconds=seconds, size=size).read_bytes()


def jpeg_scan(data: bytes) -> bytes:
    """A JPEG from its first scan (SOS) to the end: the picture's coded data, which cleaning never changes."""
    pos = 2
    while data[pos + 1] != 0xDA:
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return data[pos:]


def has_location_or_camera(data: bytes) -> bool:
    """Pillow finds a GPS position or the camera's make or model in the file."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return bool(exif.get_ifd(ExifTags.IFD.GPSInfo)) or ExifTags.Base.Make in exif or ExifTags.Base.Model in exif


def has_exif_or_gps(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return bool(exif) or bool(exif.get_ifd(ExifTags.IFD.GPSInfo)) or "exif" in image.info


def make_asset(
    target: Idea | RecordingDay,
    *,
    by: User,
    data: bytes | None = None,
    name: str = "photo.jpg",
    processed: bool = True,
) -> Asset:
    upload = ContentFile(data if data is not None else jpeg_bytes((800, 600)), name=name)
    info = inspect_upload(upload)
    asset = asset_services.add_asset(by=by, target=target, source=upload, original_name=name, info=info, enqueue=False)
    if processed:
        asset_services.process_asset(asset_id=asset.pk)
        asset.refresh_from_db()
    return asset
