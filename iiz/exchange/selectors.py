"""Reading the exchange of a case as the asking user may see it; opening a message or document."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis, AuditEvent
from iiz.audit.services import audit_record
from iiz.cases.models import CaseParticipant
from iiz.exchange.models import Document, LegalBasis, Message, MessageKind, ReadReceipt
from iiz.exchange.services import receipt_record
from iiz.lib.crypto import decrypt_bytes

if TYPE_CHECKING:
    from iiz.organisations.models import Institution, User


@dataclass
class ExchangeEntry:
    message: Message
    visible: bool
    basis: str | None
    documents: list[Document] = field(default_factory=list)
    receipts: list[ReadReceipt] = field(default_factory=list)
    answered: bool = False
    # For the sender: recipient institutions that cannot read it now (no consent or legal basis covers them).
    held_for: list[Institution] = field(default_factory=list)


@dataclass
class CaseExchange:
    grant: access.CaseAccess
    entries: list[ExchangeEntry]
    documents: list[tuple[Document, str | None]]
    legal_bases: list[LegalBasis]
    open_requests_to_me: list[Message]
    # For the sender of a shared document: recipient institutions that cannot read it now.
    held_documents: dict[int, list[Institution]] = field(default_factory=dict)


def _recipient_ids(obj: Message | Document) -> set[int]:
    return {i.pk for i in obj.recipients.all()}


def _held_for(grant: access.CaseAccess, obj: Message | Document, *, sender_id: int) -> list[Institution]:
    """For the sending institution: the recipients that no consent or legal basis covers right now."""
    if sender_id != grant.institution_id or (isinstance(obj, Message) and obj.kind == MessageKind.REQUEST):
        return []
    return [
        institution
        for institution in obj.recipients.all()
        if grant.exchange_basis(category=obj.category, sender_id=sender_id, recipient_id=institution.pk) is None
    ]


def case_exchange_for_user(*, grant: access.CaseAccess) -> CaseExchange:
    """Messages and documents of the case that concern the user's institution, each with its basis.

    An entry addressed to the user's institution but not covered by consent or a legal basis is listed as
    withheld (subject and sender only), so the user knows to ask for consent.
    """
    case = grant.case
    assert case is not None  # noqa: S101 - a CaseAccess always has its case
    own = grant.institution_id
    receipts = Prefetch("receipts", queryset=ReadReceipt.objects.select_related("user__unit__institution"))
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
                held_for=_held_for(grant, message, sender_id=message.sender_institution_id),
            )
        )
        if message.kind == MessageKind.REQUEST and own in recipients and not answered:
            open_requests.append(message)
    documents: list[tuple[Document, str | None]] = []
    held_documents: dict[int, list[Institution]] = {}
    for document in (
        Document.objects.filter(case=case, message__isnull=True)
        .select_related("institution", "uploaded_by")
        .prefetch_related("recipients", receipts)
        .order_by("-uploaded_at")
    ):
        recipients = _recipient_ids(document)
        if document.institution_id != own and own not in recipients:
            continue
        held_documents[document.pk] = _held_for(grant, document, sender_id=document.institution_id)
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
        held_documents=held_documents,
    )


def case_exchange_read(*, grant: access.CaseAccess, request: HttpRequest | None = None) -> CaseExchange:
    """The exchange page of a case: ``case_exchange_for_user`` with one audit entry for what was listed."""
    exchange = case_exchange_for_user(grant=grant)
    audit_record(
        actor=grant.user,
        action=AuditAction.READ,
        client_id=grant.client.pk,
        object_type="case_exchange",
        object_id=grant.case.pk if grant.case else "",
        basis=AuditBasis.CASE,
        request=request,
        details={
            "messages_shown": [e.message.pk for e in exchange.entries if e.visible],
            "messages_withheld": [e.message.pk for e in exchange.entries if not e.visible],
            "documents_shown": [d.pk for d, basis in exchange.documents if basis is not None],
        },
    )
    return exchange


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


def _disclose_held_answer(*, grant: access.CaseAccess, message: Message, basis: str) -> None:
    """An answer deposited before consent (see ``services.message_send``) is disclosed when it first reaches
    the asking institution under a consent or legal basis; that moment is recorded once, in the sender's name.
    """
    if message.kind != MessageKind.ANSWER or message.sender_institution_id == grant.institution_id:
        return
    already = AuditEvent.objects.filter(
        client_id=grant.client.pk, object_type="message", object_id=str(message.pk), action=AuditAction.DISCLOSE
    ).exists()
    if already:
        return
    institution = grant.user.institution
    recipient = institution.short_name if institution else ""
    audit_record(
        actor=message.sender,
        action=AuditAction.DISCLOSE,
        client_id=grant.client.pk,
        object_type="message",
        object_id=message.pk,
        basis=basis,
        recipient=recipient,
        details={
            "case": grant.case.reference if grant.case else "",
            "kind": message.kind,
            "category": message.category,
            "bases": {recipient: basis},
            "held_until_covered": True,
            "opened_by": grant.user.get_username(),
        },
    )


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
        _disclose_held_answer(grant=grant, message=message, basis=basis)
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
        Document.objects.filter(case=grant.case, public_id=parsed)
        .select_related("message__sender")
        .prefetch_related("recipients")
        .first()
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
        if document.message is not None:
            _disclose_held_answer(grant=grant, message=document.message, basis=basis)
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


@dataclass
class MessagePage:
    """One opened message as the user may see it, with what belongs to it."""

    message: Message
    documents: list[Document]
    receipts: list[ReadReceipt]
    held_for: list[Institution]
    # Answers to a request that concern the user's institution, each with whether the user may read it.
    replies: list[tuple[Message, bool]]
    may_answer: bool


def message_page_for_user(
    *, user: User, grant: access.CaseAccess, public_id: str, request: HttpRequest | None = None
) -> MessagePage:
    """Open a message (read receipt and audit through ``message_open``) with its documents, receipts, answers."""
    message = message_open(user=user, grant=grant, public_id=public_id, request=request)
    own = grant.institution_id
    is_sender = message.sender_institution_id == own
    receipts = Prefetch("receipts", queryset=ReadReceipt.objects.select_related("user__unit__institution"))
    documents = list(message.documents.prefetch_related(receipts) if is_sender else message.documents.all())
    replies: list[tuple[Message, bool]] = []
    if message.kind == MessageKind.REQUEST:
        for reply in (
            message.replies.filter(kind=MessageKind.ANSWER)
            .select_related("sender", "sender_institution")
            .prefetch_related("recipients")
            .order_by("sent_at")
        ):
            recipient_ids = _recipient_ids(reply)
            if reply.sender_institution_id != own and own not in recipient_ids:
                continue
            basis = grant.may_read_exchange(
                category=reply.category, sender_id=reply.sender_institution_id, recipient_ids=recipient_ids
            )
            replies.append((reply, basis is not None))
    return MessagePage(
        message=message,
        documents=documents,
        receipts=list(message.receipts.select_related("user__unit__institution")) if is_sender else [],
        held_for=_held_for(grant, message, sender_id=message.sender_institution_id),
        replies=replies,
        may_answer=(grant.is_open and message.kind == MessageKind.REQUEST and own in _recipient_ids(message)),
    )


def request_to_answer(
    *, user: User, grant: access.CaseAccess, public_id: str, request: HttpRequest | None = None
) -> Message:
    """A request addressed to the user's institution, to answer it (no read: the page shows nothing new)."""
    parsed = _parse(public_id)
    message = (
        Message.objects.filter(
            case=grant.case, public_id=parsed, kind=MessageKind.REQUEST, recipients=grant.institution_id
        )
        .select_related("sender", "sender_institution")
        .first()
        if parsed and grant.institution_id is not None
        else None
    )
    if message is None:
        raise _denied(user, grant, "message", public_id, request)
    return message


def case_recipient_institutions(*, grant: access.CaseAccess, include_own: bool = False) -> QuerySet[Institution]:
    """The institutions currently taking part in the case (other than the user's own unless asked)."""
    from iiz.organisations.models import Institution

    taking_part = Institution.objects.filter(
        pk__in=CaseParticipant.objects.filter(case=grant.case, left_on__isnull=True).values("institution_id")
    ).order_by("name")
    own = grant.institution_id
    return taking_part if include_own or own is None else taking_part.exclude(pk=own)


def legal_basis_get(*, grant: access.CaseAccess, basis_id: int) -> LegalBasis:
    basis = (
        LegalBasis.objects.filter(case=grant.case, pk=basis_id)
        .select_related("provision", "case")
        .prefetch_related("institutions")
        .first()
    )
    if basis is None:
        raise Http404
    return basis
