"""Writing the audit trail. Services call `audit_record` inside their own transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from iiz.audit.denials import denial_written
from iiz.audit.models import AuditAction, AuditBasis, AuditEvent

if TYPE_CHECKING:
    from iiz.organisations.models import User

# Any fixed number identifies the lock that serialises appends to the hash chain on PostgreSQL.
_CHAIN_LOCK_KEY = 0x11A0D17


def _lock_chain() -> None:
    # SQLite already serialises writers (IMMEDIATE transactions); PostgreSQL needs an explicit lock so
    # that two appends never read the same predecessor.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor: User | None,
    action: str,
    client_id: int | None = None,
    object_type: str = "",
    object_id: object = "",
    basis: str = AuditBasis.ROLE,
    recipient: str = "",
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor_username: str = "",
) -> AuditEvent:
    """Append one entry to the audit trail, chained to the one before it."""
    with transaction.atomic():
        _lock_chain()
        previous = AuditEvent.objects.order_by("-id").values_list("entry_hash", flat=True).first() or ""
        institution = actor.institution if actor is not None and actor.is_authenticated else None
        event = AuditEvent(
            occurred_at=timezone.now(),
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_username=(actor.get_username() if actor is not None and actor.is_authenticated else actor_username),
            actor_roles=sorted(actor.role_set) if actor is not None and actor.is_authenticated else [],
            actor_institution=institution.name if institution else "",
            action=action,
            client_id=client_id,
            object_type=object_type,
            object_id=str(object_id) if object_id != "" else "",
            basis=basis,
            recipient=recipient,
            details=details or {},
            ip_address=client_ip(request),
            previous_hash=previous,
        )
        event.entry_hash = event.compute_hash()
        event.save()
    if action == AuditAction.DENIED:
        denial_written(event.pk)
    return event
