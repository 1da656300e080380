"""Information exchange inside a case: messages, documents, read receipts and the legal bases.

A recipient institution sees a message or document only when a valid consent of the client, or a legal
basis recorded on the case, covers that institution and the data category (decided in ``iiz.access``).
Bodies and files are encrypted at rest.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiz.cases.models import Case
from iiz.clients.models import DataCategory
from iiz.lib.crypto import EncryptedTextField
from iiz.organisations.models import Institution


class LegalProvision(models.Model):
    """A legal norm that allows an exchange without consent in the individual case (catalogue)."""

    code = models.SlugField(_("Code"), max_length=40, unique=True)
    name = models.CharField(_("Bezeichnung"), max_length=200)
    summary = models.TextField(_("Inhalt"), blank=True)
    is_active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Rechtsgrundlage")
        verbose_name_plural = _("Rechtsgrundlagen")

    def __str__(self) -> str:
        return self.name


class LegalBasis(models.Model):
    """A legal basis recorded on a case: which institutions may receive which categories, and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="legal_bases")
    provision = models.ForeignKey(
        LegalProvision, on_delete=models.PROTECT, related_name="+", verbose_name=_("Rechtsgrundlage")
    )
    institutions = models.ManyToManyField(Institution, related_name="+", verbose_name=_("Institutionen"))
    categories = models.JSONField(_("Datenkategorien"), default=list)
    justification = models.TextField(_("Begründung im Einzelfall"))
    valid_from = models.DateField(_("gültig ab"))
    valid_until = models.DateField(_("gültig bis"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(_("aufgehoben am"), null=True, blank=True)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("Rechtsgrundlage im Fall")
        verbose_name_plural = _("Rechtsgrundlagen im Fall")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="legal_basis_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case}: {self.provision}"


class MessageKind(models.TextChoices):
    REQUEST = "request", _("Informationsanfrage")
    ANSWER = "answer", _("Antwort")
    NOTICE = "notice", _("Mitteilung")
    TEAM_NOTE = "team_note", _("Notiz an das Fallteam")


class Message(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("Art"), max_length=12, choices=MessageKind.choices)
    category = models.CharField(_("Datenkategorie"), max_length=20, choices=DataCategory.choices)
    subject = models.CharField(_("Betreff"), max_length=200)
    body = EncryptedTextField(_("Text"), blank=True)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sender_institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    recipients = models.ManyToManyField(Institution, related_name="+", verbose_name=_("an"))
    in_reply_to = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="replies")
    due_on = models.DateField(_("Antwort bis"), null=True, blank=True)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("Nachricht")
        verbose_name_plural = _("Nachrichten")

    def __str__(self) -> str:
        return self.subject


class DocumentKind(models.TextChoices):
    REPORT = "report", _("Bericht")
    MEDICAL_CERTIFICATE = "medical_certificate", _("Arztzeugnis")
    DECISION = "decision", _("Verfügung / Entscheid")
    OTHER = "other", _("Anderes")


def document_path(instance: Document, filename: str) -> str:
    # Stored encrypted under a random name: the name reveals neither the client nor the content.
    return f"documents/{instance.case.reference}/{uuid.uuid4().hex}.bin"


class Document(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, blank=True, related_name="documents")
    kind = models.CharField(_("Art"), max_length=20, choices=DocumentKind.choices)
    category = models.CharField(_("Datenkategorie"), max_length=20, choices=DataCategory.choices)
    title = models.CharField(_("Titel"), max_length=200)
    file = models.FileField(upload_to=document_path)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    recipients = models.ManyToManyField(Institution, related_name="+", verbose_name=_("für"))
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("Dokument")
        verbose_name_plural = _("Dokumente")

    def __str__(self) -> str:
        return self.title


class ReadReceipt(models.Model):
    """Who opened a message or document, and when (the sender sees these)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, null=True, blank=True, related_name="receipts")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, null=True, blank=True, related_name="receipts")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["read_at"]
        verbose_name = _("Lesebestätigung")
        verbose_name_plural = _("Lesebestätigungen")
        constraints = [
            models.UniqueConstraint(fields=["user", "message"], name="receipt_once_per_message"),
            models.UniqueConstraint(fields=["user", "document"], name="receipt_once_per_document"),
            models.CheckConstraint(
                condition=Q(message__isnull=False) ^ Q(document__isnull=False), name="receipt_message_xor_document"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.read_at:%d.%m.%Y %H:%M}"
