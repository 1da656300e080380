"""The front door (Anlaufstelle): reports of persons for early detection, and their triage.

Anyone may report a situation on the public page: an employer, a doctor, a relative, an institution or the
person themselves (IVG Art. 3b). Partner systems report through the API. Every report lands in the triage
queue of the Geschäftsstelle, which turns it into a screening (with the reporter recorded), forwards it to
an institution or closes it with a reason. The reporter's data are kept only as long as needed: the retention
job removes them (and the person's identification in the report) a while after the report was decided.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from iiz.cases.models import LifeSituation, ReportChannel, ReporterType, Screening
from iiz.lib.crypto import EncryptedTextField
from iiz.organisations.models import Institution

# Letters and digits that cannot be mistaken for one another on the phone or in handwriting.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def reference_new() -> str:
    """A reference number for the reporter, e.g. ``M-7KQ4-X9TZ`` (40 bits, never derived from the content)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"M-{chars[:4]}-{chars[4:]}"


class PersonAgrees(models.TextChoices):
    YES = "yes", _("Ja, die Person ist einverstanden.")
    NO = "no", _("Nein, die Person ist nicht einverstanden.")
    UNKNOWN = "unknown", _("Das weiss ich nicht.")


class ReportStatus(models.TextChoices):
    NEW = "new", _("neu")
    FORWARDED = "forwarded", _("weitergeleitet")
    SCREENED = "screened", _("als Früherkennung erfasst")
    CLOSED = "closed", _("abgeschlossen")


OPEN_STATUSES = (ReportStatus.NEW, ReportStatus.FORWARDED)


class CloseReason(models.TextChoices):
    ALREADY_KNOWN = "already_known", _("Die Person wird bereits begleitet")
    NOT_TARGET_GROUP = "not_target_group", _("Keine Zielgruppe der iiz")
    PERSON_DECLINES = "person_declines", _("Die Person lehnt ab")
    NOT_REACHABLE = "not_reachable", _("Person oder meldende Stelle nicht erreichbar")
    OUTSIDE_CANTON = "outside_canton", _("Wohnsitz ausserhalb des Kantons")
    DUPLICATE = "duplicate", _("Doppelte Meldung")
    ABUSE = "abuse", _("Missbräuchliche Meldung")
    OTHER = "other", _("Anderer Grund")


class EarlyDetectionReport(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("Referenznummer"), max_length=12, unique=True, default=reference_new)
    received_at = models.DateTimeField(_("eingegangen am"), db_index=True)
    channel = models.CharField(_("Meldeweg"), max_length=20, choices=ReportChannel.choices)
    language = models.CharField(_("Sprache der Meldung"), max_length=5, default="de")
    # A partner system's institution, for reports through the API.
    submitted_by_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("Partnersystem")
    )

    reporter_type = models.CharField(_("meldende Person oder Stelle"), max_length=30, choices=ReporterType.choices)
    reporter_name = models.CharField(_("Name der meldenden Person"), max_length=150, blank=True)
    reporter_organisation = models.CharField(_("Organisation"), max_length=200, blank=True)
    reporter_phone = models.CharField(_("Telefon"), max_length=40, blank=True)
    reporter_email = models.EmailField(_("E-Mail"), blank=True)

    person_first_name = models.CharField(_("Vorname der Person"), max_length=100, blank=True)
    person_last_name = models.CharField(_("Nachname der Person"), max_length=100, blank=True)
    person_date_of_birth = models.DateField(_("Geburtsdatum der Person"), null=True, blank=True)
    person_ahv_number = models.CharField(_("AHV-Nummer der Person"), max_length=13, blank=True)

    life_situations = models.ManyToManyField(
        LifeSituation, related_name="+", blank=True, verbose_name=_("beobachtete Lebenssituationen")
    )
    absent_since = models.DateField(_("arbeitsunfähig oder abwesend seit"), null=True, blank=True)
    absence_days = models.PositiveSmallIntegerField(
        _("Abwesenheitstage in den letzten 12 Monaten"), null=True, blank=True
    )
    description = EncryptedTextField(_("Beschreibung der Situation"), blank=True)
    person_informed = models.BooleanField(_("Die Person wurde über die Meldung informiert"), default=False)
    person_agrees = models.CharField(_("Einverständnis der Person"), max_length=10, choices=PersonAgrees.choices)

    status = models.CharField(_("Stand"), max_length=12, choices=ReportStatus.choices, default=ReportStatus.NEW)
    forwarded_to = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("weitergeleitet an"),
    )
    forwarded_at = models.DateTimeField(_("weitergeleitet am"), null=True, blank=True)
    forward_note = models.TextField(_("Hinweis zur Weiterleitung"), blank=True)
    screening = models.OneToOneField(
        Screening,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="report",
        verbose_name=_("Früherkennung"),
    )
    close_reason = models.CharField(_("Grund des Abschlusses"), max_length=20, choices=CloseReason.choices, blank=True)
    close_note = models.TextField(_("Bemerkung zum Abschluss"), blank=True)
    decided_at = models.DateTimeField(_("entschieden am"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    personal_data_removed_on = models.DateField(_("Personendaten gelöscht am"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("Meldung zur Früherkennung")
        verbose_name_plural = _("Meldungen zur Früherkennung")
        indexes = [models.Index(fields=["status", "-received_at"], name="report_status_time_idx")]
        constraints = [
            models.CheckConstraint(
                # IVG Art. 3b para. 3: the person is told before someone else reports them.
                condition=Q(reporter_type=ReporterType.PERSON) | Q(person_informed=True),
                name="report_person_informed",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def person_name(self) -> str:
        return f"{self.person_first_name} {self.person_last_name}".strip()
