"""Security headers: the Content Security Policy on every kind of page, and HSTS and secure cookies in production.

The CSP is Django's built-in one (config/settings.py: SECURE_CSP, no
'unsafe-inline' anywhere). A policy without 'unsafe-inline' only holds if
the pages need none, so every page of the access matrix is also read for
inline scripts, style attributes and event-handler attributes, which the
browser would block.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import World, client_for
from tests.publishing.workers import _database_url
from tests.reliability.test_access_matrix import MATRIX, OK, home_things, url_for
from tests.reliability.test_hostile_input import text_of
from tests.test_settings import PRODUCTION

ROOT = Path(__file__).resolve().parents[2]


class InlineCode(HTMLParser):
    """What a strict CSP would block: <script> with a body, style="…", on…="…", javascript: links."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        attrs = dict(attributes)
        if tag == "script":
            self.in_script = "src" not in attrs and attrs.get("type") not in ("application/json", "importmap")
        for name, value in attributes:
            if name == "style":
                self.found.append(f"<{tag} style=…>")
            elif name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            elif name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.found.append("<script> with inline code")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        if part.strip():
            name, *values = part.split()
            directives[name] = values
    return directives


@pytest.mark.django_db
def test_every_page_has_the_strict_policy_and_needs_nothing_inline(world: World) -> None:
    things = home_things(world)
    things.scheduled_post, things.consent, things.slot, things.signup  # noqa: B018 - made now, for their pages
    clients = {"coordinator": client_for(world.coordinator), "librarian": client_for(world.librarian)}
    clients["anonymous"] = Client()
    checked, problems = 0, []
    for route, rows in MATRIX.items():
        for row in rows:
            if row.method != "get":
                continue
            url = url_for(route, row, things)
            for role, client in clients.items():
                response = client.get(url)
                header = response.get("Content-Security-Policy", "")
                if not header:
                    problems.append(f"{url} as {role}: no Content-Security-Policy")
                    continue
                if "unsafe-inline" in header or "unsafe-eval" in header:
                    problems.append(f"{url} as {role}: {header}")
                directives = csp_directives(header)
                if response.get("Content-Type", "").startswith("text/html"):
                    checked += 1
                    if directives.get("script-src") != ["'self'"] or directives.get("object-src") != ["'none'"]:
                        problems.append(f"{url} as {role}: {header}")
                    if directives.get("frame-ancestors") != ["'none'"]:
                        problems.append(f"{url} as {role}: may be framed")
                    if response.status_code == 200 and row.expect[role] == OK:
                        parser = InlineCode()
                        parser.feed(text_of(response))
                        problems += [f"{url} as {role}: {found}" for found in sorted(set(parser.found))]
    assert not problems, "\n".join(problems)
    assert checked > 150  # pages of every kind: lists, details, forms, calendars, the login, 403s and 404s


@pytest.mark.django_db
def test_error_pages_carry_the_policy_too(world: World) -> None:
    client = client_for(world.librarian)
    for url, status in (("/no-such-page/", 404), ("/libraries/", 403), ("/posts/999999/", 404)):
        response = client.get(url)
        assert response.status_code == status
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_every_page_a_logged_in_person_gets_is_kept_by_no_cache(world: World) -> None:
    """`Cache-Control: private, no-store` on what is shown to someone logged in (libraries.middleware): no
    shared proxy serves it to the next person, no browser keeps it on a shared library computer."""
    things = home_things(world)
    things.scheduled_post, things.consent, things.slot, things.signup  # noqa: B018 - made now, for their pages
    clients = {"coordinator": client_for(world.coordinator), "librarian": client_for(world.librarian)}
    checked, problems = 0, []
    for route, rows in MATRIX.items():
        for row in rows:
            if row.method != "get" or route == "accounts/logout/":  # logging out ends being logged in
                continue
            url = url_for(route, row, things)
            for role, client in clients.items():
                response = client.get(url)
                directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
                if response.get("Content-Type", "").startswith("text/html") or response.status_code in (301, 302):
                    checked += 1
                    if not {"private", "no-store"} <= directives:
                        problems.append(f"{url} as {role}: Cache-Control {response.get('Cache-Control')!r}")
                elif not directives & {"private", "no-store"}:
                    # Files and feeds set their own, but never one a shared cache may keep.
                    problems.append(f"{url} as {role}: Cache-Control {response.get('Cache-Control')!r}")
    assert not problems, "\n".join(problems)
    assert checked > 200


@pytest.mark.django_db
def test_a_response_that_sets_its_own_cache_control_keeps_it(world: World) -> None:
    things = home_things(world)
    response = client_for(world.coordinator).get(f"/plan/feed/{things.feed_token}.ics")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"  # never_cache's


PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
# collectstatic does not run for tests: plain static storage instead of the manifest (as tests/conftest.py does).
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
client = Client()
plain = client.get("/accounts/login/")
secure = client.get("/accounts/login/", secure=True)
health = client.get("/healthz")
print(json.dumps({
    "session_cookie": [
        settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY, settings.SESSION_COOKIE_SAMESITE
    ],
    "plain": [plain.status_code, plain.get("Location", "")],
    "health": health.status_code,
    "hsts": secure.get("Strict-Transport-Security", ""),
    "csp": secure.get("Content-Security-Policy", ""),
    "cookies": {name: {"secure": bool(m["secure"]), "httponly": bool(m["httponly"]), "samesite": m["samesite"]}
                for name, m in secure.cookies.items()},
}))
"""


@pytest.mark.django_db
def test_production_settings_redirect_to_https_send_hsts_and_secure_cookies() -> None:
    """With only what production sets (no DEBUG, no test overrides): what a browser gets over HTTP and HTTPS."""
    test_only = {"EMAIL_BACKEND", "DJANGO_ALLOW_ASYNC_UNSAFE", "CACHE_KEY_PREFIX", "DATABASE_CONN_MAX_AGE"}
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION and key not in test_only and not key.startswith(("SECURE_", "DEBUG"))
    }
    env = (
        clean
        | PRODUCTION
        | {
            "DATABASE_URL": _database_url(),
            "REDIS_URL": os.environ["REDIS_URL"],
            "ALLOWED_HOSTS": "testserver",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["plain"] == [301, "https://testserver/accounts/login/"]
    assert seen["health"] in (200, 503)  # /healthz answers over plain HTTP, for the load balancer
    assert seen["hsts"] == "max-age=31536000; includeSubDomains"
    assert "unsafe-inline" not in seen["csp"]
    assert seen["cookies"]["csrftoken"]["secure"]
    assert seen["cookies"]["csrftoken"]["samesite"] == "Lax"
    assert seen["session_cookie"] == [True, True, "Lax"]  # set at login, with these flags
