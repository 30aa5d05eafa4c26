"""EXIF (a TIFF structure) rebuilt with only the tags that show the picture as it was taken.

Shared by the JPEG, PNG and HEIC cleaners; also the little they all need
(`Removed`, `unreadable()`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from django.utils.translation import gettext_lazy

from production.processing.files import MediaRejected

type Removed = set[str]
"""What was taken out, as keys of `production.processing.metadata.REMOVED_LABELS`."""

COPY_CHUNK = 1024 * 1024


def unreadable() -> MediaRejected:
    return MediaRejected(
        gettext_lazy(
            "The details stored in this file (such as where it was taken) cannot be read, so they cannot be "
            "removed. Save or export the file again and upload the copy."
        ),
        code="metadata_unreadable",
    )


_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_EXIF_POINTER, _GPS_POINTER, _INTEROP_POINTER = 0x8769, 0x8825, 0xA005
_KEEP_IFD0 = {
    0x0112,  # Orientation
    0x011A, 0x011B, 0x0128,  # X/YResolution, ResolutionUnit
    0x0211, 0x0212, 0x0213, 0x0214,  # YCbCr coefficients, subsampling, positioning; ReferenceBlackWhite
    0x012D, 0x013E, 0x013F,  # TransferFunction, WhitePoint, PrimaryChromaticities
    0x0132,  # DateTime
    0x8298,  # Copyright: the rights notice stays (removing it is not ours to do)
}  # fmt: skip
_KEEP_EXIF = {
    0x9000, 0xA000,  # ExifVersion, FlashpixVersion
    0xA001, 0x9101, 0xA500,  # ColorSpace, ComponentsConfiguration, Gamma
    0xA002, 0xA003,  # PixelX/YDimension
    0x9003, 0x9004, 0x9010, 0x9011, 0x9012, 0x9290, 0x9291, 0x9292,  # dates, time zones, sub-seconds
}  # fmt: skip
_KEEP_INTEROP = {0x0001, 0x0002}  # "R98"/"R03": sRGB or Adobe RGB for files without an ICC profile
_COMMENT_TAGS = {0x010E, 0x9286, 0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F}  # descriptions, user comment, XP*


@dataclass
class _Entry:
    tag: int
    kind: int
    count: int
    value: bytes  # the raw value, in the file's byte order


def _read_ifd(tiff: bytes, offset: int, order: str) -> tuple[list[_Entry], int] | None:
    """The entries of one directory and the offset of the next, or None when it or a value does not fit in `tiff`."""
    if offset < 8 or offset + 2 > len(tiff):
        return None
    (count,) = struct.unpack_from(order + "H", tiff, offset)
    if offset + 2 + 12 * count + 4 > len(tiff):
        return None
    entries = []
    for index in range(count):
        tag, kind, number, inline = struct.unpack_from(order + "HHI4s", tiff, offset + 2 + 12 * index)
        size = _TYPE_SIZES.get(kind, 0) * number
        if size == 0:
            continue  # an unknown type or no value: nothing we could keep
        if size <= 4:
            value = inline[:size]
        else:
            (at,) = struct.unpack(order + "I", inline)
            if at + size > len(tiff):
                return None  # points outside the block: the directory is not what it claims (Pillow agrees)
            value = tiff[at : at + size]
        entries.append(_Entry(tag, kind, number, value))
    (following,) = struct.unpack_from(order + "I", tiff, offset + 2 + 12 * count)
    return entries, following


def _pointer(entry: _Entry, order: str) -> int | None:
    if entry.kind in (4, 13) and entry.count == 1:
        return int(struct.unpack(order + "I", entry.value)[0])
    return None


def _classify(tag: int) -> str:
    return "comments" if tag in _COMMENT_TAGS else "camera"


def minimal_exif(tiff: bytes, removed: Removed) -> bytes | None:
    """A new TIFF block with only the tags we keep, or None when nothing is worth keeping or it is unreadable.

    Adds to `removed` what was left out. Only three directories are read
    (IFD0, its Exif and Interoperability directories), each at most once,
    so loops and offsets pointing anywhere cannot make it run away.
    """
    if tiff[:4] not in (b"II*\0", b"MM\0*"):
        removed.add("camera")
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    first = _read_ifd(tiff, struct.unpack_from(order + "I", tiff, 4)[0], order)
    if first is None:
        removed.add("camera")
        return None
    ifd0, next_ifd = first
    if next_ifd:
        removed.add("preview")  # IFD1: a thumbnail, made before any crop or edit
    kept0 = _filter(ifd0, _KEEP_IFD0, removed)
    exif_entries: list[_Entry] = []
    interop_entries: list[_Entry] = []
    for entry in ifd0:
        if entry.tag == _GPS_POINTER:
            removed.add("location")
        elif entry.tag == _EXIF_POINTER and (at := _pointer(entry, order)) is not None:
            read = _read_ifd(tiff, at, order)
            if read is None:
                removed.add("camera")
                continue
            exif_entries = _filter(read[0], _KEEP_EXIF, removed)
            for sub in read[0]:
                if sub.tag == _INTEROP_POINTER and (at := _pointer(sub, order)) is not None:
                    interop = _read_ifd(tiff, at, order)
                    interop_entries = _filter(interop[0], _KEEP_INTEROP, removed) if interop else []
    if not kept0 and not exif_entries:
        return None
    return _write_tiff(tiff[:2], order, kept0, exif_entries, interop_entries)


def _filter(entries: list[_Entry], keep: set[int], removed: Removed) -> list[_Entry]:
    kept = []
    for entry in entries:
        if entry.tag in keep:
            kept.append(entry)
        elif entry.tag not in (_EXIF_POINTER, _GPS_POINTER, _INTEROP_POINTER):
            removed.add(_classify(entry.tag))
    return kept


def _write_tiff(mark: bytes, order: str, ifd0: list[_Entry], exif: list[_Entry], interop: list[_Entry]) -> bytes:
    """IFD0, then the Exif and Interoperability directories, each followed by its long values."""

    def size(entries: list[_Entry], pointer: bool) -> int:
        values = sum(len(e.value) + len(e.value) % 2 for e in entries if len(e.value) > 4)
        return 2 + 12 * (len(entries) + pointer) + 4 + values

    exif_at = 8 + size(ifd0, bool(exif))
    interop_at = exif_at + size(exif, bool(interop))
    out = bytearray(mark + struct.pack(order + "HI", 42, 8))
    for entries, pointer, pointer_at in (
        (ifd0, _EXIF_POINTER if exif else None, exif_at),
        (exif, _INTEROP_POINTER if interop else None, interop_at),
        (interop, None, 0),
    ):
        if not entries and out[8:]:
            continue
        rows = [(e.tag, e.kind, e.count, e.value) for e in entries]
        if pointer is not None:
            rows.append((pointer, 4, 1, struct.pack(order + "I", pointer_at)))
        rows.sort()
        start = len(out)
        values_at = start + 2 + 12 * len(rows) + 4
        values = bytearray()
        out += struct.pack(order + "H", len(rows))
        for tag, kind, count, value in rows:
            if len(value) <= 4:
                field = value.ljust(4, b"\0")
            else:
                field = struct.pack(order + "I", values_at + len(values))
                values += value + b"\0" * (len(value) % 2)  # values start on a word boundary
            out += struct.pack(order + "HHI", tag, kind, count) + field
        out += b"\0\0\0\0" + values  # no next directory (no thumbnail)
    return bytes(out)


def empty_tiff(mark: bytes) -> bytes:
    order = "<" if mark == b"II" else ">"
    return mark + struct.pack(order + "HIHI", 42, 8, 0, 0)
