"""`python -m bench`: load each scale, count queries per page, load the pages under gunicorn, report.

python -m config.embedded exec -- python -m bench [--scale 1,5] [--duration 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from bench.environment import free_port, setup

TRIVIAL = "/bench/trivial"
PAGES = [TRIVIAL, "/", "/libraries/", "/libraries/invitations/"]
WORKERS = 2


def _scales(text: str) -> list[int]:
    try:
        scales = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers") from exc
    if not scales or min(scales) < 1:
        raise argparse.ArgumentTypeError("scales are whole numbers of at least 1")
    return scales


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=_scales, default=[1, 5], help="comma-separated scales (default 1,5)")
    parser.add_argument("--duration", type=_positive, default=10, help="seconds of load per page (default 10)")
    parser.add_argument("--connections", type=_positive, default=16, help="concurrent connections (default 16)")
    return parser.parse_args(argv)


def session_cookie(env: dict[str, str]) -> str:
    """A real session for county 1's coordinator, stored where gunicorn will look it up.

    force_login goes through the configured session engine (cached_db on the
    bench's Redis database and PostgreSQL), so the cookie works in the server
    exactly as one from the login form would.
    """
    from django.conf import settings
    from django.test import Client

    from bench.data import bench_user

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(bench_user())
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def run_scale(scale: int, env: dict[str, str], args: argparse.Namespace, port: int) -> dict[str, Any]:
    """Load one scale, count its queries, then load every page under gunicorn."""
    from bench import data, load, queries

    print(f"\n== Scale {scale}: loading data …", flush=True)
    counts = data.load(scale)
    print(f"   {counts}", flush=True)
    query_counts = queries.count_queries(data.bench_user(), PAGES)
    print(f"   SQL queries per page: {query_counts}", flush=True)
    cookie = session_cookie(env)
    results: dict[str, dict[str, Any]] = {}
    with load.gunicorn(env, port, workers=WORKERS) as base_url:
        load.check_pages(base_url, cookie, PAGES)
        for path in PAGES:
            result = load.measure(base_url + path, cookie, duration=args.duration, connections=args.connections)
            results[path] = load.as_dict(result)
            print(
                f"   {path:<26} {result.requests_per_second:8.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
                f"p99 {result.p99_ms:7.2f} ms  errors {result.errors}",
                flush=True,
            )
    ceiling = results[TRIVIAL]["requests_per_second"]
    for figures in results.values():
        figures["ratio_to_trivial"] = round(figures["requests_per_second"] / ceiling, 3)
    return {"scale": scale, "data": asdict(counts), "queries": query_counts, "load": results}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    port = free_port()
    env, static_dir = setup(port)
    with static_dir:
        from bench import load, report

        runs = [run_scale(scale, env, args, port) for scale in args.scale]
        results = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)]),
            "machine": report.machine(),
            "settings": {
                "scales": args.scale,
                "duration_s": args.duration,
                "connections": args.connections,
                "workers": WORKERS,
                "load_generator": load.load_generator(),
            },
            "runs": runs,
            "queries_stable": {path: len({run["queries"][path] for run in runs}) == 1 for path in PAGES},
            "still_to_come": report.STILL_TO_COME,
        }
        print(f"\nWrote {report.write_json(results)} and {report.write_markdown(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
