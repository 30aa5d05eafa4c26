"""Reel renditions: a 4K HEVC 10-bit HDR phone-like clip and a 1080p H.264 clip, subtitles burned in.

`python -m bench.run video [--clip-seconds 10,60]` makes (once, cached under
var/bench-video/) two phone-like sources per length with FFmpeg's test
pattern: a 4K HEVC Main 10 HLG portrait clip turned 90° as an iPhone
records it, with AAC sound, and a 1080 x 1920 H.264 clip with sound. Each
becomes a reel rendition with a subtitle file of a caption every two
seconds, two ways, in turn:

* `worker`: production/processing/transcode.py's `make_reel_rendition` in a
  fresh Python process of its own (as the Celery worker calls it): the
  probe, the plan, the ASS file, the encode and the read-back;
* `ffmpeg`: the same `ffmpeg` command line run directly (the floor).

*Ratio* is the worker's time over the direct command's. *Peak* is the
growth of the worker process's peak resident set (VmHWM, reset before the
call) over its resident set before it; the encoder's own peak (a process of
its own, the same in both ways) is given beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
CACHE = BASE_DIR / "var" / "bench-video"
SOURCES = {
    "4K HEVC 10-bit HLG, turned 90°": "phone-4k-hevc10",
    "1080p H.264": "h264-1080p",
}


# Longer clips are this one looped (stream copy), see make_source.
LOOPED_FROM_SECONDS = 10


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def make_source(kind: str, seconds: int) -> Path:
    """A cached phone-like clip (ultrafast encodes: the source's quality is not what is measured)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{kind}-{seconds}s.mov"
    if path.exists():
        return path
    if seconds > LOOPED_FROM_SECONDS and seconds % LOOPED_FROM_SECONDS == 0:
        # Encoding a minute of 4K HEVC takes far longer here than what is measured; the same ten seconds
        # played again cost the decoder, the filters and the encoder the same per frame.
        base = make_source(kind, LOOPED_FROM_SECONDS)
        flat = CACHE / f"{kind}-{seconds}s-unturned.mov"
        loops = seconds // LOOPED_FROM_SECONDS - 1
        _ffmpeg("-stream_loop", str(loops), "-i", str(base), "-map", "0:v", "-map", "0:a", "-c", "copy", str(flat))
        _turn(flat, path, 90 if kind == "phone-4k-hevc10" else 0)
        flat.unlink()
        return path
    sound = ["-f", "lavfi", "-i", f"sine=f=330:d={seconds}:sample_rate=48000", "-c:a", "aac", "-b:a", "192k"]
    if kind == "phone-4k-hevc10":
        flat = CACHE / f"{kind}-{seconds}s-unturned.mov"
        _ffmpeg(
            *("-f", "lavfi", "-i", f"testsrc2=s=3840x2160:r=30:d={seconds}"),
            *sound,
            *("-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le", "-b:v", "30M"),
            *("-x265-params", "log-level=error:colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc"),
            *("-color_primaries", "bt2020", "-color_trc", "arib-std-b67", "-colorspace", "bt2020nc"),
            str(flat),
        )
        _turn(flat, path, 90)
        flat.unlink()
    else:
        _ffmpeg(
            *("-f", "lavfi", "-i", f"testsrc2=s=1080x1920:r=30:d={seconds}"),
            *sound,
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-b:v", "15M"),
            str(path),
        )
    return path


def _turn(source: Path, dest: Path, degrees: int) -> None:
    """Copy the streams with a display rotation (ffmpeg 5.1's command line cannot write one)."""
    import av

    with av.open(str(source)) as original, av.open(str(dest), "w", format="mov") as turned:
        pairs = {}
        for stream in (original.streams.video[0], original.streams.audio[0]):
            pairs[stream.index] = turned.add_stream_from_template(stream)
        pairs[original.streams.video[0].index].set_display_rotation(degrees)
        for packet in original.demux(original.streams.video[0], original.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = pairs[packet.stream.index]
                turned.mux(packet)


def subtitles(seconds: int) -> bytes:
    blocks = ["WEBVTT"]
    for start in range(0, seconds, 2):
        blocks.append(
            f"00:{start // 60:02d}:{start % 60:02d}.000 --> 00:{(start + 2) // 60:02d}:{(start + 2) % 60:02d}.000\n"
            f"Bibliotekets lesestund klokka {start}: blåbærsyltetøy, café og ære"
        )
    return ("\n\n".join(blocks) + "\n").encode()


# --- Inside the worker-like child process ---


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def child(source: str, subtitle_file: str, dest: str) -> dict[str, Any]:
    import resource

    import django

    django.setup()
    from production.processing import transcode

    data = Path(subtitle_file).read_bytes()
    # The product's time limit stops a stuck encode; on a shared, loaded machine it could stop a measurement,
    # which is not what is measured here, so the bench allows ten times as long.
    limit = 10 * transcode.time_limit(transcode.probe_source(Path(source)).duration)
    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts again from the current resident set
    started = time.monotonic()
    rendition = transcode.make_reel_rendition(source, dest, subtitles=data, limit_seconds=limit)
    seconds = time.monotonic() - started
    return {
        "seconds": round(seconds, 2),
        "peak_growth_mib": round((_status_kib("VmHWM") - before) / 1024, 1),
        "ffmpeg_peak_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "rendition": {
            "size": f"{rendition.width} x {rendition.height}",
            "fps": rendition.fps,
            "mb": round(rendition.file_size / 1e6, 1),
            "mbps": round(rendition.bit_rate / 1e6, 2),
            "captions": rendition.captions,
        },
    }


# --- The measuring process ---


def _direct(source: Path, subtitle_file: Path, dest: Path) -> float:
    """The same command line as the worker runs, started directly."""
    from production.processing import burn_subtitles, transcode

    video = transcode.probe_source(source)
    plan = transcode.plan(video)
    with tempfile.TemporaryDirectory(prefix="innspill-bench-ffmpeg-") as workdir:
        burn_subtitles.write_ass(
            subtitle_file.read_bytes(),
            Path(workdir) / "captions.ass",
            duration=video.duration,
            width=plan.width,
            height=plan.height,
        )
        command = transcode.ffmpeg_command(source, dest, video, plan, subtitles=True)
        started = time.monotonic()
        subprocess.run(command, cwd=workdir, check=True, stdout=subprocess.DEVNULL)
        return time.monotonic() - started


def _worker(source: Path, subtitle_file: Path, dest: Path, env: dict[str, str]) -> dict[str, Any]:
    code = (
        "import json, sys; from bench.video import child; "
        "print(json.dumps(child(sys.argv[1], sys.argv[2], sys.argv[3])))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code, str(source), str(subtitle_file), str(dest)],
        cwd=BASE_DIR,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"The worker-like process failed (exit status {completed.returncode}):\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def measure(args: argparse.Namespace, env: dict[str, str], port: int) -> dict[str, Any]:
    import django

    os.environ.update(env)
    django.setup()
    lengths: list[int] = args.clip_seconds
    load_at_start = [round(value, 2) for value in os.getloadavg()]
    runs = []
    with tempfile.TemporaryDirectory(prefix="innspill-bench-video-") as directory:
        workdir = Path(directory)
        for label, kind in SOURCES.items():
            for seconds in lengths:
                print(f"video: {label}, {seconds} s", flush=True)
                source = make_source(kind, seconds)
                subtitle_file = workdir / f"captions-{seconds}.vtt"
                subtitle_file.write_bytes(subtitles(seconds))
                direct = _direct(source, subtitle_file, workdir / "direct.mp4")
                worker = _worker(source, subtitle_file, workdir / "worker.mp4", env)
                runs.append(
                    {
                        "source": label,
                        "clip_seconds": seconds,
                        "source_mb": round(source.stat().st_size / 1e6, 1),
                        "ffmpeg_seconds": round(direct, 2),
                        "worker_seconds": worker["seconds"],
                        "ratio_to_ffmpeg": round(worker["seconds"] / direct, 3),
                        "peak_growth_mib": worker["peak_growth_mib"],
                        "ffmpeg_peak_mib": worker["ffmpeg_peak_mib"],
                        "rendition": worker["rendition"],
                    }
                )
    return {
        "clip_seconds": lengths,
        "runs": runs,
        # Both ways run in turn on the same machine; the load says how much else was running meanwhile.
        "load_average_start": load_at_start,
        "load_average_end": [round(value, 2) for value in os.getloadavg()],
    }
