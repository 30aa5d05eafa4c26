"""A large video through the resumable upload, and the web process's memory as the file grows.

`python -m bench.run upload [--sizes 50,125,250,500]` serves the app with one
gunicorn sync worker (production settings) and uploads one MP4 of each size
(megabytes) to an idea through the tus endpoint (production/uploads.py), as
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
"""

from __future__ import annotations

import argparse
import base64
import statistics
import struct
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench import load
from bench.pages import session_cookie_for

CHUNK = 8 * 1024 * 1024  # static/js/upload.js CHUNK_SIZE
MB = 1000 * 1000
SAMPLE_SECONDS = 0.02


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


def upload(client: httpx.Client, idea_id: int, path: Path) -> float:
    """One tus upload of `path` to the idea; returns its seconds. Fails loudly on any refusal."""
    size = path.stat().st_size
    metadata = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in {"filename": path.name, "filetype": "video/mp4"}.items()
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
    return time.monotonic() - started


def measure(args: argparse.Namespace, env: dict[str, str], port: int) -> dict[str, Any]:
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
                    seconds = upload(client, world.idea.pk, video)
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
    reset()  # the uploaded videos (a gigabyte at the default sizes) and their processing tasks go again
    growth = results[-1]["peak_over_baseline_mib"] - results[0]["peak_over_baseline_mib"]
    return {
        "chunk_mib": CHUNK // (1024 * 1024),
        "baseline_rss_mib": round(baseline / 1024, 1),
        "uploads": results,
        "growth_mib": round(growth, 1),
        "median_mb_per_s": statistics.median(r["mb_per_s"] for r in results),
    }
