"""The case page: its sections, the forms each viewer is offered, and the answer to a change.

One function renders the whole page or, for htmx, one section (a template partial) plus the timeline
out of band. The forms come from ``case_forms``, built from the case file the page has already read, so
a change view validates with the same form the page showed and re-renders the page with the user's input
on error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz import access
from iiz.cases import selectors
from iiz.cases.models import (
    DIMENSION_CATEGORY,
    Agreement,
    AgreementStatus,
    Clarification,
    Dimension,
    FollowUp,
    InformationRequest,
    Level,
    Measure,
    Meeting,
)
from iiz.cases.selectors import CaseFile
from iiz.cases.views import case_forms
from iiz.clients.models import DataCategory
from iiz.lib.forms import form_add_service_errors
from iiz.organisations.models import User

T = TypeVar("T")

# The sections of the case page: partial name -> anchor in the page.
SECTIONS = {
    "timeline": "verlauf",
    "level": "stufe",
    "requests": "stufe-2",
    "clarification": "klaerung",
    "plan": "plan",
    "meetings": "sitzungen",
    "closure": "abschluss",
}


def user_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def case_file_of(request: HttpRequest, reference: str) -> tuple[User, CaseFile]:
    """The user and the case as the user may see it (404 when hidden); client-work roles only."""
    user = user_of(request)
    if not access.may_work_with_clients(user):
        raise PermissionDenied(_("Ihre Rolle sieht keine Personendaten."))
    return user, selectors.case_file_for_user(user=user, reference=reference, request=request)


def entry(items: Iterable[T], pk: int) -> T:
    """An entry of the case file by id; 404 when the case has no such entry."""
    for item in items:
        if getattr(item, "pk", None) == pk:
            return item
    raise Http404


def require(allowed: bool, message: str) -> None:
    """403 with the message when the user's role may not do this (the grant says so)."""
    if not allowed:
        raise PermissionDenied(message)


# ---------------------------------------------------------------------------------------------------------
# Rows: one entry of a section with what the viewer may do with it
# ---------------------------------------------------------------------------------------------------------


@dataclass
class RequestRow:
    info: InformationRequest
    state: str
    answer_visible: bool
    answer_form: django_forms.Form | None


@dataclass
class ClarificationRow:
    dimension: str
    label: str
    category_label: str
    record: Clarification | None
    withheld: bool
    form: django_forms.Form | None


@dataclass
class MeasureRow:
    measure: Measure
    overdue: bool
    status_form: django_forms.Form | None


@dataclass
class AgreementRow:
    agreement: Agreement
    overdue: bool
    may_change: bool
    status_form: django_forms.Form | None = None


@dataclass
class MeetingRow:
    meeting: Meeting
    past: bool
    agreements: list[AgreementRow] = field(default_factory=list)
    minutes_form: django_forms.Form | None = None
    agreement_form: django_forms.Form | None = None


@dataclass
class FollowUpRow:
    follow_up: FollowUp
    due: bool
    form: django_forms.Form | None


# ---------------------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------------------


def case_context(file: CaseFile, user: User, bound: Mapping[str, django_forms.Form]) -> dict[str, Any]:
    """Everything the case page shows, with the forms this viewer is offered (bound ones kept)."""
    case, grant = file.case, file.grant
    today, now = timezone.localdate(), timezone.now()

    def pick(key: str, build: Callable[[], django_forms.Form]) -> django_forms.Form:
        return bound.get(key) or build()

    targets = case_forms.level_targets(file, user)
    requests_open = case.is_open and case.level >= 2
    requests = []
    for info in file.information_requests:
        may_answer = case.is_open and info.answered_on is None and info.to_institution_id == user.institution_id
        requests.append(
            RequestRow(
                info=info,
                state=info.state_on(today),
                answer_visible=selectors.information_answer_visible(grant=grant, info=info),
                # A refused answer (somebody else answered first) stays on the page with the user's text.
                answer_form=pick(f"answer-{info.pk}", partial(case_forms.answer_form, info))
                if may_answer
                else bound.get(f"answer-{info.pk}"),
            )
        )
    clarifications = []
    for dimension in Dimension:
        withheld = dimension.value in file.clarifications_withheld
        writable = grant.may_write_clarification(dimension.value) and not withheld
        clarifications.append(
            ClarificationRow(
                dimension=dimension.value,
                label=str(dimension.label),
                category_label=str(DataCategory(DIMENSION_CATEGORY[dimension]).label),
                record=file.clarifications.get(dimension.value),
                withheld=withheld,
                form=pick(f"clar-{dimension.value}", partial(case_forms.clarification_form, file, dimension.value))
                if writable
                else None,
            )
        )
    current, draft = file.current_plan, file.draft_plan
    may_plan = grant.may_edit_plan()
    current_measures = [
        MeasureRow(
            measure=m,
            overdue=m.is_overdue_on(today),
            status_form=pick(f"measure-{m.pk}", partial(case_forms.measure_status_form, m))
            if case_forms.may_set_measure_status(file, user, m)
            else None,
        )
        for m in (current.measures.all() if current else [])
    ]
    draft_forms: dict[str, django_forms.Form | None] = {"plan_form": None, "measure_form": None, "agree_form": None}
    if may_plan and draft is not None:
        plan = draft
        draft_forms = {
            "plan_form": pick("plan", partial(case_forms.plan_form, file, plan)),
            "measure_form": pick("measure", partial(case_forms.measure_form, file, plan)),
            "agree_form": pick("agree", partial(case_forms.agree_form, file, plan)),
        }
    may_coordinate = grant.may_coordinate()
    agreements_by_meeting: dict[int | None, list[AgreementRow]] = {}
    for agreement in file.agreements:
        may_change = (
            case.is_open
            and agreement.status == AgreementStatus.OPEN
            and (agreement.owner_id == user.pk or may_coordinate)
        )
        agreements_by_meeting.setdefault(agreement.meeting_id, []).append(
            AgreementRow(
                agreement=agreement,
                overdue=agreement.is_overdue_on(today),
                may_change=may_change,
                # A refused change (somebody else was first) is shown at the agreement, whatever its state now.
                status_form=bound.get(f"agreement-status-{agreement.pk}")
                or (case_forms.agreement_status_form(agreement) if may_change else None),
            )
        )
    meetings = []
    for meeting in file.meetings:
        past = meeting.starts_at <= now
        meetings.append(
            MeetingRow(
                meeting=meeting,
                past=past,
                agreements=agreements_by_meeting.get(meeting.pk, []),
                minutes_form=pick(f"minutes-{meeting.pk}", partial(case_forms.minutes_form, meeting))
                if may_coordinate and past
                else None,
                agreement_form=pick(f"agreement-{meeting.pk}", partial(case_forms.agreement_form, file, meeting))
                if may_coordinate
                else None,
            )
        )
    follow_ups = [
        FollowUpRow(
            follow_up=f,
            due=f.due_on <= today,
            form=pick(f"followup-{f.pk}", partial(case_forms.follow_up_form, f))
            if grant.may_record_follow_up() and f.recorded_on is None and f.due_on <= today
            else None,
        )
        for f in file.follow_ups
    ]
    return {
        "file": file,
        "case": case,
        "client": case.client,
        "grant": grant,
        "today": today,
        "sections": SECTIONS,
        "level_steps": [(level.value, level.label, level.value == case.level) for level in Level],
        "level_form": pick("level", lambda: case_forms.level_form(file, user)) if targets else None,
        "may_escalate": any(target > case.level for target in targets),
        "route_form": pick("route", lambda: case_forms.route_form(file, user))
        if grant.may_change_level() and case.level == 1
        else None,
        "requests": requests,
        "info_form": pick("info", lambda: case_forms.info_form(file, user)) if requests_open else None,
        "interview_form": pick("interview", lambda: case_forms.interview_form(file, user))
        if may_coordinate and case.level >= 2
        else None,
        "clarifications": clarifications,
        "current_plan": current,
        "current_measures": current_measures,
        "draft_plan": draft,
        "draft_measures": [
            MeasureRow(measure=m, overdue=False, status_form=None) for m in (draft.measures.all() if draft else [])
        ],
        "plan_new_form": pick("plan_new", lambda: case_forms.plan_new_form(file))
        if may_plan and draft is None
        else None,
        **draft_forms,
        "meetings": meetings,
        "loose_agreements": agreements_by_meeting.get(None, []),
        "meeting_form": pick("meeting", lambda: case_forms.meeting_form(file))
        if may_coordinate and case.level == 3
        else None,
        "close_form": pick("close", lambda: case_forms.close_form(file)) if grant.may_close() else None,
        "follow_ups": follow_ups,
        "may_open_new_case": not case.is_open and selectors.may_open_case(user),
    }


def case_page(
    request: HttpRequest,
    file: CaseFile,
    *,
    bound: Mapping[str, django_forms.Form] | None = None,
    section: str | None = None,
    status: int = 200,
    notice: str = "",
) -> HttpResponse:
    """The whole page, or for htmx the one section (and on success the timeline out of band)."""
    context = case_context(file, user_of(request), bound or {})
    context["notice"] = notice
    if section is not None and is_htmx(request):
        html = render_to_string(f"cases/detail.html#{section}", context, request)
        if status == 200 and section != "timeline":
            html += render_to_string("cases/detail.html#timeline", {**context, "oob": True}, request)
        return HttpResponse(html, status=status)
    return render(request, "cases/detail.html", context, status=status)


def case_change(
    request: HttpRequest,
    file: CaseFile,
    *,
    key: str,
    form: django_forms.Form,
    act: Callable[[dict[str, Any]], object],
    section: str,
    notice: str,
    partial: bool = True,
) -> HttpResponse:
    """Validate the form, call the service, answer: redirect (or fresh section), or the page with errors."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            reference = file.case.reference
            if partial and is_htmx(request):
                fresh = selectors.case_file_for_user(user=user_of(request), reference=reference, request=request)
                return case_page(request, fresh, section=section, notice=notice)
            messages.success(request, notice)
            return redirect(f"{reverse('cases:detail', args=[reference])}#{SECTIONS[section]}")
    return case_page(request, file, bound={key: form}, section=section if partial else None, status=400)
