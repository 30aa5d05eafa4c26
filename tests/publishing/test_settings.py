"""Publishing's settings fail loudly when they cannot work together."""

from pathlib import Path

import pytest

from tests.test_settings import PRODUCTION, manage


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"INSTAGRAM_APP_ID": "123"}, "INSTAGRAM_APP_SECRET"),
        ({"INSTAGRAM_APP_SECRET": "s"}, "INSTAGRAM_APP_SECRET"),
        ({"PUBLISH_TASK_TIME_LIMIT": "600", "PUBLISH_LEASE_SECONDS": "600"}, "PUBLISH_LEASE_SECONDS"),
        ({"PUBLISH_RETRY_MAX_SECONDS": "5000"}, "PUBLISH_RETRY_MAX_SECONDS"),
    ],
    ids=["app-id-alone", "secret-alone", "lease-not-longer-than-the-time-limit", "retry-cap-near-visibility"],
)
def test_settings_that_cannot_work_together_are_refused(env: dict[str, str], named: str) -> None:
    result = manage("check", env=PRODUCTION | env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_the_app_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "app_secret"
    secret.write_text("meta-app-secret\n")

    result = manage("check", env=PRODUCTION | {"INSTAGRAM_APP_ID": "123", "INSTAGRAM_APP_SECRET_FILE": str(secret)})

    assert result.returncode == 0, result.stderr
