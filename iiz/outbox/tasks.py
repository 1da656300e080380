"""The dispatcher, run by Celery beat every few seconds."""

from __future__ import annotations

from celery import shared_task

from iiz.outbox.services import outbox_dispatch as dispatch


@shared_task(name="iiz.outbox.tasks.outbox_dispatch", ignore_result=True)
def outbox_dispatch() -> dict[str, int]:
    """Hand over the outbox's due messages and run again those whose worker died."""
    result = dispatch()
    return {"sent": result.sent, "requeued": result.requeued, "failed": result.failed}
