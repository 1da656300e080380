"""Reading and verifying the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet

from iiz.audit import chain
from iiz.audit.models import AuditEvent, AuditSeal


def audit_events_for_client(*, client_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(client_id=client_id).order_by("-occurred_at", "-id")


@dataclass(frozen=True)
class ChainBreak:
    """A place where the trail is not as it was sealed: the entry (if known), its seal number, and why."""

    event_id: int | None
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = []
        if self.event_id is not None:
            where.append(f"entry {self.event_id}")
        if self.seq is not None:
            where.append(f"seal {self.seq}")
        return f"{', '.join(where) or 'audit trail'}: {self.reason}"


@dataclass
class ChainSummary:
    verified: int = 0
    first_seq: int = 0
    last_seq: int = 0
    checkpoints: int = 0


def _mac_of(event: AuditEvent) -> str | None:
    try:
        return chain.entry_mac(event.canonical_payload(), kid=event.mac_key)[1]
    except chain.UnknownKey:
        return None


def audit_chain_verify(
    *, batch_size: int = 5000, incremental: bool = False, summary: ChainSummary | None = None
) -> Iterator[ChainBreak]:
    """Walk the sealed chain in order and yield each place where it breaks.

    Detected: an entry altered (its MAC), removed (its seal points at nothing), a seal removed or reordered
    (a gap in the numbers or a chain value that does not follow), a chain recomputed without the key, a chain
    that disagrees with a signed checkpoint, and a tail cut off behind the newest checkpoint. ``incremental``
    starts at the newest checkpoint (whose value must still match) instead of the first seal.
    """
    summary = summary if summary is not None else ChainSummary()
    checkpoints, unreadable = chain.checkpoints_all() if not incremental else ([], [])
    for path in unreadable:
        yield ChainBreak(None, None, f"checkpoint file {path} is unreadable")
    valid = {}
    for checkpoint in checkpoints:
        if checkpoint.signature_valid():
            valid[checkpoint.seq] = checkpoint
        else:
            yield ChainBreak(
                checkpoint.event_id, checkpoint.seq, f"checkpoint {checkpoint.path} has no valid signature"
            )
    newest = chain.checkpoint_latest()
    if newest is not None:
        valid.setdefault(newest.seq, newest)
    summary.checkpoints = len(valid)

    previous, seq = "", 0
    if incremental and newest is not None:
        anchor = AuditSeal.objects.filter(seq=newest.seq).first()
        if anchor is None or anchor.chain_value != newest.chain_value or anchor.event_id != newest.event_id:
            yield ChainBreak(newest.event_id, newest.seq, f"the seal differs from the signed checkpoint {newest.path}")
            return
        previous, seq = anchor.chain_value, anchor.seq
    summary.first_seq = seq + 1

    while True:
        seals = list(AuditSeal.objects.filter(seq__gt=seq).order_by("seq")[:batch_size])
        if not seals:
            break
        events = AuditEvent.objects.in_bulk([seal.event_id for seal in seals])
        for seal in seals:
            expected_seq = seq + 1
            if seal.seq != expected_seq:
                yield ChainBreak(
                    seal.event_id, seal.seq, f"seals {expected_seq} to {seal.seq - 1} are missing (entries removed)"
                )
            event = events.get(seal.event_id)
            if event is None:
                yield ChainBreak(seal.event_id, seal.seq, "entry removed")
            elif _mac_of(event) != event.entry_mac:
                yield ChainBreak(event.pk, seal.seq, "entry altered (its content does not match its keyed MAC)")
            mac = event.entry_mac if event is not None else ""
            try:
                expected = chain.chain_value(
                    kid=seal.chain_key, previous=previous, seq=seal.seq, event_id=seal.event_id, mac=mac
                )
            except chain.UnknownKey:
                yield ChainBreak(seal.event_id, seal.seq, f"chain key {seal.chain_key} is not in IIZ_AUDIT_KEYS")
                expected = seal.chain_value
            if event is not None and expected != seal.chain_value:
                yield ChainBreak(
                    seal.event_id, seal.seq, "chain value does not follow (seals removed, reordered or recomputed)"
                )
            signed = valid.get(seal.seq)
            if signed is not None and (signed.chain_value != seal.chain_value or signed.event_id != seal.event_id):
                yield ChainBreak(seal.event_id, seal.seq, f"the seal differs from the signed checkpoint {signed.path}")
            previous, seq = seal.chain_value, seal.seq
            summary.verified += 1
    summary.last_seq = seq
    if newest is not None and newest.seq > seq:
        last_event = AuditSeal.objects.filter(seq=seq).values_list("event_id", flat=True).first()
        yield ChainBreak(
            last_event,
            seq,
            f"the chain ends at seal {seq}, but the checkpoint of {newest.sealed_at} ({newest.path}) was signed at "
            f"seal {newest.seq} (entry {newest.event_id}): the entries after seal {seq} were removed",
        )
