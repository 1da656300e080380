"""Webhook deliveries, run after commit: by Celery workers in production, inline in the demo.

Both tasks are idempotent: a delivery is claimed before it is sent and never sent again once delivered,
so a task that runs twice (a worker restart with late acknowledgement) sends at most one request per due
attempt.
"""

from __future__ import annotations

from celery import shared_task

from iiz.interfaces import webhooks

# Workers discover only the apps' tasks modules: importing the import's jobs here registers them.
from iiz.interfaces.tasks_imports import imports_apply, imports_check

__all__ = ["imports_apply", "imports_check", "webhook_deliver", "webhooks_retry_due"]


@shared_task(name="iiz.interfaces.tasks.webhook_deliver")
def webhook_deliver(delivery_id: int) -> bool:
    """The first attempt, right after the change was committed. Retries are left to the periodic task."""
    return webhooks.webhook_deliver_now(delivery_id=delivery_id) is not None


@shared_task(name="iiz.interfaces.tasks.webhooks_retry_due")
def webhooks_retry_due() -> int:
    """Every minute (Celery beat): the deliveries whose next attempt is due."""
    return webhooks.webhooks_retry_due()
