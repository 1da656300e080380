"""Reading and verifying the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from iiz.audit.models import AuditEvent


def audit_events_for_client(*, client_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(client_id=client_id).order_by("-occurred_at", "-id")


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def audit_chain_verify(*, batch_size: int = 5000) -> Iterator[ChainBreak]:
    """Walk the chain in order and yield each place where it breaks (an altered or removed entry)."""
    previous_hash = ""
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            return
        for event in batch:
            if event.previous_hash != previous_hash:
                yield ChainBreak(event.pk, "predecessor missing or altered")
            elif event.compute_hash() != event.entry_hash:
                yield ChainBreak(event.pk, "entry altered")
            previous_hash = event.entry_hash
            last_id = event.pk
