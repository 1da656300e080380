"""Celery application: the workers take tasks from Redis in production; the demo runs them inline."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iiz.settings")

# Every task runs under the outbox's claim when it was sent through the outbox (iiz/outbox/worker.py).
app = Celery("iiz", task_cls="iiz.outbox.worker:OutboxTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
