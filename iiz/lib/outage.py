"""A database that cannot be reached is an outage, answered with 503 and a Retry-After, and logged once.

During an outage every request fails the same way; a traceback per request (thousands in a minute) would
bury everything else in the log. The first failure of an episode is logged as one line, with the error's
first line; the next failures are only counted, and the episode's end is logged with that count. Episodes
are kept per process; with the cache (Redis) reachable, only one process of the instance logs the start.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import InterfaceError, OperationalError

logger = logging.getLogger("iiz.outage")

RETRY_AFTER_SECONDS = 30
# Failures further apart than this belong to two episodes.
EPISODE_GAP_SECONDS = 60.0


def is_database_outage(error: BaseException | None) -> bool:
    """The database refused, dropped or timed out the connection (or the query), rather than a bug."""
    return isinstance(error, OperationalError | InterfaceError)


class _Episode:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: float | None = None
        self.last = 0.0
        self.failures = 0

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        with self.lock:
            if self.started is not None and now - self.last > EPISODE_GAP_SECONDS:
                self._ended(self.last)
            self.last = now
            self.failures += 1
            if self.started is not None:
                return
            self.started = now
        if _first_in_instance():
            message = str(error).strip().splitlines()[0] if str(error).strip() else ""
            logger.error(
                "Database unavailable (%s: %s); answering 503 until it is back", type(error).__name__, message[:300]
            )

    def succeeded(self) -> None:
        if self.started is None:
            return
        with self.lock:
            if self.started is not None:
                self._ended(time.monotonic())

    def _ended(self, at: float) -> None:
        logger.warning(
            "Database available again after %.0f s; %d requests were answered 503", at - (self.started or at),
            self.failures,
        )
        self.started, self.failures = None, 0


def _first_in_instance() -> bool:
    """Whether this process is the first of the instance to see the outage (True when the cache cannot say)."""
    try:
        from django.core.cache import cache

        added = cache.add("iiz:database-outage", 1, timeout=int(EPISODE_GAP_SECONDS))
    except Exception:  # noqa: BLE001 - without the cache each process logs its own episode
        return True
    # The tolerant cache answers False when Redis is down too: then each process logs.
    return bool(added) or not _cache_reachable()


def _cache_reachable() -> bool:
    from iiz.lib.cache import outage as cache_outage

    return cache_outage.since is None


episode = _Episode()


def database_outage_record(error: BaseException) -> None:
    episode.failed(error)


def database_recovered() -> None:
    episode.succeeded()
