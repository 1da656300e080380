"""Before a case: early detection (screening), the target-group check with its override, opening a case.

These pages hang off a client; the client is read through ``client_access_get`` (404 when hidden).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from iiz import access
from iiz.cases import forms, selectors, services
from iiz.cases.models import LifeSituation, TargetGroupCheck
from iiz.cases.views.page import user_of
from iiz.clients.selectors import client_access_get
from iiz.lib.forms import form_add_service_errors
from iiz.organisations.models import Role, User


def _client_grant(request: HttpRequest, public_id: str) -> tuple[User, access.ClientAccess]:
    user = user_of(request)
    if not access.may_work_with_clients(user):
        raise PermissionDenied(_("Ihre Rolle sieht keine Personendaten."))
    return user, client_access_get(user=user, public_id=public_id, request=request)


@require_http_methods(["GET", "POST"])
def screening_create_view(request: HttpRequest, public_id: str) -> HttpResponse:
    user, grant = _client_grant(request, public_id)
    client = grant.client
    today = timezone.localdate()
    age = client.age_on(today)
    situations = LifeSituation.objects.filter(is_active=True)
    form = forms.ScreeningForm(
        request.POST or None,
        initial={"screened_on": today, "life_situations": forms.ScreeningForm.situations_for_age(situations, age)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            screening = services.screening_record(
                actor=user,
                client=client,
                life_situations=data["life_situations"],
                screened_on=data["screened_on"],
                note=data["note"],
                reporter_type=data["reporter_type"],
                report_channel=data["report_channel"],
                reported_on=data["reported_on"],
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Die Früherkennung ist gespeichert. Prüfen Sie nun die Zielgruppe."))
            return redirect(f"{reverse('cases:check_create', args=[client.public_id])}?screening={screening.pk}")
    return render(
        request,
        "cases/screening_form.html",
        {"form": form, "client": client, "age": age},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def check_create_view(request: HttpRequest, public_id: str) -> HttpResponse:
    user, grant = _client_grant(request, public_id)
    client = grant.client
    screenings, _hidden = selectors.screenings_visible(grant=grant)
    wanted = request.GET.get("screening", "")
    chosen = next((s for s in screenings if str(s.pk) == wanted), screenings[0] if screenings else None)
    form = forms.TargetGroupCheckForm(
        request.POST or None,
        screenings=screenings,
        initial={"checked_on": timezone.localdate(), "screening": chosen.pk if chosen else None},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            check = services.target_group_check_record(
                actor=user,
                client=client,
                employable=data["employable"],
                topics=data["topics"],
                topics_block_integration=data["topics_block_integration"],
                checked_on=data["checked_on"],
                screening=data["screening"],
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            return redirect("cases:check_detail", client.public_id, check.pk)
    return render(
        request, "cases/check_form.html", {"form": form, "client": client}, status=400 if form.errors else 200
    )


@dataclass
class Criterion:
    label: str
    passed: bool
    reason: str = ""


def check_criteria(check: TargetGroupCheck) -> list[Criterion]:
    """The four criteria, each with the reason it failed.

    The service appends at most one failure per criterion, in this order; when the stored flags and the
    failures do not line up (a record from an older rule), the failures are shown as they are.
    """
    criteria = [
        Criterion(_("Erwerbsfähigkeit"), check.employable),
        Criterion(_("Wohnsitz im Kanton Zürich"), check.resident_in_canton),
        Criterion(_("Bei einer Partnerinstitution angemeldet"), check.registered_with_partner),
        Criterion(
            _("Mehrfachproblematik, die die Integration behindert"),
            bool(check.topics.all()) and check.topics_block_integration,
        ),
    ]
    failing = [c for c in criteria if not c.passed]
    if len(failing) != len(check.failures):
        return [Criterion(str(reason).split(":", 1)[0], False, str(reason)) for reason in check.failures]
    for criterion, reason in zip(failing, check.failures, strict=True):
        criterion.reason = str(reason)
    return criteria


def _check_page(
    request: HttpRequest,
    grant: access.ClientAccess,
    check: TargetGroupCheck,
    override_form: forms.OverrideForm | None = None,
    request_form: forms.OverrideRequestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = grant.user
    detection = selectors.client_detection_for_user(grant=grant)
    may_override = user.has_role(Role.COORDINATOR) and not check.passed and not check.override_by_id
    may_request = (
        user.has_role(Role.SPECIALIST)
        and not check.passed
        and not check.override_by_id
        and check.override_requested_at is None
        and not may_override
    )
    return render(
        request,
        "cases/check_detail.html",
        {
            "client": grant.client,
            "check": check,
            "criteria": check_criteria(check),
            "override_form": (override_form or forms.OverrideForm()) if may_override else None,
            "request_form": (request_form or forms.OverrideRequestForm()) if may_request else None,
            "may_open": check.allows_case and detection.may_open_case and detection.check_allowing_case == check,
            "open_case_exists": detection.open_case_elsewhere or any(c.is_open for c in detection.cases),
        },
        status=status,
    )


@require_GET
def check_detail_view(request: HttpRequest, public_id: str, check_id: int) -> HttpResponse:
    _user, grant = _client_grant(request, public_id)
    check = selectors.target_group_check_get(grant=grant, check_id=check_id)
    return _check_page(request, grant, check)


@require_POST
def check_override_view(request: HttpRequest, public_id: str, check_id: int) -> HttpResponse:
    user, grant = _client_grant(request, public_id)
    check = selectors.target_group_check_get(grant=grant, check_id=check_id)
    form = forms.OverrideForm(request.POST)
    if form.is_valid():
        try:
            services.target_group_override(
                actor=user, check=check, reason=form.cleaned_data["override_reason"], request=request
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Die Prüfung ist übersteuert; der Fall kann eröffnet werden."))
            return redirect("cases:check_detail", grant.client.public_id, check.pk)
    return _check_page(request, grant, check, override_form=form, status=400)


@require_POST
def check_override_request_view(request: HttpRequest, public_id: str, check_id: int) -> HttpResponse:
    user, grant = _client_grant(request, public_id)
    check = selectors.target_group_check_get(grant=grant, check_id=check_id)
    form = forms.OverrideRequestForm(request.POST)
    if form.is_valid():
        try:
            services.target_group_override_request(
                actor=user, check=check, note=form.cleaned_data["note"], request=request
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Die Geschäftsstelle iiz ist um die Übersteuerung gebeten."))
            return redirect("cases:check_detail", grant.client.public_id, check.pk)
    return _check_page(request, grant, check, request_form=form, status=400)


@require_GET
def override_requests_view(request: HttpRequest) -> HttpResponse:
    """Coordinators: the failed checks whose override specialists have asked for."""
    user = request.user
    if not user.has_role(Role.COORDINATOR):  # type: ignore[union-attr]
        raise PermissionDenied(_("Übersteuerungsanträge sehen die Koordinatorinnen und Koordinatoren."))
    return render(request, "cases/override_requests.html", {"checks": list(selectors.override_requests_pending())})


@require_http_methods(["GET", "POST"])
def case_open_view(request: HttpRequest, public_id: str, check_id: int) -> HttpResponse:
    user, grant = _client_grant(request, public_id)
    client = grant.client
    check = selectors.target_group_check_get(grant=grant, check_id=check_id)
    if not selectors.may_open_case(user):
        raise PermissionDenied(_("Einen iiz-Fall eröffnen iiz-Spezialistinnen und -Spezialisten."))
    form = forms.CaseOpenForm(
        request.POST or None,
        own_institution=user.institution,
        client_id=client.pk,
        initial={"opened_on": timezone.localdate()},
    )
    if not form.is_bound:
        form.initial["previous_case"] = (
            form.fields["previous_case"]
            .queryset.values_list(  # type: ignore[attr-defined]
                "pk", flat=True
            )
            .first()
        )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.case_open(
                actor=user,
                client=client,
                target_group_check=check,
                opened_on=data["opened_on"],
                route=data["route"],
                bilateral_institution=data["bilateral_institution"],
                reason=data["reason"],
                previous_case=data["previous_case"],
                request=request,
            )
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            messages.success(request, _("Der iiz-Fall %(ref)s ist eröffnet.") % {"ref": case.reference})
            return redirect(case)
    return render(
        request,
        "cases/open_form.html",
        {"form": form, "client": client, "check": check},
        status=400 if form.errors else 200,
    )
