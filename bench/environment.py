"""Production-like settings, the bench's own databases, Redis database, media and static files.

Everything here runs before Django is set up: settings are read from the
environment once, so the environment must be complete first. The same
environment is handed to gunicorn and the Celery worker, so the servers and
the in-process measures see identical settings, database and cache.

Each scale has a database of its own (innspill_bench_s1, innspill_bench_s5,
…), kept between runs (bench/data.py reloads it only when it is stale), and
the ingest, upload and publishing measures share innspill_bench_work, which
they empty first. Nothing here ever points at the development database.

Two checkouts benching at once on one machine would clobber each other's
databases; BENCH_DATABASE_PREFIX (default innspill_bench) and BENCH_REDIS_DB
(default 8) give one of them its own.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_VAR = BASE_DIR / "var" / "bench"
DATABASE_PREFIX = os.environ.get("BENCH_DATABASE_PREFIX") or "innspill_bench"
WORK_DATABASE = f"{DATABASE_PREFIX}_work"
NETWORK_DATABASE = f"{DATABASE_PREFIX}_network"  # the network of counties (bench/network.py)
BENCH_REDIS_DB = int(os.environ.get("BENCH_REDIS_DB") or 8)
SETTINGS_MODULE = "bench.settings"


def scale_database(scale: int) -> str:
    return f"{DATABASE_PREFIX}_s{scale}"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_database_name(url: str, name: str) -> str:
    """DATABASE_URL pointing at another database on the same server (host, user and options kept)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def with_redis_db(url: str, db: int) -> str:
    """REDIS_URL with its database number (the trailing /N) replaced, or added when missing."""
    parts = urlsplit(url)
    path = re.sub(r"/\d*$", "", parts.path) + f"/{db}"
    return urlunsplit(parts._replace(path=path))


def production_like_defaults() -> dict[str, str]:
    """What production would set; only values missing from the environment are used.

    DEBUG=false matters most: DEBUG keeps every SQL query in memory and serves
    unhashed static files, which would make the figures meaningless. HTTPS
    redirects and secure cookies are off because the load is plain HTTP on
    loopback. REQUIRE_MFA stays on, as in production: the bench's coordinators
    and editors have an authenticator (bench/data.py), so its check is paid.
    The secrets are made once per `python -m bench` run and handed to every
    process of it (bench/__main__.py exports them before starting any).
    """
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "REQUIRE_MFA": "true",
        "EMAIL_BACKEND": "console",
        "DATABASE_CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }


def prepare(database: str, *, port: int | None = None) -> dict[str, str]:
    """Fill os.environ for one bench process and return it (also for its subprocesses).

    DATABASE_URL, REDIS_URL, MEDIA_ROOT, UPLOAD_TEMP_DIR and STATIC_ROOT are
    always redirected to the bench's own: wiping and reloading data there
    must never reach what `make run` uses. `port` is where gunicorn will
    listen, for PUBLIC_BASE_URL (the address signed media URLs point at).
    """
    for key, value in production_like_defaults().items():
        if not os.environ.get(key):
            os.environ[key] = value
    for key in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(key):
            raise SystemExit(f"{key} is not set; run the bench through `make bench` (python -m config.embedded exec).")
    os.environ["DATABASE_URL"] = with_database_name(os.environ["DATABASE_URL"], database)
    os.environ["REDIS_URL"] = with_redis_db(os.environ["REDIS_URL"], BENCH_REDIS_DB)
    os.environ["MEDIA_ROOT"] = str(BENCH_VAR / "media")
    os.environ["UPLOAD_TEMP_DIR"] = str(BENCH_VAR / "uploads")
    os.environ["STATIC_ROOT"] = str(BENCH_VAR / "static")
    os.environ["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port or free_port()}"
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    return dict(os.environ)


def ensure_database(url: str) -> None:
    """Create the bench database on the server DATABASE_URL points at, if it is missing."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(with_database_name(url, "postgres"), autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(env: dict[str, str], *args: str) -> None:
    """Run a manage.py command in a subprocess with the bench environment."""
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def setup(
    database: str, *, port: int | None = None, collectstatic: bool = False, migrate: bool = True
) -> dict[str, str]:
    """Environment, database and migrations (and static files for gunicorn); then django.setup().

    A child process of a measure passes migrate=False: its parent migrated.

    With DEBUG=false WhiteNoise's manifest storage needs collected static
    files; they go to var/bench/static, never to the project's var/static.
    """
    env = prepare(database, port=port)
    for directory in ("media", "uploads", "static"):
        (BENCH_VAR / directory).mkdir(parents=True, exist_ok=True)
    if migrate:
        ensure_database(env["DATABASE_URL"])
        manage(env, "migrate", "--noinput", "-v", "0")
    if collectstatic:
        manage(env, "collectstatic", "--noinput", "-v", "0")

    import django

    django.setup()
    return env
