"""The sealer: appends the audit entries to the keyed chain in batches and publishes signed checkpoints.

Requests write audit entries without reading or locking anything. One sealer at a time (a Celery beat task,
``manage.py audit_seal --loop``, or in the embedded demo inline after each commit) takes the entries that
have no seal yet, in the order of their ids, and appends a seal for each: its sequence number and its chain
value (see ``iiz.audit.chain``). Only sealers take the sealer's lock. An entry whose transaction commits
after a later entry was sealed is sealed in the next batch: the chain's order is the order of sealing.

Every ``IIZ_AUDIT_CHECKPOINT_ENTRIES`` seals or ``IIZ_AUDIT_CHECKPOINT_SECONDS`` seconds, the sealer signs
the chain's head and writes it to the checkpoint store after the seals are committed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from iiz.audit import chain
from iiz.audit.models import AuditEvent, AuditSeal

logger = logging.getLogger(__name__)

# Any fixed number: the lock that keeps two sealers apart on PostgreSQL (requests never take it).
_SEALER_LOCK_KEY = 0x11A0D18


@dataclass(frozen=True)
class SealRun:
    sealed: int
    last_seq: int
    checkpoint: chain.Checkpoint | None


def _lock_sealer() -> None:
    # SQLite serialises writers already (IMMEDIATE transactions).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEALER_LOCK_KEY])


def _unsealed(*, since: dt.datetime | None) -> list[AuditEvent]:
    pending = AuditEvent.objects.filter(~Exists(AuditSeal.objects.filter(event_id=OuterRef("pk"))))
    if since is not None:
        pending = pending.filter(occurred_at__gte=since)
    return list(pending.order_by("id")[: settings.IIZ_AUDIT_SEAL_BATCH])


@transaction.atomic
def _seal_batch(*, sweep: bool) -> tuple[int, AuditSeal | None]:
    _lock_sealer()
    last = AuditSeal.objects.order_by("-seq").first()
    # Entries are looked for among the recent ones only (an index range, not the whole table): an entry is
    # committed long before the lookback passes. `sweep` looks at the whole table; `audit_verify` reports
    # any entry left unsealed for longer than IIZ_AUDIT_UNSEALED_MAX_SECONDS.
    since = None if sweep or last is None else last.sealed_at - dt.timedelta(seconds=settings.IIZ_AUDIT_SEAL_LOOKBACK)
    events = _unsealed(since=since)
    if not events:
        return 0, last
    kid, _key = chain.current_mac_key()
    previous = last.chain_value if last else ""
    seq = last.seq if last else 0
    now = timezone.now()
    seals = []
    for event in events:
        seq += 1
        if not _mac_holds(event):
            # Sealed all the same, so that its place is fixed; verification names it as altered or forged.
            logger.error("audit entry %s does not match its MAC: altered or written outside the platform", event.pk)
        previous = chain.chain_value(kid=kid, previous=previous, seq=seq, event_id=event.pk, mac=event.entry_mac)
        seals.append(AuditSeal(seq=seq, event_id=event.pk, chain_key=kid, chain_value=previous, sealed_at=now))
    AuditSeal.objects.bulk_create(seals)
    return len(seals), seals[-1]


def _mac_holds(event: AuditEvent) -> bool:
    try:
        return chain.entry_mac(event.canonical_payload(), kid=event.mac_key)[1] == event.entry_mac
    except chain.UnknownKey:
        return False


_last_checkpoint: dict[str, tuple[int, dt.datetime]] = {}


def _checkpoint_due(head: AuditSeal, *, force: bool) -> bool:
    store = str(chain.checkpoint_dir())
    known = _last_checkpoint.get(store)
    if known is None:
        latest = chain.checkpoint_latest()
        known = (
            (latest.seq, dt.datetime.fromisoformat(latest.sealed_at))
            if latest
            else (0, dt.datetime.min.replace(tzinfo=dt.UTC))
        )
        _last_checkpoint[store] = known
    seq, at = known
    if head.seq <= seq:
        return False
    if force:
        return True
    return (
        head.seq - seq >= settings.IIZ_AUDIT_CHECKPOINT_ENTRIES
        or (timezone.now() - at).total_seconds() >= settings.IIZ_AUDIT_CHECKPOINT_SECONDS
    )


def audit_seal(*, checkpoint: bool = False, sweep: bool = False) -> SealRun:
    """Seal every entry that has none yet, in batches; write a checkpoint when one is due (or ``checkpoint``)."""
    total = 0
    head: AuditSeal | None = None
    while True:
        count, head = _seal_batch(sweep=sweep)
        total += count
        if count < settings.IIZ_AUDIT_SEAL_BATCH:
            break
    written = None
    if head is not None and _checkpoint_due(head, force=checkpoint):
        # After the commit: a checkpoint names only seals that are in the database.
        written = chain.checkpoint_write(
            seq=head.seq,
            event_id=head.event_id,
            chain=head.chain_value,
            chain_key=head.chain_key,
            sealed_at=head.sealed_at,
        )
        _last_checkpoint[str(chain.checkpoint_dir())] = (head.seq, head.sealed_at)
    return SealRun(sealed=total, last_seq=head.seq if head else 0, checkpoint=written)


def audit_unsealed_overdue() -> tuple[int, AuditEvent | None]:
    """(count, oldest) of the entries without a seal for longer than IIZ_AUDIT_UNSEALED_MAX_SECONDS."""
    limit = timezone.now() - dt.timedelta(seconds=settings.IIZ_AUDIT_UNSEALED_MAX_SECONDS)
    overdue = AuditEvent.objects.filter(
        ~Exists(AuditSeal.objects.filter(event_id=OuterRef("pk"))), occurred_at__lt=limit
    )
    return overdue.count(), overdue.order_by("occurred_at", "id").first()
