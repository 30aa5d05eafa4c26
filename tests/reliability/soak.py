"""The soak: the main pages under load for ten minutes while a publishing run goes on.

    make soak                         # python -m config.embedded exec -- python -m tests.reliability.soak
    make soak SOAK_ARGS="--duration 120 --posts 6"

Everything runs on this machine, on loopback: gunicorn (2 sync workers,
DEBUG off) on a database of its own (`innspill_soak`, made afresh with the
demo data) and Redis database 7; a real Celery worker and a real `celery
beat` whose minute tick hands the due posts to the worker; the fake Graph API
(which fetches each rendition from gunicorn, under the same load). wrk (from
Debian) cycles through the main pages with a coordinator's session, in
windows of `--window` seconds; between and during windows the resident memory
(RSS) of the gunicorn workers and of the Celery worker is sampled from /proc.

It fails (exit 1) when any page answered other than 200, when a socket error
or timeout happened, when the workers' memory grew by more than
`--max-growth` between the first window and the last, or when a post was not
published exactly once (its media on the fake, counted). The figures go to
tests/reliability/results/soak.json and RELIABILITY.md quotes them.

The load is bounded in time (`--duration`) and only ever sent to 127.0.0.1.
bench/ (the benchmarks) owns the load helpers this reuses: bench.load's
gunicorn runner, page check and wrk parser, bench.environment's URL helpers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from bench.environment import free_port, with_database_name, with_redis_db

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results" / "soak.json"
HOST = "127.0.0.1"
SOAK_DATABASE = "innspill_soak"
SOAK_REDIS_DB = 7  # tests use 9, the benchmarks 8
COORDINATOR = "koordinator@rogaland.example"  # from load_demo
PAGE_SIZE = 4096


# --- Environment and processes ---


def soak_environment(port: int, static_root: Path, media_root: Path) -> dict[str, str]:
    """Production-like settings on the soak's own database and Redis database; loopback only."""
    for key in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(key):
            raise SystemExit(f"{key} is not set; run the soak with `make soak` (python -m config.embedded exec).")
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": f"http://{HOST}:{port}",
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "REQUIRE_MFA": "false",
        "EMAIL_BACKEND": "console",  # into the logs (the outbox is refused without DEBUG)
        "DATABASE_CONN_MAX_AGE": "60",
        "STATIC_ROOT": str(static_root),
        "MEDIA_ROOT": str(media_root),
        "UPLOAD_TEMP_DIR": str(media_root.parent / "uploads"),
        "LOG_LEVEL": "WARNING",
        # Retries and polls in seconds, not minutes, so that a fault costs little of the run.
        "PUBLISH_RETRY_BASE_SECONDS": "2",
        "PUBLISH_RETRY_MAX_SECONDS": "20",
        "PUBLISH_POLL_SECONDS": "2",
        "GRAPH_API_TIMEOUT": "20",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env["DATABASE_URL"] = with_database_name(os.environ["DATABASE_URL"], SOAK_DATABASE)
    env["REDIS_URL"] = with_redis_db(os.environ["REDIS_URL"], SOAK_REDIS_DB)
    return env


def fresh_database(url: str) -> None:
    """Drop and create the soak's database: every run starts from the demo data alone."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[-1].split("?")[0]
    with psycopg.connect(with_database_name(url, "postgres"), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def celery(env: dict[str, str], logs: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """`celery -A config <args>` in its own process group; stopped with SIGTERM, then SIGKILL."""
    name = args[0]
    with (logs / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def wait_for(condition: Any, *, timeout: float, what: str, every: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# --- Memory ---


def rss_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) if match else None


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers, of its master), found in /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        match = re.search(r"^PPid:\s+(\d+)", status, re.MULTILINE)
        if match and int(match[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


@dataclass
class Sample:
    at: float  # seconds since the load began
    gunicorn_kib: list[int]
    worker_kib: int | None


@dataclass
class Sampler:
    """Samples RSS every `every` seconds in a thread while the load runs."""

    gunicorn_pid: int  # the master
    worker_pid: int
    every: float = 5.0
    started: float = field(default_factory=time.monotonic)
    samples: list[Sample] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            pids = children(self.gunicorn_pid)
            sizes = [size for pid in pids if (size := rss_kib(pid)) is not None]
            self.samples.append(Sample(time.monotonic() - self.started, sizes, rss_kib(self.worker_pid)))
            self.stop.wait(self.every)


# --- Load ---

LUA = """
local paths = {%(paths)s}
local threads = {}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function request()
  counter = counter %% #paths + 1
  return wrk.format("GET", paths[counter])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %%d %%d\\n", status, count))
  end
end
"""


@dataclass
class Window:
    index: int
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    statuses: dict[int, int]
    gunicorn_rss_mib: float  # the workers' RSS together, mean over the window's samples
    worker_rss_mib: float | None


def run_window(base_url: str, cookie: str, script: Path, *, seconds: int, connections: int) -> tuple[Any, dict]:
    from bench import load

    command = [
        "wrk", "--latency", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
        "-H", f"Cookie: {cookie}", "-s", str(script), base_url,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    result = load.parse_wrk(output)
    statuses = {int(status): int(count) for status, count in re.findall(r"^status (\d+) (\d+)$", output, re.MULTILINE)}
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return result, {
        "statuses": statuses,
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


# --- The publishing run ---


def schedule_posts(count: int, *, spread: timedelta) -> list[int]:
    """`count` approved posts of the demo's photos, due one after another over `spread`, on the demo channel."""
    from django.utils import timezone

    from libraries.models import User
    from production.models import Asset, people_with_consents
    from publishing.models import Approval, Channel, Post, PostAsset

    channel = Channel.objects.get(county__slug="rogaland")
    ready = Asset.objects.filter(county=channel.county, kind=Asset.Kind.IMAGE, status=Asset.Status.READY)
    # Only photos whose people all consent to publishing (Instagram would be refused the others' files).
    photos = [
        asset for asset in ready.prefetch_related(people_with_consents()).order_by("pk") if asset.allows_publishing()
    ]
    if not photos:
        raise SystemExit("The demo data has no processed photos to publish.")
    editor = User.objects.get(email="redaktor@rogaland.example")
    reviewer = User.objects.get(email="redaktor2@rogaland.example")
    now = timezone.now()
    ids = []
    for n in range(count):
        post = Post.objects.create(
            county=channel.county,
            channel=channel,
            title=f"Soak {n + 1}",
            # Distinct captions: a publish whose answer is lost is recovered by its caption.
            caption=f"Soak post {n + 1} of {count}: nye bøker hver uke. #bibliotek #soak{n + 1}",
            media_kind=Post.MediaKind.IMAGE,
            status=Post.Status.SCHEDULED,
            responsible=editor,
            created_by=editor,
            last_edited_by=editor,
            scheduled_at=now + spread * (n / max(count - 1, 1)),
        )
        PostAsset.objects.create(post=post, asset=photos[n % len(photos)], position=1)
        Approval.objects.create(post=post, by=reviewer)
        ids.append(post.pk)
    return ids


def inject_faults(fake: Any) -> list[str]:
    """A few of Instagram's bad moments during the run: each must cost a retry, never a post."""
    faults = [
        ("create_container", {"kind": "status", "status": 503, "skip": 1}),
        ("publish", {"kind": "error", "code": 4, "message": "Application request limit reached", "skip": 2}),
        ("container_status", {"kind": "hang", "seconds": 25, "skip": 3}),  # longer than GRAPH_API_TIMEOUT
        ("publish", {"kind": "drop", "apply": True, "skip": 4}),  # published, but the answer is lost
    ]
    for route, spec in faults:
        fake.fault(route, **spec)
    return [
        f"{route}: {spec['kind']}" + (f" {spec.get('status', '')}" if spec["kind"] == "status" else "")
        for route, spec in faults
    ]


def publishing_outcome(post_ids: list[int], fake: Any) -> dict[str, Any]:
    from publishing.models import Post

    posts = list(Post.objects.filter(pk__in=post_ids).order_by("pk"))
    media = fake.media()
    by_caption: dict[str, int] = {}
    for item in media:
        by_caption[item["caption"]] = by_caption.get(item["caption"], 0) + 1
    return {
        "posts": len(posts),
        "published": sum(post.status == Post.Status.PUBLISHED for post in posts),
        "notified": sum(post.publish_step == Post.Step.NOTIFIED for post in posts),
        "distinct_media_ids": len({post.media_id for post in posts if post.media_id}),
        "media_on_instagram": sum(by_caption.get(post.full_caption, 0) for post in posts),
        "published_twice": sorted(post.pk for post in posts if by_caption.get(post.full_caption, 0) > 1),
        "states": sorted({f"{post.status}/{post.publish_step}" for post in posts}),
        "publish_calls": fake.state()["calls"].get("publish", 0),
    }


# --- The run ---


def pages_to_load() -> list[str]:
    """The main pages of each kind, with real objects of the demo county."""
    from django.urls import reverse

    from libraries.models import User
    from production.models import Asset, Idea, RecordingDay
    from production.services import planning as production_services
    from publishing.models import Post

    coordinator = User.objects.get(email=COORDINATOR)
    county = coordinator.memberships.get().library.county
    token = production_services.create_calendar_feed(by=coordinator, county=county)
    post = Post.objects.filter(county=county, status=Post.Status.SCHEDULED).first()
    pages = [
        "/",
        "/ideas/",
        "/concepts/",
        "/recording-days/",
        "/calendar/",
        "/posts/",
        "/plan/",
        "/plan/week/",
        "/libraries/",
        "/libraries/invitations/",
        # The archive (browsing, and searching with a misspelt word), the inbox and the report.
        "/archive/",
        "/archive/?q=pappatref",
        "/inbox/",
        "/reports/",
        reverse("production:idea_detail", args=[Idea.objects.filter(library__county=county).first().pk]),  # type: ignore[union-attr]
        reverse("production:recording_day_detail", args=[RecordingDay.objects.filter(county=county).first().pk]),  # type: ignore[union-attr]
        reverse("production:asset_detail", args=[Asset.objects.filter(county=county).first().pk]),  # type: ignore[union-attr]
        reverse("publishing:plan_feed", args=[token]),
        "/healthz",
    ]
    if post is not None:
        pages.append(reverse("publishing:post_detail", args=[post.pk]))
    return pages


def session_cookie() -> str:
    from django.conf import settings
    from django.test import Client

    from libraries.models import User

    client = Client(SERVER_NAME=HOST)
    client.force_login(User.objects.get(email=COORDINATOR))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def mib(kib: float) -> float:
    return round(kib / 1024, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=600, help="seconds of load in all (default 600)")
    parser.add_argument("--window", type=int, default=30, help="seconds per load window (default 30)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--posts", type=int, default=16, help="posts published during the run (default 16)")
    parser.add_argument("--max-growth", type=float, default=0.10, help="largest RSS growth allowed (default 0.10)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    windows_count = max(1, args.duration // args.window)

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="innspill-soak-") as scratch:
        scratch_dir = Path(scratch)
        env = soak_environment(port, scratch_dir / "static", scratch_dir / "media")
        from tests.publishing.fakegraph import FakeGraph, run_fake_graph

        with run_fake_graph() as fake_process:
            env["GRAPH_API_URL"] = fake_process.url
            os.environ.update(env)
            print(f"Preparing {SOAK_DATABASE} (migrate, static files, demo data) …", flush=True)
            fresh_database(env["DATABASE_URL"])
            manage(env, "migrate", "--noinput", "-v", "0")
            manage(env, "collectstatic", "--noinput", "-v", "0")
            manage(env, "load_demo")

            import django

            django.setup()
            from bench import load

            fake = FakeGraph(fake_process.url)
            fake.reset(video_polls=1)
            # The run's posts come due over the first 70 % of the load, so that the last is out before the end.
            post_ids = schedule_posts(args.posts, spread=timedelta(seconds=args.duration * 0.7))
            pages = pages_to_load()
            cookie = session_cookie()
            script = scratch_dir / "pages.lua"
            script.write_text(LUA % {"paths": ", ".join(json.dumps(page) for page in pages)})
            logs = scratch_dir / "logs"
            logs.mkdir()
            schedule = str(scratch_dir / "celerybeat-schedule")
            with (
                load.gunicorn(env, port, workers=2) as server,
                # One worker for every queue (config/celery.py): the soak measures one process's memory.
                celery(
                    env,
                    logs,
                    "worker",
                    "--pool",
                    "solo",
                    "-Q",
                    "celery,media,publish",
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                ) as worker,  # fmt: skip
                celery(env, logs, "beat", "--loglevel", "INFO", "--schedule", schedule),
            ):
                base_url = server.url
                load.check_pages(base_url, cookie, pages, repeat=3)
                faults = inject_faults(fake)
                sampler = Sampler(gunicorn_pid=server.pid, worker_pid=worker.pid)
                thread = threading.Thread(target=sampler.run, daemon=True)
                thread.start()
                windows: list[Window] = []
                print(f"Loading {len(pages)} pages for {windows_count} windows of {args.window} s …", flush=True)
                for index in range(windows_count):
                    began = time.monotonic() - sampler.started
                    result, extra = run_window(
                        base_url, cookie, script, seconds=args.window, connections=args.connections
                    )
                    ended = time.monotonic() - sampler.started
                    inside = [s for s in sampler.samples if began <= s.at <= ended] or sampler.samples[-1:]
                    worker_sizes = [s.worker_kib for s in inside if s.worker_kib is not None]
                    window = Window(
                        index=index + 1,
                        requests=result.requests,
                        requests_per_second=round(result.requests_per_second, 1),
                        p50_ms=result.p50_ms,
                        p99_ms=result.p99_ms,
                        socket_errors=extra["socket_errors"],
                        statuses=extra["statuses"],
                        gunicorn_rss_mib=mib(statistics.mean(sum(s.gunicorn_kib) for s in inside)) if inside else 0.0,
                        worker_rss_mib=mib(statistics.mean(worker_sizes)) if worker_sizes else None,
                    )
                    windows.append(window)
                    print(
                        f"  window {window.index:>2}: {window.requests_per_second:6.1f} req/s"
                        f"  p50 {window.p50_ms:6.1f} ms"
                        f"  p99 {window.p99_ms:7.1f} ms  statuses {window.statuses}  socket errors"
                        f" {window.socket_errors}  gunicorn {window.gunicorn_rss_mib} MiB  worker"
                        f" {window.worker_rss_mib} MiB",
                        flush=True,
                    )
                sampler.stop.set()
                thread.join(10)
                print("Waiting for the last posts to be published …", flush=True)
                from publishing.models import Post

                def all_out() -> bool:
                    return Post.objects.filter(pk__in=post_ids, publish_step=Post.Step.NOTIFIED).count() == len(
                        post_ids
                    )

                with contextlib.suppress(RuntimeError):
                    wait_for(all_out, timeout=240, what="every post to be published")
                outcome = publishing_outcome(post_ids, fake)
                errors_logged = sum(log.read_text(errors="replace").count("Traceback") for log in logs.glob("*.log"))

        requests = sum(w.requests for w in windows)
        non_200 = sum(count for w in windows for status, count in w.statuses.items() if status != 200)
        socket_errors = sum(w.socket_errors for w in windows)
        first, last = windows[0], windows[-1]
        growth = (
            (last.gunicorn_rss_mib - first.gunicorn_rss_mib) / first.gunicorn_rss_mib if first.gunicorn_rss_mib else 1.0
        )
        worker_growth = (
            (last.worker_rss_mib - first.worker_rss_mib) / first.worker_rss_mib
            if first.worker_rss_mib and last.worker_rss_mib
            else 0.0
        )
        exactly_once = (
            outcome["published"] == outcome["notified"] == outcome["distinct_media_ids"] == len(post_ids)
            and outcome["media_on_instagram"] == len(post_ids)
            and not outcome["published_twice"]
        )
        checks = {
            "every response 200": non_200 == 0,
            "no socket errors or timeouts": socket_errors == 0,
            f"gunicorn RSS growth ≤ {args.max_growth:.0%}": growth <= args.max_growth,
            f"worker RSS growth ≤ {args.max_growth:.0%}": worker_growth <= args.max_growth,
            "every post published exactly once": exactly_once,
        }
        summary = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": "python -m tests.reliability.soak " + " ".join(sys.argv[1:] if argv is None else argv),
            "settings": {
                "duration_s": windows_count * args.window,
                "window_s": args.window,
                "connections": args.connections,
                "gunicorn_workers": 2,
                "posts": args.posts,
            },
            "pages": pages,
            "requests": requests,
            "non_200": non_200,
            "socket_errors": socket_errors,
            "gunicorn_rss_mib": {"first_window": first.gunicorn_rss_mib, "last_window": last.gunicorn_rss_mib},
            "gunicorn_rss_growth": round(growth, 4),
            "worker_rss_mib": {"first_window": first.worker_rss_mib, "last_window": last.worker_rss_mib},
            "worker_rss_growth": round(worker_growth, 4),
            "faults_injected": faults,
            "publishing": outcome,
            "tracebacks_in_logs": errors_logged,
            "checks": checks,
            "windows": [asdict(w) for w in windows],
        }
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        print(f"\n{requests} requests, {non_200} not 200, {socket_errors} socket errors; results in {args.output}")
        for name, passed in checks.items():
            print(f"  {'ok  ' if passed else 'FAIL'} {name}")
        print(f"  publishing: {outcome}")
        return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
