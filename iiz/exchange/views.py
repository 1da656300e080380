"""Pages of the exchange in a case, and the directory of iiz specialists.

Views translate between HTTP and the selectors and services. Every page of a case is reached through
``case_access_get`` (404 and logged when the case is hidden); whether a message or document may be read is
decided at reading time in ``iiz.access``, so a revoked consent cuts access at once.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from iiz import access
from iiz.cases.selectors import case_access_get
from iiz.clients.models import DataCategory
from iiz.exchange import forms, selectors, services
from iiz.exchange.models import Message, MessageKind
from iiz.lib.forms import form_add_service_errors
from iiz.lib.uploads import sniff_content_type
from iiz.organisations import selectors as organisation_selectors
from iiz.organisations.models import Institution, User


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _grant(request: HttpRequest, reference: str) -> access.CaseAccess:
    # As on the client and case pages: roles that never see persons are told so, whatever the case.
    if not access.may_work_with_clients(_user(request)):
        raise PermissionDenied(_("Ihre Rolle sieht keine Personendaten."))
    return case_access_get(user=_user(request), reference=reference, request=request)


def _case_url(reference: str) -> str:
    return reverse("exchange:case", args=[reference])


def _require_open(grant: access.CaseAccess) -> None:
    if not grant.is_open:
        raise PermissionDenied(_("Der Fall ist abgeschlossen; es werden keine Nachrichten mehr ausgetauscht."))


def _base_context(grant: access.CaseAccess) -> dict[str, Any]:
    return {
        "grant": grant,
        "case": grant.case,
        "client": grant.client,
        "own_institution": grant.user.institution,
        "may_record_legal_basis": grant.may_coordinate(),
    }


def _held_note(grant: access.CaseAccess, question: Message) -> bool:
    """Whether an answer to the request would be held back now (no consent or legal basis covers the asker)."""
    sender_id = grant.institution_id
    return sender_id is not None and (
        grant.exchange_basis(
            category=question.category, sender_id=sender_id, recipient_id=question.sender_institution_id
        )
        is None
    )


def _coverage(grant: access.CaseAccess, institutions: Any) -> list[tuple[Institution, list[str | None]]]:
    """For each institution of the case: on which basis the user's institution may pass it each category."""
    own = grant.institution_id
    if own is None:
        return []
    return [
        (
            institution,
            [
                grant.exchange_basis(category=category, sender_id=own, recipient_id=institution.pk)
                for category in DataCategory.values
            ],
        )
        for institution in institutions
    ]


def _answer_form_id(question: Message) -> str:
    return f"answer-{question.public_id.hex[:8]}-%s"


# ---------------------------------------------------------------------------------------------------------
# The exchange page
# ---------------------------------------------------------------------------------------------------------


@require_GET
def case_exchange_view(request: HttpRequest, reference: str) -> HttpResponse:
    grant = _grant(request, reference)
    exchange = selectors.case_exchange_read(grant=grant, request=request)
    open_requests = [
        (question, forms.AnswerForm(auto_id=_answer_form_id(question)), _held_note(grant, question))
        for question in exchange.open_requests_to_me
    ]
    context = _base_context(grant) | {
        "exchange": exchange,
        "open_requests": open_requests,
        "documents": [
            (document, basis, exchange.held_documents.get(document.pk, [])) for document, basis in exchange.documents
        ],
        "legal_bases": [
            (basis, [DataCategory(c).label for c in basis.categories if c in DataCategory.values])
            for basis in exchange.legal_bases
        ],
        "coverage": _coverage(grant, selectors.case_recipient_institutions(grant=grant)),
        "category_labels": DataCategory.labels,
        "today": timezone.localdate(),
    }
    return render(request, "exchange/case.html", context)


@require_http_methods(["GET", "POST"])
def message_create_view(request: HttpRequest, reference: str) -> HttpResponse:
    grant = _grant(request, reference)
    _require_open(grant)
    case = grant.case
    assert case is not None  # noqa: S101 - a CaseAccess always has its case
    recipients = selectors.case_recipient_institutions(grant=grant)
    initial: dict[str, Any] = {"kind": request.GET.get("art", MessageKind.REQUEST)}
    form = forms.MessageForm(request.POST or None, request.FILES or None, recipients=recipients, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            message = services.message_send(
                actor=_user(request),
                case=case,
                kind=data["kind"],
                category=data["category"],
                subject=data["subject"],
                body=data["body"],
                recipients=data["recipients"],
                due_on=data["due_on"],
                attachment=data["document"],
                attachment_title=data["document_title"],
                attachment_kind=data["document_kind"],
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("«%(subject)s» ist gesendet an %(recipients)s.")
                % {"subject": message.subject, "recipients": ", ".join(r.name for r in data["recipients"])},
            )
            return redirect(_case_url(reference))
    if form.errors:
        form.note_file_not_kept()
    return render(
        request,
        "exchange/message_form.html",
        _base_context(grant) | {"form": form, "has_recipients": recipients.exists()},
        status=400 if form.errors else 200,
    )


@require_GET
def message_detail_view(request: HttpRequest, reference: str, public_id: str) -> HttpResponse:
    grant = _grant(request, reference)
    page = selectors.message_page_for_user(user=_user(request), grant=grant, public_id=public_id, request=request)
    context = _base_context(grant) | {"page": page, "message": page.message}
    if page.may_answer:
        context["answer_form"] = forms.AnswerForm(auto_id=_answer_form_id(page.message))
        context["answer_held"] = _held_note(grant, page.message)
    return render(request, "exchange/message.html", context)


@require_http_methods(["GET", "POST"])
def answer_view(request: HttpRequest, reference: str, public_id: str) -> HttpResponse:
    """Answer a request addressed to the user's institution, with text and an optional document."""
    grant = _grant(request, reference)
    user = _user(request)
    question = selectors.request_to_answer(user=user, grant=grant, public_id=public_id, request=request)
    _require_open(grant)
    case = grant.case
    assert case is not None  # noqa: S101 - a CaseAccess always has its case
    form = forms.AnswerForm(request.POST or None, request.FILES or None, auto_id=_answer_form_id(question))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        held = _held_note(grant, question)
        try:
            services.message_send(
                actor=user,
                case=case,
                kind=MessageKind.ANSWER,
                category=question.category,
                subject=(_("Antwort: %(subject)s") % {"subject": question.subject})[:200],
                body=data["body"],
                recipients=[question.sender_institution],
                in_reply_to=question,
                attachment=data["document"],
                attachment_title=data["document_title"],
                attachment_kind=data["document_kind"],
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            if held:
                messages.warning(
                    request,
                    _(
                        "Die Antwort ist hinterlegt, aber zurückgehalten: %(institution)s sieht sie erst, wenn eine "
                        "gültige Einwilligung der Person für die Kategorie «%(category)s» oder eine Rechtsgrundlage "
                        "erfasst ist."
                    )
                    % {
                        "institution": question.sender_institution.name,
                        "category": DataCategory(question.category).label,
                    },
                )
            else:
                messages.success(
                    request,
                    _("Die Antwort ist an %(institution)s gesendet.")
                    % {"institution": question.sender_institution.name},
                )
            return redirect(_case_url(reference))
    if form.errors:
        form.note_file_not_kept()
    # The page shows the request in full: that is a reading, with its receipt and audit entry.
    page = selectors.message_page_for_user(user=user, grant=grant, public_id=public_id, request=request)
    return render(
        request,
        "exchange/answer.html",
        _base_context(grant)
        | {"page": page, "message": page.message, "form": form, "answer_held": _held_note(grant, question)},
        status=400 if form.errors else 200,
    )


@require_GET
def document_download_view(request: HttpRequest, reference: str, public_id: str) -> HttpResponse:
    """The decrypted document, only through the access check; files are never on a public URL."""
    grant = _grant(request, reference)
    document, content = selectors.document_open(user=_user(request), grant=grant, public_id=public_id, request=request)
    detected = sniff_content_type(content[:16])
    suffix = detected[1] if detected else "bin"
    response = HttpResponse(content, content_type=document.content_type or "application/octet-stream")
    # A neutral name: the title may name the person or a diagnosis and would land in the downloads folder.
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"iiz-dokument-{document.public_id.hex[:8]}.{suffix}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Content-Length"] = str(len(content))
    return response


@require_http_methods(["GET", "POST"])
def document_share_view(request: HttpRequest, reference: str) -> HttpResponse:
    grant = _grant(request, reference)
    _require_open(grant)
    case = grant.case
    assert case is not None  # noqa: S101 - a CaseAccess always has its case
    recipients = selectors.case_recipient_institutions(grant=grant)
    form = forms.DocumentShareForm(request.POST or None, request.FILES or None, recipients=recipients)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            document = services.document_share(
                actor=_user(request),
                case=case,
                upload=data["document"],
                title=data["document_title"],
                kind=data["document_kind"],
                category=data["category"],
                recipients=data["recipients"],
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Das Dokument «%(title)s» ist geteilt.") % {"title": document.title})
            return redirect(_case_url(reference))
    if form.errors:
        form.note_file_not_kept()
    return render(
        request,
        "exchange/document_form.html",
        _base_context(grant) | {"form": form, "has_recipients": recipients.exists()},
        status=400 if form.errors else 200,
    )


# ---------------------------------------------------------------------------------------------------------
# Legal bases (coordinators of the Geschäftsstelle)
# ---------------------------------------------------------------------------------------------------------


def _require_coordinator(grant: access.CaseAccess) -> None:
    if not grant.may_coordinate():
        raise PermissionDenied(_("Rechtsgrundlagen erfasst die Koordination der Geschäftsstelle."))


@require_http_methods(["GET", "POST"])
def legal_basis_create_view(request: HttpRequest, reference: str) -> HttpResponse:
    grant = _grant(request, reference)
    _require_coordinator(grant)
    case = grant.case
    assert case is not None  # noqa: S101 - a CaseAccess always has its case
    form = forms.LegalBasisForm(
        request.POST or None,
        institutions=selectors.case_recipient_institutions(grant=grant, include_own=True),
        initial={"valid_from": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.legal_basis_record(
                actor=_user(request),
                case=case,
                provision=data["provision"],
                institutions=data["institutions"],
                categories=data["categories"],
                justification=data["justification"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Die Rechtsgrundlage ist erfasst."))
            return redirect(_case_url(reference))
    return render(
        request,
        "exchange/legal_basis_form.html",
        _base_context(grant) | {"form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def legal_basis_end_view(request: HttpRequest, reference: str, basis_id: int) -> HttpResponse:
    grant = _grant(request, reference)
    basis = selectors.legal_basis_get(grant=grant, basis_id=basis_id)
    _require_coordinator(grant)
    error: ValidationError | None = None
    if request.method == "POST":
        try:
            services.legal_basis_end(actor=_user(request), basis=basis, request=request)
        except ValidationError as refused:
            error = refused
        else:
            messages.success(
                request, _("Die Rechtsgrundlage ist aufgehoben. Der Zugriff, den sie gewährte, endet jetzt.")
            )
            return redirect(_case_url(reference))
    return render(
        request,
        "exchange/legal_basis_end.html",
        _base_context(grant) | {"basis": basis, "errors": error.messages if error else []},
        status=400 if error else 200,
    )


# ---------------------------------------------------------------------------------------------------------
# Directory (Informations- und Kontaktvermittlung)
# ---------------------------------------------------------------------------------------------------------


@require_GET
def directory_view(request: HttpRequest) -> HttpResponse:
    """Who is the iiz specialist for which institution and region, with contact details."""
    if not access.may_use_directory(_user(request)):
        raise PermissionDenied(
            _("Das Verzeichnis steht den Personen offen, die mit Klientinnen und Klienten arbeiten.")
        )
    institutions = organisation_selectors.directory_institutions()
    form = forms.DirectoryFilterForm(
        request.GET or None, institutions=institutions, districts=organisation_selectors.directory_districts()
    )
    filters: dict[str, Any] = {"institution_id": None, "district_number": None, "query": ""}
    if form.is_bound and form.is_valid():
        institution = form.cleaned_data["institution"]
        filters = {
            "institution_id": institution.pk if institution else None,
            "district_number": form.cleaned_data["district"],
            "query": form.cleaned_data["q"],
        }
    specialists = list(organisation_selectors.directory_specialists(**filters)) if not form.errors else []
    context = {
        "form": form,
        "specialists": specialists,
        "institutions": list(institutions),
        "filtered": any(filters.values()),
        "current_institution": filters["institution_id"],
    }
    template = "exchange/directory.html#results" if request.htmx else "exchange/directory.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=400 if form.errors else 200)
