"""The machine the figures come from, and the figures as JSON (bench/results/latest.json) and BENCHMARKS.md.

Throughput means little without the machine, so every report carries it.
Both files are written from the same dictionary; the prose that explains
what limits a measure quotes the run's own figures.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench" / "results" / "latest.json"
MARKDOWN = BASE_DIR / "BENCHMARKS.md"

# The goals (issue #18 "Speed"; figures are ratios measured in one run, so they hold on any machine).
LAYOUT_SHARE_GOAL = 0.20  # the empty layout's requests/s over the trivial view's
PAGE_LAYOUT_MULTIPLE_GOAL = 2.0  # a page's in-process time over the empty layout's
PAGE_SHARE_GOAL = 0.05  # a page's requests/s over the trivial view's
PAGE_QUERIES_GOAL = 8
GOAL_SCALE = 5  # the page goals hold at this scale (the largest measured when it is not run)
SEARCH_P50_TARGET_MS = 20.0
SEARCH_COMMON_WORD_P50_TARGET_MS = 40.0
INGEST_RATIO_TARGET = 1.2
PUBLISHING_RATIO_TARGET = 1.5
# Flat upload memory: the largest upload's peak within two chunks (16 MiB) of the smallest one's.
UPLOAD_FLAT_MIB = 16.0
VIDEO_RATIO_TARGET = 1.15
VIDEO_PEAK_TARGET_MIB = 300.0
# Flat video memory: the longest clip's peak growth within this of the shortest one's.
VIDEO_FLAT_MIB = 16.0
REFERENCE_PAGES = ("trivial view", "empty layout")


def _proc(name: str) -> str:
    """A /proc file's text, or "" where there is no /proc (macOS)."""
    path = Path("/proc") / name
    return path.read_text() if path.exists() else ""


def _cpu_model() -> str:
    match = re.search(r"^model name\s*:\s*(.+)$", _proc("cpuinfo"), re.MULTILINE)
    return match[1].strip() if match else platform.processor() or "unknown"


def _memory_gib() -> float | None:
    match = re.search(r"^MemTotal:\s+(\d+) kB", _proc("meminfo"), re.MULTILINE)
    return round(int(match[1]) / 1024 / 1024, 1) if match else None


def _wrk_version() -> str | None:
    if not shutil.which("wrk"):
        return None
    # wrk has no --version; its usage text starts with the version and exits non-zero.
    completed = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False)
    first = (completed.stdout or completed.stderr).strip().splitlines()
    return first[0] if first else None


def _postgres_version() -> str:
    import psycopg

    from bench.environment import with_database_name

    url = os.environ.get("DATABASE_URL")
    if not url:
        return "unknown"
    with psycopg.connect(with_database_name(url, "postgres"), connect_timeout=10) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def machine() -> dict[str, Any]:
    """CPU, memory, load and versions of what the figures depend on."""
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "cpu_model": _cpu_model(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": _postgres_version(),
        "wrk": _wrk_version(),
    }


def write_json(results: dict[str, Any]) -> Path:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return RESULTS


# --- BENCHMARKS.md ---


def _ok(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "**missed**")


def _failed(section: Any) -> str | None:
    if section is None:
        return "not run (see `--only`)"
    if isinstance(section, dict) and "failed" in section:
        return f"failed ({section['failed']}); see the run's output"
    if isinstance(section, dict) and isinstance(section.get("skipped"), str):
        return str(section["skipped"])
    return None


def goals(results: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """Each goal as (measure, goal, result, met): BENCHMARKS.md's table and what `make bench` prints."""
    rows: list[tuple[str, str, str, bool | None]] = []
    runs = [r for r in results.get("pages") or [] if not _failed(r)]
    goal_run = next((r for r in runs if r["scale"] == GOAL_SCALE), runs[-1] if runs else None)
    if goal_run is not None:
        scale, pages = goal_run["scale"], goal_run["pages"]
        layout = pages.get("empty layout")
        if layout:
            rows.append(
                (
                    f"empty layout, logged in, scale {scale}",
                    f"≥ {LAYOUT_SHARE_GOAL:.0%} of the trivial view's requests/s",
                    f"{layout['ratio_to_trivial']:.1%}",
                    layout["ratio_to_trivial"] >= LAYOUT_SHARE_GOAL,
                )
            )
        for name, page in pages.items():
            if name in REFERENCE_PAGES or not layout:
                continue
            multiple = page["in_process_ms"] / layout["in_process_ms"]
            rows.append(
                (
                    f"{name}, scale {scale}",
                    f"in-process ≤ {PAGE_LAYOUT_MULTIPLE_GOAL:.0f}x the empty layout; under load ≥ "
                    f"{PAGE_SHARE_GOAL:.0%} of trivial",
                    f"{multiple:.1f}x ({page['in_process_ms']:.1f} ms{_after_write_note(page)}); "
                    f"{page['ratio_to_trivial']:.1%}",
                    multiple <= PAGE_LAYOUT_MULTIPLE_GOAL and page["ratio_to_trivial"] >= PAGE_SHARE_GOAL,
                )
            )
    stable = results.get("queries_stable")
    if stable and runs:
        same = all(stable.values())
        most = max(_most_queries(page) for run in runs for page in run["pages"].values())
        over = sorted(
            {name for run in runs for name, p in run["pages"].items() if _most_queries(p) > PAGE_QUERIES_GOAL}
        )
        rows.append(
            (
                "SQL queries per page",
                f"equal at every scale, ≤ {PAGE_QUERIES_GOAL} on every page",
                ("equal on every page" if same else "differ: " + ", ".join(p for p, s in stable.items() if not s))
                + f"; at most {most}"
                + (f" ({', '.join(over)} over)" if over else ""),
                same and most <= PAGE_QUERIES_GOAL,
            )
        )
    search = results.get("search")
    if not _failed(search):
        typical = [q for q in search["queries"] if q["kind"] != "very common word"]
        common = [q for q in search["queries"] if q["kind"] == "very common word"]
        worst = max(q["function_p50_ms"] for q in typical)
        page = max(q["page_p50_ms"] for q in typical)
        rows.append(
            (
                f"Archive search, {search['archive_items']:,} items, typical queries",
                f"function p50 < {SEARCH_P50_TARGET_MS:.0f} ms",
                f"slowest p50 {worst:.1f} ms (function), {page:.1f} ms (page)",
                worst < SEARCH_P50_TARGET_MS,
            )
        )
        if common:
            slowest = max(q["function_p50_ms"] for q in common)
            rows.append(
                (
                    f"Archive search, a word in most items (“{common[0]['query']}”)",
                    f"function p50 < {SEARCH_COMMON_WORD_P50_TARGET_MS:.0f} ms",
                    f"p50 {slowest:.1f} ms",
                    slowest < SEARCH_COMMON_WORD_P50_TARGET_MS,
                )
            )
    network = results.get("network")
    if not _failed(network):
        typical = [q for q in network["queries"] if q["kind"] != "very common word"]
        common = [q for q in network["queries"] if q["kind"] == "very common word"]
        worst = max(q["function_p50_ms"] for q in typical)
        rows.append(
            (
                f"Pool search, {network['pool_items']:,} shared items, typical queries",
                f"function p50 < {SEARCH_P50_TARGET_MS:.0f} ms",
                f"slowest p50 {worst:.1f} ms"
                + (f"; “{common[0]['query']}” p50 {common[0]['function_p50_ms']:.1f} ms" if common else ""),
                worst < SEARCH_P50_TARGET_MS,
            )
        )
        borrowed, cascade = network["borrow"], network["cascade"]
        rows.append(
            (
                "Borrowing a shared item",
                "timed",
                f"p50 {borrowed['p50_ms']:.1f} ms, p90 {borrowed['p90_ms']:.1f} ms",
                None,
            ),
        )
        rows.append(
            (
                f"Withdrawal across {cascade['counties']} counties",
                "timed",
                f"p50 {cascade['p50_ms']:.0f} ms ({cascade['copies']} copies blocked, "
                f"{cascade['scheduled_posts']} scheduled posts back to review)",
                None,
            )
        )
    ingest = results.get("ingest")
    if not _failed(ingest):
        ratio = ingest["variants"]["process_asset"]["ratio_to_pillow"]
        rows.append(
            (
                "Media ingest, 12 MP JPEG",
                f"≤ {INGEST_RATIO_TARGET}x Pillow's draft resize",
                f"{ratio:.2f}x",
                ratio <= INGEST_RATIO_TARGET,
            )
        )
    upload = results.get("upload")
    if not _failed(upload):
        rows.append(
            (
                f"Upload memory, {upload['uploads'][0]['size_mb']}-{upload['uploads'][-1]['size_mb']} MB",
                f"flat (within {UPLOAD_FLAT_MIB:.0f} MiB)",
                f"peak grows {upload['growth_mib']:+.1f} MiB",
                abs(upload["growth_mib"]) <= UPLOAD_FLAT_MIB,
            )
        )
        if png := upload.get("png"):
            web, worker = png["web"]["peak_mib"], png["worker"]["peak_mib"]
            rows.append(
                (
                    f"Memory for a {png['width'] * png['height'] / 1e6:.0f} MP PNG",
                    f"≤ {png['goal_mib']} MiB growth, web and worker",
                    f"web {web:+.1f} MiB, worker {worker:+.1f} MiB",
                    max(web, worker) <= png["goal_mib"],
                )
            )
        else:
            rows.append(("Memory for a 100 MP PNG", "≤ 256 MiB growth, web and worker", "not measured", None))
    publishing = results.get("publishing")
    if not _failed(publishing):
        ratio = publishing["ratio_to_bare"]
        rows.append(
            (
                f"Publishing, {publishing['posts']} posts",
                f"≤ {PUBLISHING_RATIO_TARGET}x the bare client's time",
                f"{ratio:.2f}x",
                ratio <= PUBLISHING_RATIO_TARGET,
            )
        )
    video = results.get("video")
    if not _failed(video):
        video_runs = video["runs"]
        worst = max(run["ratio_to_ffmpeg"] for run in video_runs)
        peak = max(run["peak_growth_mib"] for run in video_runs)
        rows.append(
            (
                "Reel rendition with subtitles",
                f"≤ {VIDEO_RATIO_TARGET}x the ffmpeg command",
                f"worst {worst:.2f}x",
                worst <= VIDEO_RATIO_TARGET,
            )
        )
        spread = max(
            max(r["peak_growth_mib"] for r in video_runs if r["source"] == source)
            - min(r["peak_growth_mib"] for r in video_runs if r["source"] == source)
            for source in {r["source"] for r in video_runs}
        )
        lengths = video["clip_seconds"]
        rows.append(
            (
                f"Worker memory, {min(lengths)}-{max(lengths)} s clips",
                f"≤ {VIDEO_PEAK_TARGET_MIB:.0f} MiB growth, flat (within {VIDEO_FLAT_MIB:.0f} MiB)",
                f"at most {peak:+.1f} MiB, spread {spread:.1f} MiB",
                peak <= VIDEO_PEAK_TARGET_MIB and spread <= VIDEO_FLAT_MIB,
            )
        )
    return rows


def _summary(results: dict[str, Any]) -> list[str]:
    rows = ["| Measure | Goal | Result | |", "|---|---|---|---|"]
    rows += [f"| {measure} | {goal} | {result} | {_ok(met)} |" for measure, goal, result, met in goals(results)]
    return rows


def print_goals(results: dict[str, Any]) -> None:
    """The goals with met / missed, for the terminal at the end of `make bench`."""
    table = goals(results)
    width = max((len(row[0]) for row in table), default=0)
    print("\nGoals:")
    for measure, goal, result, met in table:
        verdict = "—" if met is None else ("met" if met else "MISSED")
        print(f"  {verdict:<7} {measure:<{width}}  {result}  (goal: {goal})")
    goals_only = [met for *_rest, met in table if met is not None]  # timed rows ("—") have no goal
    missed = goals_only.count(False)
    print(f"  {len(goals_only) - missed} of {len(goals_only)} goals met" if table else "  nothing measured")


def _pages(results: dict[str, Any]) -> list[str]:
    runs = [run for run in results.get("pages") or [] if not _failed(run)]
    problem = _failed(results.get("pages")) if not runs else None
    lines = ["## Pages", ""]
    if not runs:
        return [*lines, f"Not measured: {problem or 'every run failed'}.", ""]
    first = runs[0]
    lines += [
        f"gunicorn with {first['workers']} sync workers and production settings (DEBUG=false) on 127.0.0.1; "
        f"{first['load_generator']} in a separate process, {first['connections']} connections for "
        f"{first['duration_s']} s per page, logged in as county 1's coordinator. `/bench/trivial` answers `ok` "
        "through the whole middleware stack without a session, the database or a template: the ceiling. "
        "`/bench/layout` is a logged-in empty page in the site's layout (session, user, county access, "
        "navigation): the floor every real page starts from. *Share* is a page's requests/s over the "
        "trivial view's in the same run. *In-process* is one request at a time through Django's test client "
        "(median), and how much of it was spent waiting for PostgreSQL. The home's county cards and the monthly "
        "report are kept until the next write to the database (libraries.versions' data version): *after a "
        "write* is the same page as the first request after one, built anew (and its queries, where they "
        "differ).",
        "",
        "### SQL queries per page",
        "",
        "| Page | " + " | ".join(f"Scale {run['scale']}" for run in runs) + " | Same at every scale |",
        "|---|" + "---:|" * len(runs) + "---|",
    ]
    stable = results.get("queries_stable", {})
    for name, page in first["pages"].items():
        counts = [_query_count(run["pages"][name]) if name in run["pages"] else "—" for run in runs]
        lines.append(
            f"| {name} (`{page['path']}`) | " + " | ".join(str(c) for c in counts) + f" | "
            f"{'yes' if stable.get(name, True) else '**no**'} |"
        )
    for run in runs:
        lines += [
            "",
            f"### Scale {run['scale']}",
            "",
            "| Page | Requests/s | p50 (ms) | p99 (ms) | Share of trivial | In-process (ms) | of it PostgreSQL "
            "| After a write (ms) | Errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, page in run["pages"].items():
            lines.append(
                f"| {name} | {page['requests_per_second']:.0f} | {page['p50_ms']:.1f} | {page['p99_ms']:.1f} | "
                f"{page['ratio_to_trivial']:.1%} | {page['in_process_ms']:.1f} | "
                f"{page['in_process_database_ms']:.1f} | "
                + (f"{page['in_process_after_write_ms']:.1f}" if "in_process_after_write_ms" in page else "—")
                + f" | {page['errors']} |"
            )
        for note in run.get("not_measured", {}).values():
            lines.append(f"\n{note}.")
    return [*lines, ""]


def _most_queries(page: dict[str, Any]) -> int:
    return max(page["queries"], page.get("queries_after_write", 0))


def _query_count(page: dict[str, Any]) -> str:
    """The page's queries; with those after a write when they differ (what is kept built anew)."""
    after = page.get("queries_after_write", page["queries"])
    return str(page["queries"]) if after == page["queries"] else f"{page['queries']} ({after} after a write)"


def _after_write_note(page: dict[str, Any]) -> str:
    """A kept page's cost after a write, where it differs from what it costs kept."""
    after = page.get("in_process_after_write_ms")
    if after is None or page.get("queries_after_write", page["queries"]) == page["queries"]:
        return ""
    return f", {after:.1f} ms after a write"


def _search(results: dict[str, Any]) -> list[str]:
    search = results.get("search")
    lines = ["## Archive search", ""]
    if problem := _failed(search):
        return [*lines, f"Not measured: {problem}.", ""]
    lines += [
        f"{search['archive_items']:,} archive items in one county (scale {search['scale']}). *Function*: "
        "`publishing.archive.search.ArchiveSearch` in-process as the page runs it (facets with the number of "
        f"matches, then the first page of {search['per_page']} results), {search['searches_per_query']} calls per "
        "query, the queries in turn. *Page*: `/archive/?q=…` under gunicorn, one connection for "
        f"{search['page_duration_s']} s. *PostgreSQL*: the execution times PostgreSQL reports (EXPLAIN ANALYZE) "
        "for the search's queries, summed. " + KEPT_SEARCHES,
        "",
        "| Query | Kind | Matches | Function p50 (ms) | p99 | First p50 | Repeated p50 | Page p50 (ms) | p99 "
        "| SQL queries | PostgreSQL (ms) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for q in search["queries"]:
        lines.append(
            f"| `{q['query']}` | {q['kind']} | {q['matches']:,} | {q['function_p50_ms']:.1f} | "
            f"{q['function_p99_ms']:.1f} | {_ms(q, 'first_p50_ms')} | {_ms(q, 'repeated_p50_ms')} | "
            f"{q['page_p50_ms']:.1f} | {q['page_p99_ms']:.1f} | {q['sql_queries']} | {q['database_ms']:.1f} |"
        )
    return [*lines, ""]


# How a search meets the cache (bench/search.py `time_searches`), said under both search tables.
KEPT_SEARCHES = (
    "A search keeps its counts and its page's order until the archive (the pool) changes: *Function* is a "
    "search whose counts are kept but whose page is ordered anew (paging on), the figure the goals are judged "
    "on; *First* the first search after a change (counts and page); *Repeated* the same search again (its "
    "page's rows read by their keys)."
)


def _ms(figures: dict[str, Any], key: str) -> str:
    """A figure in ms, or a dash where a run from before it was measured has none."""
    return f"{figures[key]:.1f}" if key in figures else "—"


def _network(results: dict[str, Any]) -> list[str]:
    network = results.get("network")
    lines = ["## Network", ""]
    if network is None:
        return []
    if problem := _failed(network):
        return [*lines, f"Not measured: {problem}.", ""]
    borrowed, cascade = network["borrow"], network["cascade"]
    generated = network.get("generation_s")
    lines += [
        f"bench/network.py: {network['counties']} counties of 26 libraries, all in the network, each sharing "
        f"{network['items_per_county']:,} archive items (a fifth showing people whose consent covers sharing); "
        f"the last county searches a pool of {network['pool_items']:,}. Its own database "
        f"(innspill_bench_network), kept between runs"
        + (f"; generated in {generated:.0f} s" if generated else "")
        + ". *Function*: `publishing.archive.network.search_pool` in-process as the pool page runs it (county and "
        f"library facets with the number of matches, then the first page of {network['per_page']}), "
        f"{network['searches_per_query']} calls per query, the queries in turn. *PostgreSQL*: EXPLAIN ANALYZE of "
        "the search's queries, summed. " + KEPT_SEARCHES,
        "",
        "| Query | Kind | Matches | Function p50 (ms) | p99 | First p50 | Repeated p50 | SQL queries "
        "| PostgreSQL (ms) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for q in network["queries"]:
        lines.append(
            f"| `{q['query']}` | {q['kind']} | {q['matches']:,} | {q['function_p50_ms']:.1f} | "
            f"{_ms(q, 'function_p99_ms')} | {_ms(q, 'first_p50_ms')} | {_ms(q, 'repeated_p50_ms')} | "
            f"{q['sql_queries']} | {q['database_ms']:.1f} |"
        )
    lines += [
        "",
        f"*Borrow*: `publishing.archive.network.borrow` of {borrowed['borrows']} different items into the last "
        f"county (each rolled back): p50 {borrowed['p50_ms']:.1f} ms, p90 {borrowed['p90_ms']:.1f} ms, "
        f"at most {borrowed['max_ms']:.1f} ms.",
        "",
        f"*Withdrawal cascade*: a person of county 1 shown in one shared item that the {cascade['counties'] - 1} "
        f"other counties borrowed, each with a scheduled post using its copy, withdraws consent "
        "(`production.services.media.withdraw_consent`, running `consent_lapsed`: every copy blocked, the posts "
        f"back to review, the archives refreshed, the audit and the e-mails), {cascade['runs']} runs each rolled "
        f"back: p50 {cascade['p50_ms']:.0f} ms, p90 {cascade['p90_ms']:.0f} ms; {cascade['copies_blocked']} of "
        f"{cascade['copies']} copies blocked, {cascade['posts_still_scheduled']} of {cascade['scheduled_posts']} "
        "posts still scheduled after it.",
        "",
        *_load_during(network),
    ]
    return lines


def _ingest(results: dict[str, Any]) -> list[str]:
    ingest = results.get("ingest")
    lines = ["## Media ingest", ""]
    if problem := _failed(ingest):
        return [*lines, f"Not measured: {problem}.", ""]
    photo = ingest["photo"]
    lines += [
        f"One photo-like {photo['width']} x {photo['height']} JPEG ({photo['bytes'] / 1e6:.1f} MB, sRGB profile, "
        f"camera EXIF), {ingest['repeat']} times per variant after a warm-up, each variant in a process of its "
        "own (the three in turn). *pillow_draft* is the floor: `draft()` to the Instagram size, one bilinear "
        "resize, one JPEG. *media_functions* is production/processing/images.py's rendition and thumbnail "
        "(`make_image_renditions`) and the Instagram check; *process_asset* is the worker's whole task "
        "(the row, the renditions, storing them). *Peak* is the growth of the process's peak resident set. "
        "*PSNR* compares the JPEG made with a Lanczos resize of the fully decoded photo.",
        "",
        "| Variant | ms per image (median) | min | max | Peak memory (MiB) | Output | PSNR (dB) | x Pillow |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for name, variant in ingest["variants"].items():
        lines.append(
            f"| {name} | {variant['ms_median']:.1f} | {variant['ms_min']:.1f} | {variant['ms_max']:.1f} | "
            f"{variant['peak_mib']:.1f} | {variant['output']} | {variant['psnr_db']} | "
            f"{variant['ratio_to_pillow']:.2f} |"
        )
    lines += [
        "",
        f"Resize fidelity (the rendition at JPEG quality 100 against the reference): {ingest['resize_fidelity_db']} "
        "dB PSNR; above 40 dB the eye sees no difference.",
    ]
    return [*lines, ""]


def _upload(results: dict[str, Any]) -> list[str]:
    upload = results.get("upload")
    lines = ["## Upload memory", ""]
    if problem := _failed(upload):
        return [*lines, f"Not measured: {problem}.", ""]
    lines += [
        "Videos through the tus endpoint (production/views/uploads.py) to one gunicorn sync worker, from a separate "
        f"process on loopback, in {upload['chunk_mib']} MiB PATCH requests as the browser sends them; the last "
        "request checks the file and makes it an asset. *Peak* is the worker's peak resident set during the "
        f"upload (VmHWM, reset before each); it had {upload['baseline_rss_mib']:.1f} MiB before the first.",
        "",
        "| Video (MB) | Seconds | MB/s | Worker peak (MiB) | Over the baseline (MiB) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in upload["uploads"]:
        lines.append(
            f"| {row['size_mb']} | {row['seconds']:.1f} | {row['mb_per_s']:.0f} | {row['peak_rss_mib']:.1f} | "
            f"{row['peak_over_baseline_mib']:+.1f} |"
        )
    if png := upload.get("png"):
        web, worker = png["web"], png["worker"]
        lines += [
            "",
            f"A {png['width']} x {png['height']} RGBA PNG ({png['bytes'] / 1e6:.1f} MB) through the same endpoint, "
            "then its renditions made by the worker's service (`production.services.media.process_asset`) "
            "in a process of its own after a small PNG; growth of the peak resident set over the process's own "
            "before it. Before issue 12 "
            "the web process grew by 383 MiB (a full decode to check the file) and the worker by 1 242 MiB.",
            "",
            "| Side | Seconds | Before (MiB) | Peak growth (MiB) | Goal |",
            "|---|---:|---:|---:|---|",
            f"| web (check and store) | {web['seconds']:.1f} | {web['rss_before_mib']:.1f} | {web['peak_mib']:+.1f} | "
            f"≤ {png['goal_mib']} MiB: {_ok(web['peak_mib'] <= png['goal_mib'])} |",
            f"| worker (rendition {worker['rendition']} and thumbnail) | {worker['seconds']:.1f} | "
            f"{worker['rss_before_mib']:.1f} | {worker['peak_mib']:+.1f} | "
            f"≤ {png['goal_mib']} MiB: {_ok(worker['peak_mib'] <= png['goal_mib'])} |",
        ]
    return [*lines, ""]


def _publishing(results: dict[str, Any]) -> list[str]:
    publishing = results.get("publishing")
    lines = ["## Publishing", ""]
    if problem := _failed(publishing):
        return [*lines, f"Not measured: {problem}.", ""]
    pipeline, bare = publishing["pipeline"], publishing["bare_client"]
    lines += [
        f"{publishing['posts']} single-photo posts with two collaborators each. *Pipeline*: the beat's tick sent "
        "to one Celery worker (`--pool solo`), which publishes each post through publishing/publish.py against the "
        "fake Graph API (a process of its own, which downloads each rendition from gunicorn), files it in the "
        "archive and e-mails the libraries; timed until every post is done. *Bare client*: "
        "`publishing.instagram.client.Client` making the same Graph calls one post after another from the measuring "
        "process, against the same fake and the same signed rendition addresses."
        + (
            f" The two take turns, {publishing['rounds']} of them, a share of the posts each (which goes first "
            "alternating), so that a drift in the machine's speed slows both alike; each side's times are summed."
            if publishing.get("rounds")
            else ""
        ),
        "",
        "| Run | Seconds | Posts/s | Graph calls per post |",
        "|---|---:|---:|---:|",
        f"| pipeline | {pipeline['seconds']:.2f} | {pipeline['posts_per_s']:.2f} "
        f"| {pipeline['graph_calls_per_post']} |",
        f"| bare client | {bare['seconds']:.2f} | {bare['posts_per_s']:.2f} | {bare['graph_calls_per_post']} |",
        "",
        f"The pipeline takes {publishing['ratio_to_bare']:.2f}x the bare client's time.",
    ]
    return [*lines, ""]


def _video(results: dict[str, Any]) -> list[str]:
    video = results.get("video")
    lines = ["## Reel renditions", ""]
    if problem := _failed(video):
        return [*lines, f"Not measured: {problem}.", ""]
    lines += [
        "Phone-like clips made with FFmpeg's test pattern (bench/video.py, cached under var/bench-video/): a 4K "
        "HEVC Main 10 HLG clip turned 90° with AAC sound, and a 1080 x 1920 H.264 clip with sound, each made into "
        "the Instagram reel rendition with a caption every two seconds burned in. *Worker*: "
        "`transcode.make_reel_rendition` in a fresh process (probe, plan, ASS file, encode, read-back); *ffmpeg*: "
        "the same command line run directly. *Peak* is the growth of the worker process's peak resident set "
        "during the call; the encoder's peak (its own process) beside it. Clips longer than 10 s are the 10 s "
        "clip played again (stream copy): a minute of 4K HEVC takes far longer to make here than to measure, and "
        "its frames cost the same.",
        "",
        *_load_during(video),
        "| Source | Clip (s) | Source (MB) | ffmpeg (s) | Worker (s) | Ratio | Worker peak (MiB) | ffmpeg peak (MiB) "
        "| Rendition |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in video["runs"]:
        out = run["rendition"]
        lines.append(
            f"| {run['source']} | {run['clip_seconds']} | {run['source_mb']} | {run['ffmpeg_seconds']:.1f} | "
            f"{run['worker_seconds']:.1f} | {run['ratio_to_ffmpeg']:.2f} | {run['peak_growth_mib']:+.1f} | "
            f"{run['ffmpeg_peak_mib']:.0f} | {out['size']}, {out['fps']:g} fps, {out['mbps']} Mbps, "
            f"{out['mb']} MB, {out['captions']} captions |"
        )
    return [*lines, ""]


def _load_during(measure: dict[str, Any]) -> list[str]:
    start, end = measure.get("load_average_start"), measure.get("load_average_end")
    if not start or not end:
        return []
    return [
        f"Load average (1, 5, 15 min) on the machine when the measure started: {' / '.join(map(str, start))}; "
        f"when it ended: {' / '.join(map(str, end))}.",
        "",
    ]


def markdown(results: dict[str, Any], *, findings: list[str] | None = None) -> str:
    """BENCHMARKS.md from the same dictionary as latest.json."""
    m = results["machine"]
    s = results["settings"]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python -m bench` (bench/, run by `make bench`); the same figures are in "
        "`bench/results/latest.json`. Every ratio compares figures measured in the same run on the same machine. "
        'Nothing here is a test: no figure is asserted anywhere. Options: `BENCH_ARGS="--duration 30 '
        '--scale 1,5 --only pages,search"` and so on (`python -m bench --help`).',
        "",
        f"- Date: {results['date']}",
        f"- Command: `{results['command']}`",
        f"- Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB memory, {m['os']}; "
        f"load average {' / '.join(str(v) for v in m['load_average'])} when the run started",
        f"- Python {m['python']}, PostgreSQL {m['postgresql']}, {m['wrk'] or 'no wrk (Python load generator)'}",
        f"- Scales {', '.join(str(x) for x in s['scales'])}; {s['duration_s']} s per page; "
        f"{s['connections']} connections; {s['workers']} gunicorn workers",
        *_kept(results),
        "",
        "## Targets",
        "",
        *_summary(results),
        "",
        *_data(results),
        *_pages(results),
        *_search(results),
        *_network(results),
        *_ingest(results),
        *_upload(results),
        *_publishing(results),
        *_video(results),
    ]
    if findings:
        lines += ["## What limits it", "", *findings, ""]
    return "\n".join(lines)


def _kept(results: dict[str, Any]) -> list[str]:
    """Measures not run this time (`--keep`): their figures come from an earlier run, on its machine and load."""
    kept: dict[str, str] = results.get("kept") or {}
    by_date: dict[str, list[str]] = {}
    for measure, date in sorted(kept.items()):
        by_date.setdefault(date, []).append(measure)
    return [f"- Kept from the run of {date}: {', '.join(measures)}" for date, measures in sorted(by_date.items())]


def _data(results: dict[str, Any]) -> list[str]:
    runs = [run for run in results.get("pages") or [] if not _failed(run)]
    if not runs:
        return []
    lines = [
        "## Data",
        "",
        "bench/data.py at scale N: N counties of 26 libraries with 3·N staff each; county 1 (the one measured) "
        "with N times a busy county's five years: ideas with comments, recording days with run sheets, posts "
        "(published, with followers' comments and the account's replies, and eight weeks planned), photos and "
        "videos with the people shown and their consent, and "
        "one archive item per asset, its search fields written by `publishing.archive.filing.refresh_items`. "
        "Norwegian text throughout (bench/text.py).",
        "",
        "| Scale | Counties | Libraries | Users | Ideas | Recording days | Posts | Assets | Archive items |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        d = run["data"]
        lines.append(
            f"| {run['scale']} | {d['counties']} | {d['libraries']} | {d['users']:,} | {d['ideas']:,} | "
            f"{d['recording_days']:,} | {d['posts']:,} | {d['assets']:,} | {d['archive_items']:,} |"
        )
    return [*lines, ""]


def write_markdown(results: dict[str, Any], *, findings: list[str] | None = None) -> Path:
    MARKDOWN.write_text(markdown(results, findings=findings))
    return MARKDOWN
