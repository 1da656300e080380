"""Clients, their registrations with the partner institutions, and their consents.

One person is one client across all institutions: the AHV number is unique. Each institution records
its registration (with its own case number) and the client's consent says which institutions may
exchange which categories of data.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.ch import ssn

from iiz.lib.ahv import ahv_normalise
from iiz.lib.text import bidi_errors
from iiz.organisations.models import Institution, InstitutionKind, Municipality, OrganisationalUnit


class DataCategory(models.TextChoices):
    PERSONAL = "personal", _("Personalien und Kontakt")
    OCCUPATIONAL = "occupational", _("Beruflich")
    MEDICAL = "medical", _("Medizinisch")
    FINANCIAL = "financial", _("Finanziell")
    SOCIAL_ASSISTANCE = "social_assistance", _("Sozialhilfe")


# What a registration with an institution of a given kind reveals about a person: being known to the
# IV-Stelle says something about their health, being known to the social service about social assistance.
REGISTRATION_CATEGORY: dict[str, str] = {
    InstitutionKind.LABOUR: DataCategory.OCCUPATIONAL,
    InstitutionKind.DISABILITY: DataCategory.MEDICAL,
    InstitutionKind.CANTONAL_SOCIAL: DataCategory.SOCIAL_ASSISTANCE,
    InstitutionKind.SOCIAL_SERVICE: DataCategory.SOCIAL_ASSISTANCE,
    InstitutionKind.YOUTH: DataCategory.OCCUPATIONAL,
    InstitutionKind.EDUCATION: DataCategory.OCCUPATIONAL,
}


class Sex(models.TextChoices):
    # The codes of eCH-0044 (1 male, 2 female, 3 unknown), spelled out.
    FEMALE = "female", _("weiblich")
    MALE = "male", _("männlich")
    UNKNOWN = "unknown", _("unbekannt")


class Language(models.TextChoices):
    DE = "de", _("Deutsch")
    FR = "fr", _("Französisch")
    IT = "it", _("Italienisch")
    RM = "rm", _("Rätoromanisch")
    EN = "en", _("Englisch")
    SQ = "sq", _("Albanisch")
    PT = "pt", _("Portugiesisch")
    ES = "es", _("Spanisch")
    SR = "sr", _("Serbisch/Kroatisch/Bosnisch")
    TR = "tr", _("Türkisch")
    TI = "ti", _("Tigrinya")
    AR = "ar", _("Arabisch")
    TA = "ta", _("Tamil")
    FA = "fa", _("Persisch/Dari")
    UK = "uk", _("Ukrainisch")
    OTHER = "other", _("Andere")


class Client(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Stored compact (13 digits); shown as 756.XXXX.XXXX.XX.
    ahv_number = models.CharField(_("AHV-Nummer"), max_length=13, unique=True)
    first_name = models.CharField(_("Vorname"), max_length=100)
    last_name = models.CharField(_("Nachname"), max_length=100)
    date_of_birth = models.DateField(_("Geburtsdatum"))
    sex = models.CharField(_("Geschlecht"), max_length=10, choices=Sex.choices)
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clients",
        verbose_name=_("Wohngemeinde"),
        help_text=_("Leer lassen, wenn die Person ausserhalb des Kantons wohnt."),
    )
    street = models.CharField(_("Strasse"), max_length=150, blank=True)
    house_number = models.CharField(_("Hausnummer"), max_length=12, blank=True)
    postal_code = models.CharField(_("PLZ"), max_length=4, blank=True)
    town = models.CharField(_("Ort"), max_length=100, blank=True)
    phone = models.CharField(_("Telefon"), max_length=40, blank=True)
    email = models.EmailField(_("E-Mail"), blank=True)
    languages = models.JSONField(_("Sprachen"), default=list, blank=True)
    recorded_by_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="+", verbose_name=_("erfasst von")
    )
    created_at = models.DateTimeField(_("erfasst am"), auto_now_add=True)
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)
    anonymised_on = models.DateField(_("anonymisiert am"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["last_name", "first_name", "date_of_birth"]
        verbose_name = _("Klient/in")
        verbose_name_plural = _("Klientinnen und Klienten")
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="client_name_idx"),
            models.Index(fields=["date_of_birth"], name="client_birth_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    def get_absolute_url(self) -> str:
        return reverse("clients:detail", args=[self.public_id])

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        if self.ahv_number:
            try:
                self.ahv_number = ahv_normalise(self.ahv_number)
            except ValidationError as error:
                errors.setdefault("ahv_number", []).append(error)
        if self.date_of_birth and self.date_of_birth > timezone.localdate():
            errors.setdefault("date_of_birth", []).append(
                ValidationError(_("Das Geburtsdatum darf nicht in der Zukunft liegen."), code="future")
            )
        if self.languages and any(code not in Language.values for code in self.languages):
            errors.setdefault("languages", []).append(ValidationError(_("Unbekannte Sprache."), code="language"))
        texts = {name: getattr(self, name) for name in ("first_name", "last_name", "street", "house_number", "town")}
        for name, messages in bidi_errors(**texts).items():
            errors.setdefault(name, []).extend(ValidationError(message, code="bidi") for message in messages)
        if errors:
            raise ValidationError(errors)

    @property
    def ahv_display(self) -> str:
        return str(ssn.format(self.ahv_number))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: dt.date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def language_labels(self) -> list[str]:
        labels = dict(Language.choices)
        return [str(labels.get(code, code)) for code in self.languages]


class IvPensionStatus(models.TextChoices):
    """Whether an IV pension is in question for a person registered with the IV-Stelle (cost-benefit model)."""

    NONE = "none", _("keine Rentenfrage (z. B. Frühintervention, Eingliederung ohne Rentenprüfung)")
    PENDING = "pending", _("IV-Anmeldung mit Rentenprüfung hängig")
    AT_STAKE = "at_stake", _("Rente steht auf dem Spiel (Rentenanspruch droht oder wird revidiert)")


# The largest ALV entitlement is 640 daily allowances (AVIG Art. 27); a month of social assistance for a family
# rarely exceeds a few thousand francs: anything beyond these bounds is a typing error.
ALV_MAX_DAYS = 640
SA_MAX_MONTHLY = 20000


class Registration(models.Model):
    """That a client is registered with an institution, under the institution's own case number.

    What the person draws or is at risk of from that institution is recorded with it where the cost-benefit
    model needs it: the remaining ALV entitlement at the RAV, the monthly social assistance at a social
    service, whether an IV pension is in question at the IV-Stelle.
    """

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("Klient/in")
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="registrations", verbose_name=_("Institution")
    )
    unit = models.ForeignKey(
        OrganisationalUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
        verbose_name=_("Organisationseinheit"),
    )
    external_case_number = models.CharField(_("Fallnummer der Institution"), max_length=50, blank=True)
    registered_on = models.DateField(_("angemeldet seit"))
    deregistered_on = models.DateField(_("abgemeldet am"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    alv_remaining_days = models.PositiveSmallIntegerField(
        _("ALV-Restanspruch (Taggelder)"), null=True, blank=True
    )
    sa_monthly_amount = models.DecimalField(
        _("Sozialhilfe pro Monat (CHF)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    iv_pension_status = models.CharField(
        _("IV-Rente"), max_length=10, choices=IvPensionStatus.choices, blank=True
    )

    class Meta:
        ordering = ["-registered_on"]
        verbose_name = _("Anmeldung")
        verbose_name_plural = _("Anmeldungen")
        constraints = [
            models.CheckConstraint(
                condition=Q(deregistered_on__isnull=True) | Q(deregistered_on__gte=models.F("registered_on")),
                name="registration_valid_range",
            ),
        ]
        indexes = [models.Index(fields=["institution", "client"], name="registration_inst_client_idx")]

    def __str__(self) -> str:
        return f"{self.client} @ {self.institution}"

    @property
    def category(self) -> str:
        return REGISTRATION_CATEGORY.get(self.institution.kind, DataCategory.PERSONAL)

    def clean(self) -> None:
        if self.deregistered_on and self.registered_on and self.deregistered_on < self.registered_on:
            raise ValidationError(
                {"deregistered_on": _("Die Abmeldung kann nicht vor der Anmeldung liegen.")}, code="date_order"
            )
        kind = self.institution.kind if self.institution_id else ""
        errors: dict[str, object] = {}
        if self.alv_remaining_days is not None:
            if kind != InstitutionKind.LABOUR:
                errors["alv_remaining_days"] = _("Den ALV-Restanspruch erfasst das RAV.")
            elif self.alv_remaining_days > ALV_MAX_DAYS:
                errors["alv_remaining_days"] = _("Mehr als %(max)s Taggelder gibt es nicht.") % {"max": ALV_MAX_DAYS}
        if self.sa_monthly_amount is not None:
            if kind != InstitutionKind.SOCIAL_SERVICE:
                errors["sa_monthly_amount"] = _("Den Sozialhilfebetrag erfasst der Sozialdienst.")
            elif not 0 <= self.sa_monthly_amount <= SA_MAX_MONTHLY:
                errors["sa_monthly_amount"] = _("Der Betrag muss zwischen 0 und %(max)s Franken liegen.") % {
                    "max": SA_MAX_MONTHLY
                }
        if self.iv_pension_status and kind != InstitutionKind.DISABILITY:
            errors["iv_pension_status"] = _("Ob eine IV-Rente in Frage steht, erfasst die IV-Stelle.")
        if errors:
            raise ValidationError(errors, code="benefit")

    def is_active_on(self, day: dt.date) -> bool:
        return self.registered_on <= day and (self.deregistered_on is None or self.deregistered_on >= day)


def consent_document_path(instance: Consent, filename: str) -> str:
    # The stored name never carries the client's name or the original file name.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"consents/{instance.client.public_id}/{uuid.uuid4().hex}.{suffix}"


class Consent(models.Model):
    """One version of a client's consent to the exchange of data between institutions.

    A consent is never overwritten: an amendment creates a new version and closes the previous one
    (``superseded_at``); a revocation stamps ``revoked_at``. Both keep the old text readable.
    """

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents", verbose_name=_("Klient/in"))
    version = models.PositiveIntegerField(_("Version"), default=1)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("ersetzt Version"),
    )
    institutions = models.ManyToManyField(Institution, related_name="consents", verbose_name=_("Institutionen"))
    categories = models.JSONField(_("Datenkategorien"), default=list)
    purpose = models.TextField(_("Zweck"))
    valid_from = models.DateField(_("gültig ab"))
    valid_until = models.DateField(_("gültig bis"), null=True, blank=True)
    document = models.FileField(_("unterschriebene Einwilligung"), upload_to=consent_document_path, blank=True)
    document_content_type = models.CharField(max_length=100, blank=True, editable=False)
    # A consent given orally, before the signed form arrives: who took it, when and how; and until when the
    # form must be on file (afterwards the consent opens nothing until it is).
    verbal_statement = models.TextField(_("mündliche Einwilligung"), blank=True)
    form_due_on = models.DateField(_("Formular fällig am"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("erfasst von")
    )
    recorded_at = models.DateTimeField(_("erfasst am"), auto_now_add=True)
    superseded_at = models.DateTimeField(_("ersetzt am"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("widerrufen am"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("widerrufen durch"),
    )
    revocation_reason = models.TextField(_("Grund des Widerrufs"), blank=True)

    class Meta:
        ordering = ["-recorded_at", "-version"]
        verbose_name = _("Einwilligung")
        verbose_name_plural = _("Einwilligungen")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="consent_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} v{self.version}"

    def clean(self) -> None:
        errors: dict[str, list[ValidationError]] = {}
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            errors.setdefault("valid_until", []).append(
                ValidationError(_("Das Ende der Gültigkeit liegt vor ihrem Beginn."), code="date_order")
            )
        if not self.categories:
            errors.setdefault("categories", []).append(
                ValidationError(_("Wählen Sie mindestens eine Datenkategorie."), code="required")
            )
        elif any(code not in DataCategory.values for code in self.categories):
            errors.setdefault("categories", []).append(ValidationError(_("Unbekannte Datenkategorie."), code="invalid"))
        if errors:
            raise ValidationError(errors)

    def is_valid_on(self, day: dt.date) -> bool:
        return (
            self.revoked_at is None
            and self.superseded_at is None
            and self.valid_from <= day
            and (self.valid_until is None or self.valid_until >= day)
        )

    def category_labels(self) -> list[str]:
        labels = dict(DataCategory.choices)
        return [str(labels.get(code, code)) for code in self.categories]

    def unlocks(self, *, category: str, receiver_id: int | None, on: dt.date | None = None) -> bool:
        """Whether this consent lets the receiving institution see data of the category held by another.

        The signed form makes it effective. Without the form, a verbal consent counts until the form's
        deadline; and a consent recorded by the receiving institution itself never opens medical data
        without the signed form (that institution would be vouching for its own access to health data).
        """
        if self.document:
            return True
        if self.form_due_on is not None and self.form_due_on < (on or timezone.localdate()):
            return False
        return not (category == DataCategory.MEDICAL and self.recorded_by.institution_id == receiver_id)

    @property
    def awaiting_form(self) -> bool:
        return not self.document and self.form_due_on is not None

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.superseded_at:
            return "superseded"
        today = timezone.localdate()
        if self.valid_from > today:
            return "pending"
        if self.valid_until and self.valid_until < today:
            return "expired"
        return "valid"


class ConsentNotice(models.Model):
    """A consent recorded by another institution that opens data held by this institution to others.

    The holding institution learns of it on its start page and can check the consent on the person's page.
    """

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="notices")
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Hinweis auf eine Einwilligung")
        verbose_name_plural = _("Hinweise auf Einwilligungen")
        constraints = [models.UniqueConstraint(fields=["consent", "institution"], name="consent_notice_once")]

    def __str__(self) -> str:
        return f"{self.consent} → {self.institution}"


class RetentionAction(models.Model):
    """What the retention job removed, per case and data category (or the anonymisation of a client)."""

    client_id_ref = models.BigIntegerField(_("Klient/in"))
    case_id_ref = models.BigIntegerField(_("Fall"), null=True, blank=True)
    category = models.CharField(_("Datenkategorie"), max_length=20)
    applied_on = models.DateField(_("ausgeführt am"))
    counts = models.JSONField(_("entfernt"), default=dict)

    class Meta:
        ordering = ["-applied_on", "-id"]
        verbose_name = _("Löschung nach Aufbewahrungsfrist")
        verbose_name_plural = _("Löschungen nach Aufbewahrungsfrist")
        constraints = [
            models.UniqueConstraint(fields=["client_id_ref", "case_id_ref", "category"], name="retention_once"),
        ]

    def __str__(self) -> str:
        return f"{self.applied_on}: {self.category}"


class AhvConflictSource(models.TextChoices):
    FORM = "form", _("Erfassungsformular")
    API = "api", _("Schnittstelle")
    IMPORT = "import", _("Import")


class AhvConflict(models.Model):
    """Someone recorded or imported a person under an AHV number whose stored name or date of birth differs.

    The person is hidden from that institution, so it was told only that the number is invalid (the same
    answer as for a wrong check digit), never that the number belongs to someone. The coordinators of the
    Geschäftsstelle see both identities side by side and resolve the conflict with the institutions: a typing
    error in the number, or a recorded person whose data need correcting.
    """

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", verbose_name=_("erfasste Person"))
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="+", verbose_name=_("meldende Institution")
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("gemeldet von")
    )
    source = models.CharField(_("Weg"), max_length=10, choices=AhvConflictSource.choices)
    typed_first_name = models.CharField(_("angegebener Vorname"), max_length=100)
    typed_last_name = models.CharField(_("angegebener Nachname"), max_length=100)
    typed_date_of_birth = models.DateField(_("angegebenes Geburtsdatum"))
    reference = models.CharField(_("Bezug"), max_length=100, blank=True, help_text=_("Import und Zeile"))
    reported_at = models.DateTimeField(_("gemeldet am"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("erledigt am"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("erledigt von"),
    )
    resolution = models.TextField(_("Erledigung"), blank=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("AHV-Konflikt")
        verbose_name_plural = _("AHV-Konflikte")

    def __str__(self) -> str:
        return f"{self.reported_at:%Y-%m-%d} {self.institution}"
