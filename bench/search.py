"""Archive search at scale: latency of typical queries through the search function and through the page.

`python -m bench.run search --scale 5` (100,000 archive items in county 1)
measures each query of QUERIES:

* in-process, the search itself as the archive page runs it
  (`publishing.archive.search.ArchiveSearch.run`: the facets with the number
  of matches, then the first page of results, read): `--searches` calls per
  query, the queries taking turns so that a busy machine slows them alike;
  p50 and p99, the matches, the SQL queries and the database's own time for
  them (EXPLAIN ANALYZE of each, once);
* through the page, `/archive/?q=…` under gunicorn (production settings),
  one connection from wrk for `--duration` seconds: p50 and p99 of the whole
  request as a person waits for it.

Until the archive search page answers (it is being built), the measure says
so and measures nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.test import Client

from bench import data, load
from bench.pages import session_cookie_for
from libraries.models import County

# (kind, query): what librarians type. The last is the worst case: a word nearly every item has.
QUERIES = [
    ("one word", "krim"),
    ("one word", "pappatreff"),
    ("two words", "lydbøker barn"),
    ("two words", "strikkekafé Sandnes"),
    ("misspelt", "pappatref"),
    ("misspelt", "forfatterbesk"),
    ("very common word", "bibliotek"),
]


def _page_answers(path: str) -> int:
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(data.bench_user())
    return client.get(path).status_code


def _search_functions() -> tuple[Any, Any, Any] | None:
    """Callables running one search as the archive page does, only counting its matches, and forgetting
    what was kept (`time_searches`); None when the module is not there yet."""
    try:
        from publishing.archive.search import ArchiveFilters, ArchiveSearch, archive_changed
    except ImportError:
        return None
    from publishing.models import ArchiveItem

    county = County.objects.get(slug=data.bench_county_slug())

    def search(q: str) -> ArchiveSearch:
        return ArchiveSearch(ArchiveItem.objects.for_county(county), ArchiveFilters(q=q), county=county)

    def run(q: str) -> int:
        # As publishing/views/archive.py does: the facets, then the first page with its items read.
        return int(search(q).run(1, per_page=settings.ARCHIVE_PAGE_SIZE).facets.total)

    def count(q: str) -> int:
        return search(q).facets().total

    return run, count, lambda: archive_changed([county.pk], pool=False)


def measure_queries(searches: int, *, run: Any, count: Any, forget: Any) -> dict[str, dict[str, Any]]:
    """Each query of QUERIES: its matches, the SQL queries and PostgreSQL's time of the goal's figure (the
    counts kept, the page ordered anew), and its timings (`time_searches`)."""
    results: dict[str, dict[str, Any]] = {q: {"kind": kind, "query": q} for kind, q in QUERIES}
    for q, figures in results.items():
        figures["matches"] = run(q)  # also the warm-up
        forget()
        count(q)
        figures["sql_queries"], figures["database_ms"] = _database_ms(run, q)
    for q, figures in time_searches(list(results), searches, run=run, count=count, forget=forget).items():
        results[q] |= figures
    return results


def time_searches(
    queries: list[str], searches: int, *, run: Any, count: Any, forget: Any
) -> dict[str, dict[str, float]]:
    """Each query timed in the three ways a search meets the cache (`ArchiveSearch.run` keeps the counts
    and each page's order until the archive changes), the queries taking turns `searches` times:

    * `function`: the counts kept, the page ordered anew: a search paged on, or one whose counts another
      page kept. The goals are judged on it (it is what the figures measured before pages were kept);
    * `first`: the first search after the archive changed: counts and page;
    * `repeated`: the same search again: both kept, the page's rows read by their keys.

    `run(q)` searches as the page does, `count(q)` only counts (keeping the counts), `forget()` moves the
    archive's version as any change to it does."""
    timings: dict[str, dict[str, list[float]]] = {q: {"function": [], "first": [], "repeated": []} for q in queries}

    def timed(q: str, regime: str) -> None:
        started = time.perf_counter()
        run(q)
        timings[q][regime].append((time.perf_counter() - started) * 1000)

    for q in itertools.islice(itertools.cycle(queries), searches * len(queries)):
        forget()
        timed(q, "first")
        timed(q, "repeated")
        forget()
        count(q)
        timed(q, "function")
    return {
        q: {
            f"{regime}_{name}_ms": round(figure(values), 2)
            for regime, values in regimes.items()
            for name, figure in (("p50", statistics.median), ("p99", lambda v: _percentile(v, 0.99)))
        }
        for q, regimes in timings.items()
    }


def _database_ms(run: Any, q: str) -> tuple[int, float]:
    """The SQL queries of one search and the sum of their execution times as PostgreSQL reports them."""
    captured: list[tuple[str, Any]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        run(q)
    total = 0.0
    selects = 0
    # Replayed as the search ran them: its SET LOCAL (planner settings) in one transaction with the SELECTs.
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in captured:
            if not sql.lstrip().upper().startswith("SELECT"):
                cursor.execute(sql, params)
                continue
            selects += 1
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            total += float(plan[0]["Execution Time"])
    return selects, round(total, 2)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(args: argparse.Namespace, env: dict[str, str], port: int) -> dict[str, Any]:
    print(f"== Archive search at scale {args.scale}", flush=True)
    counts = data.load(args.scale)
    probe = "/archive/?" + urlencode({"q": QUERIES[0][1]})
    status = _page_answers(probe)
    functions = _search_functions()
    if status != 200 or functions is None:
        note = (
            f"not measured: GET {probe} answers {status}"
            + ("" if functions is not None else " and publishing.archive.search is missing")
            + " (the archive search is not built yet)"
        )
        print(f"   {note}", flush=True)
        return {"scale": args.scale, "archive_items": counts.archive_items, "skipped": note}

    run, count, forget = functions
    results = measure_queries(args.searches, run=run, count=count, forget=forget)

    cookie = session_cookie_for(data.bench_user())
    with load.gunicorn(env, port, workers=args.workers) as server:
        paths = {q: "/archive/?" + urlencode({"q": q}) for q in results}
        load.check_pages(server.url, cookie, list(paths.values()), repeat=3)
        for q, path in paths.items():
            result = load.measure(server.url + path, cookie, duration=args.duration, connections=1)
            results[q]["page_p50_ms"] = result.p50_ms
            results[q]["page_p99_ms"] = result.p99_ms
            results[q]["page_requests"] = result.requests
            figures = results[q]
            print(
                f"   {q!r:<24} {figures['matches']:6d} matches  function p50 {figures['function_p50_ms']:6.1f} "
                f"p99 {figures['function_p99_ms']:6.1f} ms  page p50 {result.p50_ms:6.1f} p99 {result.p99_ms:6.1f} ms  "
                f"{figures['sql_queries']} queries, {figures['database_ms']:.1f} ms in PostgreSQL",
                flush=True,
            )
    return {
        "scale": args.scale,
        "archive_items": counts.archive_items,
        "searches_per_query": args.searches,
        "page_duration_s": args.duration,
        "per_page": settings.ARCHIVE_PAGE_SIZE,
        "queries": list(results.values()),
    }
