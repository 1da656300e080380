"""Bulk imports of clients and registrations, and the merges of client records that are the same person.

An import batch keeps the uploaded file, what its check found (counts, rejected rows, likely duplicates)
and how far the background job has come, so that the page can poll its progress. A merge record keeps the
ids of everything moved from the merged client to the kept one, so that the merge can be undone.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from iiz.clients.models import Client
from iiz.organisations.models import Institution

__all__ = ["ImportBatch", "ImportStatus", "MatchRejection", "MergeRecord"]


def import_file_path(instance: ImportBatch, filename: str) -> str:
    # The stored name never carries the original file name, which may name persons.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"imports/{instance.public_id}.{suffix}"


class ImportStatus(models.TextChoices):
    CHECKING = "checking", _("wird geprüft")
    PREVIEWED = "previewed", _("geprüft, wartet auf Bestätigung")
    REJECTED = "rejected", _("abgelehnt")
    RUNNING = "running", _("wird übernommen")
    DONE = "done", _("übernommen")
    FAILED = "failed", _("fehlgeschlagen")


class ImportBatch(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("Datei"), upload_to=import_file_path)
    file_name = models.CharField(_("Dateiname"), max_length=255)
    file_format = models.CharField(_("Format"), max_length=10)
    encoding = models.CharField(_("Zeichenkodierung"), max_length=20, blank=True)
    status = models.CharField(_("Status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.CHECKING)
    total_rows = models.PositiveIntegerField(_("Zeilen"), default=0)
    processed_rows = models.PositiveIntegerField(_("verarbeitet"), default=0)
    # {"create": n, "change": n, "unchanged": n, "rejected": n}
    counts = models.JSONField(default=dict)
    # [{"row": 12, "column": "ahv_number", "message": "..."}], in row order.
    errors = models.JSONField(default=list)
    # [{"row": 12, "client_id": 3, "score": 91, "reasons": [...]}]: likely the same person, different AHV number.
    duplicates = models.JSONField(default=list)
    # A few of the planned changes, to show in the preview.
    changes = models.JSONField(default=list)
    file_error = models.TextField(_("Fehler in der Datei"), blank=True)
    # The uploader's language: the rejected rows are explained in it, also by a worker that runs in another.
    language = models.CharField(_("Sprache"), max_length=10, default="de")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Import")
        verbose_name_plural = _("Importe")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def progress_cache_key(self) -> str:
        return f"import-progress:{self.pk}"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in {ImportStatus.DONE, ImportStatus.PREVIEWED, ImportStatus.REJECTED} else 0
        processed = self.processed_rows
        if self.is_working:
            # The apply step runs in one transaction, so its progress cannot be seen in the database until it
            # ends; the job reports it through the cache instead (Redis in production, shared by all processes).
            processed = max(processed, cache.get(self.progress_cache_key) or 0)
        return min(100, round(100 * processed / self.total_rows))

    @property
    def is_working(self) -> bool:
        return self.status in {ImportStatus.CHECKING, ImportStatus.RUNNING}


class MergeRecord(models.Model):
    """That two client records were one person: everything of ``merged`` now belongs to ``kept``."""

    kept = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+", verbose_name=_("behalten"))
    merged = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+", verbose_name=_("zusammengeführt"))
    reason = models.TextField(_("Begründung"))
    # {"clients.registration": [ids], "cases.case": [ids], ...}: what moved, for the undo.
    moved = models.JSONField(default=dict)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-merged_at"]
        verbose_name = _("Zusammenführung")
        verbose_name_plural = _("Zusammenführungen")
        constraints = [
            models.UniqueConstraint(fields=["merged"], condition=Q(undone_at__isnull=True), name="merge_once"),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.kept_id}"


class MatchRejection(models.Model):
    """A user said two client records are different persons: the pair is not proposed again."""

    # The smaller id first, so that a pair is stored once.
    first = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    rejected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rejected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("abgelehnter Personenvorschlag")
        verbose_name_plural = _("abgelehnte Personenvorschläge")
        constraints = [models.UniqueConstraint(fields=["first", "second"], name="match_rejection_pair")]

    def __str__(self) -> str:
        return f"{self.first_id} ≠ {self.second_id}"
