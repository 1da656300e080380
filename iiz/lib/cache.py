"""A Redis cache that an unreachable Redis turns into an empty cache instead of an error page.

The cache holds nothing that must not be lost: API rate-limit counters and the progress of an import. When
Redis is down, reads miss and writes are dropped, the first failure is logged once for the outage, and
Redis is left alone for a few seconds before it is tried again, so that every request does not wait for
the connect timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

T = TypeVar("T")
PAUSE_SECONDS = 5.0
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class _Outage:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.since: float | None = None
        self.paused_until = 0.0

    def failed(self, error: BaseException) -> None:
        with self.lock:
            now = time.monotonic()
            self.paused_until = now + PAUSE_SECONDS
            if self.since is None:
                self.since = now
                logger.warning("Cache (Redis) unreachable (%s); the platform runs without it", error)

    def succeeded(self) -> None:
        if self.since is None:
            return
        with self.lock:
            if self.since is not None:
                logger.warning("Cache (Redis) reachable again after %.0f s", time.monotonic() - self.since)
            self.since = None

    def paused(self) -> bool:
        return time.monotonic() < self.paused_until


outage = _Outage()


def _tolerant(call: Callable[[], T], fallback: T) -> T:
    if outage.paused():
        return fallback
    try:
        result = call()
    except _UNREACHABLE as error:
        outage.failed(error)
        return fallback
    outage.succeeded()
    return result


class TolerantRedisCache(RedisCache):
    """Django's Redis cache, answering like an empty cache while Redis is unreachable."""

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return _tolerant(lambda: super(TolerantRedisCache, self).get(key, default, version), default)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return _tolerant(lambda: super(TolerantRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return _tolerant(lambda: super(TolerantRedisCache, self).has_key(key, version), False)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        return _tolerant(lambda: super(TolerantRedisCache, self).add(key, value, timeout, version), False)

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        _tolerant(lambda: super(TolerantRedisCache, self).set(key, value, timeout, version), None)

    def set_many(self, data: dict[Any, Any], timeout: Any = None, version: int | None = None) -> list[Any]:
        return _tolerant(lambda: super(TolerantRedisCache, self).set_many(data, timeout, version), list(data))

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        return _tolerant(lambda: super(TolerantRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return _tolerant(lambda: super(TolerantRedisCache, self).delete(key, version), False)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        _tolerant(lambda: super(TolerantRedisCache, self).delete_many(keys, version), None)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # Without Redis there is no counter to count on; a miss is what callers already handle.
        result: int | None = _tolerant(lambda: super(TolerantRedisCache, self).incr(key, delta, version), None)
        if result is None:
            raise ValueError(f"Key '{key}' not found (cache unreachable)")
        return result

    def clear(self) -> None:
        _tolerant(lambda: super(TolerantRedisCache, self).clear(), None)
