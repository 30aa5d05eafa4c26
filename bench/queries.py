"""SQL queries per page, and where a request's time goes, counted in-process with Django's test client.

A page whose count differs between scales runs queries per row (N+1).
Each page is requested once before counting, so one-off work such as
filling the session cache does not count; the figure is the steady state
a logged-in coordinator sees.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from libraries.models import User
from libraries.versions import move_data_version


def _client(user: User) -> Client:
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    return client


def count_queries(
    user: User, paths: list[str], *, anonymous: frozenset[str] = frozenset(), after_write: bool = False
) -> dict[str, int]:
    """Queries each path runs for this user (the `anonymous` paths without logging in); any status but 200 is
    an error, not a figure. `after_write`: as the first request after a write to the database, when nothing
    kept under the data version (libraries.versions: the home's cards, the report) is used."""
    logged_in, nobody = _client(user), Client(SERVER_NAME="127.0.0.1")
    counts: dict[str, int] = {}
    for path in paths:
        client = nobody if path in anonymous else logged_in
        client.get(path)
        if after_write:
            move_data_version()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}, not 200; the count would be wrong.")
        counts[path] = len(captured.captured_queries)
    return counts


def request_costs(
    user: User, paths: list[str], *, repeat: int = 30, anonymous: frozenset[str] = frozenset()
) -> dict[str, dict[str, float]]:
    """Per path, one request at a time in this process: its milliseconds, and how many of them were spent
    waiting for PostgreSQL (sending the queries and reading the rows); the rest is Python (ORM, templates,
    middleware). The paths take turns, so that a busy machine slows them alike; medians of `repeat`. Then
    each path is requested as the first request after a write (the data version moved before it, so nothing
    kept under it is used): `after_write_ms`."""
    logged_in, nobody = _client(user), Client(SERVER_NAME="127.0.0.1")
    waited: list[float] = []

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited.append(time.perf_counter() - started)

    totals: dict[str, list[float]] = {path: [] for path in paths}
    database: dict[str, list[float]] = {path: [] for path in paths}
    after_write: dict[str, list[float]] = {path: [] for path in paths}
    for path in paths:
        (nobody if path in anonymous else logged_in).get(path)
    with connection.execute_wrapper(timed):
        for _ in range(repeat):
            for path in paths:
                client = nobody if path in anonymous else logged_in
                waited.clear()
                started = time.perf_counter()
                client.get(path)
                totals[path].append((time.perf_counter() - started) * 1000)
                database[path].append(sum(waited) * 1000)
    # After the steady rounds: a move of the version leaves every page's kept part behind, not only the next's.
    for _ in range(repeat):
        for path in paths:
            client = nobody if path in anonymous else logged_in
            move_data_version()
            started = time.perf_counter()
            client.get(path)
            after_write[path].append((time.perf_counter() - started) * 1000)
    return {
        path: {
            "ms": round(statistics.median(totals[path]), 2),
            "database_ms": round(statistics.median(database[path]), 2),
            "after_write_ms": round(statistics.median(after_write[path]), 2),
        }
        for path in paths
    }
