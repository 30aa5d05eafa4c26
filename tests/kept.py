"""Pages kept for everyone of a role (libraries.http.kept_part): read as a second person of that role.

The tests that use these write outside a transaction (django_db(transaction=True)): a transaction that has
written keeps nothing for anyone, so only committed rows are kept.
"""

from __future__ import annotations

import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from libraries.http import CSRF_STAND_IN
from libraries.models import Library, Role
from tests.conftest import World, enable_mfa
from tests.factories.libraries import MembershipFactory, UserFactory


def colleague(world: World, role: Role, name: str, *, library: Library | None = None) -> Client:
    """Another person with `role` at `library` (the county library unless said; with a second factor: editors
    need one), whose client checks CSRF tokens as the site checks a browser's."""
    user = UserFactory(name=name)
    MembershipFactory(user=user, library=library or world.county_library, role=role)
    enable_mfa(user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def kept_page(client: Client, path: str) -> str:
    """The page as kept: asked for once (kept then, if nothing was yet), and again with none of its own
    queries (the session's and the user's at most), its forms carrying the reader's own CSRF token."""
    client.get(path)
    with CaptureQueriesContext(connection) as kept:
        page = client.get(path).text
    assert len(kept.captured_queries) <= 2, [query["sql"][:80] for query in kept.captured_queries]
    assert CSRF_STAND_IN not in page
    return page


def form_token(page: str) -> str:
    """The CSRF token the forms of the page's main part carry (the same in each)."""
    [token] = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.split('id="main"')[1]))
    return token
