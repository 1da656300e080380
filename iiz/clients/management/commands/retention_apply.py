"""Apply the retention periods: remove expired case content, anonymise expired persons (daily job)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from iiz.clients.retention import retention_apply


class Command(BaseCommand):
    help = "Remove or anonymise what has expired after case closure; records what it did."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="Run as of this day.")

    def handle(self, *args: Any, **options: Any) -> None:
        summary = retention_apply(today=options["date"] or timezone.localdate())
        for key, value in sorted(summary.items()):
            self.stdout.write(f"{key}: {value}")
