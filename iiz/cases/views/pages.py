"""Reading cases: the list of the user's cases, the case page, an older plan version, the .ics invitation."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from iiz import access
from iiz.cases import exports, forms, selectors
from iiz.cases.ical import meeting_ical
from iiz.cases.models import Case
from iiz.cases.views.page import MeasureRow, case_page, user_of
from iiz.organisations.models import User

CASES_PER_PAGE = 50


def _require_client_work(request: HttpRequest) -> User:
    user = user_of(request)
    if not access.may_work_with_clients(user):
        raise PermissionDenied(_("Ihre Rolle sieht keine Personendaten."))
    return user


def _case_list(request: HttpRequest, user: User) -> tuple[forms.CaseFilterForm, QuerySet[Case]]:
    """The list's form and the cases it selects; without a status chosen the list shows the open cases."""
    data = request.GET if "status" in request.GET else {"status": "open", **request.GET.dict()}
    leads, institutions = selectors.case_list_choices(user=user)
    form = forms.CaseFilterForm(data, case_leads=leads, institutions=institutions)
    chosen = selectors.CaseListFilter(status="open")
    if form.is_valid():
        cleaned: dict[str, Any] = form.cleaned_data
        chosen = selectors.CaseListFilter(
            query=cleaned["q"],
            status=cleaned["status"],
            level=cleaned["level"],
            case_lead_id=cleaned["case_lead"].pk if cleaned["case_lead"] else None,
            institution_id=cleaned["institution"].pk if cleaned["institution"] else None,
            overdue=bool(cleaned["overdue"]),
            order_by=forms.CASE_SORTS.get(cleaned["sort"] or "-eroeffnet", forms.CASE_SORTS["-eroeffnet"]),
        )
    return form, selectors.case_list_for_user(user=user, filters=chosen)


@require_GET
def case_list_view(request: HttpRequest) -> HttpResponse:
    user = _require_client_work(request)
    form, cases = _case_list(request, user)
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("seite"))
    query = request.GET.copy()
    query.pop("seite", None)
    return render(
        request,
        "cases/list.html",
        {"form": form, "page": page, "cases": page.object_list, "query": query.urlencode()},
    )


@require_GET
def case_export_view(request: HttpRequest, fmt: str) -> HttpResponse:
    """The list as chosen on the page (search, filters, sorting; every page) as CSV or XLSX, audited."""
    user = _require_client_work(request)
    if fmt not in exports.FORMATS:
        raise Http404
    _form, cases = _case_list(request, user)
    content, content_type, filename = exports.case_list_export(user=user, cases=cases, fmt=fmt, request=request)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def case_detail_view(request: HttpRequest, reference: str) -> HttpResponse:
    user = _require_client_work(request)
    file = selectors.case_file_for_user(user=user, reference=reference, request=request)
    return case_page(request, file)


@require_GET
def plan_version_view(request: HttpRequest, reference: str, version: int) -> HttpResponse:
    user = _require_client_work(request)
    grant, plan = selectors.plan_version_for_user(user=user, reference=reference, version=version, request=request)
    rows = [MeasureRow(measure=m, overdue=False, status_form=None) for m in plan.measures.all()]
    return render(request, "cases/plan_version.html", {"case": grant.case, "plan": plan, "rows": rows})


@require_GET
def measure_services_view(request: HttpRequest, reference: str) -> HttpResponse:
    """The service select of the measure form, narrowed to the kind of the chosen institution (htmx)."""
    user = _require_client_work(request)
    selectors.case_access_get(user=user, reference=reference, request=request)
    chosen = request.GET.get("measure-responsible_institution", "")
    institution = forms.partner_institutions().filter(pk=int(chosen)).first() if chosen.isdigit() else None
    form = forms.MeasureForm(prefix="measure", users=[], service_kind=institution.kind if institution else None)
    return HttpResponse(str(form["service"]))


@require_GET
def meeting_ical_view(request: HttpRequest, reference: str, meeting_id: int) -> HttpResponse:
    """The invitation of a case-team meeting for the participant's calendar (participants only)."""
    user = _require_client_work(request)
    meeting = selectors.meeting_get_for_user(user=user, reference=reference, meeting_id=meeting_id, request=request)
    response = HttpResponse(meeting_ical(meeting), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="iiz-fallteam-{meeting.case.reference}-{meeting.pk}.ics"'
    return response
