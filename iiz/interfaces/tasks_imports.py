"""Background jobs of the bulk import, scheduled after commit. Each is idempotent: it looks at the batch's status."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(bind=True, acks_late=True)
def imports_check(self: Any, batch_id: int) -> str:
    from iiz.interfaces.imports import import_batch_check

    return str(import_batch_check(batch_id=batch_id).status)


@shared_task(bind=True, acks_late=True)
def imports_apply(self: Any, batch_id: int, actor_id: int) -> str:
    from iiz.interfaces.imports import import_batch_apply
    from iiz.organisations.models import User

    return str(import_batch_apply(batch_id=batch_id, actor=User.objects.get(pk=actor_id)).status)
