"""Interfaces to the partners' own systems: API tokens and webhooks.

A partner system authenticates with a token that an administrator issued to its institution. The token
acts through a service user of that institution, so that every selector, service and audit entry of the
platform applies to it unchanged. Only a hash of the token's secret is stored; the secret is shown once.

Webhooks tell a partner system that something happened in a case its institution takes part in. The
payload names the case and the event, never the person: the partner fetches details through the API,
where the access rules apply.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiz.lib.crypto import EncryptedTextField
from iiz.organisations.models import Institution


class Scope(models.TextChoices):
    """What a token may do. Access rules (institution, case participation, consent) apply on top."""

    CLIENTS_READ = "clients:read", _("Personen und ihre Anmeldungen lesen")
    CLIENTS_WRITE = "clients:write", _("Personen erfassen, Kontaktdaten ändern")
    REGISTRATIONS_WRITE = "registrations:write", _("Anmeldungen erfassen und beenden")
    CONSENTS_READ = "consents:read", _("Einwilligungen lesen")
    CONSENTS_WRITE = "consents:write", _("Einwilligungen erfassen und widerrufen")
    CASES_READ = "cases:read", _("iiz-Fälle lesen")
    AGREEMENTS_READ = "agreements:read", _("Vereinbarungen lesen")
    AGREEMENTS_WRITE = "agreements:write", _("Stand von Vereinbarungen melden")
    MESSAGES_READ = "messages:read", _("Nachrichten lesen (nur Metadaten)")
    KPIS_READ = "kpis:read", _("Kennzahlen lesen (Aggregate)")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Webhooks verwalten")
    IMPORTS_WRITE = "imports:write", _("Personen und Anmeldungen aus Dateien importieren")
    REPORTS_WRITE = "reports:write", _("Personen zur Früherkennung melden")


class ApiToken(models.Model):
    """A key with which a partner system of an institution calls the API.

    The key is ``<prefix>.<secret>``: the prefix finds the row, the SHA-256 of the secret proves it. A
    rotation issues a new token for the same service user and revokes the old one, at once or after a
    grace period (``revoked_at`` in the future), so that the partner can switch without an outage.
    """

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="api_tokens", verbose_name=_("Institution")
    )
    name = models.CharField(_("Bezeichnung"), max_length=100, help_text=_("Zum Beispiel das Partnersystem."))
    prefix = models.CharField(_("Präfix"), max_length=24, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("Berechtigungen"), default=list)
    service_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        editable=False,
        verbose_name=_("Dienstkonto"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("erstellt von")
    )
    created_at = models.DateTimeField(_("erstellt am"), default=timezone.now)
    expires_at = models.DateTimeField(_("läuft ab am"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("zuletzt verwendet"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("widerrufen am"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    rotated_from = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rotated_to",
        editable=False,
        verbose_name=_("ersetzt Token"),
    )

    class Meta:
        ordering = ["institution__name", "-created_at"]
        verbose_name = _("API-Token")
        verbose_name_plural = _("API-Tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def is_valid_at(self, moment: dt.datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= moment:
            return False
        return self.expires_at is None or self.expires_at > moment

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def status(self) -> str:
        now = timezone.now()
        if self.revoked_at is not None:
            return "revoked" if self.revoked_at <= now else "grace"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class WebhookEvent(models.TextChoices):
    CASE_OPENED = "case.opened", _("Fall eröffnet")
    CASE_LEVEL_CHANGED = "case.level_changed", _("Stufe geändert")
    CASE_PLAN_AGREED = "case.plan_agreed", _("Integrationsplan vereinbart")
    CASE_CLOSED = "case.closed", _("Fall abgeschlossen")


class WebhookSubscription(models.Model):
    """A partner system's address for case events of the cases its institution takes part in."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="webhook_subscriptions", verbose_name=_("Institution")
    )
    target_url = models.URLField(_("Ziel-URL"), max_length=500)
    events = models.JSONField(_("Ereignisse"), default=list)
    # Needed in clear to sign each delivery, so it is encrypted at rest rather than hashed.
    secret = EncryptedTextField(editable=False)
    description = models.CharField(_("Beschreibung"), max_length=200, blank=True)
    active = models.BooleanField(_("aktiv"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("erstellt von")
    )
    created_at = models.DateTimeField(_("erstellt am"), default=timezone.now)
    deactivated_at = models.DateTimeField(_("deaktiviert am"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["institution__name", "-created_at"]
        verbose_name = _("Webhook-Abonnement")
        verbose_name_plural = _("Webhook-Abonnemente")

    def __str__(self) -> str:
        return f"{self.institution.short_name}: {self.target_url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("ausstehend")
    SUCCEEDED = "succeeded", _("zugestellt")
    FAILED = "failed", _("gescheitert")


class WebhookDelivery(models.Model):
    """One event for one subscription, with every attempt to deliver it recorded."""

    # Sent as X-IIZ-Delivery: the same id on every retry, so that the receiver can ignore repeats.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("Abonnement")
    )
    event = models.CharField(_("Ereignis"), max_length=30, choices=WebhookEvent.choices)
    case_reference = models.CharField(_("Fallnummer"), max_length=20)
    payload = models.JSONField(_("Inhalt"))
    status = models.CharField(
        _("Status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("Versuche"), default=0)
    next_attempt_at = models.DateTimeField(_("nächster Versuch"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("letzter Versuch"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("letzter HTTP-Status"), null=True, blank=True)
    last_error = models.CharField(_("letzter Fehler"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("zugestellt am"), null=True, blank=True)
    created_at = models.DateTimeField(_("erstellt am"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Webhook-Zustellung")
        verbose_name_plural = _("Webhook-Zustellungen")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event} {self.case_reference} → {self.subscription.target_url}"


from iiz.interfaces.models_imports import *  # noqa: E402,F401,F403
