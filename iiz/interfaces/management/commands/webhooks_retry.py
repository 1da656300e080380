"""Send the webhook deliveries that are due now (Celery beat does this every minute in production)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from iiz.interfaces.webhooks import webhooks_retry_due


class Command(BaseCommand):
    help = "Attempt every pending webhook delivery whose next attempt is due."

    def handle(self, *args: Any, **options: Any) -> None:
        attempted = webhooks_retry_due()
        self.stdout.write(f"Webhook deliveries attempted: {attempted}")
