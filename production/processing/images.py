"""Photos: checking one at upload, and its Instagram rendition, thumbnail, crop and colours.

Also Instagram's numbers for photos, which the renditions are made to fit
(`production.processing.instagram` checks an asset against them).
"""

from __future__ import annotations

import io
import logging
import math
import struct
import warnings
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Literal

import pillow_heif
from django.template.defaultfilters import filesizeformat
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from PIL import ExifTags, Image, ImageCms

from production.processing import decoding
from production.processing.files import (
    MIME_TYPES,
    SNIFF_BYTES,
    MediaFormat,
    MediaInfo,
    MediaRejected,
    Source,
    detect_format,
    is_srgb,
    opened,
    write,
)

logger = logging.getLogger(__name__)

# Phones send HEIC; pillow-heif teaches Pillow to read it (idempotent).
pillow_heif.register_heif_opener()

type Aspect = Literal["1:1", "4:5", "1.91:1", "9:16"]

# --- What we accept at all (our limits, not Instagram's) ---

# Decoding is refused above this many pixels (a decompression bomb: a small
# file that declares a huge picture). 100 MP is above any phone's normal mode.
MAX_IMAGE_PIXELS = 100_000_000
THUMBNAIL_SIZE = 480
RENDITION_QUALITY = 85
# The lowest JPEG quality we go down to before giving up on the size limit.
RENDITION_MIN_QUALITY = 35

# --- Instagram's numbers for photos ---
# From ../shared/GRAPH_API.md §3, which summarises Meta's content publishing
# docs ("Media requirements" of the ig-user/media reference). Meta writes "MB";
# we read it as 1,000,000 bytes, the stricter of the two readings.
MB = 1000 * 1000

IG_IMAGE_MAX_BYTES = 8 * MB  # feed and carousel images: JPEG, ≤ 8 MB
IG_IMAGE_MIN_WIDTH = 320  # width 320-1440 px (Instagram rescales outside)
IG_IMAGE_MAX_WIDTH = 1440
IG_FEED_MIN_ASPECT = 4 / 5  # aspect ratio 4:5 (portrait) …
IG_FEED_MAX_ASPECT = 1.91  # … to 1.91:1 (landscape)

ASPECT_RATIOS: dict[Aspect, float] = {"1:1": 1.0, "4:5": 4 / 5, "1.91:1": 1.91, "9:16": 9 / 16}
FEED_ASPECTS: tuple[Aspect, ...] = ("1:1", "4:5", "1.91:1")
# Two ratios this close are the same picture shape (rounding of pixel sizes).
ASPECT_TOLERANCE = 0.01

# The Pillow readers allowed for each detected format; nothing else may parse the bytes.
_PILLOW_FORMATS: dict[MediaFormat, list[str]] = {"jpeg": ["JPEG", "MPO"], "png": ["PNG"], "heif": ["HEIF"]}

# Pillow raises these for damaged or truncated image data.
_IMAGE_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error)

_SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


# --- Results ---


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


# --- Checking a photo at upload ---


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
    limit = decimal(max_pixels / 1_000_000, 0)
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


def inspect_image(fp: IO[bytes], detected: MediaFormat, *, size: int, max_pixels: int) -> MediaInfo:
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
        mime_type="image/heic" if detected == "heif" and _is_heic(fp) else MIME_TYPES[detected],
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
            "megapixels": decimal(image.width * image.height / 1_000_000, 0),
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


# --- Renditions ---


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
    cropped = abs(ratio - target) / target > ASPECT_TOLERANCE
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
    with opened(source) as fp:
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
    with opened(source) as fp:
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
    with opened(source) as fp:
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
        factor = resized.width // target[0]
        if factor > 1 and resized.size == (target[0] * factor, target[1] * factor):
            # A whole multiple of it (a landscape 1440 px rendition and its 480 px thumbnail): the
            # rendition is already low-passed by its own resize, so averaging each k x k block is
            # enough, at a quarter of the cost of the bicubic pass (bench/ingest.py's photo: 46.6
            # against 47.7 dB PSNR from a Lanczos resize of the full photo, 33.3 against 33.4 once
            # coded as WebP, whose loss dominates).
            picture = resized.reduce(factor)
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
    data, used_quality = encode_jpeg(_to_srgb(resized), quality=quality, max_bytes=max_bytes)
    write(dest, data)
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
    write(dest, data)
    return Thumbnail(width=picture.width, height=picture.height, format=format, file_size=len(data))


def _pillow_formats_of(fp: IO[bytes]) -> list[str]:
    detected = detect_format(fp.read(SNIFF_BYTES))
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
            if not is_srgb(ImageCms.getProfileDescription(profile)):
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


def encode_jpeg(image: Image.Image, *, quality: int, max_bytes: int) -> tuple[bytes, int]:
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


# --- Numbers in the reader's notation ---


def decimal(value: float, places: int = 1) -> str:
    """Rounded (number_format alone would cut off the digits) and in the reader's notation."""
    return str(number_format(round(value, places), decimal_pos=places))
