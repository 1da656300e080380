"""Scheduled job of the front door (Celery beat in production)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task
def reports_retention_daily() -> int:
    from iiz.frontdoor.services import reports_retention_apply

    return reports_retention_apply(today=timezone.localdate())
