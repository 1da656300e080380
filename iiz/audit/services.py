"""Writing the audit trail. Services call `audit_record` inside their own transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from iiz.audit.chain import entry_mac
from iiz.audit.denials import denial_written
from iiz.audit.models import AuditAction, AuditBasis, AuditEvent

if TYPE_CHECKING:
    from iiz.organisations.models import User


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _seal_after_commit() -> None:
    from iiz.audit.sealing import audit_seal

    audit_seal()


_deferred: ContextVar[bool] = ContextVar("iiz_audit_sealing_deferred", default=False)


@contextmanager
def audit_sealing_deferred() -> Iterator[None]:
    """Bulk writers (the demo generators) seal once at the end instead of after every commit."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def _seal_inline_once() -> None:
    """Without a sealer process (the embedded demo), seal right after the transaction commits, once per
    transaction. With a Celery worker the beat schedule or ``audit_seal --loop`` seals instead."""
    if _deferred.get() or any(entry[1] is _seal_after_commit for entry in connection.run_on_commit):
        return
    transaction.on_commit(_seal_after_commit)


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
    """Append one entry to the audit trail with a keyed MAC of its content.

    It reads nothing and takes no lock: entries are appended concurrently and chained later, in order, by
    the sealer (``iiz.audit.sealing``).
    """
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
    )
    # The MAC covers the values as they will be read back (JSON round trip of the details).
    event.mac_key, event.entry_mac = entry_mac(event.canonical_payload())
    event.save()
    if action == AuditAction.DENIED:
        denial_written(event.pk)
    if settings.IIZ_AUDIT_SEAL_INLINE:
        _seal_inline_once()
    return event
