"""Media ingest: a 12-megapixel JPEG through all renditions, against Pillow's fastest resize of the same image.

`python -m bench.run ingest [--repeat N]` makes one photo-like 4000 x 3000
JPEG (noise and gradients, so that it compresses like a photo; an sRGB
profile and camera EXIF, as phones write them) and times, each in a fresh
process of its own so that its peak memory is its own:

* `pillow_draft`, the floor: open, `draft()` to the Instagram size (libjpeg
  decodes at 1/2 scale), one bilinear resize to 1440 px, save as JPEG;
* `media_functions`: production/processing/images.py's Instagram rendition and thumbnail
  (`make_image_renditions`) and the Instagram check, on the file;
* `process_asset`: the worker's whole task (production/services/media.py):
  the row, the renditions, storing them, the check, the row update.

Each runs once to warm up, then `--repeat` times, the three in turn (so that a
busy machine slows them alike); the figure is the median.
Peak memory is the growth of the process's peak resident set (VmHWM, reset
after the warm-up) over its resident set before the first measured image.
The rendition's quality is compared with a reference (the full image decoded
and resized with Lanczos) as PSNR, as delivered (JPEG quality 85, where the
coding loss dominates) and as resized (quality 100: `resize_fidelity_db`),
so a faster path cannot quietly trade away sharpness.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, ImageChops, ImageCms, ImageDraw, ImageFilter, ImageStat

BASE_DIR = Path(__file__).resolve().parent.parent
PHOTO_SIZE = (4000, 3000)  # 12 megapixels, 4:3 as phones and cameras take them
RENDITION_WIDTH = 1440  # Instagram's widest; production.processing.images.IG_IMAGE_MAX_WIDTH
VARIANTS = ("pillow_draft", "media_functions", "process_asset")


def make_photo(path: Path) -> Path:
    """A deterministic photo-like JPEG: smooth gradients, shapes, fine noise, EXIF and an sRGB profile."""
    width, height = PHOTO_SIZE
    small = Image.linear_gradient("L").resize((width // 4, height // 4))
    red = small.rotate(30, expand=False)
    picture = Image.merge("RGB", (red, small.transpose(Image.Transpose.FLIP_LEFT_RIGHT), small.rotate(90)))
    picture = picture.resize(PHOTO_SIZE, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(picture)
    for index in range(40):
        x, y = (index * 733) % width, (index * 419) % height
        r = 60 + (index * 37) % 300
        draw.ellipse((x - r, y - r, x + r, y + r), fill=((index * 50) % 255, (index * 90) % 255, (index * 20) % 255))
    # Sensor-like noise, blurred a little: photos carry detail in every block, which is what costs to code.
    noise = Image.effect_noise(PHOTO_SIZE, 40).filter(ImageFilter.GaussianBlur(0.6))
    picture = Image.blend(picture, Image.merge("RGB", (noise, noise, noise)), 0.25)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Benchkamera"
    exif[ExifTags.Base.Model] = "12MP"
    exif[ExifTags.Base.Orientation] = 1
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    picture.save(path, "JPEG", quality=92, exif=exif, icc_profile=icc)
    return path


# --- Inside the child process ---


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> None:
    """Make VmHWM start again from the current resident set (Linux's clear_refs, value 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def _pillow_draft(source: Path, workdir: Path) -> Callable[[], None]:
    def run() -> None:
        with Image.open(source) as image:
            target = (RENDITION_WIDTH, round(RENDITION_WIDTH * image.height / image.width))
            image.draft("RGB", target)
            resized = image.resize(target, Image.Resampling.BILINEAR)
        resized.save(workdir / "pillow.jpg", "JPEG", quality=85)

    return run


def _media_functions(source: Path, workdir: Path) -> Callable[[], None]:
    from production.processing import images, inspection, instagram

    info = inspection.inspect_upload(source)  # done once at upload, not by the worker

    def run() -> None:
        images.make_image_renditions(source, workdir / "rendition.jpg", workdir / "thumbnail.webp", aspect=None)
        instagram.instagram_check_image(info, None)

    return run


def _process_asset(source: Path, workdir: Path) -> Callable[[], None]:
    """The worker's task on one asset, made processing again before each run (as a new crop does)."""
    from django.core.files import File

    from bench.work import work_world
    from production.models import Asset
    from production.processing import inspection
    from production.services import media as asset_services

    world = work_world()
    with source.open("rb") as handle:
        asset = asset_services.add_asset(
            by=world.editor,
            target=world.idea,
            source=File(handle, name="photo.jpg"),
            original_name="IMG_0001.jpg",
            info=inspection.inspect_upload(source),
            enqueue=False,
        )

    def run() -> None:
        Asset.objects.filter(pk=asset.pk).update(status=Asset.Status.PROCESSING, renditions={})
        done = asset_services.process_asset(asset_id=asset.pk)
        if done is None or done.status != Asset.Status.READY:
            raise RuntimeError(f"process_asset did not make the renditions: {done and done.processing_error}")
        rendition = Path(done.rendition.path)
        (workdir / "rendition.jpg").write_bytes(rendition.read_bytes())

    return run


def child(variant: str, source: Path, workdir: Path) -> None:
    """Serve the parent: one timed run per "run" line on stdin (its milliseconds on stdout), then the memory.

    The parent interleaves the variants' runs, one each in turn, so that a
    busy machine slows them all alike and the ratios stay true.
    """
    if variant != "pillow_draft":  # the app's code needs settings (translations) and, for the task, the database
        from bench.environment import WORK_DATABASE, setup

        setup(WORK_DATABASE, migrate=False)
    make = {"pillow_draft": _pillow_draft, "media_functions": _media_functions, "process_asset": _process_asset}
    run = make[variant](source, workdir)
    run()  # warm-up: imports, libjpeg and libwebp set up, the database connection
    gc.collect()
    before = _status_kib("VmRSS")
    _reset_peak()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        started = time.perf_counter()
        run()
        print(f"{(time.perf_counter() - started) * 1000:.3f}", flush=True)
    peak = _status_kib("VmHWM")
    print(json.dumps({"peak_mib": round(max(peak - before, 0) / 1024, 1), "rss_before_mib": round(before / 1024, 1)}))


# --- In the measuring process ---


def psnr(image: Image.Image, reference: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB of `image` against `reference` (same size, RGB); above 40 looks the same."""
    difference = ImageChops.difference(image.convert("RGB"), reference.convert("RGB"))
    stat = ImageStat.Stat(difference)
    mse = sum(stat.sum2) / (len(stat.sum2) * image.width * image.height)
    return math.inf if mse == 0 else round(10 * math.log10(255**2 / mse), 1)


def _reference(source: Path, size: tuple[int, int]) -> Image.Image:
    with Image.open(source) as image:
        return image.convert("RGB").resize(size, Image.Resampling.LANCZOS)


class _Child:
    """A variant's process (`python -m bench.ingest VARIANT SOURCE WORKDIR`), driven line by line."""

    def __init__(self, variant: str, source: Path, workdir: Path) -> None:
        self.variant = variant
        self.times: list[float] = []
        command = [sys.executable, "-m", "bench.ingest", variant, str(source), str(workdir)]
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        self._expect("ready")

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"ingest variant {self.variant} stopped (exit status {self.process.wait()})")
        return line.strip()

    def _expect(self, word: str) -> None:
        if (line := self._line()) != word:
            raise RuntimeError(f"ingest variant {self.variant} said {line!r}, not {word!r}")

    def run_once(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("run\n")
        self.times.append(float(self._line()))

    def finish(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write("stop\n")
        memory: dict[str, Any] = json.loads(self._line())
        self.process.wait(30)
        return {
            "ms_median": round(statistics.median(self.times), 1),
            "ms_min": round(min(self.times), 1),
            "ms_max": round(max(self.times), 1),
            "images": len(self.times),
            **memory,
        }


def measure(args: argparse.Namespace, env: dict[str, str], port: int) -> dict[str, Any]:
    from bench.work import reset

    print("== Media ingest: a 12-megapixel JPEG", flush=True)
    reset()
    with tempfile.TemporaryDirectory(prefix="innspill-bench-ingest-") as directory:
        workdir = Path(directory)
        source = make_photo(workdir / "photo.jpg")
        children = {variant: _Child(variant, source, workdir / variant) for variant in VARIANTS}
        for _ in range(args.repeat):
            for running in children.values():  # in turn, so that noise from a busy machine hits all alike
                running.run_once()
        results: dict[str, Any] = {}
        for variant, running in children.items():
            results[variant] = running.finish()
            output = workdir / variant / ("pillow.jpg" if variant == "pillow_draft" else "rendition.jpg")
            with Image.open(output) as made:
                results[variant]["output"] = f"{made.width} x {made.height}"
                results[variant]["psnr_db"] = psnr(made, _reference(source, made.size))
            print(
                f"   {variant:<16} {results[variant]['ms_median']:7.1f} ms/image  "
                f"peak +{results[variant]['peak_mib']:6.1f} MiB  PSNR {results[variant]['psnr_db']} dB",
                flush=True,
            )
        floor = results["pillow_draft"]
        for figures in results.values():
            figures["ratio_to_pillow"] = round(figures["ms_median"] / floor["ms_median"], 2)
        with Image.open(source) as photo:
            size = {"width": photo.width, "height": photo.height, "bytes": source.stat().st_size}
        fidelity = _resize_fidelity(source, workdir)
        print(f"   resize fidelity: {fidelity} dB PSNR against a Lanczos resize of the full photo", flush=True)
    return {"photo": size, "repeat": args.repeat, "variants": results, "resize_fidelity_db": fidelity}


def _resize_fidelity(source: Path, workdir: Path) -> float:
    """The app's rendition path without the JPEG loss (quality 100) against a full-resolution Lanczos resize."""
    from production.processing import images

    images.make_image_rendition(source, workdir / "fidelity.jpg", aspect=None, quality=100)
    with Image.open(workdir / "fidelity.jpg") as made:
        return psnr(made, _reference(source, made.size))


if __name__ == "__main__":
    # A variant's process: python -m bench.ingest VARIANT SOURCE WORKDIR (see `child`).
    variant_name, source_path, work_path = sys.argv[1:4]
    Path(work_path).mkdir(exist_ok=True)
    child(variant_name, Path(source_path), Path(work_path))
