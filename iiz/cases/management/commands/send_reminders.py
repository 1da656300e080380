"""Run the daily reminder job now (Celery beat runs it every morning in production)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from iiz.cases.reminders import reminders_send


class Command(BaseCommand):
    help = "Notify owners of overdue agreements, measures, information requests and due follow-ups."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date", type=dt.date.fromisoformat, default=None, help="Run as of this day (YYYY-MM-DD); default today."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = reminders_send(today=options["date"] or timezone.localdate())
        if not counts:
            self.stdout.write("Nothing overdue or due.")
        for kind, number in sorted(counts.items()):
            self.stdout.write(f"{kind}: {number}")
