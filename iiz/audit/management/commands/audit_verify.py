"""Check the audit trail against its keys and its signed checkpoints; exit non-zero naming the first break."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from iiz.audit.sealing import audit_unsealed_overdue
from iiz.audit.selectors import ChainSummary, audit_chain_verify


class Command(BaseCommand):
    help = (
        "Verify that no sealed audit entry was altered, removed, reordered or cut off (keyed chain and signed "
        "checkpoints), and that no entry waits for the sealer longer than IIZ_AUDIT_UNSEALED_MAX_SECONDS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="Start at the newest signed checkpoint instead of the first entry (run the full check weekly).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        summary = ChainSummary()
        breaks = list(audit_chain_verify(incremental=options["incremental"], summary=summary))
        overdue, oldest = audit_unsealed_overdue()
        if breaks:
            for found in breaks[1:20]:
                self.stderr.write(f"also: {found}")
            raise CommandError(f"audit trail broken at {breaks[0]} ({len(breaks)} problem(s) in all)")
        if overdue:
            raise CommandError(
                f"{overdue} audit entries have waited more than {settings.IIZ_AUDIT_UNSEALED_MAX_SECONDS} s for the "
                f"sealer (oldest: entry {oldest.pk if oldest else '?'}): is `audit_seal` running?"
            )
        self.stdout.write(
            f"audit trail intact: seals {summary.first_seq} to {summary.last_seq} verified "
            f"({summary.verified} entries, {summary.checkpoints} signed checkpoints)"
        )
