"""The base class of every Celery task of the platform: a task sent through the outbox runs under its claim."""

from __future__ import annotations

from typing import Any

from celery import Task


class OutboxTask(Task):
    """Runs a task that came through the outbox once per message, with a heartbeat and a recorded outcome.

    Tasks sent otherwise (Celery beat's periodic jobs, a direct call) run as usual.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from iiz.outbox.services import message_id_of, outbox_run

        message_id = message_id_of(self.request.id)
        if message_id is None:
            return Task.__call__(self, *args, **kwargs)
        return outbox_run(
            message_id=message_id,
            run=lambda: Task.__call__(self, *args, **kwargs),
            heartbeat=not self.request.is_eager,
        )
