"""Large files through the resumable upload: the web process's memory as a video grows, and the
memory a 100-megapixel PNG costs the web process and then the worker.

`python -m bench.run upload [--sizes 50,125,250,500]` serves the app with one
gunicorn sync worker (production settings) and uploads one MP4 of each size
(megabytes) to an idea through the tus endpoint (production/views/uploads.py), as
the browser does: POST to create it, then PATCH requests of 8 MiB
(static/js/upload.js's chunk size) from a separate process on loopback. The
last request also checks the file and makes it an asset.

The file is a real H.264 video of a few seconds followed by a `free` box
(ISO BMFF padding that every reader skips), so the upload is checked exactly
as a camera's file is, and grows without minutes of encoding.

Memory: the worker's peak resident set during each upload (Linux's VmHWM,
reset before it) is compared with its resident set just before the first
upload. Flat means the largest upload needs no more memory than the
smallest.

Then a 10 000 x 10 000 RGBA PNG (issue 12: it cost 383 MiB in the web
process and 1.2 GiB in the worker) goes through the same endpoint, and
the worker's service (`production.services.media.process_asset`, what the Celery task
runs) makes its renditions in a process of its own, warmed up on a small
PNG first. Goal: peak growth over the baseline at most 256 MiB on each
side (PNG_GOAL_MIB).
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import httpx

from bench import load
from bench.environment import BASE_DIR

CHUNK = 8 * 1024 * 1024  # static/js/upload.js CHUNK_SIZE
MB = 1000 * 1000
SAMPLE_SECONDS = 0.02
PNG_SIZE = (10_000, 10_000)  # 100 megapixels, our limit (production.processing.images.MAX_IMAGE_PIXELS)
PNG_GOAL_MIB = 256  # issue 12: the most a web or worker process may grow for it


def make_video(path: Path, size: int) -> Path:
    """A short real MP4 padded with a top-level `free` box to exactly `size` bytes."""
    import av
    from PIL import Image

    with av.open(str(path), "w", format="mp4", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 360, 640, "yuv420p"
        for index in range(60):
            frame = av.VideoFrame.from_image(Image.new("RGB", (360, 640), (30, 70 + index, 110)))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    padding = size - path.stat().st_size - 16
    if padding < 0:
        raise ValueError(f"{size} bytes is smaller than the video itself")
    with path.open("ab") as out:
        # A 64-bit box: size 1 means "the real size follows", then the type, then the 64-bit size.
        out.write(struct.pack(">I4sQ", 1, b"free", padding + 16))
        block = bytes(CHUNK)
        while padding > 0:
            out.write(block[: min(padding, CHUNK)])
            padding -= min(padding, CHUNK)
    return path


def make_png(path: Path, size: tuple[int, int] = PNG_SIZE) -> Path:
    """An RGBA PNG written row by row, never whole in memory (about 2 MB for 100 megapixels): a gradient,
    then rows that copy the one above (PNG filter Up) with a brightening step (filter Sub) every 64 rows,
    and half-transparent, so that the worker flattens it."""
    width, height = size
    compressor = zlib.compressobj(1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    first = b"\0" + bytes(value for x in range(width) for value in (x % 256, (x // 40) % 256, 90, 200))
    same = b"\x02" + bytes(width * 4)
    step = b"\x01" + b"\x01\x00\x00\x00" * width
    with path.open("wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)))
        pending = compressor.compress(first)
        for y in range(1, height):
            pending += compressor.compress(step if y % 64 == 0 else same)
            if len(pending) > 1 << 20:
                out.write(chunk(b"IDAT", pending))
                pending = b""
        out.write(chunk(b"IDAT", pending + compressor.flush()))
        out.write(chunk(b"IEND", b""))
    return path


def _rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def worker_pid(master: int) -> int:
    """The one gunicorn worker of `master` (its only child)."""
    children = [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent_of(int(entry.name)) == master
    ]
    if len(children) != 1:
        raise RuntimeError(f"gunicorn {master} has {len(children)} workers; the upload measure needs exactly one")
    return children[0]


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


class _Peak:
    """The highest resident set of another process over a stretch of time.

    Linux keeps it as VmHWM; writing 5 to the process's clear_refs starts it
    again from the current resident set. Where that is not allowed, a thread
    samples VmRSS every 20 ms instead (which can miss a short spike).
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.sampled = 0
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _Peak:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            self.thread = threading.Thread(target=self._sample, daemon=True)
            self.thread.start()
        return self

    def _sample(self) -> None:
        while not self.stopped.is_set():
            self.sampled = max(self.sampled, _rss_kib(self.pid))
            self.stopped.wait(SAMPLE_SECONDS)

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join()

    @property
    def kib(self) -> int:
        if self.thread is not None:
            return max(self.sampled, _rss_kib(self.pid))
        return _rss_kib(self.pid, "VmHWM")


def upload(client: httpx.Client, idea_id: int, path: Path, filetype: str = "video/mp4") -> tuple[float, str]:
    """One tus upload of `path` to the idea; returns its seconds and the asset's page. Fails loudly on any refusal."""
    size = path.stat().st_size
    metadata = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in {"filename": path.name, "filetype": filetype}.items()
    )
    started = time.monotonic()
    created = client.post(
        f"/ideas/{idea_id}/media/uploads/",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(size), "Upload-Metadata": metadata},
    )
    if created.status_code != 201:
        raise RuntimeError(f"creating the upload answered {created.status_code}: {created.text[:500]}")
    location = created.headers["Location"]
    offset = 0
    with path.open("rb") as source:
        while offset < size:
            chunk = source.read(CHUNK)
            answer = client.patch(
                location,
                content=chunk,
                headers={
                    "Tus-Resumable": "1.0.0",
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                },
            )
            if answer.status_code != 204:
                raise RuntimeError(f"PATCH at {offset} answered {answer.status_code}: {answer.text[:500]}")
            offset = int(answer.headers["Upload-Offset"])
    if "Asset-Location" not in answer.headers:
        raise RuntimeError("the last chunk did not make an asset")
    return time.monotonic() - started, answer.headers["Asset-Location"]


def measure(args: argparse.Namespace, env: dict[str, str], port: int) -> dict[str, Any]:
    # Imported here: they need Django set up, and the worker's process (`worker_child`) sets it up itself.
    from bench.pages import session_cookie_for
    from bench.work import reset

    print(f"== Upload memory: {', '.join(f'{size} MB' for size in args.sizes)} videos through tus", flush=True)
    world = reset()
    cookie = session_cookie_for(world.coordinator)
    results: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="innspill-bench-upload-") as directory,
        load.gunicorn(env, port, workers=1, timeout=300) as server,
    ):
        pid = worker_pid(server.pid)
        with httpx.Client(base_url=server.url, headers={"Cookie": cookie}, timeout=300) as client:
            # A page first: the CSRF cookie (tus requests carry its token, as the browser's do) and a warm worker.
            client.get("/")
            token = client.cookies.get("csrftoken") or ""
            client.headers["X-CSRFToken"] = token
            client.headers["Cookie"] = f"{cookie}; csrftoken={token}"
            warm = make_video(Path(directory) / "warm.mp4", 2 * MB)
            upload(client, world.idea.pk, warm)
            baseline = _rss_kib(pid)
            for size in sorted(args.sizes):
                video = make_video(Path(directory) / f"video-{size}.mp4", size * MB)
                with _Peak(pid) as high_water:
                    seconds, _page = upload(client, world.idea.pk, video)
                peak = high_water.kib
                video.unlink()
                results.append(
                    {
                        "size_mb": size,
                        "seconds": round(seconds, 2),
                        "mb_per_s": round(size / seconds, 1),
                        "peak_rss_mib": round(peak / 1024, 1),
                        "peak_over_baseline_mib": round((peak - baseline) / 1024, 1),
                    }
                )
                print(
                    f"   {size:5d} MB in {seconds:6.1f} s  worker peak {peak / 1024:6.1f} MiB "
                    f"(+{(peak - baseline) / 1024:5.1f} over the {baseline / 1024:.1f} MiB before)",
                    flush=True,
                )
            png = _png_through_web(client, world.idea.pk, pid, Path(directory))
        png["worker"] = _png_through_worker(png.pop("asset_id"), Path(directory))
    reset()  # the uploaded videos (a gigabyte at the default sizes) and their processing tasks go again
    growth = results[-1]["peak_over_baseline_mib"] - results[0]["peak_over_baseline_mib"]
    return {
        "chunk_mib": CHUNK // (1024 * 1024),
        "baseline_rss_mib": round(baseline / 1024, 1),
        "uploads": results,
        "growth_mib": round(growth, 1),
        "median_mb_per_s": statistics.median(r["mb_per_s"] for r in results),
        "png": png,
    }


def _png_through_web(client: httpx.Client, idea_id: int, pid: int, directory: Path) -> dict[str, Any]:
    """The 100-megapixel PNG through tus; the web worker's peak over its resident set just before."""
    png = make_png(directory / "poster.png")
    warm = make_png(directory / "warm.png", (640, 480))
    upload(client, idea_id, warm, "image/png")  # the PNG check's code paths, once
    before = _rss_kib(pid)
    with _Peak(pid) as high_water:
        seconds, page = upload(client, idea_id, png, "image/png")
    growth = (high_water.kib - before) / 1024
    print(
        f"   PNG {PNG_SIZE[0]} x {PNG_SIZE[1]} ({png.stat().st_size / MB:.1f} MB) through the web in {seconds:.1f} s: "
        f"peak +{growth:.1f} MiB over {before / 1024:.1f} MiB (goal ≤ {PNG_GOAL_MIB} MiB: "
        f"{'met' if growth <= PNG_GOAL_MIB else 'MISSED'})",
        flush=True,
    )
    return {
        "width": PNG_SIZE[0],
        "height": PNG_SIZE[1],
        "bytes": png.stat().st_size,
        "goal_mib": PNG_GOAL_MIB,
        "web": {"seconds": round(seconds, 2), "rss_before_mib": round(before / 1024, 1), "peak_mib": round(growth, 1)},
        "asset_id": int(page.rstrip("/").rsplit("/", 1)[-1]),
    }


def _png_through_worker(asset_id: int, directory: Path) -> dict[str, Any]:
    """The worker's service on the uploaded PNG, in a process of its own (`python -m bench.upload worker`)."""
    warm = make_png(directory / "warm-worker.png", (640, 480))
    command = [sys.executable, "-m", "bench.upload", "worker", str(asset_id), str(warm)]
    completed = subprocess.run(command, cwd=BASE_DIR, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the worker's process failed: {completed.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    print(
        f"   PNG renditions by the worker's service in {figures['seconds']:.1f} s: peak +{figures['peak_mib']:.1f} MiB "
        f"over {figures['rss_before_mib']:.1f} MiB (goal ≤ {PNG_GOAL_MIB} MiB: "
        f"{'met' if figures['peak_mib'] <= PNG_GOAL_MIB else 'MISSED'})",
        flush=True,
    )
    return figures


def worker_child(asset_id: int, warm: Path) -> None:
    """In a process of its own: warm up on a small PNG, then make the asset's renditions; print the figures.

    The warm-up asset goes through the same service, so imports, codecs and the database connection are
    in the baseline, as they are in a worker that has run before."""
    from bench.environment import WORK_DATABASE, setup

    setup(WORK_DATABASE, migrate=False)
    from django.core.files import File

    from bench.work import work_world
    from production.models import Asset
    from production.processing import inspection
    from production.services import media as asset_services

    world = work_world()
    with warm.open("rb") as handle:
        small = asset_services.add_asset(
            by=world.editor,
            target=world.idea,
            source=File(handle, name="warm.png"),
            original_name="warm.png",
            info=inspection.inspect_upload(warm),
            enqueue=False,
        )
    asset_services.process_asset(asset_id=small.pk)
    gc.collect()
    before = _rss_kib(os.getpid())
    Path("/proc/self/clear_refs").write_text("5")
    started = time.monotonic()
    done = asset_services.process_asset(asset_id=asset_id)
    seconds = time.monotonic() - started
    if done is None or done.status != Asset.Status.READY:
        raise RuntimeError(f"the PNG was not processed: {done and done.processing_error}")
    peak = _rss_kib(os.getpid(), "VmHWM")
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "rss_before_mib": round(before / 1024, 1),
                "peak_mib": round((peak - before) / 1024, 1),
                "rendition": f"{done.renditions['rendition']['width']} x {done.renditions['rendition']['height']}",
            }
        )
    )


if __name__ == "__main__":
    # The worker's side of the PNG measure: python -m bench.upload worker ASSET_ID WARM_PNG
    worker_child(int(sys.argv[2]), Path(sys.argv[3]))
