"""`make run` keeps running: the runner starts a worker, beat or the fake that stops again, with a back-off."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path

import psutil
import psycopg
import pytest
from django.db import connection
from psycopg import sql

from config.embedded import Supervisor, _free_port
from tests.publishing.fakegraph import wait_until
from tests.publishing.workers import RedisServer, redis_server  # noqa: F401 - a fixture

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _exits(status: int, *, before: str = "") -> list[str]:
    return [PYTHON, "-c", f"import sys; {before}sys.exit({status})"]


SLEEPS = [PYTHON, "-c", "import time; time.sleep(600)"]


def _supervisor(**options: float) -> tuple[Supervisor, StringIO]:
    out = StringIO()
    return Supervisor(dict(os.environ), out=out, poll=0.02, **options), out


def _until(out: StringIO, condition: Callable[[str], bool], *, timeout: float = 20) -> Callable[[], bool]:
    """A stop condition for supervise(): the output satisfies `condition` (a deadline fails the test)."""
    deadline = time.monotonic() + timeout

    def stop() -> bool:
        if time.monotonic() > deadline:
            pytest.fail(f"the supervisor's output never got there:\n{out.getvalue()}")
        return condition(out.getvalue())

    return stop


def _restarts(text: str, name: str) -> list[str]:
    return re.findall(rf"^{name} stopped \((.+?)\); restarting in (\S+) s$", text, flags=re.MULTILINE)


def test_a_process_that_keeps_failing_is_restarted_with_a_doubling_back_off_up_to_the_cap() -> None:
    supervisor, out = _supervisor(backoff=0.05, backoff_cap=0.2, stable_after=60)
    supervisor.start("worker", _exits(1, before="print('working', flush=True); "), restart=True)
    try:
        result = supervisor.supervise(_until(out, lambda text: len(_restarts(text, "worker")) >= 4))
    finally:
        supervisor.stop()

    assert result == 0
    assert _restarts(out.getvalue(), "worker")[:4] == [
        ("exit 1", "0.05"),
        ("exit 1", "0.1"),
        ("exit 1", "0.2"),
        ("exit 1", "0.2"),
    ]
    # Each restart ran the command again.
    assert out.getvalue().count(" worker | working\n") >= 4


def test_the_back_off_starts_over_after_a_run_that_lasted() -> None:
    supervisor, out = _supervisor(backoff=0.05, backoff_cap=10, stable_after=0.2)
    supervisor.start("beat", _exits(2, before="import time; time.sleep(0.3); "), restart=True)
    try:
        supervisor.supervise(_until(out, lambda text: len(_restarts(text, "beat")) >= 3))
    finally:
        supervisor.stop()

    assert _restarts(out.getvalue(), "beat")[:3] == [("exit 2", "0.05")] * 3


def test_a_killed_process_is_named_with_its_signal_and_started_again() -> None:
    supervisor, out = _supervisor(backoff=0.05)
    supervisor.start("graph", SLEEPS, restart=True)
    first = supervisor.processes["graph"]
    try:
        os.kill(first.pid, signal.SIGKILL)
        supervisor.supervise(_until(out, lambda text: "graph restarting" in text))
        second = supervisor.processes["graph"]
        assert second.pid != first.pid
        assert second.poll() is None
    finally:
        supervisor.stop()

    assert _restarts(out.getvalue(), "graph") == [("killed by SIGKILL", "0.05")]
    assert second.poll() is not None  # stop() ends the restarted process too


def test_a_process_that_is_not_restarted_stops_the_others() -> None:
    supervisor, out = _supervisor(backoff=0.05)
    supervisor.start("worker", SLEEPS, restart=True)
    supervisor.start("web", _exits(3))
    try:
        result = supervisor.supervise(_until(out, lambda _text: False, timeout=20))
    finally:
        supervisor.stop()

    assert result == 1
    assert "web stopped (exit 3); stopping the others." in out.getvalue()
    assert supervisor.processes["worker"].poll() is not None


def test_stopping_while_a_restart_waits_starts_nothing() -> None:
    supervisor, out = _supervisor(backoff=30)
    supervisor.start("publish", _exits(1), restart=True)
    supervisor.supervise(_until(out, lambda text: "restarting in 30 s" in text))
    process = supervisor.processes["publish"]

    supervisor.stop()
    supervisor.check()

    assert supervisor.processes["publish"] is process
    assert "publish restarting" not in out.getvalue()


# --- The real runner -------------------------------------------------------------------------


def _admin_url() -> str:
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgresql://{db['USER'] or 'postgres'}{password}@{host}{port}"


@pytest.fixture
def runner_database() -> Iterator[str]:
    """An empty database of the runner's own: it migrates and loads the demo as `make run` does."""
    name = f"{connection.settings_dict['NAME']}_runner"
    with psycopg.connect(f"{_admin_url()}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{_admin_url()}/{name}"
    finally:
        with psycopg.connect(f"{_admin_url()}/postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _worker_pid(runner: psutil.Process) -> int | None:
    """The main Celery worker the runner started (its own child, not the worker's pool processes)."""
    for child in runner.children():
        try:
            with_args = " ".join(child.cmdline())
        except psutil.Error:  # gone, or a zombie the runner has not reaped yet
            continue
        if "celery" in with_args and "main@%h" in with_args:
            return child.pid
    return None


@pytest.mark.worker
def test_make_run_starts_a_killed_worker_again_and_stops_everything_on_sigterm(
    runner_database: str,
    redis_server: RedisServer,  # noqa: F811 - the fixture imported above
) -> None:
    with tempfile.TemporaryDirectory() as var, tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
        env = {
            **os.environ,
            "DATABASE_URL": runner_database,
            "REDIS_URL": redis_server.url,
            "INNSPILL_VAR_DIR": var,
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("GRAPH_API_URL", None)
        port = str(_free_port())
        process = subprocess.Popen(
            [PYTHON, "-m", "config.embedded", "run", "--port", port],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        runner = psutil.Process(process.pid)
        output = lambda: Path(log.name).read_text()  # noqa: E731
        try:
            wait_until(lambda: _worker_pid(runner) is not None and "Innspill runs at" in output(), timeout=180,
                       what="the runner to start its worker")  # fmt: skip
            first = _worker_pid(runner)
            assert first is not None

            os.kill(first, signal.SIGKILL)

            wait_until(lambda: _worker_pid(runner) not in {None, first}, timeout=30, what="a new worker")
            assert "worker stopped (killed by SIGKILL); restarting in 1 s" in output()
            assert process.poll() is None  # the rest runs on

            started = runner.children(recursive=True)
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0, output()
            _gone, alive = psutil.wait_procs(started, timeout=20)
            assert not [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], output()
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
