"""Decoding large photos in bounded memory: PNG in bands, HEIF without a second copy, and what a decode costs.

A photo at our pixel limit (100 megapixels) fully decoded by Pillow takes
400 MB as RGBA (Pillow keeps RGB in 4 bytes a pixel too), and making a
rendition from it took 1.2 GiB (bench/upload.py). JPEG is decoded at 1/2,
1/4 or 1/8 size by libjpeg (production.processing.images), which bounds it. The other
formats cannot be read at a reduced size by their libraries, so:

* PNG (not interlaced) is decoded here a band of rows at a time: we inflate
  the image data ourselves, Pillow's own PNG decoder undoes the row filters
  of each band (given the last row of the band before), and the caller
  shrinks each band as it comes. A 100-megapixel RGBA PNG then needs tens of
  megabytes instead of 1.2 GiB, and its pixels are exactly Pillow's.
* HEIF is decoded by libheif whole (it has no reduced decode), but its
  buffer is cut into bands directly instead of being copied into a Pillow
  image first: 4.5 bytes a pixel at the peak instead of 7.
* What cannot be bounded (a progressive or multi-scan JPEG keeps every DCT
  coefficient, an interlaced PNG and a HEIF are decoded whole) is estimated
  from the header by `decode_cost`, and production.processing.images refuses it above
  DECODE_BUDGET before anything is decoded.

Pure functions on a binary file; nothing here knows about models or
messages. Damaged data raises `BrokenImage` (a ValueError).
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import pillow_heif
from PIL import Image

# The most memory one decode may hold at once (its own buffers; the rest of the work adds a few
# megabytes). Issue 12 asks for at most 256 MiB of growth per web or worker process; a 48-megapixel
# HEIC from a phone (8064 x 6048) needs 209 MiB of it.
DECODE_BUDGET = 224 * 1024 * 1024
# Raw bytes of one PNG band: large enough that Pillow's per-band overhead is nothing, small enough
# that the band, its copies and its flattened pixels stay a few tens of megabytes.
BAND_BYTES = 4 * 1024 * 1024
_READ_BYTES = 1024 * 1024
_INFLATE_BYTES = 1024 * 1024

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_BIT_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
# Adam7's passes: first column, first row, column step, row step.
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
_MAX_FILTER = 4  # None, Sub, Up, Average, Paeth
# Pillow's bytes per pixel for each mode (RGB and LA are kept in four bytes).
_PILLOW_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "LA": 4, "RGB": 4, "RGBA": 4, "CMYK": 4}


class BrokenImage(ValueError):
    """The file's bytes are not the picture they say they are (truncated, a bad checksum, bad data)."""


# --- What a decode costs ---


def decode_cost(image: Image.Image, fp: IO[bytes]) -> int:
    """The bytes a full-resolution decode of this opened (not loaded) photo holds at its peak,
    beyond the pixels we keep: what no reduced decode can avoid.

    JPEG: nothing for a single-scan (baseline) file, which libjpeg decodes row by row; a
    progressive or multi-scan one keeps all its DCT coefficients (2 bytes each). PNG: nothing
    when it is read in bands, its whole picture when it is interlaced. HEIF: libheif's YUV planes
    and its interleaved RGB(A) picture.
    """
    width, height = image.size
    if image.format in ("JPEG", "MPO"):
        if not _jpeg_has_several_scans(fp):
            return 0
        layers = getattr(image, "layer", None) or [("", 1, 1, 0)]
        h_max = max(layer[1] for layer in layers)
        v_max = max(layer[2] for layer in layers)
        return sum(
            math.ceil(width * layer[1] / h_max / 8) * math.ceil(height * layer[2] / v_max / 8) * 64 * 2
            for layer in layers
        )
    if image.format == "PNG":
        layout = read_png_layout(fp)
        return width * height * _PILLOW_BYTES.get(image.mode, 4) if layout.interlaced else 0
    if image.format == "HEIF":
        plane = {"420": 1.5, "422": 2.0}.get(str(image.info.get("chroma", "")), 3.0)
        deep = 2 if int(image.info.get("bit_depth") or 8) > 8 else 1
        alpha = 1 if image.mode == "RGBA" else 0
        return math.ceil(width * height * ((plane + alpha) * deep + len(image.mode)))
    return width * height * _PILLOW_BYTES.get(image.mode, 4)


# Start-of-frame markers (0xC4 DHT, 0xC8 JPG and 0xCC DAC are not frames); those after 0xC1 are progressive,
# lossless or hierarchical, which libjpeg decodes through the whole-image coefficient buffer (or not at all).
_JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_SEQUENTIAL_FRAMES = frozenset({0xC0, 0xC1, 0xC9})
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and the restart markers carry no length


def _jpeg_has_several_scans(fp: IO[bytes]) -> bool:
    """Whether libjpeg decodes this JPEG in several scans (progressive, or a sequential file whose first
    scan does not hold every component), keeping every DCT coefficient until the last.

    Read from the headers up to the first start-of-scan, as libjpeg decides it (`has_multiple_scans`
    in jdinput.c: progressive, or fewer components in the first scan than in the frame), so only the
    first few kilobytes are read, not the whole file. A header we cannot follow counts as several
    scans: the cost is then over-, never under-estimated. In an MPO the first picture, which is the
    one decoded, decides.
    """
    fp.seek(0)
    if fp.read(2) != b"\xff\xd8":
        return True
    components: int | None = None
    sequential = False
    while True:
        byte = fp.read(1)
        if byte != b"\xff":
            return True
        while byte == b"\xff":  # fill bytes may precede a marker
            byte = fp.read(1)
        if not byte:
            return True
        marker = byte[0]
        if marker in _JPEG_STANDALONE:
            continue
        head = fp.read(2)
        if len(head) < 2 or marker == 0xD9:  # the end of the picture before any scan
            return True
        length = int.from_bytes(head, "big")
        if length < 2:
            return True
        if marker in _JPEG_FRAMES:
            frame = fp.read(6)  # precision, height, width, number of components
            if len(frame) < 6:
                return True
            components, sequential = frame[5], marker in _JPEG_SEQUENTIAL_FRAMES
            fp.seek(length - 8, io.SEEK_CUR)
        elif marker == 0xDA:  # start of scan: its number of components
            scan = fp.read(1)
            return components is None or not scan or not sequential or scan[0] < components
        else:
            fp.seek(length - 2, io.SEEK_CUR)


# --- PNG ---


@dataclass(frozen=True, kw_only=True)
class PngLayout:
    """A PNG's header and where its image data is, read without decoding anything."""

    width: int
    height: int
    bit_depth: int
    colour_type: int
    interlaced: bool
    exif: bytes | None  # the eXIf chunk (before or after the image data)
    idat: tuple[tuple[int, int], ...]  # (offset, length) of each IDAT chunk's data

    @property
    def bits_per_pixel(self) -> int:
        return self.bit_depth * _PNG_CHANNELS[self.colour_type]

    @property
    def filter_unit(self) -> int:
        """The bytes a filter steps back to the pixel on the left (at least 1)."""
        return max(1, self.bits_per_pixel // 8)

    def row_bytes(self, width: int) -> int:
        return (width * self.bits_per_pixel + 7) // 8

    def row_groups(self) -> list[tuple[int, int]]:
        """(rows, bytes per row with its filter byte) in the order the inflated data holds them."""
        if not self.interlaced:
            return [(self.height, 1 + self.row_bytes(self.width))]
        groups = []
        for x0, y0, dx, dy in _ADAM7:
            pass_width, pass_height = -(-(self.width - x0) // dx), -(-(self.height - y0) // dy)
            if pass_width > 0 and pass_height > 0:
                groups.append((pass_height, 1 + self.row_bytes(pass_width)))
        return groups


def read_png_layout(fp: IO[bytes]) -> PngLayout:
    """Walk every chunk to IEND, checking each checksum as it streams past; `BrokenImage` if any is wrong."""
    fp.seek(0)
    if fp.read(8) != PNG_SIGNATURE:
        raise BrokenImage("not a PNG")
    header: tuple[int, ...] | None = None
    exif: bytes | None = None
    idat: list[tuple[int, int]] = []
    while True:
        head = fp.read(8)
        if len(head) < 8:
            raise BrokenImage("the PNG ends before its IEND chunk")
        length, kind = struct.unpack(">I4s", head)
        if length > 0x7FFFFFFF:
            raise BrokenImage("a PNG chunk longer than the format allows")
        offset = fp.tell()
        checksum = zlib.crc32(kind)
        kept = kind in (b"IHDR", b"eXIf")
        data = b""
        left = length
        while left:
            piece = fp.read(min(left, _READ_BYTES))
            if not piece:
                raise BrokenImage("the PNG ends inside a chunk")
            checksum = zlib.crc32(piece, checksum)
            if kept:
                data += piece
            left -= len(piece)
        stored = fp.read(4)
        if len(stored) < 4 or int.from_bytes(stored, "big") != checksum:
            raise BrokenImage(f"a bad checksum on the PNG chunk {kind!r}")
        if kind == b"IHDR":
            if length != 13 or header is not None:
                raise BrokenImage("a bad PNG header")
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat.append((offset, length))
        elif kind == b"eXIf":
            exif = data
        elif kind == b"IEND":
            break
    if header is None or not idat:
        raise BrokenImage("a PNG without a header or image data")
    width, height, bit_depth, colour_type, compression, filter_method, interlace = header
    if (
        not width
        or not height
        or bit_depth not in _PNG_BIT_DEPTHS.get(colour_type, ())
        or compression != 0
        or filter_method != 0
        or interlace not in (0, 1)
    ):
        raise BrokenImage("a PNG header this format does not allow")
    return PngLayout(
        width=width,
        height=height,
        bit_depth=bit_depth,
        colour_type=colour_type,
        interlaced=bool(interlace),
        exif=exif,
        idat=tuple(idat),
    )


def _inflated(fp: IO[bytes], layout: PngLayout) -> Iterator[bytes]:
    """The image data inflated, a megabyte at a time at most (a small file may inflate to a huge one)."""
    inflater = zlib.decompressobj()
    for offset, length in layout.idat:
        fp.seek(offset)
        left = length
        while left:
            data = fp.read(min(left, _READ_BYTES))
            if not data:
                raise BrokenImage("the PNG's image data ends early")
            left -= len(data)
            while data:
                try:
                    out = inflater.decompress(data, _INFLATE_BYTES)
                except zlib.error as error:
                    raise BrokenImage("the PNG's image data is damaged") from error
                if out:
                    yield out
                data = inflater.unconsumed_tail
    while not inflater.eof:
        out = inflater.decompress(b"", _INFLATE_BYTES)
        if not out:
            raise BrokenImage("the PNG's image data ends early")
        yield out


class _Rows:
    """Takes exactly n bytes at a time from the inflated data."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self.pieces = pieces
        self.buffer = bytearray()

    def take(self, size: int, *, after: bytes = b"") -> bytearray:
        """The next `size` bytes, behind `after`."""
        while len(self.buffer) < size:
            piece = next(self.pieces, None)
            if piece is None:
                raise BrokenImage("the PNG has fewer rows than its header says")
            self.buffer += piece
        taken = bytearray(after)
        taken += memoryview(self.buffer)[:size]
        del self.buffer[:size]
        return taken


def check_png_data(fp: IO[bytes], layout: PngLayout) -> None:
    """Inflate all of the image data without decoding pixels: there is exactly enough for every row,
    and every row names a filter that exists. With `read_png_layout`'s checksums this finds what a
    full decode finds, in a megabyte or two of memory."""
    rows = _Rows(_inflated(fp, layout))
    for count, stride in layout.row_groups():
        per_take = max(1, BAND_BYTES // stride)
        for start in range(0, count, per_take):
            data = rows.take(min(per_take, count - start) * stride)
            if max(data[0::stride]) > _MAX_FILTER:
                raise BrokenImage("a PNG row names a filter that does not exist")


def png_bands(
    fp: IO[bytes], layout: PngLayout, image: Image.Image, *, multiple_of: int = 1, band_bytes: int = BAND_BYTES
) -> Iterator[tuple[int, Image.Image]]:
    """The picture of a non-interlaced PNG as (first row, band) in order, each band a Pillow image in the
    mode Pillow opens the file in (palette and transparency included), whole rows a multiple of
    `multiple_of` high (except the last).

    Row filters refer to the row above, so each band's filtered rows go to Pillow's PNG decoder
    behind the raw last row of the band before (with filter "None"; the row above the first is zeros,
    as the format says). The decoder is asked for a format with the same bytes per pixel that keeps
    every byte (L, LA, RGB, RGBA; 16-bit colour twice, for the high and the low bytes), and the raw
    rows are then unpacked into the file's own mode as Pillow's PNG reader would.
    """
    if layout.interlaced:
        raise ValueError("an interlaced PNG cannot be read in bands")
    stride = 1 + layout.row_bytes(layout.width)
    height = max(multiple_of, band_bytes // stride // multiple_of * multiple_of)
    # How Pillow's PNG reader unpacks this file's rows (its tile's argument), e.g. "RGB;16B", "P;4".
    tile = getattr(image, "tile", None)
    rawmode = tile[0].args if tile and isinstance(tile[0].args, str) else image.mode
    # 8-bit L, LA, RGB and RGBA: the decoder's picture is the band itself, no unpacking needed.
    direct = rawmode == image.mode == _CARRIERS.get(layout.filter_unit) and layout.bit_depth == 8
    rows = _Rows(_inflated(fp, layout))
    previous = bytes(stride)
    for top in range(0, layout.height, height):
        count = min(height, layout.height - top)
        filtered = rows.take(count * stride, after=previous)
        if direct:
            decoded = _decode_rows(filtered, layout=layout, rows=count + 1)
            band = decoded.crop((0, 1, layout.width, count + 1))
            previous = b"\0" + decoded.crop((0, count, layout.width, count + 1)).tobytes()
        else:
            raw = _unfilter(filtered, layout=layout, rows=count + 1)[stride - 1 :]
            previous = b"\0" + raw[-(stride - 1) :]
            band = Image.frombytes(image.mode, (layout.width, count), raw, "raw", rawmode)
        if image.mode == "P" and image.palette is not None:
            band.putpalette(image.palette)
        if "transparency" in image.info:
            band.info["transparency"] = image.info["transparency"]
        yield top, band


_CARRIERS = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA", 6: "RGB", 8: "RGBA"}


def _decode_rows(filtered: bytes | bytearray, *, layout: PngLayout, rows: int, rawmode: str = "") -> Image.Image:
    """Filtered rows decoded by Pillow's PNG decoder (inflate and unfilter, in C) as a picture of the
    format with the same bytes per pixel; for 16-bit colour, `rawmode` picks the high or low bytes."""
    unit = layout.filter_unit
    stride = len(filtered) // rows
    if unit not in _CARRIERS or (stride - 1) % unit:
        raise BrokenImage("a PNG pixel format we cannot read")
    mode = _CARRIERS[unit]
    stored = zlib.compress(filtered, 0)  # stored blocks: a copy, not compression work
    try:
        return Image.frombytes(mode, ((stride - 1) // unit, rows), stored, "zip", rawmode or mode)
    except ValueError as error:  # "cannot decode image data": a filter that does not exist
        raise BrokenImage("the PNG's rows cannot be decoded") from error


def _unfilter(filtered: bytes | bytearray, *, layout: PngLayout, rows: int) -> bytes:
    """Raw rows (without their filter bytes) from filtered ones, every byte kept."""
    if layout.filter_unit <= 4:
        return _decode_rows(filtered, layout=layout, rows=rows).tobytes()
    mode = _CARRIERS[layout.filter_unit]
    high = _decode_rows(filtered, layout=layout, rows=rows, rawmode=f"{mode};16B").tobytes()
    low = _decode_rows(filtered, layout=layout, rows=rows, rawmode=f"{mode};16L").tobytes()
    raw = bytearray(len(high) * 2)
    raw[0::2] = high
    raw[1::2] = low
    return bytes(raw)


# --- HEIF ---


def heif_bands(fp: IO[bytes], *, multiple_of: int = 1) -> Iterator[tuple[int, Image.Image]]:
    """The primary picture of a HEIF file as (first row, band), cut from libheif's buffer without copying
    the whole into a Pillow image (as `Image.load` would) first. Turned as libheif turns it, which is
    what Pillow's HEIF plugin shows too."""
    fp.seek(0)
    heif = pillow_heif.open_heif(fp, convert_hdr_to_8bit=True)
    width, height = heif.size
    data = memoryview(heif.data)  # the decode happens here
    stride = heif.stride
    rows = max(multiple_of, BAND_BYTES // stride // multiple_of * multiple_of)
    for top in range(0, height, rows):
        count = min(rows, height - top)
        band = data[top * stride : (top + count) * stride]
        yield top, Image.frombytes(heif.mode, (width, count), band, "raw", heif.mode, stride)
