"""Changes around case-team meetings: scheduling, minutes, agreements and their status.

POST only, through ``case_change`` like every change of a case (see ``changes``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from iiz.cases import services
from iiz.cases.selectors import CaseFile
from iiz.cases.views import case_forms
from iiz.cases.views.page import case_change, case_file_of, entry, require
from iiz.organisations.models import User

# ---------------------------------------------------------------------------------------------------------
# Meetings and agreements
# ---------------------------------------------------------------------------------------------------------


def _coordinator(request: HttpRequest, reference: str, message: str) -> tuple[User, CaseFile]:
    user, file = case_file_of(request, reference)
    require(file.grant.may_coordinate(), message)
    return user, file


@require_POST
def meeting_schedule_view(request: HttpRequest, reference: str) -> HttpResponse:
    user, file = _coordinator(request, reference, _("Fallteam-Sitzungen plant die Koordination der Geschäftsstelle."))
    form = case_forms.meeting_form(file, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.meeting_schedule(
            actor=user,
            case=file.case,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            place=data["place"],
            agenda=data["agenda"],
            users=data["users"],
            contacts=data["contacts"],
            with_client=data["with_client"],
            request=request,
        )

    # New participants join the case team shown in the header: the whole page is reloaded.
    return case_change(
        request,
        file,
        key="meeting",
        form=form,
        act=act,
        section="meetings",
        notice=_("Die Sitzung ist geplant; die Teilnehmenden erhalten eine Einladung."),
        partial=False,
    )


@require_POST
def meeting_minutes_view(request: HttpRequest, reference: str, meeting_id: int) -> HttpResponse:
    user, file = _coordinator(request, reference, _("Das Protokoll führt die Koordination."))
    meeting = entry(file.meetings, meeting_id)
    form = case_forms.minutes_form(meeting, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.meeting_record_minutes(
            actor=user,
            meeting=meeting,
            minutes=data["minutes"],
            expected_version=data["expected_version"],
            request=request,
        )

    return case_change(
        request,
        file,
        key=f"minutes-{meeting.pk}",
        form=form,
        act=act,
        section="meetings",
        notice=_("Das Protokoll ist gespeichert."),
    )


@require_POST
def agreement_add_view(request: HttpRequest, reference: str, meeting_id: int) -> HttpResponse:
    user, file = _coordinator(request, reference, _("Vereinbarungen hält die Koordination fest."))
    meeting = entry(file.meetings, meeting_id)
    form = case_forms.agreement_form(file, meeting, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.agreement_add(
            actor=user,
            case=file.case,
            text=data["text"],
            owner=data["owner"],
            due_on=data["due_on"],
            meeting=meeting,
            request=request,
        )

    return case_change(
        request,
        file,
        key=f"agreement-{meeting.pk}",
        form=form,
        act=act,
        section="meetings",
        notice=_("Die Vereinbarung ist festgehalten."),
    )


@require_POST
def agreement_status_view(request: HttpRequest, reference: str, agreement_id: int) -> HttpResponse:
    user, file = case_file_of(request, reference)
    agreement = entry(file.agreements, agreement_id)
    require(
        agreement.owner_id == user.pk or file.grant.may_coordinate(),
        _("Eine Vereinbarung erledigt die zuständige Person."),
    )
    form = case_forms.agreement_status_form(agreement, request.POST)

    def act(data: dict[str, Any]) -> object:
        return services.agreement_set_status(
            actor=user,
            agreement=agreement,
            status=data["status"],
            expected_status=data["expected_status"] or None,
            request=request,
        )

    return case_change(
        request,
        file,
        key=f"agreement-status-{agreement.pk}",
        form=form,
        act=act,
        section="meetings",
        notice=_("Der Stand der Vereinbarung ist gespeichert."),
    )
