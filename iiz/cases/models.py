"""IIZ cases: one case of a person with several problems, worked by several institutions together.

This module holds the case and who takes part in it, which the access rules need from the start. The
levels, plans, meetings and closure build on it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from iiz.clients.models import Client
from iiz.organisations.models import Institution


class CaseStatus(models.TextChoices):
    OPEN = "open", _("offen")
    CLOSED = "closed", _("abgeschlossen")


class Case(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="cases", verbose_name=_("Klient/in"))
    reference = models.CharField(_("Fallnummer"), max_length=20, unique=True)
    status = models.CharField(_("Status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_on = models.DateField(_("eröffnet am"))
    closed_on = models.DateField(_("abgeschlossen am"), null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("eröffnet durch")
    )
    serving_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="+", verbose_name=_("betreuende Institution")
    )
    previous_case = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_on_cases",
        verbose_name=_("früherer Fall"),
    )

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = _("iiz-Fall")
        verbose_name_plural = _("iiz-Fälle")
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")), name="case_valid_range"
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class CaseParticipant(models.Model):
    """A user who takes part in a case, for an institution, from a date (and until one)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_participations")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    joined_on = models.DateField(_("seit"))
    left_on = models.DateField(_("bis"), null=True, blank=True)

    class Meta:
        verbose_name = _("Fallbeteiligte/r")
        verbose_name_plural = _("Fallbeteiligte")
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="participant_once_per_case")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.case}"
