"""Production settings: `check --deploy` is clean, and missing configuration fails loudly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "SECRET_KEY": "k" * 60 + "-production-like-secret-for-the-check",
    "ENCRYPTION_KEYS": "pb-Vvt2K0lqS4UwYvnhl6RW4xkMSoQPBjnumiLgD3uU=",
    "PUBLIC_BASE_URL": "https://innspill.example.no",
    "ALLOWED_HOSTS": "innspill.example.no",
    "DATABASE_URL": "postgresql://innspill@127.0.0.1:5432/innspill",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
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
