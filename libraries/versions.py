"""Version numbers that move whenever what a cached value was computed from changes.

A value is cached with the versions it was computed under, read before the
data (`kept_value`: a person's access, the county's libraries, the channel
pages show; publishing.archive.search's counts and pages); a write moves the
versions (`move_versions`), so a value computed from older data never matches
again. Never a time-based expiry that shows stale data after a write.

One version, DATA_VERSION, follows every write to the database, whichever code
or process makes it (a QuerySet.update() as much as a save(), the worker's as
much as the web's): `install_data_version` wraps every statement Django runs.
Values read from many tables (the home's cards) are kept under it with
`kept_while_unchanged`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from django.core.cache import cache
from django.db import connection as default_connection
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)


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


# --- The data version: moved by every write to the database ---

DATA_VERSION = "data:version"
# Statements that change no row. Anything else (INSERT, UPDATE, DELETE, TRUNCATE, a schema change, a
# statement Django did not write) is taken to change what a kept value shows.
_READS = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "BEGIN", "SET ", "SHOW", "EXPLAIN")
# Written as people use the site, and shown by no page: a login or a language chosen moves nothing.
_NOT_SHOWN = ('"django_session"',)
_move_owed = False  # a move that could not reach the cache: made before anything is read from it again


def move_data_version() -> None:
    """Move DATA_VERSION. Never an error for the write that moved it (the row is written, or will be at the
    commit): with the cache out of reach the move is owed, and made before the cache is read again."""
    global _move_owed
    try:
        cache.set(DATA_VERSION, uuid.uuid4().hex, timeout=None)  # a value it never had: one round trip
    except Exception:  # the cache's own errors (redis-py's), which Django does not name
        logger.warning("The data version could not be moved; it will be before the cache is read.", exc_info=True)
        _move_owed = True
    else:
        _move_owed = False


_ROWS = ("INSERT", "UPDATE", "DELETE")  # whose row count says whether they changed anything


def _writes(sql: Any, rowcount: int) -> bool:
    """Whether the statement that ran may have changed what a page shows: an UPDATE that matched no row (the
    beat's ticks look for work every minute) or an INSERT … ON CONFLICT DO NOTHING that met one did not."""
    if not isinstance(sql, str):
        return True
    head = sql[:64].lstrip()
    statement = head.upper()
    if statement.startswith(_READS) or any(table in head for table in _NOT_SHOWN):
        return False
    return not (rowcount == 0 and statement.startswith(_ROWS))


def writes_pending(connection: BaseDatabaseWrapper = default_connection) -> bool:
    """Whether the connection's transaction has written rows nobody else sees yet (the version moves at
    its commit): what it reads now is its own, and kept for no one."""
    return connection.in_atomic_block and any(
        entry[1] is move_data_version  # (savepoints, function, robust)
        for entry in connection.run_on_commit
    )


def _move_on_write(execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]) -> Any:
    result = execute(sql, params, many, context)
    if _writes(sql, getattr(context["cursor"], "rowcount", -1)):
        connection = context["connection"]
        if not connection.in_atomic_block:  # committed as it ran (autocommit)
            move_data_version()
        elif not writes_pending(connection):  # once a transaction, when others can see it; gone at a rollback
            connection.on_commit(move_data_version)
    return result


def install_data_version(connection: BaseDatabaseWrapper, **_: Any) -> None:
    """On every new connection (libraries/apps.py connects it to `connection_created`)."""
    if _move_on_write not in connection.execute_wrappers:
        connection.execute_wrappers.append(_move_on_write)


def kept_while_unchanged[T](key: str, compute: Callable[[], T], *, seconds: int) -> T:
    """`compute()`'s value kept until the next write to the database (DATA_VERSION), or for `seconds`.

    A transaction that has written reads rows no one else sees yet: it computes the value and keeps it for no
    one. A reader meanwhile computes from the rows before the commit, under the version before it, which the
    commit moves on."""
    if writes_pending():
        return compute()
    if _move_owed:
        move_data_version()
    return kept_value(key, [DATA_VERSION], compute, seconds=seconds)
