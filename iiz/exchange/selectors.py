"""Reading the exchange of a case as the asking user may see it; opening a message or document."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Prefetch
from django.http import Http404, HttpRequest

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.exchange.models import Document, LegalBasis, Message, MessageKind, ReadReceipt
from iiz.exchange.services import receipt_record
from iiz.lib.crypto import decrypt_bytes

if TYPE_CHECKING:
    from iiz.organisations.models import User


@dataclass
class ExchangeEntry:
    message: Message
    visible: bool
    basis: str | None
    documents: list[Document] = field(default_factory=list)
    receipts: list[ReadReceipt] = field(default_factory=list)
    answered: bool = False


@dataclass
class CaseExchange:
    grant: access.CaseAccess
    entries: list[ExchangeEntry]
    documents: list[tuple[Document, str | None]]
    legal_bases: list[LegalBasis]
    open_requests_to_me: list[Message]


def _recipient_ids(obj: Message | Document) -> set[int]:
    return {i.pk for i in obj.recipients.all()}


def case_exchange_for_user(*, grant: access.CaseAccess) -> CaseExchange:
    """Messages and documents of the case that concern the user's institution, each with its basis.

    An entry addressed to the user's institution but not covered by consent or a legal basis is listed as
    withheld (subject and sender only), so the user knows to ask for consent.
    """
    case = grant.case
    assert case is not None  # noqa: S101 - a CaseAccess always has its case
    own = grant.institution_id
    receipts = Prefetch("receipts", queryset=ReadReceipt.objects.select_related("user"))
    messages = list(
        Message.objects.filter(case=case)
        .select_related("sender", "sender_institution", "in_reply_to")
        .prefetch_related(
            "recipients",
            receipts,
            "replies",
            Prefetch("documents", queryset=Document.objects.prefetch_related("recipients")),
        )
        .order_by("-sent_at")
    )
    entries: list[ExchangeEntry] = []
    open_requests: list[Message] = []
    for message in messages:
        recipients = _recipient_ids(message)
        if message.sender_institution_id != own and own not in recipients:
            continue  # not addressed to the user's institution: need to know
        basis = (
            AuditBasis.CASE
            if message.kind == MessageKind.REQUEST
            else grant.may_read_exchange(
                category=message.category, sender_id=message.sender_institution_id, recipient_ids=recipients
            )
        )
        answered = any(reply.kind == MessageKind.ANSWER for reply in message.replies.all())
        entries.append(
            ExchangeEntry(
                message=message,
                visible=basis is not None,
                basis=basis,
                documents=list(message.documents.all()) if basis is not None else [],
                receipts=list(message.receipts.all()) if message.sender_institution_id == own else [],
                answered=answered,
            )
        )
        if message.kind == MessageKind.REQUEST and own in recipients and not answered:
            open_requests.append(message)
    documents: list[tuple[Document, str | None]] = []
    for document in (
        Document.objects.filter(case=case, message__isnull=True)
        .select_related("institution", "uploaded_by")
        .prefetch_related("recipients", receipts)
        .order_by("-uploaded_at")
    ):
        recipients = _recipient_ids(document)
        if document.institution_id != own and own not in recipients:
            continue
        documents.append(
            (
                document,
                grant.may_read_exchange(
                    category=document.category, sender_id=document.institution_id, recipient_ids=recipients
                ),
            )
        )
    return CaseExchange(
        grant=grant,
        entries=entries,
        documents=documents,
        legal_bases=list(grant.legal_bases),
        open_requests_to_me=open_requests,
    )


def _parse(public_id: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(public_id))
    except ValueError:
        return None


def _denied(user: User, grant: access.CaseAccess, kind: str, public_id: str, request: HttpRequest | None) -> Http404:
    # A guessed or no longer covered id is a 404, and the attempt itself is logged.
    audit_record(
        actor=user,
        action=AuditAction.DENIED,
        client_id=grant.client.pk,
        object_type=kind,
        object_id=str(public_id)[:64],
        basis=AuditBasis.NONE,
        request=request,
    )
    return Http404()


def message_open(
    *, user: User, grant: access.CaseAccess, public_id: str, request: HttpRequest | None = None
) -> Message:
    parsed = _parse(public_id)
    message = (
        Message.objects.filter(case=grant.case, public_id=parsed)
        .select_related("sender", "sender_institution")
        .prefetch_related("recipients")
        .first()
        if parsed
        else None
    )
    if message is None:
        raise _denied(user, grant, "message", public_id, request)
    basis = grant.may_read_exchange(
        category=message.category, sender_id=message.sender_institution_id, recipient_ids=_recipient_ids(message)
    )
    if message.kind == MessageKind.REQUEST and grant.institution_id in _recipient_ids(message):
        basis = AuditBasis.CASE
    if basis is None:
        raise _denied(user, grant, "message", public_id, request)
    if message.sender_institution_id != grant.institution_id:
        receipt_record(user=user, message=message)
    audit_record(
        actor=user,
        action=AuditAction.READ,
        client_id=grant.client.pk,
        object_type="message",
        object_id=message.pk,
        basis=basis,
        request=request,
        details={"category": message.category},
    )
    return message


def document_open(
    *, user: User, grant: access.CaseAccess, public_id: str, request: HttpRequest | None = None
) -> tuple[Document, bytes]:
    """The document and its decrypted content, only through the access check; every opening is audited."""
    parsed = _parse(public_id)
    document = (
        Document.objects.filter(case=grant.case, public_id=parsed).prefetch_related("recipients").first()
        if parsed
        else None
    )
    if document is None:
        raise _denied(user, grant, "document", public_id, request)
    basis = grant.may_read_exchange(
        category=document.category, sender_id=document.institution_id, recipient_ids=_recipient_ids(document)
    )
    if basis is None:
        raise _denied(user, grant, "document", public_id, request)
    with document.file.open("rb") as handle:
        content = decrypt_bytes(handle.read())
    if document.institution_id != grant.institution_id:
        receipt_record(user=user, document=document)
    audit_record(
        actor=user,
        action=AuditAction.READ,
        client_id=grant.client.pk,
        object_type="document",
        object_id=document.pk,
        basis=basis,
        request=request,
        details={"category": document.category},
    )
    return document, content
