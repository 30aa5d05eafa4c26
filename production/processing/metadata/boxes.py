"""MP4, MOV and HEIC (ISO base media files): boxes blanked or overwritten in place, so no offset moves."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Protocol

from production.processing.metadata.exif import COPY_CHUNK, Removed, empty_tiff, minimal_exif, unreadable

_XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
_EMPTY_XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'


@dataclass(frozen=True)
class _Box:
    kind: bytes
    start: int
    header: int
    end: int

    @property
    def body(self) -> int:
        return self.start + self.header


class _Readable(Protocol):
    def seek(self, pos: int, /) -> object: ...
    def read(self, size: int, /) -> bytes: ...


def _boxes(fp: _Readable, start: int, end: int) -> Iterator[_Box]:
    """The boxes between `start` and `end`. As FFmpeg reads them: a box that claims to run past its
    parent is cut at the parent's end, and a size too small to be a box ends the list."""
    pos = start
    while pos + 8 <= end:
        fp.seek(pos)
        head = fp.read(16)
        if len(head) < 8:
            return
        size, kind = struct.unpack_from(">I4s", head)
        header = 8
        if size == 1:
            if len(head) < 16:
                return
            size, header = int.from_bytes(head[8:16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < header:
            return
        box = _Box(kind, pos, header, min(pos + size, end))
        yield box
        pos = box.end


def _blank(fp: IO[bytes], box: _Box) -> None:
    """Make the box a `free` box of the same size, its contents zeros."""
    length = box.end - box.start
    header = struct.pack(">I4s", length, b"free") if length < 2**32 else struct.pack(">I4sQ", 1, b"free", length)
    fp.seek(box.start)
    fp.write(header)
    left = length - len(header)
    while left > 0:
        step = min(left, COPY_CHUNK)
        fp.write(bytes(step))
        left -= step


def _classify_box(fp: IO[bytes], box: _Box, removed: Removed) -> None:
    """Say what a metadata box held (for the asset page; the box goes whatever it holds)."""
    fp.seek(box.body)
    content = fp.read(min(box.end - box.body, COPY_CHUNK))
    found = False
    for key, signs in (
        ("location", (b"\xa9xyz", b"loci", b"location", b"ISO6709")),
        ("camera", (b"\xa9mak", b"\xa9mod", b"\xa9swr", b".make", b".model", b".software", b"manu", b"modl")),
        ("xmp", (b"XMP_", b"xmpmeta")),
    ):
        if any(sign in content for sign in signs):
            removed.add(key)
            found = True
    if not found:
        removed.add("other")


def clean_movie(fp: IO[bytes], size: int, removed: Removed) -> None:
    """Blank a video's metadata boxes in place: udta and meta in the movie and its tracks, XMP and other uuids."""
    for box in _boxes(fp, 0, size):
        if box.kind == b"moov":
            for child in _boxes(fp, box.body, box.end):
                if child.kind == b"trak":
                    for part in _boxes(fp, child.body, child.end):
                        if part.kind in (b"udta", b"meta"):
                            _classify_box(fp, part, removed)
                            _blank(fp, part)
                elif child.kind in (b"udta", b"meta", b"uuid"):
                    _classify_box(fp, child, removed)
                    _blank(fp, child)
        elif box.kind in (b"udta", b"meta", b"uuid"):
            fp.seek(box.body)
            removed.add("xmp" if box.kind == b"uuid" and fp.read(16) == _XMP_UUID else "other")
            _blank(fp, box)


def _full_box(data: bytes, box: _Box) -> tuple[int, int]:
    """A FullBox's version and where its own fields start."""
    if box.body + 4 > box.end:
        raise unreadable()
    return data[box.body], box.body + 4


def _uint(data: bytes, at: int, size: int) -> int:
    if size == 0:
        return 0
    if size not in (2, 4, 8) or at + size > len(data):
        raise unreadable()
    return int.from_bytes(data[at : at + size], "big")


def _heif_items(data: bytes, box: _Box) -> dict[int, bytes]:
    """iinf: each item's type; a `mime` item as b"mime:" and its content type."""
    version, at = _full_box(data, box)
    at += 2 if version == 0 else 4
    items: dict[int, bytes] = {}
    reader = _BytesReader(data)
    for infe in _boxes(reader, at, box.end):
        if infe.kind != b"infe":
            continue
        infe_version, field = _full_box(data, infe)
        if infe_version < 2:
            continue  # HEIF needs version 2 or 3; older entries name no item type
        id_size = 2 if infe_version == 2 else 4
        item_id = _uint(data, field, id_size)
        kind = data[field + id_size + 2 : field + id_size + 6]
        if kind == b"mime":
            strings = data[field + id_size + 6 : infe.end].split(b"\0")
            kind = b"mime:" + (strings[1] if len(strings) > 1 else b"")
        items[item_id] = kind
    return items


def _heif_locations(data: bytes, box: _Box) -> dict[int, tuple[int, list[tuple[int, int]]]]:
    """iloc: each item's construction method and extents (offset, length), base offset added."""
    version, at = _full_box(data, box)
    if version > 2 or at + 2 > box.end:
        raise unreadable()
    offset_size, length_size = data[at] >> 4, data[at] & 15
    base_size, index_size = data[at + 1] >> 4, (data[at + 1] & 15) if version else 0
    at += 2
    count_size = 4 if version == 2 else 2
    count, at = _uint(data, at, count_size), at + count_size
    locations = {}
    for _item in range(count):
        item_id, at = _uint(data, at, count_size), at + count_size
        method = 0
        if version:
            method, at = _uint(data, at, 2) & 15, at + 2
        at += 2  # data_reference_index
        base, at = _uint(data, at, base_size), at + base_size
        extents_count, at = _uint(data, at, 2), at + 2
        extents = []
        for _extent in range(extents_count):
            at += index_size
            offset, at = _uint(data, at, offset_size), at + offset_size
            length, at = _uint(data, at, length_size), at + length_size
            extents.append((base + offset, length))
        if at > box.end:
            raise unreadable()
        locations[item_id] = (method, extents)
    return locations


class _BytesReader:
    """Just enough of a file over bytes for `_boxes`."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def seek(self, pos: int) -> None:
        self.pos = pos

    def read(self, size: int) -> bytes:
        self.pos += size
        return self.data[self.pos - size : self.pos]


def _heif_exif(payload: bytes, removed: Removed) -> bytes:
    """An Exif item rebuilt at the same length: its TIFF header offset, the kept tags, then zeros."""
    skip = 4 + _uint(payload, 0, 4) if len(payload) >= 4 else len(payload)
    tiff = payload[skip:]
    if skip > len(payload) or tiff[:4] not in (b"II*\0", b"MM\0*"):
        removed.add("camera")
        new = b"\0\0\0\0" + empty_tiff(b"MM")
    else:
        rebuilt = minimal_exif(tiff, removed) or empty_tiff(tiff[:2])
        new = payload[:skip] + (rebuilt if skip + len(rebuilt) <= len(payload) else empty_tiff(tiff[:2]))
    return new.ljust(len(payload), b"\0")[: len(payload)]


def clean_heif(fp: IO[bytes], size: int, removed: Removed) -> None:
    """Overwrite a HEIC's Exif items (rebuilt, same length) and XMP items (an empty packet) in place."""
    meta = next((box for box in _boxes(fp, 0, size) if box.kind == b"meta"), None)
    if meta is None:
        raise unreadable()
    fp.seek(meta.start)
    data = fp.read(meta.end - meta.start)  # the item index; the pictures are elsewhere (mdat)
    local = _Box(meta.kind, 0, meta.header, len(data))
    _version, first = _full_box(data, local)
    children = {box.kind: box for box in _boxes(_BytesReader(data), first, len(data))}
    if b"iinf" not in children or b"iloc" not in children:
        raise unreadable()
    items = _heif_items(data, children[b"iinf"])
    locations = _heif_locations(data, children[b"iloc"])
    idat = children.get(b"idat")
    for item_id, kind in items.items():
        is_xmp = kind.startswith(b"mime:") and (b"rdf+xml" in kind or b"xmp" in kind.lower())
        if kind != b"Exif" and not is_xmp:
            continue
        if item_id not in locations:
            continue  # no data anywhere: nothing to remove
        method, extents = locations[item_id]
        if method == 1 and idat is not None:
            ranges = [(meta.start + idat.body + offset, length) for offset, length in extents]
            limit = meta.start + idat.end
        elif method == 0:
            ranges, limit = extents, size
        else:
            raise unreadable()  # the data is in another item: not something phones write
        if any(length == 0 or offset + length > limit for offset, length in ranges):
            raise unreadable()
        payload = b""
        for offset, length in ranges:
            fp.seek(offset)
            payload += fp.read(length)
        if is_xmp:
            new = _EMPTY_XMP.ljust(len(payload)) if len(payload) >= len(_EMPTY_XMP) else b" " * len(payload)
            if new != payload:
                removed.add("xmp")
        else:
            new = _heif_exif(payload, removed)
        if new == payload:
            continue
        at = 0
        for offset, length in ranges:
            fp.seek(offset)
            fp.write(new[at : at + length])
            at += length
