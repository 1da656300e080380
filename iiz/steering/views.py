"""Steering pages: the operational and strategic dashboards, the drill-down, and the reports.

Views translate between HTTP and the selectors; who may see what is decided in ``iiz.access``. Filters come
from the URL; a filter the form does not accept gives a 400 page with the reason. One view serves the full
page and, for htmx, the part below the filters (the template partial ``figures``).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from iiz import access
from iiz.lib.forms import form_add_service_errors
from iiz.organisations.models import User
from iiz.steering import forms, reports, selectors
from iiz.steering.kpis import DIMENSIONS, KPI_BY_CODE
from iiz.steering.models import ReportStatus

CASES_PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _nav(user: User) -> dict[str, object]:
    return {
        "may_see_operational": access.may_see_operational_dashboard(user),
        "may_see_strategic": access.may_see_strategic_dashboard(user),
        "cost_benefit_url": selectors.cost_benefit_url(),
    }


def _bad_request(request: HttpRequest, errors: list[str], back: str) -> HttpResponse:
    template = "steering/bad_request.html#message" if request.htmx else "steering/bad_request.html"  # type: ignore[attr-defined]
    return render(request, template, {"errors": errors, "back": back}, status=400)


def _form_errors(form: forms.SteeringFilterForm) -> list[str]:
    return [
        f"{form.fields[name].label}: {error}" if name in form.fields else str(error)
        for name, errors in form.errors.items()
        for error in errors
    ]


@require_GET
def index_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if access.may_see_operational_dashboard(user):
        return redirect("steering:operational")
    if access.may_see_strategic_dashboard(user):
        return redirect("steering:strategic")
    raise PermissionDenied(_("Ihre Rolle sieht keine Kennzahlen."))


@require_GET
def operational_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.may_see_operational_dashboard(user):
        raise PermissionDenied(_("Das operative Cockpit sehen der Operative Ausschuss und die Koordination."))
    today = timezone.localdate()
    form = forms.OperationalFilterForm(request.GET, today=today)
    if not form.is_valid():
        return _bad_request(request, _form_errors(form), request.path)
    board = selectors.operational_dashboard(
        filters=form.filters(), today=today, drill=access.may_drill_down(user), user=user
    )
    context = {"form": form, "board": board, "may_drill_down": access.may_drill_down(user), **_nav(user)}
    template = "steering/operational.html#figures" if request.htmx else "steering/operational.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_GET
def strategic_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.may_see_strategic_dashboard(user):
        raise PermissionDenied(
            _("Das strategische Cockpit sehen die Trägerschaft, der Ausschuss und die Koordination.")
        )
    today = timezone.localdate()
    form = forms.SteeringFilterForm(request.GET, today=today)
    if not form.is_valid():
        return _bad_request(request, _form_errors(form), request.path)
    board = selectors.strategic_dashboard(filters=form.filters(), today=today, user=user)
    context = {"form": form, "board": board, **_nav(user)}
    template = "steering/strategic.html#figures" if request.htmx else "steering/strategic.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_GET
def drilldown_view(request: HttpRequest) -> HttpResponse:
    """The cases behind a figure of the operational cockpit, as far as the user may see them."""
    user = _user(request)
    if not (access.may_see_operational_dashboard(user) and access.may_drill_down(user)):
        raise PermissionDenied(_("Die Fälle hinter einer Kennzahl sieht nur, wer selbst mit Fällen arbeitet."))
    today = timezone.localdate()
    form = forms.OperationalFilterForm(request.GET, today=today)
    back = "steering:operational"
    figure = request.GET.get("kpi", "")
    errors = [] if form.is_valid() else _form_errors(form)
    if figure not in KPI_BY_CODE and figure not in selectors.WORK_FIGURES:
        errors.append(_("Unbekannte Kennzahl «%(code)s».") % {"code": figure[:40]})
    dimension, key = request.GET.get("dimension", ""), request.GET.get("key", "")[:60]
    if dimension and dimension not in DIMENSIONS:
        errors.append(_("Unbekannte Aufschlüsselung «%(dimension)s».") % {"dimension": dimension[:40]})
    level_text = request.GET.get("level", "")
    if level_text and level_text not in ("1", "2", "3"):
        errors.append(_("Die Stufe muss 1, 2 oder 3 sein."))
    if errors:
        return _bad_request(request, errors, reverse(back))
    filters = form.filters()
    drill = selectors.drilldown_cases(
        user=user,
        figure=figure,
        filters=filters,
        today=today,
        dimension=dimension,
        key=key,
        level=int(level_text) if level_text else None,
    )
    page = Paginator(drill.cases, CASES_PER_PAGE).get_page(request.GET.get("seite"))
    query = request.GET.copy()
    query.pop("seite", None)
    return render(
        request,
        "steering/drilldown.html",
        {"drill": drill, "page": page, "filters": filters, "query": query.urlencode(), "kpi": KPI_BY_CODE.get(figure)},
    )


# ---------------------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------------------


def _require_reports(user: User) -> list[str]:
    audiences = selectors.report_audiences_for(user)
    if not audiences:
        raise PermissionDenied(_("Ihre Rolle erhält keine Steuerungsberichte."))
    return audiences


@require_http_methods(["GET", "POST"])
def reports_view(request: HttpRequest) -> HttpResponse:
    """Order a report and follow its progress; the list refreshes itself while a report is being made."""
    user = _user(request)
    audiences = _require_reports(user)
    today = timezone.localdate()
    data = request.POST if request.method == "POST" else None
    form = forms.ReportForm(data, audiences=audiences, today=today)
    if request.method == "POST" and form.is_valid():
        try:
            reports.report_request(
                actor=user,
                period=form.cleaned_data["period"],
                scope=form.scope(),
                audience=form.cleaned_data["audience"],
                fmt=form.cleaned_data["format"],
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Der Bericht ist bestellt. Er erscheint in der Liste, sobald er fertig ist."))
            return redirect("steering:reports")
    items = list(selectors.reports_visible_to(user=user)[:50])
    busy = any(r.status in (ReportStatus.PENDING, ReportStatus.RUNNING) for r in items)
    context = {"form": form, "reports": items, "busy": busy, "today": today, **_nav(user)}
    if request.htmx and request.method == "GET":  # type: ignore[attr-defined]
        return render(request, "steering/reports.html#report-list", context)
    return render(request, "steering/reports.html", context, status=400 if form.errors else 200)


@require_GET
def report_download_view(request: HttpRequest, report_id: int) -> FileResponse:
    """Serve a finished report after the access check; report files are never on a public URL."""
    user = _user(request)
    _require_reports(user)
    report = selectors.reports_visible_to(user=user).filter(pk=report_id).first()
    if report is None or report.status != ReportStatus.DONE or not report.file:
        raise Http404
    content_type = (
        "application/pdf"
        if report.format == "pdf"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = FileResponse(
        report.file.open("rb"), as_attachment=True, filename=reports.report_filename(report), content_type=content_type
    )
    response["Cache-Control"] = "no-store"
    return response
