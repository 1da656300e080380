"""Institutions, their units, the canton's municipalities, users and their roles.

Institutions and units are data that administrators maintain: since 2024 the AWA is split and the RAV
network is being merged, so no institution name appears in code. Code refers to an institution only by
its kind.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class InstitutionKind(models.TextChoices):
    LABOUR = "labour", _("Arbeitsmarkt (AFA/RAV, ALV)")
    DISABILITY = "disability", _("Invalidenversicherung (IV-Stelle)")
    CANTONAL_SOCIAL = "cantonal_social", _("Kantonales Sozialamt")
    SOCIAL_SERVICE = "social_service", _("Gemeinde-Sozialdienst")
    YOUTH = "youth", _("Jugend und Berufsberatung")
    EDUCATION = "education", _("Mittelschul- und Berufsbildung")
    COORDINATION = "coordination", _("Geschäftsstelle iiz")
    EXTERNAL = "external", _("Externe Stelle")


class District(models.Model):
    """A Bezirk of the canton, numbered as by the federal statistical office (101–112)."""

    number = models.PositiveSmallIntegerField(_("Bezirksnummer"), unique=True)
    name = models.CharField(_("Name"), max_length=100)

    class Meta:
        ordering = ["number"]
        verbose_name = _("Bezirk")
        verbose_name_plural = _("Bezirke")

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    """A political municipality in one state of the official register.

    Municipalities merge: a merger ends the old entries (``valid_until``) and adds the new one, so clients
    and statistics keep the municipality they had at the time.
    """

    bfs_number = models.PositiveIntegerField(_("BFS-Nummer"))
    name = models.CharField(_("Name"), max_length=100)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="municipalities", verbose_name=_("Bezirk")
    )
    valid_from = models.DateField(_("gültig ab"))
    valid_until = models.DateField(_("gültig bis"), null=True, blank=True)
    register_source = models.CharField(_("Quelle"), max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Gemeinde")
        verbose_name_plural = _("Gemeinden")
        constraints = [
            models.UniqueConstraint(fields=["bfs_number", "valid_from"], name="municipality_register_state"),
            models.UniqueConstraint(
                fields=["bfs_number"], condition=Q(valid_until__isnull=True), name="municipality_one_current_entry"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="municipality_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Institution(models.Model):
    kind = models.CharField(_("Art"), max_length=30, choices=InstitutionKind.choices)
    name = models.CharField(_("Name"), max_length=200, unique=True)
    short_name = models.CharField(_("Kurzbezeichnung"), max_length=40)
    formerly = models.CharField(
        _("früher"), max_length=200, blank=True, help_text=_("Frühere Bezeichnung, z. B. nach einer Reorganisation.")
    )
    is_partner = models.BooleanField(_("Partnerinstitution"), default=True)
    # A municipal social service belongs to its municipality and joins the network by contract.
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="institutions",
        verbose_name=_("Gemeinde"),
    )
    is_active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Institution")
        verbose_name_plural = _("Institutionen")

    def __str__(self) -> str:
        return self.name


class OrganisationalUnit(models.Model):
    """A unit or site of an institution, such as "RAV Uster" or "biz Uster"."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="units", verbose_name=_("Institution")
    )
    name = models.CharField(_("Name"), max_length=200)
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, null=True, blank=True, related_name="units", verbose_name=_("Standort")
    )
    email = models.EmailField(_("E-Mail"), blank=True)
    phone = models.CharField(_("Telefon"), max_length=40, blank=True)
    is_active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["institution__name", "name"]
        verbose_name = _("Organisationseinheit")
        verbose_name_plural = _("Organisationseinheiten")
        constraints = [models.UniqueConstraint(fields=["institution", "name"], name="unit_name_per_institution")]

    def __str__(self) -> str:
        return self.name


class MunicipalityContract(models.Model):
    """The contract by which a municipality's social service joins the IIZ network."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("Gemeinde")
    )
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("Sozialdienst")
    )
    signed_on = models.DateField(_("unterzeichnet am"))
    ended_on = models.DateField(_("beendet am"), null=True, blank=True)
    note = models.TextField(_("Bemerkung"), blank=True)

    class Meta:
        ordering = ["municipality__name", "-signed_on"]
        verbose_name = _("Beitrittsvertrag")
        verbose_name_plural = _("Beitrittsverträge")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("signed_on")), name="contract_valid_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality} ({self.signed_on:%d.%m.%Y})"


class Role(models.TextChoices):
    SPECIALIST = "specialist", _("iiz-Spezialist/in")
    CASE_WORKER = "case_worker", _("Berater/in")
    COORDINATOR = "coordinator", _("Koordinator/in")
    CASE_TEAM_MEMBER = "case_team_member", _("Fallteam-Mitglied")
    OPERATING_COMMITTEE = "operating_committee", _("Operativer Ausschuss")
    SUPERVISORY_BODY = "supervisory_body", _("Trägerschaft")
    ADMINISTRATOR = "administrator", _("Administrator/in")


class IizUserManager(UserManager["User"]):
    def get_queryset(self) -> models.QuerySet[User]:
        return super().get_queryset().select_related("unit__institution")


class User(AbstractUser):
    unit = models.ForeignKey(
        OrganisationalUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("Organisationseinheit"),
    )
    phone = models.CharField(_("Telefon"), max_length=40, blank=True)
    language = models.CharField(
        _("Sprache"),
        max_length=5,
        default="de",
        choices=[("de", "Deutsch"), ("fr", "Français"), ("it", "Italiano"), ("en", "English")],
    )
    # Demo accounts share the password "demo"; the backend refuses them outside the demo mode.
    is_demo_account = models.BooleanField(default=False, editable=False)

    objects = IizUserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        verbose_name = _("Benutzer/in")
        verbose_name_plural = _("Benutzer/innen")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def institution(self) -> Institution | None:
        return self.unit.institution if self.unit_id and self.unit else None

    @property
    def institution_id(self) -> int | None:
        return self.unit.institution_id if self.unit_id and self.unit else None

    @property
    def role_set(self) -> frozenset[str]:
        # Roles are read on nearly every request; cache them on the instance.
        cached: frozenset[str] | None = getattr(self, "_role_cache", None)
        if cached is None:
            cached = frozenset(self.roles.values_list("role", flat=True))
            self._role_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in sorted(self.role_set)]


class UserRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("Rolle"), max_length=30, choices=Role.choices)

    class Meta:
        verbose_name = _("Rolle")
        verbose_name_plural = _("Rollen")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="user_role_once")]

    def __str__(self) -> str:
        return self.get_role_display()


class ContactKind(models.TextChoices):
    DOCTOR = "doctor", _("Ärztin/Arzt")
    EMPLOYER = "employer", _("Arbeitgeber/in")
    COACH = "coach", _("Coach")
    MUNICIPALITY = "municipality", _("Gemeinde")
    OTHER = "other", _("Andere")


class Contact(models.Model):
    """An external participant (doctor, employer, coach). Contacts never log in."""

    kind = models.CharField(_("Art"), max_length=20, choices=ContactKind.choices)
    first_name = models.CharField(_("Vorname"), max_length=100, blank=True)
    last_name = models.CharField(_("Nachname"), max_length=100)
    organisation = models.CharField(_("Organisation"), max_length=200, blank=True)
    email = models.EmailField(_("E-Mail"), blank=True)
    phone = models.CharField(_("Telefon"), max_length=40, blank=True)
    created_by_institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("erfasst von")
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("Kontakt")
        verbose_name_plural = _("Kontakte")

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name} ({self.organisation})" if self.organisation else name
