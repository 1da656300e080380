"""Celery application: the workers take tasks from Redis in production; the demo runs them inline."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iiz.settings")

app = Celery("iiz")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
