"""Background jobs of the bulk import, sent through the outbox. Each is idempotent: it looks at the batch's status.

The check only reads and may run again from the start after a worker was lost; the apply writes everything
in one transaction with the batch's status, so a second run finds the batch done or takes it whole.
"""

from __future__ import annotations

from celery import shared_task


@shared_task
def imports_check(batch_id: int) -> str:
    from iiz.interfaces.imports import import_batch_check

    return str(import_batch_check(batch_id=batch_id).status)


@shared_task
def imports_apply(batch_id: int, actor_id: int) -> str:
    from iiz.interfaces.imports import import_batch_apply
    from iiz.organisations.models import User

    return str(import_batch_apply(batch_id=batch_id, actor=User.objects.get(pk=actor_id)).status)


@shared_task
def imports_abandoned(batch_id: int, *_actor: int) -> None:
    """The outbox gave up on the check or the apply: the batch says so, and asks for a new upload."""
    from iiz.interfaces.imports import import_batch_abandon

    import_batch_abandon(batch_id=batch_id)


@shared_task
def import_files_expire_due() -> int:
    from iiz.interfaces.imports import import_files_expire

    return import_files_expire()
