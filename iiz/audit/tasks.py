"""The sealer as a Celery beat task (see iiz.audit.sealing)."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def audit_seal_due() -> int:
    from iiz.audit.sealing import audit_seal, audit_unsealed_overdue

    run = audit_seal()
    overdue, oldest = audit_unsealed_overdue()
    if overdue:
        # Entries the lookback no longer finds (a transaction open for longer than it): sweep the whole table.
        run = audit_seal(sweep=True)
        logger.error("%s audit entries were left unsealed too long (oldest %s); swept", overdue, oldest and oldest.pk)
    return run.sealed
