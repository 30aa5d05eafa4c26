"""JPEG and PNG: segments and chunks rewritten, the picture's own bytes copied as they are."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Any, Literal

from production.processing.metadata.exif import Removed, minimal_exif, unreadable

_SOI, _EOI = b"\xff\xd8", b"\xff\xd9"
_XMP = b"http://ns.adobe.com/xap/1.0/\0"
_XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\0"
_MAX_SEGMENTS = 100_000  # real photos have dozens; this bounds the work a crafted file can ask for

type Piece = bytes | bytearray | tuple[int, int]  # new bytes, or a range of the source copied as it is
_MAX_LINKED_PICTURES = 32  # an MPF file links a few (stereo pair, gain map, depth map)


def _add(pieces: list[Piece], piece: Piece) -> None:
    last = pieces[-1]
    if isinstance(piece, tuple) and isinstance(last, tuple) and last[1] == piece[0]:
        pieces[-1] = (last[0], piece[1])  # neighbouring kept ranges become one copy
    else:
        pieces.append(piece)


@dataclass
class _Picture:
    pieces: list[Piece]
    end: int  # where the picture ended in the source
    mpf_piece: int | None = None  # the index of its MPF segment among the pieces
    mpf_at: int = 0  # where that segment was in the source


def _jpeg_segment(marker: int, body: bytes, removed: Removed) -> bytes | Literal["keep"] | None:
    """What becomes of one segment: kept, replaced by new bytes, or dropped (None)."""
    if marker == 0xE0:
        if body.startswith(b"JFIF\0"):
            return "keep"
        removed.add("preview" if body.startswith(b"JFXX\0") else "other")
    elif marker == 0xE1:
        if body.startswith(b"Exif\0"):
            tiff = minimal_exif(body[6:], removed)
            if tiff is not None:
                return body[:6] + tiff
        else:
            removed.add("xmp" if body.startswith((_XMP, _XMP_EXTENSION)) else "other")
    elif marker == 0xE2:
        if body.startswith((b"ICC_PROFILE\0", b"MPF\0")):
            return "keep"
        removed.add("other")
    elif marker == 0xED:
        removed.add("iptc")
    elif marker == 0xEE and body.startswith(b"Adobe"):
        return "keep"  # the colour transform: without it CMYK and YCCK pictures decode wrongly
    elif marker == 0xFE:
        removed.add("comments")
    elif 0xE0 <= marker <= 0xEF:
        removed.add("other")
    else:
        return "keep"  # tables, frame and scan headers, restart interval: the picture itself
    return None


def _scan_end(buf: Any, pos: int, end: int) -> int:
    """Where entropy-coded data from `pos` ends: the first marker that is not a restart or a stuffed 0xFF."""
    while True:
        at = buf.find(b"\xff", pos, end)
        if at < 0 or at + 1 >= end:
            return end
        following = buf[at + 1]
        if following == 0xFF:  # fill bytes may precede a marker
            pos = at + 1
        elif following == 0x00 or 0xD0 <= following <= 0xD7:
            pos = at + 2
        else:
            return int(at)


def _clean_picture(buf: Any, start: int, end: int, removed: Removed) -> _Picture:
    """One JPEG picture from its SOI: the pieces of its cleaned copy, and where it ended.

    Walks the segments as a decoder does (stray bytes between segments and
    fill bytes are skipped), so everything a decoder uses is seen and copied.
    """
    picture = _Picture(pieces=[_SOI], end=end)
    pieces = picture.pieces
    pos, scanned, closed = start + 2, False, False
    for _segment in range(_MAX_SEGMENTS):
        if pos + 1 >= end:
            break
        if buf[pos] != 0xFF:  # stray bytes, which decoders skip
            found = buf.find(b"\xff", pos, end)
            if found < 0:
                break
            pos = found
            continue
        marker = buf[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xD9:
            picture.end, closed = pos + 2, True
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            _add(pieces, (pos, pos + 2))
            pos += 2
            continue
        length = int.from_bytes(buf[pos + 2 : pos + 4], "big") if pos + 4 <= end else 0
        if marker in (0x00, 0xD8) or length < 2 or pos + 2 + length > end:
            if scanned:  # the picture's data is all there; what follows is not part of it, so it ends here
                picture.end, closed = pos, True
                break
            raise unreadable()
        segment_end = pos + 2 + length
        body = bytes(buf[pos + 4 : segment_end]) if 0xE0 <= marker <= 0xEF else b""
        verdict = _jpeg_segment(marker, body, removed)
        if verdict == "keep" and marker == 0xE2 and body.startswith(b"MPF\0") and picture.mpf_piece is None:
            picture.mpf_piece, picture.mpf_at = len(pieces), pos
            pieces.append(bytearray(buf[pos:segment_end]))  # its offsets are rewritten once all is known
        elif verdict == "keep":
            _add(pieces, (pos, segment_end))
        elif verdict is not None:
            _add(pieces, b"\xff" + bytes([marker]) + (len(verdict) + 2).to_bytes(2, "big") + verdict)
        pos = segment_end
        if marker == 0xDA:
            scanned = True
            data_end = _scan_end(buf, pos, end)
            _add(pieces, (pos, data_end))
            pos = data_end
    else:
        raise unreadable()
    if not scanned:
        raise unreadable()
    if closed:  # a file that just stops stays one that stops: an end marker would hide a truncated scan
        pieces.append(_EOI)
    return picture


def _length(pieces: list[Piece]) -> int:
    return sum(piece[1] - piece[0] if isinstance(piece, tuple) else len(piece) for piece in pieces)


def _mpf_links(segment: bytearray) -> tuple[str, list[tuple[int, int, int]]] | None:
    """The MP index: (byte order, [(where the entry is in the segment, size, offset)]), or None if unreadable."""
    tiff = bytes(segment[8:])
    if tiff[:4] not in (b"II*\0", b"MM\0*"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    if ifd < 8 or ifd + 2 > len(tiff):
        return None
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for index in range(min(count, (len(tiff) - ifd - 2) // 12)):
        tag, kind, number, at = struct.unpack_from(order + "HHII", tiff, ifd + 2 + 12 * index)
        if tag == 0xB002 and kind == 7 and number % 16 == 0 and 16 <= number <= 16 * _MAX_LINKED_PICTURES:
            if at + number > len(tiff):
                return None
            return order, [
                (8 + at + 16 * entry, *struct.unpack_from(order + "II", tiff, at + 16 * entry + 4))
                for entry in range(number // 16)
            ]
    return None


def clean_jpeg(buf: Any, removed: Removed) -> list[Piece]:
    """The pieces of a JPEG without personal metadata: in an MPF file every picture is cleaned and re-linked."""
    primary = _clean_picture(buf, 0, len(buf), removed)
    pieces = primary.pieces
    links = _mpf_links(pieces[primary.mpf_piece]) if primary.mpf_piece is not None else None  # type: ignore[arg-type]  # the MPF piece is a bytearray
    others: list[tuple[int, _Picture]] = []
    if links is not None:
        header, previous_end = primary.mpf_at + 8, primary.end  # MPF offsets count from its TIFF header
        for entry_at, size, offset in links[1]:
            where = header + offset
            if offset == 0:
                continue
            if where < previous_end or where + max(size, 2) > len(buf) or buf[where : where + 2] != _SOI:
                links = None  # a link outside the file or across another picture
                break
            picture = _clean_picture(buf, where, where + size, removed)
            others.append((entry_at, picture))
            previous_end = picture.end
    if links is None or primary.mpf_piece is None:
        if primary.mpf_piece is not None:
            del pieces[primary.mpf_piece]  # the extra pictures cannot be found safely: they go with it
        if bytes(buf[primary.end : primary.end + 4096]).strip(b"\0"):
            removed.add("other")  # a motion photo's video or a vendor trailer after the picture
        return pieces
    segment = pieces[primary.mpf_piece]
    assert isinstance(segment, bytearray)  # noqa: S101  # made one in _clean_picture
    order, entries = links
    new_header = _length(pieces[: primary.mpf_piece]) + 8
    position = primary_size = _length(pieces)
    for entry_at, picture in others:
        size = _length(picture.pieces)
        struct.pack_into(order + "II", segment, entry_at + 4, size, position - new_header)
        pieces.extend(picture.pieces)
        position += size
    for entry_at, _size, offset in entries:
        if offset == 0:
            struct.pack_into(order + "I", segment, entry_at + 4, primary_size)
    return pieces


# --- PNG ---

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The chunks that draw the picture: the critical ones, transparency, colour, gamma, HDR, size and animation.
_PNG_KEEP = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP",
    b"mDCV", b"mDCv", b"cLLI", b"cLLi", b"bKGD", b"hIST", b"pHYs", b"sCAL", b"sPLT", b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def clean_png(buf: Any, removed: Removed) -> list[Piece]:
    """The pieces of a PNG with only the chunks that draw the picture; eXIf rebuilt (orientation kept)."""
    pieces: list[Piece] = [_PNG_SIGNATURE]
    pos = len(_PNG_SIGNATURE)
    while True:
        if pos + 12 > len(buf):
            raise unreadable()  # no IEND: Pillow checked the file, so this is not a PNG we know
        length, kind = struct.unpack_from(">I4s", buf, pos)
        chunk_end = pos + 12 + length
        if chunk_end > len(buf):
            raise unreadable()
        if kind in _PNG_KEEP or kind[:1].isupper():  # an unknown critical chunk is part of the picture
            _add(pieces, (pos, chunk_end))
        elif kind == b"eXIf":
            tiff = minimal_exif(bytes(buf[pos + 8 : pos + 8 + length]), removed)
            if tiff is not None:
                pieces.append(_png_chunk(b"eXIf", tiff))
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            keyword = bytes(buf[pos + 8 : pos + 8 + min(length, 80)]).split(b"\0", 1)[0]
            if keyword == b"XML:com.adobe.xmp":
                removed.add("xmp")
            elif keyword.startswith(b"Raw profile type"):  # ImageMagick's hex copy of EXIF or IPTC
                removed.add("camera")
            else:
                removed.add("comments")
        else:
            removed.add("other")
        pos = chunk_end
        if kind == b"IEND":
            break
    if bytes(buf[pos : pos + 4096]).strip(b"\0"):
        removed.add("other")  # data after the end of the picture
    return pieces
