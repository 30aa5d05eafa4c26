"""Production-like settings, the bench's own database and Redis database, static files.

Everything here runs before Django is set up: settings are read from the
environment once, so the environment must be complete first. The same
environment is handed to gunicorn, so the server and the in-process query
counts see identical settings, database and cache.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "innspill_bench"
BENCH_REDIS_DB = 8
SETTINGS_MODULE = "bench.settings"


def free_port() -> int:
    """A free TCP port on the loopback interface for gunicorn."""
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


def production_like_defaults(port: int, static_root: Path) -> dict[str, str]:
    """What production would set; only values missing from the environment are used.

    DEBUG=false matters most: DEBUG keeps every SQL query in memory and serves
    unhashed static files, which would make the figures meaningless. HTTPS
    redirects and secure cookies are off because the load is plain HTTP on
    loopback; MFA is off so the coordinator's session reaches the pages.
    """
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "REQUIRE_MFA": "false",
        "EMAIL_BACKEND": "console",
        "DATABASE_CONN_MAX_AGE": "60",
        "STATIC_ROOT": str(static_root),
        "LOG_LEVEL": "WARNING",
    }


def prepare(port: int, static_root: Path) -> dict[str, str]:
    """Fill os.environ for the bench and return it (also for the subprocesses).

    DATABASE_URL and REDIS_URL are always redirected to the bench's own
    database and Redis database: wiping and reloading data there must never
    reach the development database `make run` uses.
    """
    for key, value in production_like_defaults(port, static_root).items():
        if not os.environ.get(key):
            os.environ[key] = value
    for key in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(key):
            raise SystemExit(f"{key} is not set; run the bench through `make bench` (python -m config.embedded exec).")
    os.environ["DATABASE_URL"] = with_database_name(os.environ["DATABASE_URL"], BENCH_DATABASE)
    os.environ["REDIS_URL"] = with_redis_db(os.environ["REDIS_URL"], BENCH_REDIS_DB)
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


def setup(port: int) -> tuple[dict[str, str], tempfile.TemporaryDirectory[str]]:
    """Environment, database, migrations and collected static files; then django.setup().

    Static files are collected into a temporary directory: with DEBUG=false the
    manifest storage needs them, and the project's var/static stays untouched.
    The caller keeps the TemporaryDirectory alive while gunicorn runs.
    """
    static_dir = tempfile.TemporaryDirectory(prefix="innspill-bench-static-")
    env = prepare(port, Path(static_dir.name))
    ensure_database(env["DATABASE_URL"])
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")

    import django

    django.setup()
    return env, static_dir
