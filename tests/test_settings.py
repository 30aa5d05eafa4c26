"""Production settings: `check --deploy` is clean, and missing configuration fails loudly."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

from config import checks

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "SECRET_KEY": "k" * 60 + "-production-like-secret-for-the-check",
    "ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1saWtlLWtleS1mb3ItdGhlLWNoZWNrISE=",
    "PUBLIC_BASE_URL": "https://innspill.example.no",
    "ALLOWED_HOSTS": "innspill.example.no",
    "DATABASE_URL": "postgresql://innspill@127.0.0.1:5432/innspill",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    # One load balancer in front (BEHIND_PROXY defaults to true).
    "TRUSTED_PROXY_COUNT": "1",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # Without what tests/environment.py sets for the test run.
    test_only = {"EMAIL_BACKEND", "DJANGO_ALLOW_ASYNC_UNSAFE", "CACHE_KEY_PREFIX", "DATABASE_CONN_MAX_AGE"}
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION and k not in test_only and not k.startswith(("SECURE_", "DEBUG"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_check_deploy_is_clean_with_production_variables() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ENCRYPTION_KEYS", "PUBLIC_BASE_URL"])
def test_missing_required_variable_is_named_in_the_error(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(PRODUCTION["SECRET_KEY"] + "\n")
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"} | {"SECRET_KEY_FILE": str(secret)}
    assert manage("check", env=env).returncode == 0


def test_a_non_boolean_is_refused() -> None:
    result = manage("check", env=PRODUCTION | {"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def probe(code: str, env: dict[str, str]) -> str:
    """What `code` prints under these settings (manage.py shell: the settings as a deployment loads them)."""
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


# --- Nothing demo in production (issue 12) ---


def compose_environment() -> dict[str, str]:
    """The app's environment in docker-compose.yml (x-app), with the defaults of its ${NAME:-default}s."""
    text = (ROOT / "docker-compose.yml").read_text()
    anchors = dict(re.findall(r"^x-[\w-]+: &([\w-]+) (\S+)$", text, flags=re.MULTILINE))
    block = text.split("\nx-app: &app\n", 1)[1].split("\n  environment:\n", 1)[1]
    env = {}
    for line in block.splitlines():
        if line and not line.startswith("    "):
            break
        match = re.match(r"^    (\w+): (.+)$", line)
        if match:
            name, value = match.groups()
            value = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)
            env[name] = anchors.get(value[1:], value) if value.startswith("*") else value
    return env


def test_the_outbox_is_refused_without_debug() -> None:
    result = manage("check", env=PRODUCTION | {"EMAIL_BACKEND": "outbox"})
    assert result.returncode != 0
    assert "EMAIL_BACKEND=outbox is for development only" in result.stderr
    assert manage("check", env=PRODUCTION | {"EMAIL_BACKEND": "outbox", "DEBUG": "true"}).returncode == 0


def test_the_checked_demo_values_are_docker_composes() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    assert f"SECRET_KEY: ${{SECRET_KEY:-{checks.COMPOSE_DEMO_SECRET_KEY}}}" in compose
    assert f"ENCRYPTION_KEYS: ${{ENCRYPTION_KEYS:-{checks.COMPOSE_DEMO_ENCRYPTION_KEY}}}" in compose


def deploy_findings() -> set[str]:
    """The ids of our own findings of `check --deploy` (Django's HTTPS warnings differ under test settings)."""
    return {message.id for message in run_checks(include_deployment_checks=True) if message.id.startswith("innspill.")}


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"SECRET_KEY": checks.COMPOSE_DEMO_SECRET_KEY}, "innspill.E001"),
        ({"ENCRYPTION_KEYS": [PRODUCTION["ENCRYPTION_KEYS"], checks.COMPOSE_DEMO_ENCRYPTION_KEY]}, "innspill.E002"),
        ({"EMAIL_BACKEND_NAME": "console"}, "innspill.E003"),
        ({"EMAIL_BACKEND_NAME": "outbox"}, "innspill.E003"),
    ],
    ids=["demo-secret-key", "demo-encryption-key", "console-mail", "outbox-mail"],
)
def test_check_deploy_refuses_what_only_the_demo_may_use(settings, change: dict[str, object], refused: str) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND_NAME = "smtp"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    assert deploy_findings() == set()
    for name, value in change.items():
        setattr(settings, name, value)
    assert deploy_findings() == {refused}


def test_check_deploy_allows_the_development_mail_backends_with_debug(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True
    settings.EMAIL_BACKEND_NAME = "outbox"
    assert "innspill.E003" not in deploy_findings()


def test_check_deploy_is_not_clean_with_docker_composes_defaults() -> None:
    """docker-compose.yml's own environment (a demo): the check names each demo value."""
    env = compose_environment() | {key: PRODUCTION[key] for key in ("DATABASE_URL", "REDIS_URL")}
    result = manage("check", "--deploy", env=env)
    assert result.returncode != 0
    assert set(re.findall(r"\((innspill\.\w+)\)", result.stderr)) == {"innspill.E001", "innspill.E002", "innspill.E003"}


# --- Login limits behind a proxy (issue 12) ---

CLIENT_ADDRESS = """
from django.test import RequestFactory
from allauth.core.internal.httpkit import get_client_ip
request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="10.0.0.2",
    HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7", HTTP_X_REAL_IP="192.0.2.44")
print(get_client_ip(request))
"""


def test_the_login_limit_finds_the_client_behind_the_proxies_the_environment_names() -> None:
    # The proxy (10.0.0.2) appended the address it saw; 6.6.6.6 is what the client claimed.
    assert probe(CLIENT_ADDRESS, PRODUCTION) == "198.51.100.7"
    assert probe(CLIENT_ADDRESS, PRODUCTION | {"CLIENT_IP_HEADER": "X-Real-IP"}) == "192.0.2.44"
    # No proxy: X-Forwarded-For is the client's own say, ignored.
    assert probe(CLIENT_ADDRESS, PRODUCTION | {"TRUSTED_PROXY_COUNT": "0", "BEHIND_PROXY": "false"}) == "10.0.0.2"


def test_check_deploy_warns_behind_a_proxy_that_is_not_counted(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND_NAME = "smtp"
    settings.BEHIND_PROXY = True
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    assert deploy_findings() == {"innspill.W001"}
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    assert deploy_findings() == set()
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    assert deploy_findings() == set()
    settings.BEHIND_PROXY = False
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    assert deploy_findings() == set()


# --- Media addresses a browser can reach (issue 12) ---


MEDIA_URL_AND_POLICY = """
from django.conf import settings
from django.core.files.storage import default_storage
print(default_storage.url("assets/2026/bok.jpg"), " ".join(settings.SECURE_CSP["img-src"]))
"""


def test_docker_composes_media_addresses_are_ones_the_browser_reaches() -> None:
    compose = compose_environment()
    assert compose["AWS_S3_ENDPOINT_URL"] == "http://minio:9000"  # the app's way in, on the compose network
    # Connecting is not needed: presigning is local.
    env = compose | {key: PRODUCTION[key] for key in ("DATABASE_URL", "REDIS_URL")}
    url, policy = probe(MEDIA_URL_AND_POLICY, env).split(" ", 1)
    assert url.startswith("http://localhost:9000/innspill-media/assets/2026/bok.jpg?")
    assert "Signature=" in url  # presigned: the bucket is private
    assert "http://localhost:9000" in policy.split()  # pages may load from it
    assert "minio" not in policy
    # ... and MinIO's S3 port is published there.
    assert '- "127.0.0.1:${MINIO_API_PORT:-9000}:9000"' in (ROOT / "docker-compose.yml").read_text()


def test_without_a_public_endpoint_the_store_has_one_address_for_all() -> None:
    """AWS itself, or a store that servers and browsers reach under the same name."""
    compose = compose_environment()
    env = {k: v for k, v in compose.items() if k != "AWS_S3_PUBLIC_ENDPOINT_URL"}
    env |= {key: PRODUCTION[key] for key in ("DATABASE_URL", "REDIS_URL")}
    url, policy = probe(MEDIA_URL_AND_POLICY, env).split(" ", 1)
    assert url.startswith("http://minio:9000/innspill-media/")
    assert "http://minio:9000" in policy.split()


def test_the_served_application_has_every_view_loaded_and_kept_out_of_full_collections() -> None:
    """config/wsgi.py (what gunicorn serves): a full garbage collection must not walk what lives as long as
    the process (it took 160 ms in the middle of a request), so the views are imported and that is frozen."""
    script = (
        "import gc, sys; import config.wsgi; "
        "print(gc.get_freeze_count(), 'publishing.views.posts' in sys.modules, callable(config.wsgi.application))"
    )
    test_only = {"EMAIL_BACKEND", "DJANGO_ALLOW_ASYNC_UNSAFE", "CACHE_KEY_PREFIX", "DATABASE_CONN_MAX_AGE"}
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in test_only}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**clean, **PRODUCTION}, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    frozen, views_loaded, served = result.stdout.split()
    assert int(frozen) > 50_000
    assert (views_loaded, served) == ("True", "True")


def test_a_worker_has_every_view_loaded_and_kept_out_of_full_collections_before_its_first_task() -> None:
    """config/celery.py, as config/wsgi.py for the web: what a worker holds for as long as it runs (Django, the
    task modules, the views an address is reversed through) is frozen once the worker is made."""
    script = (
        "import gc, sys; from config.celery import app; before = gc.get_freeze_count(); "
        "worker = app.Worker(pool_cls='solo', quiet=True); "
        "print(before, gc.get_freeze_count(), 'publishing.views.posts' in sys.modules, "
        "'publishing.tasks' in sys.modules)"
    )
    test_only = {"EMAIL_BACKEND", "DJANGO_ALLOW_ASYNC_UNSAFE", "CACHE_KEY_PREFIX", "DATABASE_CONN_MAX_AGE"}
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in test_only}
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        cwd=ROOT,
        env={**clean, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    before, frozen, views_loaded, tasks_loaded = result.stdout.split()
    assert int(before) < 1_000  # nothing of ours frozen by importing the app (the web process imports it too)
    assert int(frozen) > 50_000
    assert (views_loaded, tasks_loaded) == ("True", "True")
