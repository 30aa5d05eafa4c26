"""Deployment checks (`manage.py check --deploy`): nothing of the demo may reach production.

docker-compose.yml starts with no setup because it carries demo values for the
secrets and prints mail to the log; anyone who has the file has those secrets.
A deployment that kept one of them fails the check.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

# The demo defaults in docker-compose.yml (tests/test_settings.py checks that they are still the file's).
COMPOSE_DEMO_SECRET_KEY = "demo-only-insecure-secret-key-K6kod0wkYEIwi9CPRRX6oa0Bch84DEN9ROZ"  # noqa: S105 - the known one, refused
COMPOSE_DEMO_ENCRYPTION_KEY = "pb-Vvt2K0lqS4UwYvnhl6RW4xkMSoQPBjnumiLgD3uU="


@register(Tags.security, deploy=True)
def check_demo_secrets(**kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if settings.SECRET_KEY == COMPOSE_DEMO_SECRET_KEY:
        errors.append(
            Error(
                "SECRET_KEY is docker-compose.yml's demo key: anyone with the file can forge sessions "
                "and password-reset links.",
                hint="Set SECRET_KEY (or SECRET_KEY_FILE) to a long random value of this deployment's own.",
                id="innspill.E001",
            )
        )
    if COMPOSE_DEMO_ENCRYPTION_KEY in settings.ENCRYPTION_KEYS:
        errors.append(
            Error(
                "ENCRYPTION_KEYS holds docker-compose.yml's demo key: anyone with the file can read the "
                "Instagram tokens it encrypts.",
                hint="Put a new key first (`make key`), run `manage.py reencrypt_tokens`, then drop the demo key.",
                id="innspill.E002",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def check_mail_backend(**kwargs: Any) -> list[CheckMessage]:
    # Settings already refuse the outbox without DEBUG; the console backend
    # writes invitation and password-reset links into the log and delivers nothing.
    if settings.EMAIL_BACKEND_NAME in ("console", "outbox") and not settings.DEBUG:
        return [
            Error(
                f"EMAIL_BACKEND={settings.EMAIL_BACKEND_NAME} is for development: nobody receives their invitation, "
                "and the links that log people in are readable by whoever reads the log or the page.",
                hint="Use EMAIL_BACKEND=smtp with EMAIL_HOST and its account.",
                id="innspill.E003",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_client_address(**kwargs: Any) -> list[CheckMessage]:
    if (
        settings.BEHIND_PROXY
        and not settings.ALLAUTH_TRUSTED_PROXY_COUNT
        and not settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER
    ):
        return [
            Warning(
                "BEHIND_PROXY is true but neither TRUSTED_PROXY_COUNT nor CLIENT_IP_HEADER is set: the per-address "
                "login limit sees only the proxy's address, so a few wrong passwords from anyone lock out everyone.",
                hint="Set TRUSTED_PROXY_COUNT to the number of proxies in front (1 for one load balancer), or "
                "CLIENT_IP_HEADER to the header your proxy sets; without a proxy, set BEHIND_PROXY=false.",
                id="innspill.W001",
            )
        ]
    return []
