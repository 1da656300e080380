"""Hand over the outbox's due background work now (Celery beat does this every few seconds in production)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from iiz.outbox.services import outbox_backlog, outbox_dispatch


class Command(BaseCommand):
    help = "Hand the due background work of the outbox to the Celery broker; run again work whose worker died."

    def handle(self, *args: Any, **options: Any) -> None:
        result = outbox_dispatch()
        backlog = outbox_backlog()
        self.stdout.write(
            f"sent {result.sent}, run again {result.requeued}, failed {result.failed}"
            f"{' (broker unreachable)' if result.broker_down else ''}; "
            f"waiting {backlog.waiting} (oldest {backlog.oldest_seconds} s), failed in all {backlog.failed}"
        )
