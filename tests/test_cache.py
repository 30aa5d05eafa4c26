"""The cache backend (config/cache.py): Django's Redis cache, one redis-py client per connection pool."""

from __future__ import annotations

import redis
from django.conf import settings
from django.core.cache import cache


def test_every_operation_shares_one_client() -> None:
    client = cache._cache.get_client()  # type: ignore[attr-defined]
    cache.set("shared", 1)
    cache.incr("shared")
    assert cache.get_many(["shared"]) == {"shared": 2}
    assert cache._cache.get_client(write=True) is client  # type: ignore[attr-defined]


def test_a_connection_redis_dropped_is_opened_again() -> None:
    """Redis restarted, or a connection killed by an operator: the next operation still answers."""
    cache.set("before", "kept")
    client = cache._cache.get_client()  # type: ignore[attr-defined]
    own = client.client_id()
    redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).client_kill_filter(_id=own)
    assert cache.get("before") == "kept"
    assert client.client_id() != own
