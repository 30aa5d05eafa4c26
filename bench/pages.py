"""Pages under load: requests/s and p50/p99 under gunicorn, as ratios to a trivial view; SQL queries per page.

`python -m bench.run pages --scale N`: loads scale N (bench/data.py), counts
each page's queries in-process, then serves the app with gunicorn
(production settings, `--workers` sync workers) and loads every page from
wrk, a separate process on loopback, for `--duration` seconds at
`--connections` connections, logged in as county 1's coordinator. The
trivial view is measured in the same run, so the ratios compare pages with
this machine's ceiling at that moment.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.test import Client

from bench import data, load, queries
from libraries.models import User

TRIVIAL = "/bench/trivial"
LAYOUT = "/bench/layout"  # a logged-in empty page in base.html: what every page pays first
# The pages the issue names, by what a person calls them; the archive query is a typical one-word search.
PAGES = {
    "trivial view": TRIVIAL,
    "empty layout": LAYOUT,
    "coordinator home": "/",
    "plan, month": "/plan/",
    "plan, week": "/plan/week/",
    "ideas list": "/ideas/",
    "archive search": "/archive/?q=lesetips",
    "comment inbox": "/inbox/",
    "monthly report": "/reports/",
}


def session_cookie_for(user: User) -> str:
    """A real session for `user`, stored where gunicorn will look it up (as a Cookie header's value).

    force_login goes through the configured session engine (cached_db on the
    bench's Redis database and PostgreSQL), so the cookie works in the server
    exactly as one from the login form would.
    """
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def available(paths: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The pages that answer 200 now, and a note for each one that does not (not built yet)."""
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(data.bench_user())
    ready, skipped = {}, {}
    for name, path in paths.items():
        status = client.get(path).status_code
        if status == 200:
            ready[name] = path
        else:
            skipped[name] = f"GET {path} answers {status}: not measured (the page is not built yet)"
    return ready, skipped


def measure(args: argparse.Namespace, env: dict[str, str], port: int) -> dict[str, Any]:
    print(f"== Pages at scale {args.scale}", flush=True)
    counts = data.load(args.scale)
    # The asset showing the most people and the planned post with the most media: their pages' worst cases.
    worst_cases = {"asset page": data.asset_with_most_people_path(), "post page": data.busiest_planned_post_path()}
    pages, not_measured = available(PAGES | worst_cases)
    for note in not_measured.values():
        print(f"   skipped: {note}", flush=True)
    ceiling = frozenset({TRIVIAL})  # requested without the session, as below
    query_counts = queries.count_queries(data.bench_user(), list(pages.values()), anonymous=ceiling)
    print(f"   SQL queries per page: {query_counts}", flush=True)
    after_write = queries.count_queries(data.bench_user(), list(pages.values()), anonymous=ceiling, after_write=True)
    print(f"   SQL queries per page after a write: {after_write}", flush=True)
    costs = queries.request_costs(data.bench_user(), list(pages.values()), anonymous=ceiling)
    print(f"   in-process ms per request (of which waiting for PostgreSQL): {costs}", flush=True)
    cookie = session_cookie_for(data.bench_user())
    results: dict[str, dict[str, Any]] = {}
    with load.gunicorn(env, port, workers=args.workers) as server:
        load.check_pages(server.url, cookie, list(pages.values()))
        for name, path in pages.items():
            # The ceiling without the session cookie: no session, user or MFA check to load.
            sent = "" if path == TRIVIAL else cookie
            result = load.measure(server.url + path, sent, duration=args.duration, connections=args.connections)
            results[name] = {
                "path": path,
                "queries": query_counts[path],
                "queries_after_write": after_write[path],
                "in_process_ms": costs[path]["ms"],
                "in_process_database_ms": costs[path]["database_ms"],
                "in_process_after_write_ms": costs[path]["after_write_ms"],
                **load.as_dict(result),
            }
            print(
                f"   {name:<18} {result.requests_per_second:8.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
                f"p99 {result.p99_ms:7.2f} ms  errors {result.errors}",
                flush=True,
            )
    top = results["trivial view"]["requests_per_second"]
    for figures in results.values():
        figures["ratio_to_trivial"] = round(figures["requests_per_second"] / top, 3)
    return {
        "scale": args.scale,
        "data": asdict(counts),
        "duration_s": args.duration,
        "connections": args.connections,
        "workers": args.workers,
        "load_generator": load.load_generator(),
        "pages": results,
        "not_measured": not_measured,
    }
