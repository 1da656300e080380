"""The audit trail: who read or changed which client's data, when, from which role and on which basis.

Rows are append-only. The model refuses updates and deletes, the admin is read-only, and database
triggers (see the migrations) refuse UPDATE and DELETE even from a raw SQL session of the application.
Against the database's owner, who can drop triggers, each row carries a keyed MAC of its content, and the
sealer chains the rows in order with a keyed MAC and publishes signed checkpoints outside the database
(see ``iiz/audit/chain.py`` and ``iiz/audit/sealing.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    READ = "read", _("gelesen")
    SEARCH = "search", _("gesucht")
    CREATE = "create", _("erfasst")
    UPDATE = "update", _("geändert")
    DELETE = "delete", _("gelöscht")
    DISCLOSE = "disclose", _("bekanntgegeben")
    EXPORT = "export", _("exportiert")
    DENIED = "denied", _("Zugriff verweigert")
    LOGIN = "login", _("angemeldet")
    LOGOUT = "logout", _("abgemeldet")
    LOGIN_FAILED = "login_failed", _("Anmeldung fehlgeschlagen")


class AuditBasis(models.TextChoices):
    REGISTRATION = "registration", _("eigene Anmeldung der Institution")
    CASE = "case", _("Beteiligung am Fall")
    CONSENT = "consent", _("Einwilligung")
    LEGAL = "legal", _("gesetzliche Grundlage")
    ROLE = "role", _("Rolle")
    ACCESS_REQUEST = "access_request", _("Auskunftsbegehren der betroffenen Person")
    NONE = "none", _("keine")


class AppendOnlyError(Exception):
    pass


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(_("Zeitpunkt"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Person"),
    )
    actor_username = models.CharField(_("Benutzername"), max_length=150, blank=True)
    actor_roles = models.JSONField(_("Rollen"), default=list, blank=True)
    actor_institution = models.CharField(_("Institution"), max_length=200, blank=True)
    action = models.CharField(_("Aktion"), max_length=20, choices=AuditAction.choices)
    # The client is kept as a plain number, not a foreign key: the trail must outlive the client's record.
    client_id = models.BigIntegerField(_("Klient/in"), null=True, blank=True, db_index=True)
    object_type = models.CharField(_("Objekt"), max_length=60, blank=True)
    object_id = models.CharField(_("Objekt-ID"), max_length=64, blank=True)
    basis = models.CharField(_("Grundlage"), max_length=20, choices=AuditBasis.choices, default=AuditBasis.ROLE)
    recipient = models.CharField(_("Empfänger"), max_length=200, blank=True)
    details = models.JSONField(_("Details"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP-Adresse"), null=True, blank=True)
    # HMAC-SHA256 of canonical_payload() under the key named by mac_key (IIZ_AUDIT_KEYS), written with the row.
    mac_key = models.CharField(max_length=12, blank=True)
    entry_mac = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("Protokolleintrag")
        verbose_name_plural = _("Protokoll")
        indexes = [models.Index(fields=["client_id", "-occurred_at"], name="audit_client_time_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")

    def canonical_payload(self) -> str:
        """The fields the hash covers, serialised in a fixed order."""
        return json.dumps(
            {
                "occurred_at": self.occurred_at.isoformat(),
                "actor": self.actor_id,
                "actor_username": self.actor_username,
                "actor_roles": list(self.actor_roles),
                "actor_institution": self.actor_institution,
                "action": self.action,
                "client_id": self.client_id,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "basis": self.basis,
                "recipient": self.recipient,
                "details": self.details,
                "ip_address": self.ip_address,
            },
            sort_keys=True,
            ensure_ascii=True,
            separators=(",", ":"),
            default=str,
        )


class AuditSeal(models.Model):
    """An entry's place in the chain, appended by the sealer only (``audit_seal``), never changed.

    ``seq`` counts the seals without gaps; ``chain_value`` is the keyed MAC of the previous seal's value, the
    position, the entry and the entry's MAC. The entry is referred to without a database constraint: a
    removed entry must show as a gap when the chain is verified, not block or cascade.
    """

    seq = models.BigIntegerField(unique=True)
    event = models.OneToOneField(AuditEvent, on_delete=models.DO_NOTHING, db_constraint=False, related_name="seal")
    chain_key = models.CharField(max_length=12)
    chain_value = models.CharField(max_length=64)
    sealed_at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]
        verbose_name = _("Versiegelung")
        verbose_name_plural = _("Versiegelungen")

    def __str__(self) -> str:
        return f"{self.seq}: {self.event_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("Seals cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Seals cannot be deleted.")


class DisclosureScope(models.TextChoices):
    """What a person may ask to learn (DSG Art. 25 para. 2): the report holds only the kinds asked for."""

    PERSONAL = "personal", _("Personalien und Kontaktdaten")
    REGISTRATIONS = "registrations", _("Anmeldungen bei den Institutionen")
    CONSENTS = "consents", _("Einwilligungen")
    CASES = "cases", _("iiz-Fälle: Abklärung, Plan, Sitzungen, Vereinbarungen, Anfragen")
    EXCHANGE = "exchange", _("Nachrichten und Dokumente (Liste)")
    ACCESS_LOG = "access_log", _("Zugriffsprotokoll: welche Stelle wann auf welcher Grundlage zugegriffen hat")


def all_disclosure_kinds() -> list[str]:
    return list(DisclosureScope.values)


# How long the Geschäftsstelle may open a person's file for a request: 30 days to answer (DSG Art. 25
# para. 7, VDSG Art. 18) and as long again for questions about the answer.
ACCESS_REQUEST_DAYS = 60


class AccessRequest(models.Model):
    """A person's request to learn what the platform holds about them (IDG ZH § 20, DSG Art. 25).

    A coordinator of the Geschäftsstelle records it with how the person's identity was checked. The
    person is found by the exact AHV number only, never by a search, and the number itself is not kept.
    While the request is open, the coordinators may see the person and produce the right-of-access
    report, even when no case links them to the person. ``client`` is empty when the platform holds no
    data about the person: the request and its answer are recorded all the same.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="access_requests",
        verbose_name=_("Person"),
    )
    received_on = models.DateField(_("Eingegangen am"))
    identity_check = models.CharField(
        _("Identität geprüft durch"),
        max_length=300,
        help_text=_("Zum Beispiel: Kopie der Identitätskarte, persönliche Vorsprache am Schalter."),
    )
    reference = models.CharField(_("Geschäftsnummer"), max_length=100, blank=True)
    # What the person asked to learn; the report never holds more (DisclosureScope).
    scope = models.JSONField(_("Umfang der Auskunft"), default=all_disclosure_kinds)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("Erfasst von")
    )
    recorded_at = models.DateTimeField(_("Erfasst am"), default=timezone.now)
    closed_at = models.DateTimeField(_("Abgeschlossen am"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Abgeschlossen von"),
    )

    class Meta:
        ordering = ["-received_on", "-id"]
        verbose_name = _("Auskunftsbegehren")
        verbose_name_plural = _("Auskunftsbegehren")

    def __str__(self) -> str:
        return f"{self.received_on:%d.%m.%Y} {self.reference or self.public_id}"

    @property
    def due_on(self) -> dt.date:
        return self.received_on + dt.timedelta(days=30)

    @property
    def access_until(self) -> dt.date:
        return self.received_on + dt.timedelta(days=ACCESS_REQUEST_DAYS)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and timezone.localdate() <= self.access_until

    def scope_labels(self) -> list[str]:
        labels = dict(DisclosureScope.choices)
        return [str(labels[kind]) for kind in DisclosureScope.values if kind in self.scope]
