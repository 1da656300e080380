"""Writing, handing over, claiming and sweeping the outbox (see the package's docstring)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from iiz.outbox.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

TASK_ID_PREFIX = "outbox-"
# A task that raised runs again after these waits; after the last one it has failed for good.
RETRY_BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30))
# A message that no worker has claimed this long after it was handed over is handed over again (the broker
# may have lost it), each time after twice the wait, at most every six hours, at most this often.
RESEND_FIRST = dt.timedelta(minutes=10)
RESEND_MAX = dt.timedelta(hours=6)
MAX_SENDS = 12
# After a failed hand-over the web process leaves the broker alone this long; the dispatcher takes over.
BROKER_PAUSE_SECONDS = 15.0


def max_attempts() -> int:
    return len(RETRY_BACKOFF) + 1


def stall_seconds() -> int:
    """A running task whose heartbeat is older than this has lost its worker."""
    return int(getattr(settings, "IIZ_OUTBOX_STALL_SECONDS", 120))


def heartbeat_seconds() -> float:
    return float(getattr(settings, "IIZ_OUTBOX_HEARTBEAT_SECONDS", 15))


def _celery() -> Any:
    from iiz.celery import app

    return app


def runs_inline() -> bool:
    """Tasks run in the process that commits (the embedded demo and the tests), not in a worker."""
    return bool(_celery().conf.task_always_eager)


# ---------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------


def outbox_enqueue(
    *,
    task: str,
    args: Sequence[Any] = (),
    kwargs: dict[str, Any] | None = None,
    on_failure: str = "",
    delay: dt.timedelta | None = None,
) -> OutboxMessage:
    """Record background work in the current transaction; it is handed to a worker after the commit.

    ``task`` is the Celery name of the task (``"iiz.cases.tasks.meeting_send_invitations"``); ``args`` and
    ``kwargs`` must be JSON (ids, not records or personal data). ``on_failure`` names a task that takes the
    same arguments and runs once the work has failed for good, to tell the user. The task must be idempotent:
    it may run again after a worker was lost.
    """
    now = timezone.now()
    message = OutboxMessage.objects.create(
        task=task,
        args=list(args),
        kwargs=kwargs or {},
        on_failure=on_failure,
        created_at=now,
        due_at=now + delay if delay else now,
    )
    if delay is None:
        message_id = message.pk
        transaction.on_commit(lambda: outbox_send(message_id), robust=True)
    return message


# ---------------------------------------------------------------------------------------------------------
# Handing over to the broker
# ---------------------------------------------------------------------------------------------------------


class _BrokerState:
    """Per process: when the broker last failed, so that an outage is logged once and not hammered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_since: float | None = None
        self.paused_until = 0.0

    def failed(self, error: BaseException) -> None:
        with self.lock:
            now = time.monotonic()
            self.paused_until = now + BROKER_PAUSE_SECONDS
            if self.down_since is None:
                self.down_since = now
                logger.warning(
                    "Celery broker unreachable (%s: %s); background work waits in the outbox",
                    type(error).__name__,
                    error,
                )

    def succeeded(self) -> None:
        with self.lock:
            if self.down_since is not None:
                logger.warning("Celery broker reachable again after %.0f s", time.monotonic() - self.down_since)
            self.down_since = None
            self.paused_until = 0.0

    def paused(self) -> bool:
        return time.monotonic() < self.paused_until


broker_state = _BrokerState()


def task_id_for(message: OutboxMessage, send: int) -> str:
    return f"{TASK_ID_PREFIX}{message.pk}-{send}"


def message_id_of(task_id: str | None) -> int | None:
    """The outbox row of a Celery task id, or None for a task that was not sent through the outbox."""
    if not task_id or not task_id.startswith(TASK_ID_PREFIX):
        return None
    number = task_id[len(TASK_ID_PREFIX) :].split("-", 1)[0]
    return int(number) if number.isdigit() else None


def _resend_wait(send: int) -> dt.timedelta:
    return min(RESEND_FIRST * (2 ** max(send - 1, 0)), RESEND_MAX)


_loaded = threading.Event()


def _tasks_loaded(app: Any) -> None:
    """Import every app's tasks module once (a worker does so at start; a process running tasks inline not)."""
    if not _loaded.is_set():
        app.autodiscover_tasks(force=True)
        _loaded.set()


def _publish(message: OutboxMessage, now: dt.datetime) -> None:
    """Hand the message to the broker (or run it here when tasks run inline). Raises when the broker is down."""
    app = _celery()
    send = message.sends + 1
    marked = OutboxMessage.objects.filter(pk=message.pk, status__in=[OutboxStatus.PENDING, OutboxStatus.SENT])
    if runs_inline():
        marked.update(status=OutboxStatus.SENT, sent_at=now, sends=send, due_at=now + _resend_wait(send))
        _tasks_loaded(app)
        app.tasks[message.task].apply(args=message.args, kwargs=message.kwargs, task_id=task_id_for(message, send))
        return
    # One quick retry re-opens a pooled connection that a broker restart has broken; a broker that is down
    # fails the hand-over within the connect timeout instead of holding the request.
    app.send_task(
        message.task,
        args=message.args,
        kwargs=message.kwargs,
        task_id=task_id_for(message, send),
        retry=True,
        retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
    )
    marked.update(status=OutboxStatus.SENT, sent_at=now, sends=send, due_at=now + _resend_wait(send))


def outbox_send(message_id: int) -> bool:
    """Hand one message over right after the commit. Never raises: what is not sent waits for the dispatcher."""
    if not runs_inline() and broker_state.paused():
        return False
    try:
        message = OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.PENDING).first()
        if message is None:
            return False
        _publish(message, timezone.now())
    except Exception as error:  # noqa: BLE001 - the change is committed; the dispatcher sends the work later
        if runs_inline():
            logger.exception("Background work %s could not run inline", message_id)
        else:
            broker_state.failed(error)
        return False
    if not runs_inline():
        broker_state.succeeded()
    return True


# ---------------------------------------------------------------------------------------------------------
# Running: the claim, the heartbeat, the outcome
# ---------------------------------------------------------------------------------------------------------


def _finally_failed(message: OutboxMessage, error: str, now: dt.datetime) -> None:
    """Mark the message failed and schedule its failure handler, in the caller's transaction."""
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.FAILED, error=error[:4000], finished_at=now, heartbeat_at=None
    )
    logger.error("Background work %s #%s failed for good: %s", message.task, message.pk, error.splitlines()[0])
    if message.on_failure:
        outbox_enqueue(task=message.on_failure, args=message.args, kwargs=message.kwargs)


def _claim(message_id: int) -> OutboxMessage | None:
    """Take the message for this run, unless it is done, failed or running in a live worker."""
    now = timezone.now()
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status in (OutboxStatus.DONE, OutboxStatus.FAILED):
            return None
        live = now - dt.timedelta(seconds=stall_seconds())
        if message.status == OutboxStatus.RUNNING and message.heartbeat_at and message.heartbeat_at >= live:
            return None
        if message.attempts >= max_attempts():
            _finally_failed(message, message.error or "no attempt left", now)
            return None
        message.status = OutboxStatus.RUNNING
        message.attempts += 1
        message.started_at = message.heartbeat_at = now
        message.save(update_fields=["status", "attempts", "started_at", "heartbeat_at"])
    return message


class _Heartbeat:
    """Beats on the message's row from its own thread, and so its own database connection, while the task runs.

    The task may hold a long transaction (an import is taken all or nothing), which would hide a heartbeat
    written on the task's own connection.
    """

    def __init__(self, message_id: int, attempt: int) -> None:
        self.message_id, self.attempt = message_id, attempt
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"outbox-heartbeat-{message_id}", daemon=True)
        self.thread.start()

    def _beat(self) -> None:
        try:
            while not self.stopped.wait(heartbeat_seconds()):
                try:
                    OutboxMessage.objects.filter(
                        pk=self.message_id, status=OutboxStatus.RUNNING, attempts=self.attempt
                    ).update(heartbeat_at=timezone.now())
                except Exception:  # noqa: BLE001 - a missed beat is harmless; the next one tries again
                    connection.close()
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)


def outbox_run(*, message_id: int, run: Callable[[], Any], heartbeat: bool) -> Any:
    """Run a task sent through the outbox: once per message, with a heartbeat, recording how it ended.

    A task that raises runs again later (``RETRY_BACKOFF``); the exception is recorded, not raised, so that
    the request that runs work inline (the demo) never fails for work that was committed.
    """
    message = _claim(message_id)
    if message is None:
        return None
    beat = _Heartbeat(message.pk, message.attempts) if heartbeat else None
    try:
        result = run()
    except Exception as error:  # noqa: BLE001 - recorded on the row and retried
        if beat is not None:
            beat.stop()
        logger.exception("Background work %s #%s raised (attempt %s)", message.task, message.pk, message.attempts)
        now = timezone.now()
        text = f"{type(error).__name__}: {error}"
        with transaction.atomic():
            if message.attempts >= max_attempts():
                _finally_failed(message, text, now)
            else:
                OutboxMessage.objects.filter(pk=message.pk, attempts=message.attempts).update(
                    status=OutboxStatus.PENDING,
                    error=text[:4000],
                    due_at=now + RETRY_BACKOFF[message.attempts - 1],
                    heartbeat_at=None,
                )
        return None
    if beat is not None:
        beat.stop()
    OutboxMessage.objects.filter(pk=message.pk, attempts=message.attempts).update(
        status=OutboxStatus.DONE, finished_at=timezone.now(), heartbeat_at=None, error=""
    )
    return result


# ---------------------------------------------------------------------------------------------------------
# The dispatcher (Celery beat, every few seconds; `manage.py outbox_dispatch` by hand)
# ---------------------------------------------------------------------------------------------------------


@dataclass
class DispatchResult:
    sent: int = 0
    requeued: int = 0
    failed: int = 0
    broker_down: bool = False


def _sweep_stalled(now: dt.datetime, limit: int, result: DispatchResult) -> None:
    """Running messages whose worker stopped beating: run them again, or fail them when no attempt is left."""
    stale = now - dt.timedelta(seconds=stall_seconds())
    ids = list(
        OutboxMessage.objects.filter(status=OutboxStatus.RUNNING, heartbeat_at__lt=stale).values_list("pk", flat=True)[
            :limit
        ]
    )
    for message_id in ids:
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update()
                .filter(pk=message_id, status=OutboxStatus.RUNNING, heartbeat_at__lt=stale)
                .first()
            )
            if message is None:
                continue
            if message.attempts >= max_attempts():
                _finally_failed(message, message.error or "the worker stopped (no heartbeat)", now)
                result.failed += 1
                continue
            logger.warning(
                "Background work %s #%s: its worker stopped (no heartbeat since %s); running it again",
                message.task,
                message.pk,
                message.heartbeat_at,
            )
            message.status, message.due_at, message.heartbeat_at = OutboxStatus.PENDING, now, None
            message.error = "the worker stopped (no heartbeat)"
            message.save(update_fields=["status", "due_at", "heartbeat_at", "error"])
            result.requeued += 1


def _due(now: dt.datetime, limit: int) -> list[int]:
    return list(
        OutboxMessage.objects.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENT], due_at__lte=now)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_dispatch(*, now: dt.datetime | None = None, limit: int = 200) -> DispatchResult:
    """Sweep messages whose worker died, then hand over what is due: new, retried, or lost by the broker."""
    now = now or timezone.now()
    result = DispatchResult()
    _sweep_stalled(now, limit, result)
    if runs_inline():
        for message in OutboxMessage.objects.filter(pk__in=_due(now, limit)).order_by("due_at", "pk"):
            if message.status == OutboxStatus.SENT and message.sends >= MAX_SENDS:
                _finally_failed(message, "never taken by a worker", now)
                result.failed += 1
                continue
            try:
                _publish(message, now)
            except Exception:  # noqa: BLE001 - recorded in the log; the row stays due
                logger.exception("Background work %s #%s could not run inline", message.task, message.pk)
                continue
            result.sent += 1
        return result
    with transaction.atomic():
        # Locked and skipped by a second dispatcher running at the same time.
        due = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENT], due_at__lte=now)
            .order_by("due_at", "pk")[:limit]
        )
        for message in due:
            if message.status == OutboxStatus.SENT and message.sends >= MAX_SENDS:
                _finally_failed(message, "never taken by a worker", now)
                result.failed += 1
                continue
            try:
                _publish(message, now)
            except Exception as error:  # noqa: BLE001 - the broker is down; the next run tries again
                broker_state.failed(error)
                result.broker_down = True
                break
            result.sent += 1
    if result.sent and not result.broker_down:
        broker_state.succeeded()
    return result


# ---------------------------------------------------------------------------------------------------------
# For /readyz and the operators
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Backlog:
    waiting: int
    oldest_seconds: int
    failed: int


def outbox_backlog(*, now: dt.datetime | None = None) -> Backlog:
    """Messages due but not yet taken by a worker, how long the oldest has waited, and the failed ones."""
    now = now or timezone.now()
    waiting = OutboxMessage.objects.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENT], due_at__lte=now)
    summary = waiting.aggregate(oldest=Min("due_at"))
    oldest = summary["oldest"]
    return Backlog(
        waiting=waiting.count(),
        oldest_seconds=int((now - oldest).total_seconds()) if oldest else 0,
        failed=OutboxMessage.objects.filter(status=OutboxStatus.FAILED).count(),
    )


def broker_ping(*, timeout: float = 0.5) -> bool | None:
    """Whether the Celery broker answers; None when tasks run inline (there is no broker)."""
    if runs_inline():
        return None
    url = str(_celery().conf.broker_url or "")
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.exceptions.RedisError, OSError):
        return False
    finally:
        client.close()
