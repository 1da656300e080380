"""IIZ cases: one case of a person with several problems, worked by several institutions together.

From the first signal (screening for the life situations of early detection) through the target-group
check, the three levels, clarification, the integration plan, case-team meetings and agreements, to the
closure with its outcome and the follow-ups six and twelve months later.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiz.clients.models import Client, DataCategory
from iiz.lib.crypto import EncryptedTextField
from iiz.organisations.models import Contact, District, Institution, InstitutionKind

# ---------------------------------------------------------------------------------------------------------
# Catalogues maintained by administrators
# ---------------------------------------------------------------------------------------------------------


class LifeSituationGroup(models.TextChoices):
    WITHOUT_JOB = "without_job", _("Ohne Arbeitsplatz")
    JOB_AT_RISK = "job_at_risk", _("Von Arbeitsplatzverlust bedroht")
    LONG_TERM = "long_term", _("Langfristige Wiedereingliederung")


class LifeSituation(models.Model):
    """A life situation that disintegrates people and drives costs (Uster pilot, Solothurn CM unit).

    ``max_age`` and ``min_age`` let the screening form pre-select a situation from the client's age.
    """

    code = models.SlugField(_("Code"), max_length=40, unique=True)
    name = models.CharField(_("Bezeichnung"), max_length=200)
    description = models.TextField(_("Beschreibung"), blank=True)
    group = models.CharField(_("Gruppe"), max_length=20, choices=LifeSituationGroup.choices)
    min_age = models.PositiveSmallIntegerField(_("ab Alter"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("bis Alter"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("Reihenfolge"), default=0)
    is_active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("Lebenssituation")
        verbose_name_plural = _("Lebenssituationen")

    def __str__(self) -> str:
        return self.name

    def fits_age(self, age: int) -> bool:
        return (self.min_age is None or age >= self.min_age) and (self.max_age is None or age <= self.max_age)


class ProblemTopic(models.Model):
    """A topic of a multi-problem situation (health, debt, housing, ...)."""

    code = models.SlugField(_("Code"), max_length=40, unique=True)
    name = models.CharField(_("Bezeichnung"), max_length=200)
    position = models.PositiveSmallIntegerField(_("Reihenfolge"), default=0)
    is_active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("Problemthema")
        verbose_name_plural = _("Problemthemen")

    def __str__(self) -> str:
        return self.name


class ServiceOffering(models.Model):
    """A service an institution can contribute to an integration plan (ALV, IV, SH, youth and family)."""

    institution_kind = models.CharField(_("Institutionsart"), max_length=30, choices=InstitutionKind.choices)
    code = models.SlugField(_("Code"), max_length=40, unique=True)
    name = models.CharField(_("Bezeichnung"), max_length=200)
    description = models.TextField(_("Beschreibung"), blank=True)
    is_active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["institution_kind", "name"]
        verbose_name = _("Leistung")
        verbose_name_plural = _("Leistungskatalog")

    def __str__(self) -> str:
        return self.name


class Outcome(models.TextChoices):
    FIRST_LABOUR_MARKET = "first_labour_market", _("Stelle im ersten Arbeitsmarkt")
    JOB_KEPT = "job_kept", _("Arbeitsplatz erhalten")
    TRAINING = "training", _("Lehre oder Ausbildung begonnen")
    IV_MEASURE = "iv_measure", _("IV-Massnahme")
    OTHER = "other", _("Andere Lösung")
    DROPPED_OUT = "dropped_out", _("Abbruch")
    MOVED_AWAY = "moved_away", _("Weggezogen")


INTEGRATED_OUTCOMES = frozenset({Outcome.FIRST_LABOUR_MARKET, Outcome.JOB_KEPT, Outcome.TRAINING})


class CaseTeam(models.Model):
    """A regional iiz case team, led by a coordinator of the Geschäftsstelle."""

    name = models.CharField(_("Name"), max_length=200, unique=True)
    districts = models.ManyToManyField(District, related_name="case_teams", verbose_name=_("Bezirke"), blank=True)
    is_active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Fallteam")
        verbose_name_plural = _("Fallteams")

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------------------------------------
# Before a case: early detection and the target-group check
# ---------------------------------------------------------------------------------------------------------


class ReporterType(models.TextChoices):
    """Who reported a person for early detection: the persons and bodies of IVG Art. 3b para. 2, and others."""

    PERSON = "person", _("die betroffene Person selbst")
    RELATIVE = "relative", _("Angehörige")
    EMPLOYER = "employer", _("Arbeitgeber/in")
    DOCTOR = "doctor", _("behandelnde Ärztin oder behandelnder Arzt")
    DAILY_ALLOWANCE_INSURER = "daily_allowance_insurer", _("Krankentaggeld-Versicherung")
    PRIVATE_INSURER = "private_insurer", _("private Versicherung")
    ACCIDENT_INSURER = "accident_insurer", _("Unfallversicherung")
    PENSION_FUND = "pension_fund", _("Pensionskasse")
    UNEMPLOYMENT_INSURANCE = "unemployment_insurance", _("Arbeitslosenversicherung")
    SOCIAL_ASSISTANCE = "social_assistance", _("Sozialhilfe")
    MILITARY_INSURANCE = "military_insurance", _("Militärversicherung")
    HEALTH_INSURER = "health_insurer", _("Krankenkasse")
    INSTITUTION = "institution", _("andere Institution oder Fachstelle")
    OTHER = "other", _("andere")


class ReportChannel(models.TextChoices):
    """How a report reached the platform (empty: the institution noticed the situation itself)."""

    WEB = "web", _("Meldeformular der Anlaufstelle")
    API = "api", _("Partnersystem (Schnittstelle)")
    PHONE = "phone", _("Telefon")
    LETTER = "letter", _("Brief oder E-Mail")
    IN_PERSON = "in_person", _("persönlich am Schalter")


class Screening(models.Model):
    """Early detection (Früherkennung): which life situations apply to a client, and who reported them."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="screenings")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    screened_on = models.DateField(_("Datum"))
    life_situations = models.ManyToManyField(
        LifeSituation, related_name="screenings", verbose_name=_("Lebenssituationen")
    )
    note = EncryptedTextField(_("Bemerkung"), blank=True)
    # Who reported the person, and how (empty when the institution noticed the situation itself).
    reporter_type = models.CharField(
        _("gemeldet durch"), max_length=30, choices=ReporterType.choices, blank=True
    )
    report_channel = models.CharField(_("Meldeweg"), max_length=20, choices=ReportChannel.choices, blank=True)
    reported_on = models.DateField(_("Meldung eingegangen am"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-screened_on", "-id"]
        verbose_name = _("Früherkennung")
        verbose_name_plural = _("Früherkennungen")

    def __str__(self) -> str:
        return f"{self.client} {self.screened_on:%d.%m.%Y}"


class TargetGroupCheck(models.Model):
    """The target-group check: employable, resident in the canton, registered, multi-problem.

    The resident and registered criteria are read from the data when the check is made and stored,
    so the record shows what was true at the time.
    """

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="target_group_checks")
    screening = models.ForeignKey(Screening, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    serving_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="+", verbose_name=_("betreuende Institution")
    )
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checked_on = models.DateField(_("Datum"))
    employable = models.BooleanField(_("erwerbsfähig"))
    resident_in_canton = models.BooleanField(_("wohnt im Kanton Zürich"))
    registered_with_partner = models.BooleanField(_("bei einer Partnerinstitution angemeldet"))
    topics = models.ManyToManyField(ProblemTopic, related_name="+", verbose_name=_("Themen ausserhalb des Auftrags"))
    topics_block_integration = models.BooleanField(_("Die Themen behindern die Integration"), default=False)
    passed = models.BooleanField(_("erfüllt"))
    failures = models.JSONField(_("nicht erfüllte Kriterien"), default=list, blank=True)
    # A specialist asks the Geschäftsstelle to override a failed check; the coordinators then see the request.
    override_requested_at = models.DateTimeField(_("Übersteuerung beantragt am"), null=True, blank=True)
    override_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("beantragt durch"),
    )
    override_request_note = models.TextField(_("Begründung des Antrags"), blank=True)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("übersteuert durch"),
    )
    override_reason = models.TextField(_("Begründung der Übersteuerung"), blank=True)

    class Meta:
        ordering = ["-checked_on", "-id"]
        verbose_name = _("Zielgruppenprüfung")
        verbose_name_plural = _("Zielgruppenprüfungen")

    def __str__(self) -> str:
        return f"{self.client} {self.checked_on:%d.%m.%Y}"

    @property
    def override_pending(self) -> bool:
        return bool(self.override_requested_at and not self.passed and not self.override_by_id)

    @property
    def allows_case(self) -> bool:
        return self.passed or bool(self.override_by_id and self.override_reason)


# ---------------------------------------------------------------------------------------------------------
# The case
# ---------------------------------------------------------------------------------------------------------


class CaseStatus(models.TextChoices):
    OPEN = "open", _("offen")
    CLOSED = "closed", _("abgeschlossen")


class Level(models.IntegerChoices):
    SPECIALIST = 1, _("Stufe 1: Fachberatung")
    COORDINATOR = 2, _("Stufe 2: Unterstützung Geschäftsstelle")
    CASE_TEAM = 3, _("Stufe 3: iiz-Fallteam")


class Route(models.TextChoices):
    INTERNAL = "internal", _("institutionsintern")
    BILATERAL = "bilateral", _("bilateral mit einer anderen Institution")
    COORDINATION = "coordination", _("Fallkoordination durch die Geschäftsstelle")


# Record keys for the cell key method of published steering figures (``iiz.steering.publication``): a random
# whole number per case, drawn once and kept, so that the same cases always give the same published count.
RECORD_KEY_SPACE = 2**31


def record_key_new() -> int:
    return secrets.randbelow(RECORD_KEY_SPACE)


class Case(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="cases", verbose_name=_("Klient/in"))
    reference = models.CharField(_("Fallnummer"), max_length=20, unique=True)
    status = models.CharField(_("Status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    level = models.PositiveSmallIntegerField(_("Stufe"), choices=Level.choices, default=Level.SPECIALIST)
    route = models.CharField(_("Vorgehen"), max_length=20, choices=Route.choices, blank=True)
    bilateral_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("bilateral mit")
    )
    detected_on = models.DateField(_("Koordinationsbedarf erkannt am"), null=True, blank=True)
    opened_on = models.DateField(_("eröffnet am"))
    closed_on = models.DateField(_("abgeschlossen am"), null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("eröffnet durch")
    )
    serving_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="+", verbose_name=_("betreuende Institution")
    )
    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, null=True, blank=True, related_name="cases")
    target_group_check = models.ForeignKey(
        TargetGroupCheck, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    case_team = models.ForeignKey(
        CaseTeam, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("Fallteam")
    )
    case_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Fallführung"),
    )
    previous_case = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_on_cases",
        verbose_name=_("früherer Fall"),
    )
    outcome = models.CharField(_("Ergebnis"), max_length=30, choices=Outcome.choices, blank=True)
    outcome_on = models.DateField(_("Ergebnis erreicht am"), null=True, blank=True)
    benefits_ended_on = models.DateField(_("Leistungsbezug beendet am"), null=True, blank=True)
    closure_note = models.TextField(_("Bemerkung zum Abschluss"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Optimistic locking: every change bumps the version; a writer holding an older one is told.
    lock_version = models.PositiveIntegerField(default=0)
    # Never shown; only its sums modulo RECORD_KEY_SPACE reach a published figure.
    record_key = models.PositiveIntegerField(default=record_key_new, editable=False)

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = _("iiz-Fall")
        verbose_name_plural = _("iiz-Fälle")
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")), name="case_valid_range"
            ),
        ]
        indexes = [models.Index(fields=["status", "level"], name="case_status_level_idx")]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("cases:detail", args=[self.reference])

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN


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


class LevelChange(models.Model):
    """One move in the level model, with who made it, when and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="level_changes")
    from_level = models.PositiveSmallIntegerField(choices=Level.choices, null=True, blank=True)
    to_level = models.PositiveSmallIntegerField(choices=Level.choices)
    route = models.CharField(max_length=20, choices=Route.choices, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_on = models.DateField(_("Datum"))
    changed_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(_("Begründung"))

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("Stufenwechsel")
        verbose_name_plural = _("Stufenwechsel")

    def __str__(self) -> str:
        return f"{self.case}: {self.from_level} → {self.to_level}"


class InformationRequest(models.Model):
    """A coordinated request for information to a partner institution (level 2)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="information_requests")
    to_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="+", verbose_name=_("an Institution")
    )
    category = models.CharField(
        _("Datenkategorie"), max_length=20, choices=DataCategory.choices, default=DataCategory.OCCUPATIONAL
    )
    question = EncryptedTextField(_("Frage"))
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_on = models.DateField(_("gestellt am"))
    due_on = models.DateField(_("Antwort bis"))
    answer = EncryptedTextField(_("Antwort"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_on = models.DateField(_("beantwortet am"), null=True, blank=True)
    last_reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("Informationsanfrage")
        verbose_name_plural = _("Informationsanfragen")
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("asked_on")), name="information_request_due_after_asked"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case}: {self.to_institution}"

    def state_on(self, day: dt.date) -> str:
        if self.answered_on:
            return "answered"
        return "overdue" if self.due_on < day else "open"


class JointInterview(models.Model):
    """A joint interview of coordinator and specialist with the client, for a second opinion (level 2)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="joint_interviews")
    held_on = models.DateField(_("Datum"))
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("Teilnehmende"))
    summary = EncryptedTextField(_("Ergebnis"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["held_on", "id"]
        verbose_name = _("gemeinsames Kundengespräch")
        verbose_name_plural = _("gemeinsame Kundengespräche")

    def __str__(self) -> str:
        return f"{self.case} {self.held_on:%d.%m.%Y}"


class Dimension(models.TextChoices):
    SOCIAL = "social", _("Soziale Situation")
    OCCUPATIONAL = "occupational", _("Berufliche Situation")
    MEDICAL = "medical", _("Medizinische Situation")


DIMENSION_CATEGORY = {
    Dimension.SOCIAL: DataCategory.SOCIAL_ASSISTANCE,
    Dimension.OCCUPATIONAL: DataCategory.OCCUPATIONAL,
    Dimension.MEDICAL: DataCategory.MEDICAL,
}


class Clarification(models.Model):
    """The structured clarification of one dimension, written by the institution responsible for it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clarifications")
    dimension = models.CharField(_("Bereich"), max_length=20, choices=Dimension.choices)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    situation = EncryptedTextField(_("Situation"))
    resources = EncryptedTextField(_("Ressourcen"), blank=True)
    obstacles = EncryptedTextField(_("Hindernisse"), blank=True)
    work_capacity_percent = models.PositiveSmallIntegerField(_("Arbeitsfähigkeit in %"), null=True, blank=True)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(default=timezone.now)
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["dimension"]
        verbose_name = _("Situationsklärung")
        verbose_name_plural = _("Situationsklärungen")
        constraints = [
            models.UniqueConstraint(fields=["case", "dimension"], name="one_clarification_per_dimension"),
            models.CheckConstraint(
                condition=Q(work_capacity_percent__isnull=True) | Q(work_capacity_percent__lte=100),
                name="work_capacity_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case}: {self.get_dimension_display()}"

    @property
    def category(self) -> str:
        return DIMENSION_CATEGORY[Dimension(self.dimension)]


# ---------------------------------------------------------------------------------------------------------
# The integration plan
# ---------------------------------------------------------------------------------------------------------


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Entwurf")
    AGREED = "agreed", _("vereinbart")
    SUPERSEDED = "superseded", _("ersetzt")


class IntegrationPlan(models.Model):
    """One version of the case's integration plan. Agreed versions are never changed again."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plans")
    version = models.PositiveIntegerField(_("Version"))
    status = models.CharField(_("Status"), max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    goals = models.TextField(_("Ziele"))
    case_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Fallführung"),
    )
    agreed_on = models.DateField(_("vereinbart am"), null=True, blank=True)
    agreed_in = models.ForeignKey(
        "Meeting",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("vereinbart an der Sitzung"),
    )
    client_agreed_on = models.DateField(_("Zustimmung der Person am"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("Integrationsplan")
        verbose_name_plural = _("Integrationspläne")
        constraints = [models.UniqueConstraint(fields=["case", "version"], name="plan_version_once")]

    def __str__(self) -> str:
        return f"{self.case} v{self.version}"


class MeasureStatus(models.TextChoices):
    PLANNED = "planned", _("geplant")
    RUNNING = "running", _("läuft")
    DONE = "done", _("erledigt")
    CANCELLED = "cancelled", _("abgebrochen")


class Measure(models.Model):
    plan = models.ForeignKey(IntegrationPlan, on_delete=models.CASCADE, related_name="measures")
    service = models.ForeignKey(
        ServiceOffering, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("Leistung")
    )
    description = models.TextField(_("Beschreibung"))
    responsible_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="+", verbose_name=_("verantwortliche Institution")
    )
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measures",
        verbose_name=_("verantwortliche Person"),
    )
    start_on = models.DateField(_("Beginn"))
    due_on = models.DateField(_("Termin"))
    status = models.CharField(_("Status"), max_length=12, choices=MeasureStatus.choices, default=MeasureStatus.PLANNED)
    done_on = models.DateField(_("erledigt am"), null=True, blank=True)
    last_reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("Massnahme")
        verbose_name_plural = _("Massnahmen")
        constraints = [
            models.CheckConstraint(condition=Q(due_on__gte=models.F("start_on")), name="measure_due_after_start")
        ]

    def __str__(self) -> str:
        return self.description[:60]

    def is_overdue_on(self, day: dt.date) -> bool:
        return self.status in {MeasureStatus.PLANNED, MeasureStatus.RUNNING} and self.due_on < day


# ---------------------------------------------------------------------------------------------------------
# Case-team meetings and agreements
# ---------------------------------------------------------------------------------------------------------


class Meeting(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="meetings")
    case_team = models.ForeignKey(CaseTeam, on_delete=models.PROTECT, null=True, blank=True, related_name="meetings")
    starts_at = models.DateTimeField(_("Beginn"))
    ends_at = models.DateTimeField(_("Ende"))
    place = models.CharField(_("Ort"), max_length=200)
    agenda = models.TextField(_("Traktanden"))
    minutes = EncryptedTextField(_("Protokoll"), blank=True)
    minutes_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    held = models.BooleanField(_("durchgeführt"), default=False)
    organised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE, bumped on every change.")
    created_at = models.DateTimeField(default=timezone.now)
    # Optimistic locking of the minutes: two coordinators editing them at once do not overwrite each other.
    lock_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("Fallteam-Sitzung")
        verbose_name_plural = _("Fallteam-Sitzungen")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.case} {timezone.localtime(self.starts_at):%d.%m.%Y %H:%M}"

    @property
    def ical_uid(self) -> str:
        return f"meeting-{self.pk}@iiz.zh"


class MeetingParticipant(models.Model):
    """A participant of a meeting: a user, the client, or an external contact (exactly one of them)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    is_client = models.BooleanField(default=False)
    # The meeting's SEQUENCE this participant's invitation was sent with: a task that runs again after a
    # worker was lost sends only what is still missing.
    invited_sequence = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Sitzungsteilnehmende/r")
        verbose_name_plural = _("Sitzungsteilnehmende")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(user__isnull=False, contact__isnull=True, is_client=False)
                    | Q(user__isnull=True, contact__isnull=False, is_client=False)
                    | Q(user__isnull=True, contact__isnull=True, is_client=True)
                ),
                name="meeting_participant_exactly_one",
            ),
        ]

    def __str__(self) -> str:
        if self.user_id:
            return str(self.user)
        if self.contact_id:
            return str(self.contact)
        return str(_("Klient/in"))


class AgreementStatus(models.TextChoices):
    OPEN = "open", _("offen")
    DONE = "done", _("erledigt")
    DROPPED = "dropped", _("hinfällig")


class Agreement(models.Model):
    """Who does what by when, agreed in a meeting. Open agreements are tasks of their owner."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="agreements")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, null=True, blank=True, related_name="agreements")
    text = models.TextField(_("Vereinbarung"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agreements", verbose_name=_("zuständig")
    )
    due_on = models.DateField(_("bis"))
    status = models.CharField(_("Status"), max_length=10, choices=AgreementStatus.choices, default=AgreementStatus.OPEN)
    done_on = models.DateField(_("erledigt am"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_on = models.DateField(_("vereinbart am"))
    last_reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("Vereinbarung")
        verbose_name_plural = _("Vereinbarungen")
        indexes = [models.Index(fields=["owner", "status", "due_on"], name="agreement_owner_idx")]

    def __str__(self) -> str:
        return self.text[:60]

    def is_overdue_on(self, day: dt.date) -> bool:
        return self.status == AgreementStatus.OPEN and self.due_on < day

    def done_in_time(self) -> bool:
        return self.status == AgreementStatus.DONE and self.done_on is not None and self.done_on <= self.due_on


# ---------------------------------------------------------------------------------------------------------
# After closure
# ---------------------------------------------------------------------------------------------------------


class FollowUpStatus(models.TextChoices):
    STILL_INTEGRATED = "still_integrated", _("weiterhin integriert")
    BACK_WITH_PARTNER = "back_with_partner", _("wieder bei einer Partnerinstitution (Drehtür)")
    NOT_INTEGRATED = "not_integrated", _("nicht integriert, ohne Leistungsbezug")
    UNKNOWN = "unknown", _("nicht erreichbar / unbekannt")


class FollowUp(models.Model):
    """A follow-up six or twelve months after closure: is the person still integrated?"""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    months_after = models.PositiveSmallIntegerField(_("Monate nach Abschluss"))
    due_on = models.DateField(_("fällig am"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("zuständig"),
    )
    recorded_on = models.DateField(_("erfasst am"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(_("Ergebnis"), max_length=20, choices=FollowUpStatus.choices, blank=True)
    back_with = models.ForeignKey(
        Institution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("wieder angemeldet bei"),
    )
    note = models.TextField(_("Bemerkung"), blank=True)
    last_reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_on"]
        verbose_name = _("Nachbefragung")
        verbose_name_plural = _("Nachbefragungen")
        constraints = [models.UniqueConstraint(fields=["case", "months_after"], name="one_follow_up_per_interval")]

    def __str__(self) -> str:
        return f"{self.case} +{self.months_after}"


class Notification(models.Model):
    """A notice on a user's start page (reminders of overdue and due items)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=30)
    text = models.CharField(max_length=300)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # One notice per item and day: the daily job can run twice without notifying twice.
    dedupe_key = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Hinweis")
        verbose_name_plural = _("Hinweise")

    def __str__(self) -> str:
        return self.text
