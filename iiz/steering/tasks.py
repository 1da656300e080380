"""Background work of the steering area: building reports, after commit, idempotently."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from iiz.steering.reports import report_generate


@shared_task(bind=True, acks_late=True)
def steering_report_generate(self: Any, report_id: int) -> str:
    """Build a stored report; a report that is already done is not built again (redelivery is harmless)."""
    report = report_generate(report_id=report_id)
    return report.status if report is not None else "missing"
