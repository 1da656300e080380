"""Scheduled data-protection jobs (Celery beat in production)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task
def retention_daily() -> dict[str, int]:
    from iiz.clients.retention import retention_apply

    return retention_apply(today=timezone.localdate())
