"""Changes to a case's level, level-2 work, clarification and closure.

Every change view is POST only and calls one service through ``case_change``: it first reads the case as
the user may see it (404 when hidden), refuses what the user's role may not do (403), validates the form
the page showed and hands the data to the service. Success redirects to the section (or, for htmx, returns
the refreshed section); errors re-render the page with status 400 and the user's input.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from iiz.cases import services
from iiz.cases.models import Dimension
from iiz.cases.views import case_forms
from iiz.cases.views.page import case_change, case_file_of, entry, require

# ---------------------------------------------------------------------------------------------------------
# Level 1 route and the level model
# ---------------------------------------------------------------------------------------------------------


@require_POST
def route_set_view(request: HttpRequest, reference: str) -> HttpResponse:
    user, file = case_file_of(request, reference)
    require(file.grant.may_change_level(), _("Das Vorgehen legt die iiz-Spezialistin oder der -Spezialist fest."))
    form = case_forms.route_form(file, user, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.case_set_route(
            actor=user,
            case=file.case,
            route=data["route"],
            bilateral_institution=data["bilateral_institution"],
            reason=data["reason"],
            expected_version=data["expected_version"],
            request=request,
        )

    return case_change(
        request,
        file,
        key="route",
        form=form,
        act=act,
        section="level",
        notice=_("Das Vorgehen ist festgehalten."),
        partial=False,
    )


@require_POST
def level_change_view(request: HttpRequest, reference: str) -> HttpResponse:
    user, file = case_file_of(request, reference)
    require(bool(case_forms.level_targets(file, user)), _("Ihre Rolle darf die Stufe dieses Falls nicht ändern."))
    form = case_forms.level_form(file, user, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.case_change_level(
            actor=user,
            case=file.case,
            to_level=data["to_level"],
            reason=data["reason"],
            changed_on=data["changed_on"],
            coordinator=data.get("coordinator"),
            case_team=data.get("case_team"),
            expected_version=data["expected_version"],
            request=request,
        )

    return case_change(
        request,
        file,
        key="level",
        form=form,
        act=act,
        section="level",
        notice=_("Die Stufe ist geändert."),
        partial=False,
    )


# ---------------------------------------------------------------------------------------------------------
# Level 2: information requests, joint interview; clarification
# ---------------------------------------------------------------------------------------------------------


@require_POST
def information_request_create_view(request: HttpRequest, reference: str) -> HttpResponse:
    user, file = case_file_of(request, reference)
    form = case_forms.info_form(file, user, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.information_request_create(
            actor=user,
            case=file.case,
            to_institution=data["to_institution"],
            question=data["question"],
            category=data["category"],
            due_on=data["due_on"],
            request=request,
        )

    return case_change(
        request, file, key="info", form=form, act=act, section="requests", notice=_("Die Anfrage ist gestellt.")
    )


@require_POST
def information_request_answer_view(request: HttpRequest, reference: str, info_id: int) -> HttpResponse:
    user, file = case_file_of(request, reference)
    info = entry(file.information_requests, info_id)
    require(info.to_institution_id == user.institution_id, _("Nur die angefragte Institution beantwortet die Anfrage."))
    form = case_forms.answer_form(info, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.information_request_answer(actor=user, info=info, answer=data["answer"], request=request)

    return case_change(
        request,
        file,
        key=f"answer-{info.pk}",
        form=form,
        act=act,
        section="requests",
        notice=_("Die Antwort ist gespeichert."),
    )


@require_POST
def joint_interview_create_view(request: HttpRequest, reference: str) -> HttpResponse:
    user, file = case_file_of(request, reference)
    require(file.grant.may_coordinate(), _("Das gemeinsame Kundengespräch erfasst die Koordination."))
    form = case_forms.interview_form(file, user, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.joint_interview_record(
            actor=user,
            case=file.case,
            held_on=data["held_on"],
            participants=data["participants"],
            summary=data["summary"],
            request=request,
        )

    return case_change(
        request,
        file,
        key="interview",
        form=form,
        act=act,
        section="requests",
        notice=_("Das gemeinsame Gespräch ist erfasst."),
    )


@require_POST
def clarification_save_view(request: HttpRequest, reference: str, dimension: str) -> HttpResponse:
    user, file = case_file_of(request, reference)
    if dimension not in Dimension.values:
        raise Http404
    require(file.grant.may_write_clarification(dimension), _("Diesen Bereich klärt eine andere Institution."))
    form = case_forms.clarification_form(file, dimension, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.clarification_save(
            actor=user,
            case=file.case,
            dimension=dimension,
            situation=data["situation"],
            resources=data["resources"],
            obstacles=data["obstacles"],
            work_capacity_percent=data["work_capacity_percent"],
            expected_version=data["expected_version"],
            request=request,
        )

    return case_change(
        request,
        file,
        key=f"clar-{dimension}",
        form=form,
        act=act,
        section="clarification",
        notice=_("Die Situationsklärung ist gespeichert."),
    )


# ---------------------------------------------------------------------------------------------------------
# Closure and follow-up
# ---------------------------------------------------------------------------------------------------------


@require_POST
def case_close_view(request: HttpRequest, reference: str) -> HttpResponse:
    user, file = case_file_of(request, reference)
    require(file.grant.may_close(), _("Den Fall schliesst die Koordination oder die Fallführung ab."))
    form = case_forms.close_form(file, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.case_close(
            actor=user,
            case=file.case,
            outcome=data["outcome"],
            closed_on=data["closed_on"],
            outcome_on=data["outcome_on"],
            benefits_ended_on=data["benefits_ended_on"],
            note=data["note"],
            expected_version=data["expected_version"],
            request=request,
        )

    return case_change(
        request,
        file,
        key="close",
        form=form,
        act=act,
        section="closure",
        notice=_("Der Fall ist abgeschlossen."),
        partial=False,
    )


@require_POST
def follow_up_record_view(request: HttpRequest, reference: str, follow_up_id: int) -> HttpResponse:
    user, file = case_file_of(request, reference)
    follow_up = entry(file.follow_ups, follow_up_id)
    form = case_forms.follow_up_form(follow_up, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.follow_up_record(
            actor=user,
            follow_up=follow_up,
            status=data["status"],
            recorded_on=data["recorded_on"],
            back_with=data["back_with"],
            note=data["note"],
            request=request,
        )

    return case_change(
        request,
        file,
        key=f"followup-{follow_up.pk}",
        form=form,
        act=act,
        section="closure",
        notice=_("Die Nachbefragung ist erfasst."),
    )
