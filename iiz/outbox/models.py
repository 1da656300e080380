"""One row per piece of background work, from the commit that caused it until a worker has done it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("wartet")
    SENT = "sent", _("übergeben")
    RUNNING = "running", _("läuft")
    DONE = "done", _("erledigt")
    FAILED = "failed", _("fehlgeschlagen")


# The rows the dispatcher looks at; done and failed rows are history.
OPEN_STATUSES = (OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.RUNNING)


class OutboxMessage(models.Model):
    """A Celery task with its arguments, written in the same transaction as the change that causes it.

    The arguments are ids and flags, never personal data: the task reads what it needs when it runs.
    """

    task = models.CharField(_("Auftrag"), max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    # Run with the same arguments once the task has finally failed, to tell the user (may be empty).
    on_failure = models.CharField(max_length=200, blank=True)
    status = models.CharField(_("Status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    # Runs started (a claim by a worker) and hand-overs to the broker.
    attempts = models.PositiveSmallIntegerField(_("Versuche"), default=0)
    sends = models.PositiveSmallIntegerField(_("Übergaben"), default=0)
    created_at = models.DateTimeField(_("erstellt am"), default=timezone.now)
    # Pending: not handed over before. Sent: handed over again if no worker has claimed it by then.
    due_at = models.DateTimeField(_("fällig am"), default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("beendet am"), null=True, blank=True)
    error = models.TextField(_("Fehler"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Hintergrundauftrag")
        verbose_name_plural = _("Hintergrundaufträge")
        indexes = [
            models.Index(
                fields=["status", "due_at"],
                name="outbox_open_idx",
                condition=Q(status__in=["pending", "sent", "running"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk} ({self.status})"
