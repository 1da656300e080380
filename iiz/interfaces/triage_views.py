"""The triage queue of the contact point: reports for early detection, matched, decided.

The coordinators of the Geschäftsstelle see every report and the known persons it may concern (the platform's
person matching over all records: only they see it); the iiz specialists of an institution see the reports
forwarded to it, matched among the persons they may see. Each report is turned into a screening with the
reporter recorded, forwarded, or closed with a reason. The pages live here because they use the matching.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.clients.models import Client
from iiz.frontdoor import services
from iiz.frontdoor.forms import NEW_PERSON, PLAIN_SIGNS, CloseForm, ForwardForm, ToScreeningForm
from iiz.frontdoor.models import OPEN_STATUSES, EarlyDetectionReport
from iiz.interfaces.matching import YEAR_ONLY_MAX, Candidate, CandidateIndex
from iiz.interfaces.models_imports import MergeRecord
from iiz.lib.forms import form_add_service_errors
from iiz.organisations.models import User

REPORTS_PER_PAGE = 25


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not access.may_receive_reports(user):
        raise PermissionDenied(
            _("Meldungen bearbeiten die Geschäftsstelle und die iiz-Spezialistinnen und -Spezialisten.")
        )
    return user


def _report(request: HttpRequest, public_id: uuid.UUID) -> tuple[User, EarlyDetectionReport]:
    user = _user(request)
    report = (
        access.reports_visible_to(user=user)
        .filter(public_id=public_id)
        .select_related("forwarded_to", "decided_by", "submitted_by_institution", "screening__client")
        .prefetch_related("life_situations")
        .first()
    )
    if report is None:
        audit_record(
            actor=user,
            action=AuditAction.DENIED,
            object_type=services.REPORT_OBJECT,
            object_id=str(public_id),
            basis=AuditBasis.NONE,
            request=request,
        )
        raise Http404
    return user, report


def report_candidates(*, user: User, report: EarlyDetectionReport) -> list[tuple[Client, Candidate]]:
    """The known persons the report may be about, best first: an exact AHV number, else a close name born on
    the same (or swapped) day. The coordinators look among all records; others among those they may see."""
    born = report.person_date_of_birth
    if born is None:
        return []
    found: list[Candidate] = []
    if report.person_ahv_number:
        exact = Client.objects.filter(ahv_number=report.person_ahv_number).values_list("pk", flat=True).first()
        if exact is not None:
            found.append(Candidate(client_id=exact, score=100, reasons=("ahv_number",)))
    found += [
        c
        for c in CandidateIndex.born_on([born]).candidates(
            last_name=report.person_last_name,
            first_name=report.person_first_name,
            date_of_birth=born,
            municipality_bfs=None,
            minimum=YEAR_ONLY_MAX + 1,
        )
        if all(c.client_id != f.client_id for f in found)
    ]
    if not found:
        return []
    ids = [f.client_id for f in found]
    pool: QuerySet[Client] = (
        Client.objects.all() if access.may_triage_reports(user) else access.clients_visible_to(user=user)
    )
    known = {c.pk: c for c in pool.filter(pk__in=ids, anonymised_on__isnull=True).select_related("municipality")}
    merged = set(
        MergeRecord.objects.filter(undone_at__isnull=True, merged_id__in=ids).values_list("merged_id", flat=True)
    )
    return [(known[f.client_id], f) for f in found if f.client_id in known and f.client_id not in merged]


@require_GET
def report_list_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    show_all = request.GET.get("stand") == "alle"
    reports = access.reports_visible_to(user=user).select_related("forwarded_to")
    if not show_all:
        reports = reports.filter(status__in=OPEN_STATUSES)
    page = Paginator(reports, REPORTS_PER_PAGE).get_page(request.GET.get("seite"))
    if page.object_list:
        audit_record(
            actor=user,
            action=AuditAction.SEARCH,
            object_type=services.REPORT_OBJECT,
            details={"results": [str(r.public_id) for r in page.object_list]},
            request=request,
        )
    return render(
        request,
        "frontdoor/triage_list.html",
        {
            "page": page,
            "show_all": show_all,
            "query": "stand=alle" if show_all else "",
            "may_triage": access.may_triage_reports(user),
        },
    )


def _decided_already(request: HttpRequest, report: EarlyDetectionReport) -> HttpResponse:
    messages.info(request, _("Über diese Meldung wurde bereits entschieden."))
    return redirect("triage:detail", public_id=report.public_id)


def _detail(
    request: HttpRequest,
    user: User,
    report: EarlyDetectionReport,
    *,
    screening_form: ToScreeningForm | None = None,
    forward_form: ForwardForm | None = None,
    close_form: CloseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    candidates = report_candidates(user=user, report=report) if report.is_open else []
    services.report_read_audit(actor=user, report=report, request=request)
    if candidates:
        audit_record(
            actor=user,
            action=AuditAction.SEARCH,
            object_type="report_match",
            object_id=report.public_id,
            details={"results": [client.pk for client, _found in candidates]},
            request=request,
        )
    choices = [(str(client.public_id), str(client.public_id)) for client, _found in candidates]
    context = {
        "report": report,
        "signs": [PLAIN_SIGNS.get(s.code, s.name) for s in report.life_situations.all()],
        "candidates": candidates,
        "may_triage": access.may_triage_reports(user),
        "screening_form": screening_form
        or ToScreeningForm(
            candidates=choices,
            initial={
                "screened_on": timezone.localdate(),
                "life_situations": [s.pk for s in report.life_situations.all()],
                "ahv_number": report.person_ahv_number,
            },
        ),
        "forward_form": forward_form or ForwardForm(),
        "close_form": close_form or CloseForm(),
    }
    return render(request, "frontdoor/triage_detail.html", context, status=status)


@require_GET
def report_detail_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user, report = _report(request, public_id)
    return _detail(request, user, report)


@require_POST
def report_screening_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user, report = _report(request, public_id)
    if not report.is_open:
        return _decided_already(request, report)
    candidates = report_candidates(user=user, report=report) if report.is_open else []
    by_id = {str(client.public_id): client for client, _found in candidates}
    form = ToScreeningForm(request.POST, candidates=[(key, key) for key in by_id])
    if form.is_valid():
        data = form.cleaned_data
        try:
            screening = services.report_to_screening(
                actor=user,
                report=report,
                client=None if data["person"] == NEW_PERSON else by_id[data["person"]],
                life_situations=data["life_situations"],
                screened_on=data["screened_on"],
                note=data["note"],
                ahv_number=data["ahv_number"],
                sex=data["sex"],
                municipality=data["municipality"],
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Die Meldung ist als Früherkennung erfasst. Prüfen Sie nun die Zielgruppe."))
            return redirect(
                f"{reverse('cases:check_create', args=[screening.client.public_id])}?screening={screening.pk}"
            )
    return _detail(request, user, report, screening_form=form, status=400)


@require_POST
def report_forward_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user, report = _report(request, public_id)
    if not access.may_triage_reports(user):
        raise PermissionDenied(_("Meldungen leitet die Koordination der Geschäftsstelle weiter."))
    if not report.is_open:
        return _decided_already(request, report)
    form = ForwardForm(request.POST)
    if form.is_valid():
        try:
            services.report_forward(
                actor=user,
                report=report,
                institution=form.cleaned_data["institution"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Die Meldung ist weitergeleitet."))
            return redirect("triage:list")
    return _detail(request, user, report, forward_form=form, status=400)


@require_POST
def report_close_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user, report = _report(request, public_id)
    if not report.is_open:
        return _decided_already(request, report)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.report_close(
                actor=user,
                report=report,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Die Meldung ist abgeschlossen."))
            return redirect("triage:list")
    return _detail(request, user, report, close_form=form, status=400)
