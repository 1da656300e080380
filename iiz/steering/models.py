"""Steering: the cost-benefit parameters that administrators maintain, and generated reports."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CostBenefitParameter(models.Model):
    """One assumption of the cost-benefit model, with the source it comes from."""

    key = models.SlugField(_("Schlüssel"), max_length=60, unique=True)
    label = models.CharField(_("Bezeichnung"), max_length=200)
    value = models.DecimalField(_("Wert"), max_digits=14, decimal_places=2)
    unit = models.CharField(_("Einheit"), max_length=40)
    source = models.TextField(_("Quelle"))
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    class Meta:
        ordering = ["position", "key"]
        verbose_name = _("Annahme Kosten-Nutzen")
        verbose_name_plural = _("Annahmen Kosten-Nutzen")

    def __str__(self) -> str:
        return f"{self.label}: {self.value} {self.unit}"

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.value)


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("wartet")
    RUNNING = "running", _("wird erstellt")
    DONE = "done", _("fertig")
    FAILED = "failed", _("fehlgeschlagen")


class ReportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "XLSX"


class SteeringReport(models.Model):
    """A quarterly or annual report, generated in the background and kept for download."""

    period = models.CharField(_("Periode"), max_length=10)
    scope = models.JSONField(_("Umfang"), default=dict, blank=True)
    audience = models.CharField(_("Zielgruppe"), max_length=20)
    format = models.CharField(_("Format"), max_length=4, choices=ReportFormat.choices)
    status = models.CharField(_("Status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    progress = models.PositiveSmallIntegerField(_("Fortschritt in %"), default=0)
    file = models.FileField(upload_to="reports/%Y/", blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("erstellt durch")
    )
    created_at = models.DateTimeField(_("erstellt am"), auto_now_add=True)
    finished_at = models.DateTimeField(_("fertig am"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Bericht")
        verbose_name_plural = _("Berichte")

    def __str__(self) -> str:
        return f"{self.period} {self.format}"
