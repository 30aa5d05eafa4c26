"""SQL queries per page, counted in-process with Django's test client.

A page whose count differs between scales runs queries per row (N+1).
Each page is requested once before counting, so one-off work such as
filling the session cache does not count; the figure is the steady state
a logged-in coordinator sees.
"""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from libraries.models import User


def count_queries(user: User, paths: list[str]) -> dict[str, int]:
    """Queries each path runs for this user; any status but 200 is an error, not a figure."""
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    counts: dict[str, int] = {}
    for path in paths:
        client.get(path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}, not 200; the count would be wrong.")
        counts[path] = len(captured.captured_queries)
    return counts
