"""Check the audit trail's hash chain; exit non-zero and name the first broken entry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from iiz.audit.models import AuditEvent
from iiz.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify that no audit entry was altered or removed (hash chain)."

    def handle(self, *args: Any, **options: Any) -> None:
        first_break = next(audit_chain_verify(), None)
        if first_break is not None:
            raise CommandError(f"audit chain broken at entry {first_break.event_id}: {first_break.reason}")
        self.stdout.write(f"audit chain intact: {AuditEvent.objects.count()} entries verified")
