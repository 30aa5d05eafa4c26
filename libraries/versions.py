"""Version numbers that move whenever what a cached value was computed from changes.

A value is cached with the versions it was computed under, read before the
data (`kept_value`: a person's access, the county's libraries, the channel
pages show; publishing.archive.search's counts and pages); a write moves the
versions (`move_versions`), so a value computed from older data never matches
again. Never a time-based expiry that shows stale data after a write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import cast

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


def kept_value[T](
    key: str,
    versions: Sequence[str],
    compute: Callable[[], T],
    *,
    seconds: int,
    fresh: Callable[[T], bool] = lambda _value: True,
) -> T:
    """The value kept under `key` when it was computed under the current `versions` (and is still `fresh`);
    else `compute()`, kept with the versions read before it. One cache round trip when it is kept."""
    found = cache.get_many([*versions, key])
    current = tuple(found.get(version, 0) for version in versions)
    kept = found.get(key)
    if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == current and fresh(kept[1]):
        return cast(T, kept[1])
    value = compute()
    cache.set(key, (current, value), seconds)
    return value
