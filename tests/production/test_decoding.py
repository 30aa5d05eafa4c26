"""Decoding large photos in bounded memory (issue 12): PNG in bands, what a decode costs, and the
100-megapixel PNG checked and rendered by real processes under a hard memory limit.

The PNGs here are written by a small encoder of our own (`write_png`) so that every colour type,
bit depth and row filter, and interlacing, appear; Pillow writes only some of them.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import pytest
from PIL import Image

from production.processing import decoding, images, inspection
from tests.production.test_media import rejection

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _paeth(a: int, b: int, c: int) -> int:
    estimate = a + b - c
    pa, pb, pc = abs(estimate - a), abs(estimate - b), abs(estimate - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _filtered(kind: int, row: bytes, prior: bytes, unit: int) -> bytes:
    """One row with PNG filter `kind` (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth) applied."""
    out = bytearray([kind])
    for i, value in enumerate(row):
        a = row[i - unit] if i >= unit else 0
        b = prior[i]
        c = prior[i - unit] if i >= unit else 0
        predicted = (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind] if kind <= 4 else 0  # above 4: no filter exists
        out.append((value - predicted) & 0xFF)
    return bytes(out)


def write_png(
    out: IO[bytes],
    size: tuple[int, int],
    *,
    colour_type: int,
    bit_depth: int,
    row: Callable[[int], bytes],
    interlaced: bool = False,
    palette: bytes | None = None,
    filters: Sequence[int] = (0, 1, 2, 3, 4),
) -> None:
    """A PNG whose raw rows are `row(y)`, each filtered with the next of `filters` in turn, the data
    split over several IDAT chunks. Interlaced only for whole-byte pixels."""
    width, height = size
    bits = bit_depth * _CHANNELS[colour_type]
    unit = max(1, bits // 8)
    out.write(decoding.PNG_SIGNATURE)
    out.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, int(interlaced))))
    if palette is not None:
        out.write(_chunk(b"PLTE", palette))
    rows: list[list[bytes]]
    if not interlaced:
        rows = [[row(y) for y in range(height)]]
    else:
        full = [row(y) for y in range(height)]
        rows = []
        for x0, y0, dx, dy in decoding._ADAM7:
            columns = range(x0, width, dx)
            if columns:
                rows.append(
                    [b"".join(full[y][x * unit : (x + 1) * unit] for x in columns) for y in range(y0, height, dy)]
                )
    compressor = zlib.compressobj(6)
    data = b""
    turn = 0
    for group in rows:
        prior = bytes(len(group[0])) if group else b""
        for raw in group:
            data += compressor.compress(_filtered(filters[turn % len(filters)], raw, prior, unit))
            prior = raw
            turn += 1
    data += compressor.flush()
    for start in range(0, len(data), 997):
        out.write(_chunk(b"IDAT", data[start : start + 997]))
    out.write(_chunk(b"IEND", b""))


def _noise_row(width: int, bits: int, seed: int) -> Callable[[int], bytes]:
    length = (width * bits + 7) // 8
    return lambda y: bytes((x * 37 + y * 101 + (x * y) % 13 + seed) % 256 for x in range(length))


PALETTE = bytes(value for index in range(256) for value in (index, 255 - index, (index * 7) % 256))
# (colour type, bit depth, what): every combination the format allows.
FORMATS = [
    (0, 1, "1-bit grey"),
    (0, 2, "2-bit grey"),
    (0, 4, "4-bit grey"),
    (0, 8, "8-bit grey"),
    (0, 16, "16-bit grey"),
    (2, 8, "8-bit RGB"),
    (2, 16, "16-bit RGB"),
    (3, 1, "1-bit palette"),
    (3, 4, "4-bit palette"),
    (3, 8, "8-bit palette"),
    (4, 8, "8-bit grey and alpha"),
    (4, 16, "16-bit grey and alpha"),
    (6, 8, "8-bit RGBA"),
    (6, 16, "16-bit RGBA"),
]


@pytest.mark.parametrize(("colour_type", "bit_depth", "what"), FORMATS, ids=[row[2] for row in FORMATS])
def test_a_png_read_in_bands_is_exactly_the_picture_pillow_decodes_whole(
    colour_type: int, bit_depth: int, what: str
) -> None:
    size = (37, 29)
    buffer = io.BytesIO()
    write_png(
        buffer,
        size,
        colour_type=colour_type,
        bit_depth=bit_depth,
        row=_noise_row(size[0], bit_depth * _CHANNELS[colour_type], colour_type),
        palette=PALETTE if colour_type == 3 else None,
    )
    whole = Image.open(io.BytesIO(buffer.getvalue()))
    whole.load()
    image = Image.open(buffer)
    layout = decoding.read_png_layout(buffer)

    # Bands of a few rows, so that every filter meets a band boundary.
    bands = list(decoding.png_bands(buffer, layout, image, band_bytes=1))
    assembled = Image.new(whole.mode, size)
    for top, band in bands:
        assembled.paste(band, (0, top))

    assert len(bands) == size[1], what
    assert assembled.tobytes() == whole.tobytes(), what
    if whole.mode == "P":
        assert bands[0][1].getpalette() == whole.getpalette()


@pytest.mark.parametrize("interlaced", [False, True], ids=["row by row", "interlaced"])
def test_a_png_thumbnail_from_bands_matches_one_from_the_whole_picture(tmp_path: Path, interlaced: bool) -> None:
    size = (1000, 400)  # the 480 px thumbnail is reduced by 2 band by band, then resized
    source = tmp_path / "photo.png"
    with source.open("wb") as out:
        write_png(
            out,
            size,
            colour_type=6,
            bit_depth=8,
            interlaced=interlaced,
            row=lambda y: bytes(((x // 4) % 256, y % 256, 60, 255 if y < 300 else 0)[x % 4] for x in range(4000)),
            filters=(0, 2, 4),
        )

    info = inspection.inspect_upload(source)
    thumbnail = images.make_thumbnail(source, tmp_path / "thumbnail.jpg", format="jpeg", quality=100)

    with Image.open(source) as whole, Image.open(tmp_path / "thumbnail.jpg") as made:
        expected = images._flatten(whole.convert("RGBA")).resize(made.size, Image.Resampling.BOX)
        assert (info.width, info.height, thumbnail.width, thumbnail.height) == (1000, 400, 480, 192)
        # Transparent rows come out white, as before; the rest as Pillow sees it.
        assert made.getpixel((240, 180)) == (255, 255, 255)
        difference = [abs(a - b) for a, b in zip(made.tobytes(), expected.tobytes(), strict=True)]
        assert sum(difference) / len(difference) < 2


def test_a_png_row_naming_a_filter_that_does_not_exist_is_refused_at_upload(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    write_png(buffer, (40, 30), colour_type=2, bit_depth=8, row=_noise_row(40, 24, 1), filters=(0, 2, 7))
    path = tmp_path / "bad-filter.png"
    path.write_bytes(buffer.getvalue())

    assert rejection(path).code == "corrupt"


def test_a_png_chunk_with_a_wrong_checksum_is_refused_at_upload(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    write_png(buffer, (40, 30), colour_type=2, bit_depth=8, row=_noise_row(40, 24, 1))
    data = bytearray(buffer.getvalue())
    data[data.index(b"IDAT") + 10] ^= 0xFF  # a flipped byte inside the image data
    path = tmp_path / "flipped.png"
    path.write_bytes(bytes(data))

    assert rejection(path).code == "corrupt"


def jpeg_declaring(marker: bytes, width: int, height: int, *, progressive: bool) -> bytes:
    """A real small JPEG whose frame header is rewritten to declare `width` x `height`."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (20, 90, 160)).save(buffer, "JPEG", progressive=progressive, subsampling=0)
    data = bytearray(buffer.getvalue())
    frame = data.index(marker)
    data[frame + 5 : frame + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def test_a_progressive_jpeg_too_large_to_decode_within_the_budget_is_refused_by_its_header(tmp_path: Path) -> None:
    # 9000 x 9000 in 4:4:4: a progressive decode keeps 9000 * 9000 * 3 coefficients of 2 bytes, 463 MiB.
    path = tmp_path / "progressive.jpg"
    path.write_bytes(jpeg_declaring(b"\xff\xc2", 9000, 9000, progressive=True))

    error = rejection(path)

    assert error.code == "too_large_to_open"
    assert str(error) == (
        "This photo is 81 megapixels saved as a progressive JPEG, which needs more memory to open than we allow. "
        "Save it as an ordinary JPEG, or make it smaller, and upload it again."
    )


def test_an_ordinary_jpeg_of_the_same_size_costs_nothing_to_decode_beyond_its_rows() -> None:
    baseline = Image.open(io.BytesIO(jpeg_declaring(b"\xff\xc0", 9000, 9000, progressive=False)))
    progressive = Image.open(io.BytesIO(jpeg_declaring(b"\xff\xc2", 9000, 9000, progressive=True)))

    assert decoding.decode_cost(baseline, baseline.fp) == 0  # type: ignore[arg-type]
    assert decoding.decode_cost(progressive, progressive.fp) == 9000 * 9000 * 3 * 2  # type: ignore[arg-type]


def test_a_sequential_jpeg_whose_first_scan_lacks_components_costs_its_coefficients() -> None:
    # libjpeg buffers every coefficient when the first scan holds fewer components than the frame (a
    # baseline file in one scan per component); the first scan's header says so. Only the headers are
    # read, so the scan's data need not be valid for this.
    data = bytearray(jpeg_declaring(b"\xff\xc0", 9000, 9000, progressive=False))
    scan = data.index(b"\xff\xda")
    data[scan:] = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + bytes(64) + b"\xff\xd9"
    image = Image.open(io.BytesIO(bytes(data)))

    assert decoding.decode_cost(image, image.fp) == 9000 * 9000 * 3 * 2  # type: ignore[arg-type]


def test_the_decode_cost_of_a_jpeg_is_read_from_its_headers_alone() -> None:
    # Bytes after the first scan's header are never read: a start-of-scan marker in what follows (the
    # second picture of an MPO, trailing data) is not the decoded picture's.
    baseline = jpeg_declaring(b"\xff\xc0", 9000, 9000, progressive=False)
    reads: list[int] = []

    class Watched(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            reads.append(self.tell())
            return super().read(size)

    stream = Watched(baseline + b"\xff\xda" * 4)
    image = Image.open(stream)
    reads.clear()

    assert decoding.decode_cost(image, stream) == 0  # type: ignore[arg-type]
    assert max(reads) == baseline.index(b"\xff\xda") + 4  # the first scan's number of components, last


def test_an_mpo_of_ordinary_jpegs_costs_nothing_beyond_its_rows() -> None:
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (64, 48), (200, 30, 30)), Image.new("RGB", (64, 48), (30, 30, 200))
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    image = Image.open(buffer)

    assert image.format == "MPO"
    assert decoding.decode_cost(image, image.fp) == 0  # type: ignore[arg-type]


# --- The 100-megapixel PNG, in processes limited to 256 MiB more than they hold at the start ---


def write_large_png(path: Path, size: tuple[int, int]) -> Path:
    """An RGBA PNG of `size` written row by row (a few hundred kilobytes for 100 megapixels): a gradient
    in the first row, then rows that copy the one above (filter Up) with a step every 64 rows (Sub)."""
    width, height = size
    compressor = zlib.compressobj(1)
    first = b"\0" + bytes(value for x in range(width) for value in (x % 256, (x // 40) % 256, 90, 200))
    same = b"\x02" + bytes(width * 4)
    step = b"\x01" + b"\x01\x00\x00\x00" * width
    with path.open("wb") as out:
        out.write(decoding.PNG_SIGNATURE)
        out.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)))
        pieces = [compressor.compress(first)]
        for y in range(1, height):
            piece = compressor.compress(step if y % 64 == 0 else same)
            if piece:
                pieces.append(piece)
            if sum(map(len, pieces)) > 1 << 20:
                out.write(_chunk(b"IDAT", b"".join(pieces)))
                pieces = []
        pieces.append(compressor.flush())
        out.write(_chunk(b"IDAT", b"".join(pieces)))
        out.write(_chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def png_100_megapixels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_large_png(tmp_path_factory.mktemp("large") / "poster.png", (10_000, 10_000))


LIMITED_CHILD = """
import resource, sys
from pathlib import Path

from production.processing import images, inspection

def virtual_memory():
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmSize:"))
    return int(line.split()[1]) * 1024

limit = virtual_memory() + int(sys.argv[2]) * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # beyond this every allocation fails
if sys.argv[1] == "web":
    info = inspection.inspect_upload(sys.argv[3])
    print(info.width, info.height, info.color_mode)
else:
    rendition, thumbnail = images.make_image_renditions(sys.argv[3], sys.argv[4], sys.argv[5], aspect=None)
    print(rendition.width, rendition.height, thumbnail.width, thumbnail.height)
"""


def run_limited(side: str, mib: int, *args: Path) -> subprocess.CompletedProcess[str]:
    """Our code in a process that cannot grow its address space by more than `mib` (RLIMIT_AS):
    a decode that needs more fails there with MemoryError, whatever the machine has free."""
    return subprocess.run(
        [sys.executable, "-c", LIMITED_CHILD, side, str(mib), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_web_checks_a_100_megapixel_png_within_256_mib(png_100_megapixels: Path) -> None:
    checked = run_limited("web", 256, png_100_megapixels)

    assert checked.returncode == 0, checked.stderr[-3000:]
    assert checked.stdout.split() == ["10000", "10000", "RGBA"]


def test_the_worker_renders_a_100_megapixel_png_within_256_mib(png_100_megapixels: Path, tmp_path: Path) -> None:
    rendition, thumbnail = tmp_path / "rendition.jpg", tmp_path / "thumbnail.webp"

    made = run_limited("worker", 256, png_100_megapixels, rendition, thumbnail)

    assert made.returncode == 0, made.stderr[-3000:]
    assert made.stdout.split() == ["1440", "1440", "480", "480"]
    with Image.open(rendition) as picture:
        assert picture.size == (1440, 1440)
        _red, _green, blue = picture.getpixel((0, 0))  # type: ignore[misc]
        assert blue > 90  # blue 90 at alpha 200, flattened on white: 90 * 200/255 + 255 * 55/255 = 126


def test_the_limit_would_stop_a_whole_decode_of_that_png(png_100_megapixels: Path) -> None:
    """The limit is real: Pillow decoding the whole picture (400 MB of RGBA) fails under it."""
    code = (
        "import resource, sys\nfrom pathlib import Path\nfrom PIL import Image\n"
        "Image.MAX_IMAGE_PIXELS = None\n"
        "size = next(l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmSize:'))\n"
        "limit = int(size.split()[1]) * 1024 + 256 * 1024 * 1024\n"
        "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
        "Image.open(sys.argv[1]).load()\n"
    )
    whole = subprocess.run(
        [sys.executable, "-c", code, str(png_100_megapixels)], capture_output=True, text=True, timeout=300, check=False
    )

    assert whole.returncode != 0
    assert "MemoryError" in whole.stderr or "cannot allocate" in whole.stderr.lower()
