"""Changes to the integration plan: a new draft, its goals and case lead, measures, the agreement.

POST only, through ``case_change`` like every change of a case (see ``changes``).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from iiz.cases import services
from iiz.cases.models import IntegrationPlan
from iiz.cases.selectors import CaseFile
from iiz.cases.views import case_forms
from iiz.cases.views.page import case_change, case_file_of, entry, require
from iiz.organisations.models import User

# ---------------------------------------------------------------------------------------------------------
# The integration plan
# ---------------------------------------------------------------------------------------------------------


def _plan_editor(request: HttpRequest, reference: str) -> tuple[User, CaseFile]:
    user, file = case_file_of(request, reference)
    require(file.grant.may_edit_plan(), _("Ihre Rolle bearbeitet den Integrationsplan nicht."))
    return user, file


def _plan(file: CaseFile, version: int) -> IntegrationPlan:
    plan = next((p for p in file.plans if p.version == version), None)
    if plan is None:
        raise Http404
    return plan


@require_POST
def plan_create_view(request: HttpRequest, reference: str) -> HttpResponse:
    user, file = _plan_editor(request, reference)
    form = case_forms.plan_new_form(file, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.plan_draft_create(
            actor=user, case=file.case, goals=data["goals"], case_lead=data["case_lead"], request=request
        )

    return case_change(
        request, file, key="plan_new", form=form, act=act, section="plan", notice=_("Der Planentwurf ist angelegt.")
    )


@require_POST
def plan_update_view(request: HttpRequest, reference: str, version: int) -> HttpResponse:
    user, file = _plan_editor(request, reference)
    plan = _plan(file, version)
    form = case_forms.plan_form(file, plan, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.plan_update(
            actor=user,
            plan=plan,
            goals=data["goals"],
            case_lead=data["case_lead"],
            expected_version=data["expected_version"],
            request=request,
        )

    return case_change(
        request, file, key="plan", form=form, act=act, section="plan", notice=_("Der Planentwurf ist gespeichert.")
    )


@require_POST
def measure_add_view(request: HttpRequest, reference: str, version: int) -> HttpResponse:
    user, file = _plan_editor(request, reference)
    plan = _plan(file, version)
    form = case_forms.measure_form(file, plan, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.measure_add(
            actor=user,
            plan=plan,
            description=data["description"],
            responsible_institution=data["responsible_institution"],
            start_on=data["start_on"],
            due_on=data["due_on"],
            service=data["service"],
            responsible_user=data["responsible_user"],
            expected_version=data["expected_version"],
            request=request,
        )

    return case_change(
        request, file, key="measure", form=form, act=act, section="plan", notice=_("Die Massnahme ist hinzugefügt.")
    )


@require_POST
def measure_status_view(request: HttpRequest, reference: str, measure_id: int) -> HttpResponse:
    user, file = case_file_of(request, reference)
    measure = entry((m for plan in file.plans for m in plan.measures.all()), measure_id)
    form = case_forms.measure_status_form(measure, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.measure_set_status(
            actor=user,
            measure=measure,
            status=data["status"],
            expected_status=data["expected_status"] or None,
            request=request,
        )

    return case_change(
        request,
        file,
        key=f"measure-{measure.pk}",
        form=form,
        act=act,
        section="plan",
        notice=_("Der Stand der Massnahme ist gespeichert."),
    )


@require_POST
def plan_agree_view(request: HttpRequest, reference: str, version: int) -> HttpResponse:
    user, file = _plan_editor(request, reference)
    plan = _plan(file, version)
    form = case_forms.agree_form(file, plan, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.plan_agree(
            actor=user,
            plan=plan,
            agreed_on=data["agreed_on"],
            client_agreed_on=data["client_agreed_on"],
            meeting=data["meeting"],
            expected_version=data["expected_version"],
            request=request,
        )

    # The agreement names the case lead in the header: the whole page is reloaded.
    return case_change(
        request,
        file,
        key="agree",
        form=form,
        act=act,
        section="plan",
        notice=_("Der Plan ist vereinbart."),
        partial=False,
    )
