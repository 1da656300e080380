"""Remove the reporter's and the person's data from reports decided longer ago than the retention period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from iiz.frontdoor.services import reports_retention_apply


class Command(BaseCommand):
    help = "Purge the personal data of decided early-detection reports after the 'reporter' retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="Run as of this day.")

    def handle(self, *args: Any, **options: Any) -> None:
        purged = reports_retention_apply(today=options["date"] or timezone.localdate())
        self.stdout.write(f"reports purged: {purged}")
