"""The forms of the case page, each built from the case file the page has read.

The page offers them blank; a change view builds the same form with ``data`` to validate the request, so
the page can show it again with the user's input and the errors. Choices come from lists in the case
file (participants, meetings), never from a query per form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from django.utils import timezone

from iiz import access
from iiz.cases import forms, levels
from iiz.cases.models import Agreement, CaseTeam, FollowUp, InformationRequest, IntegrationPlan, Measure, Meeting
from iiz.cases.selectors import CaseFile
from iiz.clients.models import DataCategory
from iiz.organisations.models import User

INFO_ANSWER_DAYS = 10

Data = Mapping[str, Any] | None


def participant_users(file: CaseFile) -> list[User]:
    return [p.user for p in file.participants]


def lead_candidates(file: CaseFile) -> list[User]:
    return [p.user for p in file.participants if p.institution.kind in access.CASE_LEAD_KINDS]


def level_targets(file: CaseFile, user: User) -> list[int]:
    return levels.level_moves_available(source=file.case.level, roles=user.role_set, case_open=file.case.is_open)


def route_form(file: CaseFile, user: User, data: Data = None) -> forms.RouteForm:
    case = file.case
    return forms.RouteForm(
        data,
        prefix="route",
        own_institution=user.institution,
        initial={
            "route": case.route,
            "bilateral_institution": case.bilateral_institution_id,
            "expected_version": case.lock_version,
        },
    )


def level_form(file: CaseFile, user: User, data: Data = None) -> forms.LevelChangeForm:
    case = file.case
    targets = level_targets(file, user)
    initial: dict[str, Any] = {"changed_on": timezone.localdate(), "expected_version": case.lock_version}
    municipality = case.client.municipality
    if 3 in targets and municipality is not None:
        # The regional case team of the person's district is the likely choice.
        initial["case_team"] = (
            CaseTeam.objects.filter(is_active=True, districts=municipality.district_id).values_list("pk", flat=True)
        ).first()
    return forms.LevelChangeForm(data, prefix="level", case=case, targets=targets, initial=initial)


def info_form(file: CaseFile, user: User, data: Data = None) -> forms.InformationRequestForm:
    due = timezone.localdate() + dt.timedelta(days=INFO_ANSWER_DAYS)
    return forms.InformationRequestForm(
        data, prefix="info", initial={"due_on": due, "category": DataCategory.OCCUPATIONAL}
    )


def answer_form(info: InformationRequest, data: Data = None) -> forms.InformationAnswerForm:
    return forms.InformationAnswerForm(data, prefix=f"answer-{info.pk}")


def interview_form(file: CaseFile, user: User, data: Data = None) -> forms.JointInterviewForm:
    return forms.JointInterviewForm(
        data,
        prefix="interview",
        users=participant_users(file),
        initial={"held_on": timezone.localdate(), "participants": [str(user.pk)]},
    )


def clarification_form(file: CaseFile, dimension: str, data: Data = None) -> forms.ClarificationForm:
    record = file.clarifications.get(dimension)
    initial: dict[str, Any] = {}
    if record is not None:
        initial = {
            "situation": record.situation,
            "resources": record.resources,
            "obstacles": record.obstacles,
            "work_capacity_percent": record.work_capacity_percent,
            "expected_version": record.lock_version,
        }
    return forms.ClarificationForm(data, prefix=f"clar-{dimension}", initial=initial)


def plan_new_form(file: CaseFile, data: Data = None) -> forms.PlanForm:
    current = file.current_plan
    initial = {"goals": current.goals, "case_lead": current.case_lead_id} if current else {}
    return forms.PlanForm(data, prefix="plannew", lead_candidates=lead_candidates(file), initial=initial)


def plan_form(file: CaseFile, plan: IntegrationPlan, data: Data = None) -> forms.PlanForm:
    return forms.PlanForm(
        data,
        prefix="plan",
        lead_candidates=lead_candidates(file),
        initial={"goals": plan.goals, "case_lead": plan.case_lead_id, "expected_version": plan.lock_version},
    )


def measure_form(file: CaseFile, plan: IntegrationPlan, data: Data = None) -> forms.MeasureForm:
    form = forms.MeasureForm(
        data,
        prefix="measure",
        users=participant_users(file),
        initial={"start_on": timezone.localdate(), "expected_version": plan.lock_version},
    )
    # With htmx, choosing the institution narrows the services to that institution's catalogue.
    form.fields["responsible_institution"].widget.attrs.update(
        {
            "hx-get": reverse("cases:measure_services", args=[file.case.reference]),
            "hx-trigger": "change",
            "hx-target": f"#{form['service'].auto_id}",
            "hx-swap": "outerHTML",
        }
    )
    return form


def measure_status_form(measure: Measure, data: Data = None) -> forms.MeasureStatusForm:
    return forms.MeasureStatusForm(
        data, prefix=f"measure-{measure.pk}", initial={"status": measure.status, "expected_status": measure.status}
    )


def agree_form(file: CaseFile, plan: IntegrationPlan, data: Data = None) -> forms.PlanAgreeForm:
    held = [m for m in file.meetings if m.starts_at <= timezone.now()]
    return forms.PlanAgreeForm(
        data,
        prefix="agree",
        meetings=file.meetings,
        initial={
            "agreed_on": timezone.localdate(),
            "expected_version": plan.lock_version,
            "meeting": str(held[-1].pk) if held else "",
        },
    )


def meeting_form(file: CaseFile, data: Data = None) -> forms.MeetingForm:
    return forms.MeetingForm(data, prefix="meeting")


def minutes_form(meeting: Meeting, data: Data = None) -> forms.MinutesForm:
    return forms.MinutesForm(
        data,
        prefix=f"minutes-{meeting.pk}",
        initial={"minutes": meeting.minutes, "expected_version": meeting.lock_version},
    )


def agreement_form(file: CaseFile, meeting: Meeting, data: Data = None) -> forms.AgreementForm:
    return forms.AgreementForm(data, prefix=f"agreement-{meeting.pk}", users=participant_users(file))


def close_form(file: CaseFile, data: Data = None) -> forms.CaseCloseForm:
    return forms.CaseCloseForm(
        data,
        prefix="close",
        initial={"closed_on": timezone.localdate(), "expected_version": file.case.lock_version},
    )


def follow_up_form(follow_up: FollowUp, data: Data = None) -> forms.FollowUpForm:
    return forms.FollowUpForm(data, prefix=f"followup-{follow_up.pk}", initial={"recorded_on": timezone.localdate()})


def may_set_measure_status(file: CaseFile, user: User, measure: Measure) -> bool:
    # The same rule as services.measure_set_status: the responsible institution or the coordination.
    responsible = measure.responsible_user_id == user.pk or measure.responsible_institution_id == user.institution_id
    return file.grant.is_open and (responsible or file.grant.may_coordinate())


def agreement_status_form(agreement: Agreement, data: Data = None) -> forms.AgreementStatusForm:
    return forms.AgreementStatusForm(data, initial={"expected_status": agreement.status})
