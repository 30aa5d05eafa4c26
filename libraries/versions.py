"""Version numbers that move whenever what a cached value was computed from changes.

A value is cached with the versions it was computed under, read before the
data (libraries.access.county_accesses, publishing.archive.search's counts and
pages); a write moves the versions (`move_versions`), so a value computed from
older data never matches again. Never a time-based expiry that shows stale
data after a write.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction


def move_versions(keys: Iterable[str]) -> None:
    """Move each version: now, and again after the commit (a reader that read the old rows meanwhile may have
    cached its value under the first new version)."""
    keys = list(keys)

    def move() -> None:
        for key in keys:
            try:
                cache.incr(key)
            except ValueError:  # not in the cache (yet, or any more): a number it never had will do
                cache.set(key, time.time_ns(), timeout=None)

    move()
    transaction.on_commit(move)
