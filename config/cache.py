"""Django's Redis cache, with one redis-py client per connection pool instead of one per operation.

Django's `RedisCacheClient.get_client` makes a new `redis.Redis` for every cache
operation, and redis-py fills each new client's table of some 170 reply
handlers as it is made: about 60 µs, where the round trip to Redis on loopback
is some 130 µs. Every page reads the cache (its session, the kept parts) and
every write to the database moves the data version (libraries/versions.py), so
the worker's publishing of one post made some ten clients. A client is only the
handlers and its pool: the connections are the pool's, each taken for one
command at a time, so one client serves every thread of the process as well as
new ones did (and after a fork the pool opens new connections, as before).
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[Any, Any] = {}  # pool → its client (Django keeps each pool for the process's life)

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own private members, which django-stubs does not declare.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        if pool not in self._clients:
            self._clients[pool] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return self._clients[pool]


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` with the client above (CACHES in config/settings.py)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
