"""Sending messages and documents inside a case, recording legal bases, and read receipts.

A message or document goes to an institution only when a valid consent of the client, or a legal basis
recorded on the case, covers that institution and the data category; otherwise it is refused with the
reason. Every disclosure is audited with its basis; every opening leaves a read receipt and an audit row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.cases.models import Case
from iiz.clients.models import DataCategory
from iiz.exchange.models import Document, LegalBasis, LegalProvision, Message, MessageKind, ReadReceipt
from iiz.lib.crypto import encrypt_bytes
from iiz.lib.locking import already_done, locked
from iiz.lib.uploads import validate_document_upload
from iiz.organisations.models import Institution, Role

if TYPE_CHECKING:
    from iiz.organisations.models import User


def _bases_for(
    grant: access.CaseAccess, *, category: str, sender: Institution, recipients: list[Institution]
) -> dict[str, str]:
    """The basis of each recipient, or a ValidationError naming every recipient that is not covered."""
    bases: dict[str, str] = {}
    refused: list[str] = []
    for recipient in recipients:
        basis = grant.exchange_basis(category=category, sender_id=sender.pk, recipient_id=recipient.pk)
        if basis is None:
            refused.append(recipient.name)
        else:
            bases[recipient.short_name] = basis
    if refused:
        raise ValidationError(
            {
                "recipients": _(
                    "Keine gültige Einwilligung der Person und keine erfasste Rechtsgrundlage erlauben es, Daten der "
                    "Kategorie «%(category)s» an %(institutions)s weiterzugeben. Erfassen Sie zuerst die Einwilligung "
                    "oder die Rechtsgrundlage."
                )
                % {"category": DataCategory(category).label, "institutions": ", ".join(refused)}
            },
            code="not_covered",
        )
    return bases


def _bases_or_held(
    grant: access.CaseAccess, *, category: str, sender: Institution, recipients: list[Institution]
) -> tuple[dict[str, str], list[str]]:
    """The basis of each covered recipient, and the recipients for whom the data must be held back."""
    bases: dict[str, str] = {}
    held: list[str] = []
    for recipient in recipients:
        basis = grant.exchange_basis(category=category, sender_id=sender.pk, recipient_id=recipient.pk)
        if basis is None:
            held.append(recipient.short_name)
        else:
            bases[recipient.short_name] = basis
    return bases, held


def _check_recipients(case: Case, sender: Institution, recipients: list[Institution]) -> None:
    if not recipients:
        raise ValidationError({"recipients": _("Wählen Sie mindestens eine Empfängerinstitution.")})
    if any(r.pk == sender.pk for r in recipients):
        raise ValidationError({"recipients": _("Die eigene Institution ist keine Empfängerin.")})
    in_case = set(case.participants.filter(left_on__isnull=True).values_list("institution_id", flat=True))
    outside = [r.name for r in recipients if r.pk not in in_case]
    if outside:
        raise ValidationError(
            {"recipients": _("%(institutions)s ist nicht am Fall beteiligt.") % {"institutions": ", ".join(outside)}}
        )


def _store_document(
    *,
    case: Case,
    actor: User,
    sender: Institution,
    upload: UploadedFile,
    title: str,
    kind: str,
    category: str,
    recipients: list[Institution],
    message: Message | None,
) -> Document:
    try:
        content_type = validate_document_upload(upload)
    except ValidationError as error:
        raise ValidationError({"document": error.messages}) from error
    data = upload.read()
    document = Document(
        case=case,
        message=message,
        kind=kind,
        category=category,
        title=title.strip() or (upload.name or "")[:200],
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=actor,
        institution=sender,
    )
    document.full_clean(exclude=["file"])
    # Only the ciphertext reaches the file storage.
    document.file.save("document.bin", ContentFile(encrypt_bytes(data)), save=False)
    document.save()
    document.recipients.set(recipients)
    return document


@transaction.atomic
def message_send(
    *,
    actor: User,
    case: Case,
    kind: str,
    category: str,
    subject: str,
    body: str,
    recipients: Iterable[Institution],
    due_on: dt.date | None = None,
    in_reply_to: Message | None = None,
    attachment: UploadedFile | None = None,
    attachment_title: str = "",
    attachment_kind: str = "other",
    request: HttpRequest | None = None,
) -> Message:
    grant = access.case_access_required(user=actor, case=case)
    if not case.is_open:
        raise ValidationError(_("Der Fall ist abgeschlossen; es werden keine Nachrichten mehr ausgetauscht."))
    sender = access.own_institution(actor)
    recipient_list = list(recipients)
    if kind not in MessageKind.values:
        raise ValidationError({"kind": _("Unbekannte Art der Nachricht.")})
    if category not in DataCategory.values:
        raise ValidationError({"category": _("Unbekannte Datenkategorie.")})
    if kind == MessageKind.ANSWER:
        if in_reply_to is None or in_reply_to.case_id != case.pk or in_reply_to.kind != MessageKind.REQUEST:
            raise ValidationError(_("Eine Antwort bezieht sich auf eine Anfrage in diesem Fall."))
        if not in_reply_to.recipients.filter(pk=sender.pk).exists():
            raise PermissionDenied(_("Nur die angefragte Institution beantwortet die Anfrage."))
        recipient_list = [in_reply_to.sender_institution]
        category = in_reply_to.category
    if kind == MessageKind.REQUEST:
        if due_on is None:
            raise ValidationError({"due_on": _("Eine Anfrage braucht eine Antwortfrist.")})
        if due_on < timezone.localdate():
            raise ValidationError({"due_on": _("Die Antwortfrist liegt in der Vergangenheit.")})
    _check_recipients(case, sender, recipient_list)
    bases: dict[str, str]
    held: list[str] = []
    if kind == MessageKind.REQUEST:
        # Asking is not yet disclosing: the question names the category, the answer carries the data.
        bases = {r.short_name: str(AuditBasis.CASE) for r in recipient_list}
    elif kind == MessageKind.ANSWER:
        # The asked institution may answer before the consent is there: the answer is deposited but held
        # back (the asker sees only that it exists) and is disclosed when a consent or a legal basis covers
        # it and the asker opens it (see ``selectors.message_open``).
        bases, held = _bases_or_held(grant, category=category, sender=sender, recipients=recipient_list)
    else:
        bases = _bases_for(grant, category=category, sender=sender, recipients=recipient_list)
    if not subject.strip():
        raise ValidationError({"subject": _("Geben Sie einen Betreff an.")})
    if not body.strip() and attachment is None:
        raise ValidationError({"body": _("Die Nachricht ist leer.")})
    message = Message(
        case=case,
        kind=kind,
        category=category,
        subject=subject.strip(),
        body=body.strip(),
        sender=actor,
        sender_institution=sender,
        in_reply_to=in_reply_to,
        due_on=due_on if kind == MessageKind.REQUEST else None,
    )
    message.full_clean()
    message.save()
    message.recipients.set(recipient_list)
    document = None
    if attachment is not None:
        document = _store_document(
            case=case,
            actor=actor,
            sender=sender,
            upload=attachment,
            title=attachment_title,
            kind=attachment_kind,
            category=category,
            recipients=recipient_list,
            message=message,
        )
    details: dict[str, object] = {
        "case": case.reference,
        "kind": kind,
        "category": category,
        "bases": bases,
        "document": document.pk if document else None,
    }
    if held:
        details["held_for"] = sorted(held)
    audit_record(
        actor=actor,
        # A held answer is stored, not yet disclosed: nobody outside the sender's institution can read it.
        action=AuditAction.CREATE if kind == MessageKind.REQUEST or not bases else AuditAction.DISCLOSE,
        client_id=case.client_id,
        object_type="message",
        object_id=message.pk,
        basis=sorted(set(bases.values()))[0] if bases else AuditBasis.NONE,
        recipient=", ".join(sorted(bases) or sorted(held)),
        request=request,
        details=details,
    )
    return message


@transaction.atomic
def document_share(
    *,
    actor: User,
    case: Case,
    upload: UploadedFile,
    title: str,
    kind: str,
    category: str,
    recipients: Iterable[Institution],
    request: HttpRequest | None = None,
) -> Document:
    grant = access.case_access_required(user=actor, case=case)
    if not case.is_open:
        raise ValidationError(_("Der Fall ist abgeschlossen."))
    sender = access.own_institution(actor)
    recipient_list = list(recipients)
    if category not in DataCategory.values:
        raise ValidationError({"category": _("Unbekannte Datenkategorie.")})
    _check_recipients(case, sender, recipient_list)
    bases = _bases_for(grant, category=category, sender=sender, recipients=recipient_list)
    document = _store_document(
        case=case,
        actor=actor,
        sender=sender,
        upload=upload,
        title=title,
        kind=kind,
        category=category,
        recipients=recipient_list,
        message=None,
    )
    audit_record(
        actor=actor,
        action=AuditAction.DISCLOSE,
        client_id=case.client_id,
        object_type="document",
        object_id=document.pk,
        basis=sorted(set(bases.values()))[0],
        recipient=", ".join(sorted(bases)),
        request=request,
        details={"case": case.reference, "category": category, "bases": bases},
    )
    return document


def receipt_record(*, user: User, message: Message | None = None, document: Document | None = None) -> None:
    """The first opening by a user is recorded; later openings keep the first time."""
    try:
        with transaction.atomic():
            ReadReceipt.objects.create(user=user, message=message, document=document)
    except IntegrityError:
        return


@transaction.atomic
def legal_basis_record(
    *,
    actor: User,
    case: Case,
    provision: LegalProvision,
    institutions: Iterable[Institution],
    categories: Iterable[str],
    justification: str,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    request: HttpRequest | None = None,
) -> LegalBasis:
    """A coordinator records the legal basis that allows an exchange without consent in this case."""
    grant = access.case_access_required(user=actor, case=case)
    if not actor.has_role(Role.COORDINATOR) or not grant.is_open:
        raise PermissionDenied(_("Rechtsgrundlagen erfasst die Koordination der Geschäftsstelle."))
    institution_list, category_list = list(institutions), sorted(set(categories))
    errors: dict[str, str] = {}
    if not institution_list:
        errors["institutions"] = _("Wählen Sie mindestens eine Institution.")
    if not category_list or any(c not in DataCategory.values for c in category_list):
        errors["categories"] = _("Wählen Sie mindestens eine Datenkategorie.")
    if len(justification.strip()) < 10:
        errors["justification"] = _("Begründen Sie, warum die Rechtsgrundlage in diesem Fall gilt.")
    if valid_until is not None and valid_until < valid_from:
        errors["valid_until"] = _("Das Ende der Gültigkeit liegt vor ihrem Beginn.")
    if errors:
        raise ValidationError(errors)
    basis = LegalBasis(
        case=case,
        provision=provision,
        categories=category_list,
        justification=justification.strip(),
        valid_from=valid_from,
        valid_until=valid_until,
        recorded_by=actor,
    )
    basis.full_clean()
    basis.save()
    basis.institutions.set(institution_list)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        client_id=case.client_id,
        object_type="legal_basis",
        object_id=basis.pk,
        basis=AuditBasis.LEGAL,
        request=request,
        details={
            "case": case.reference,
            "provision": provision.code,
            "categories": category_list,
            "institutions": sorted(i.short_name for i in institution_list),
        },
    )
    return basis


@transaction.atomic
def legal_basis_end(*, actor: User, basis: LegalBasis, request: HttpRequest | None = None) -> LegalBasis:
    access.case_access_required(user=actor, case=basis.case)
    if not actor.has_role(Role.COORDINATOR):
        raise PermissionDenied(_("Rechtsgrundlagen hebt die Koordination der Geschäftsstelle auf."))
    locked(basis)
    if basis.ended_at is not None:
        raise already_done(_("Diese Rechtsgrundlage ist bereits aufgehoben."))
    basis.ended_at = timezone.now()
    basis.save(update_fields=["ended_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        client_id=basis.case.client_id,
        object_type="legal_basis",
        object_id=basis.pk,
        basis=AuditBasis.LEGAL,
        request=request,
        details={"ended": True},
    )
    return basis
