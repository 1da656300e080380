"""Ship the audit trail to a separate store: one JSON-lines file per day.

Run daily (cron or Celery beat) with the previous day; the files are written to a directory that the
operators mount from the separate log store. Existing files are rewritten identically, so a rerun is safe.
Each line carries the entry's keyed MAC and its seal (number and chain value; empty while not yet sealed).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from iiz.audit.models import AuditEvent, AuditSeal


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


class Command(BaseCommand):
    help = "Write the audit entries of one day (default: yesterday) as JSON lines to DIRECTORY/audit-YYYY-MM-DD.jsonl."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        day = options["date"] or timezone.localdate() - dt.timedelta(days=1)
        start, end = _day_bounds(day)
        directory: Path = options["directory"]
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"audit-{day.isoformat()}.jsonl"
        partial = target.with_suffix(".jsonl.partial")
        count = 0
        with partial.open("w", encoding="utf-8") as handle:
            rows = AuditEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end).order_by("id")
            last_id = 0
            while chunk := list(rows.filter(id__gt=last_id)[:2000]):
                seals = {
                    event_id: {"seq": seq, "chain_key": kid, "chain_value": value}
                    for event_id, seq, kid, value in AuditSeal.objects.filter(
                        event_id__in=[e.pk for e in chunk]
                    ).values_list("event_id", "seq", "chain_key", "chain_value")
                }
                for event in chunk:
                    record = json.loads(event.canonical_payload())
                    record.update(
                        {
                            "id": event.pk,
                            "mac_key": event.mac_key,
                            "entry_mac": event.entry_mac,
                            "seal": seals.get(event.pk),
                        }
                    )
                    handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
                    count += 1
                last_id = chunk[-1].pk
        partial.replace(target)
        self.stdout.write(f"{count} audit entries of {day.isoformat()} written to {target}")
