"""Background work of the steering area: building reports, after commit, idempotently."""

from __future__ import annotations

from celery import shared_task

from iiz.steering.reports import report_abandon, report_generate


@shared_task
def steering_report_generate(report_id: int) -> str:
    """Build a stored report; a report that is already done is not built again (redelivery is harmless)."""
    report = report_generate(report_id=report_id)
    return report.status if report is not None else "missing"


@shared_task
def steering_report_abandoned(report_id: int) -> None:
    """The outbox gave up on the report (see ``report_abandon``)."""
    report_abandon(report_id=report_id)
