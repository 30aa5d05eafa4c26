"""`python -m bench`: every measure, each in a process of its own, then BENCHMARKS.md and latest.json.

    python -m config.embedded exec -- python -m bench [--scale 1,5] [--duration 10] [--only pages,search]

Measures (bench/run.py runs one): pages at each scale, archive search at the
largest scale, the network of eleven counties (pool search, borrowing, a
withdrawal across counties), media ingest, the upload's memory, and the publishing
pipeline, and reel renditions of video. The secrets are made once here and shared by every process of the
run, so sessions made by one process are valid in the servers it starts.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import findings, report
from bench.environment import BASE_DIR, production_like_defaults
from bench.run import _numbers, positive

MEASURES = ["pages", "search", "network", "ingest", "upload", "publishing", "video"]


def _measures(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(chosen) - set(MEASURES))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(MEASURES)}")
    return chosen


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=_numbers, default=[1, 5], help="comma-separated scales (default 1,5)")
    parser.add_argument("--duration", type=positive, default=10, help="seconds of load per page or query (default 10)")
    parser.add_argument("--connections", type=positive, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--workers", type=positive, default=3, help="gunicorn workers (default 3, as the Dockerfile)")
    parser.add_argument("--repeat", type=positive, default=10, help="images per ingest variant (default 10)")
    parser.add_argument("--searches", type=positive, default=200, help="calls per search query (default 200)")
    parser.add_argument("--sizes", type=_numbers, default=[50, 125, 250, 500], help="upload sizes in MB")
    parser.add_argument("--posts", type=positive, default=40, help="posts through the publishing pipeline")
    parser.add_argument("--clip-seconds", type=_numbers, default=[10, 60], help="video clip lengths in seconds")
    parser.add_argument("--only", type=_measures, default=MEASURES, help=f"some of {','.join(MEASURES)}")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the figures of the measures not run now from bench/results/latest.json (with their date)",
    )
    return parser.parse_args(argv)


def _run(measure: str, options: list[str]) -> dict[str, Any]:
    """One measure in its own process; its figures, or why it failed (the others still run)."""
    with tempfile.TemporaryDirectory(prefix="innspill-bench-") as directory:
        output = Path(directory) / "figures.json"
        command = [sys.executable, "-m", "bench.run", measure, *options, "--json", str(output)]
        started = time.monotonic()
        completed = subprocess.run(command, cwd=BASE_DIR, check=False)
        if completed.returncode != 0 or not output.exists():
            print(f"!! {measure} failed (exit status {completed.returncode}); see the output above.", flush=True)
            return {"failed": f"exit status {completed.returncode}"}
        figures: dict[str, Any] = json.loads(output.read_text())
        figures["seconds"] = round(time.monotonic() - started, 1)
        return figures


def kept_from_last_run(results: dict[str, Any]) -> dict[str, Any]:
    """`results` with the last run's figures for every measure not run now, each noted with its run's date."""
    if not report.RESULTS.exists():
        return results
    last: dict[str, Any] = json.loads(report.RESULTS.read_text())
    kept_dates: dict[str, str] = last.get("kept", {})
    kept = {}
    for measure in [*MEASURES, "queries_stable"]:
        if measure not in results and measure in last:
            results[measure] = last[measure]
            kept[measure] = kept_dates.get(measure, last["date"])
    results["kept"] = {name: date for name, date in kept.items() if name != "queries_stable"}
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for key, value in production_like_defaults().items():
        os.environ.setdefault(key, value)
    common = ["--duration", str(args.duration), "--connections", str(args.connections), "--workers", str(args.workers)]
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)]),
        "machine": report.machine(),
        "settings": {
            "scales": args.scale,
            "duration_s": args.duration,
            "connections": args.connections,
            "workers": args.workers,
            "only": args.only,
        },
    }
    if "pages" in args.only:
        runs = [_run("pages", [*common, "--scale", str(scale)]) for scale in args.scale]
        results["pages"] = runs
        measured = [run for run in runs if "pages" in run]
        names = {name for run in measured for name in run["pages"]}
        results["queries_stable"] = {  # kept, and after a write (the cards and report built anew)
            name: len(
                {
                    (run["pages"][name]["queries"], run["pages"][name].get("queries_after_write"))
                    for run in measured
                    if name in run["pages"]
                }
            )
            == 1
            for name in sorted(names)
        }
    if "search" in args.only:
        results["search"] = _run("search", [*common, "--scale", str(max(args.scale)), "--searches", str(args.searches)])
    if "network" in args.only:
        results["network"] = _run("network", ["--searches", str(args.searches)])
    if "ingest" in args.only:
        results["ingest"] = _run("ingest", ["--repeat", str(args.repeat)])
    if "upload" in args.only:
        results["upload"] = _run("upload", [*common, "--sizes", ",".join(map(str, args.sizes))])
    if "publishing" in args.only:
        results["publishing"] = _run("publishing", [*common, "--posts", str(args.posts)])
    if "video" in args.only:
        results["video"] = _run("video", ["--clip-seconds", ",".join(map(str, args.clip_seconds))])
    if args.keep:
        results = kept_from_last_run(results)
    markdown = report.write_markdown(results, findings=findings.explain(results))
    print(f"\nWrote {report.write_json(results)} and {markdown}")
    report.print_goals(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
