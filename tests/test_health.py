"""/healthz, the worker heartbeat, and the things `make test` promises beyond pytest."""

import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import Client

from config.celery import HEARTBEAT_KEY, heartbeat

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_healthz_reports_database_redis_and_a_stale_worker() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["redis"] == {"ok": True}
    assert body["checks"]["worker"]["ok"] is False
    assert body["status"] == "degraded"


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_down(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CACHES = {"default": {"BACKEND": "config.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False


@pytest.mark.worker
@pytest.mark.django_db
def test_a_real_worker_keeps_the_heartbeat_fresh(settings) -> None:  # type: ignore[no-untyped-def]
    """A Celery worker process on the tests' Redis runs the heartbeat task; /healthz sees it."""
    from django.core.cache import cache

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "WARNING"],
        cwd=ROOT,
        env={**os.environ, "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"]},
    )
    try:
        heartbeat.delay()
        deadline = time.monotonic() + 30
        while cache.get(HEARTBEAT_KEY) is None:
            assert worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker did not run the heartbeat task"
            time.sleep(0.1)
        body = Client().get("/healthz").json()
        assert body["checks"]["worker"]["ok"] is True
        assert body["status"] == "ok"
    finally:
        worker.terminate()
        worker.wait(20)


@pytest.mark.django_db
def test_every_model_change_has_a_migration() -> None:
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit:
        pytest.fail(f"Model changes without a migration:\n{out.getvalue()}")


@pytest.mark.parametrize("language", ["nb", "en", "da"])
def test_translations_are_complete_and_compiled(language: str) -> None:
    po_path = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    catalogue = polib.pofile(str(po_path))
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not missing, f"{language}: untranslated: {missing[:10]}"
    assert not fuzzy, f"{language}: fuzzy: {fuzzy[:10]}"
    compiled = polib.mofile(str(po_path.with_suffix(".mo")))
    assert {e.msgid for e in compiled} >= {e.msgid for e in catalogue.translated_entries()}, (
        "the .mo file is older than the .po file: run `make messages`"
    )
