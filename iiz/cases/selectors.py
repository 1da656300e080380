"""Reading cases as the asking user may see them: lists, the case file, its timeline, the task list."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.cases.models import (
    Agreement,
    AgreementStatus,
    Case,
    CaseParticipant,
    CaseStatus,
    Clarification,
    Dimension,
    FollowUp,
    InformationRequest,
    IntegrationPlan,
    JointInterview,
    LevelChange,
    Measure,
    MeasureStatus,
    Meeting,
    MeetingParticipant,
    Notification,
    PlanStatus,
    Screening,
    TargetGroupCheck,
)
from iiz.clients.models import DataCategory
from iiz.organisations.models import Role

if TYPE_CHECKING:
    from iiz.organisations.models import Institution, User


def cases_of_participant(*, user: User) -> QuerySet[Case]:
    """Open cases the user takes part in, newest first."""
    return (
        access.cases_visible_to(user=user)
        .filter(status=CaseStatus.OPEN)
        .select_related("client", "serving_institution")
        .order_by("-opened_on", "-id")
    )


_DIGITS = re.compile(r"[\s.\-]")


@dataclass(frozen=True)
class CaseListFilter:
    """What the case list is narrowed to and how it is sorted (see ``forms.CaseFilterForm``)."""

    query: str = ""
    status: str = ""
    level: int | None = None
    case_lead_id: int | None = None
    institution_id: int | None = None
    overdue: bool = False
    order_by: tuple[str, ...] = ("-opened_on", "-id")


def _overdue_on(day: dt.date) -> Q:
    """Cases with an open agreement, a running measure of the agreed plan or an unanswered request past due."""
    agreement = Agreement.objects.filter(case=OuterRef("pk"), status=AgreementStatus.OPEN, due_on__lt=day)
    measure = Measure.objects.filter(
        plan__case=OuterRef("pk"),
        plan__status=PlanStatus.AGREED,
        status__in=[MeasureStatus.PLANNED, MeasureStatus.RUNNING],
        due_on__lt=day,
    )
    info = InformationRequest.objects.filter(case=OuterRef("pk"), answered_on__isnull=True, due_on__lt=day)
    return Q(Exists(agreement)) | Q(Exists(measure)) | Q(Exists(info))


def case_list_for_user(
    *,
    user: User,
    status: str = "",
    level: int | None = None,
    filters: CaseListFilter | None = None,
    today: dt.date | None = None,
) -> QuerySet[Case]:
    """The cases the user takes part in, searched (reference, person's name, AHV number), filtered and sorted."""
    chosen = filters or CaseListFilter(status=status, level=level)
    qs = access.cases_visible_to(user=user).select_related("client", "serving_institution", "case_lead")
    if chosen.status in CaseStatus.values:
        qs = qs.filter(status=chosen.status)
    if chosen.level in (1, 2, 3):
        qs = qs.filter(level=chosen.level)
    if chosen.case_lead_id is not None:
        qs = qs.filter(case_lead_id=chosen.case_lead_id)
    if chosen.institution_id is not None:
        qs = qs.filter(serving_institution_id=chosen.institution_id)
    if chosen.overdue:
        qs = qs.filter(_overdue_on(today or timezone.localdate()))
    for term in chosen.query.split():
        compact = _DIGITS.sub("", term)
        if compact.isdigit() and len(compact) >= 4:
            qs = qs.filter(Q(client__ahv_number__contains=compact) | Q(reference__icontains=term))
        else:
            names = Q(client__last_name__icontains=term) | Q(client__first_name__icontains=term)
            qs = qs.filter(Q(reference__icontains=term) | names)
    return qs.order_by(*chosen.order_by)


def case_list_choices(*, user: User) -> tuple[QuerySet[User], QuerySet[Institution]]:
    """The case leads and opening institutions of the user's cases, for the list's filters."""
    from iiz.organisations.models import Institution, User

    visible = access.cases_visible_to(user=user)
    leads = User.objects.filter(pk__in=visible.values("case_lead_id")).order_by("last_name", "first_name")
    institutions = Institution.objects.filter(pk__in=visible.values("serving_institution_id")).order_by("name")
    return leads, institutions


def case_access_get(*, user: User, reference: str, request: HttpRequest | None = None) -> access.CaseAccess:
    """The user's access to the case, or 404 (logged) when it does not exist or is hidden."""
    case = (
        Case.objects.select_related(
            "client__municipality__district",
            "serving_institution",
            "case_lead__unit__institution",
            "case_team",
            "bilateral_institution",
            "previous_case",
            "target_group_check",
            "screening",
        )
        .filter(reference=reference[:20])
        .first()
    )
    grant = access.case_access_for(user=user, case=case) if case is not None else None
    if grant is None:
        audit_record(
            actor=user,
            action=AuditAction.DENIED,
            client_id=case.client_id if case else None,
            object_type="case",
            object_id=reference[:64],
            basis=AuditBasis.NONE,
            request=request,
        )
        raise Http404
    return grant


@dataclass
class TimelineEntry:
    day: dt.date
    at: dt.datetime | None
    kind: str
    title: str
    detail: str = ""
    institution: str = ""
    person: str = ""
    withheld: bool = False


@dataclass
class CaseFile:
    """One case as one participant may see it."""

    case: Case
    grant: access.CaseAccess
    participants: list[CaseParticipant]
    level_changes: list[LevelChange]
    information_requests: list[InformationRequest]
    joint_interviews: list[JointInterview]
    clarifications: dict[str, Clarification | None]
    clarifications_withheld: list[str]
    plans: list[IntegrationPlan]
    meetings: list[Meeting]
    agreements: list[Agreement]
    follow_ups: list[FollowUp]
    follow_on_cases: list[Case]
    timeline: list[TimelineEntry] = field(default_factory=list)
    # When each withheld clarification was written: the timeline shows it at its place without its content.
    clarifications_withheld_at: dict[str, dt.datetime] = field(default_factory=dict)

    @property
    def current_plan(self) -> IntegrationPlan | None:
        return next((p for p in self.plans if p.status == PlanStatus.AGREED), None)

    @property
    def draft_plan(self) -> IntegrationPlan | None:
        return next((p for p in self.plans if p.status == PlanStatus.DRAFT), None)


def _info_visible(grant: access.CaseAccess, info: InformationRequest) -> bool:
    """A request's answer is shown to the asker's side only under consent for its category."""
    if info.answered_by is None:
        return True
    return grant.may_see_item(category=info.category, institution_id=info.to_institution_id)


def case_file_for_user(*, user: User, reference: str, request: HttpRequest | None = None) -> CaseFile:
    """Everything a participant may see of one case, read in a fixed number of queries, audited once."""
    grant = case_access_get(user=user, reference=reference, request=request)
    case = grant.case
    assert case is not None  # noqa: S101 - case_access_get always sets it
    participants = list(
        case.participants.filter(left_on__isnull=True)
        .select_related("user__unit__institution", "institution")
        .order_by("institution__name", "user__last_name")
    )
    level_changes = list(case.level_changes.select_related("changed_by"))
    infos = list(case.information_requests.select_related("to_institution", "asked_by", "answered_by"))
    interviews = list(case.joint_interviews.select_related("recorded_by").prefetch_related("participants"))
    clar_rows = list(case.clarifications.select_related("institution", "written_by"))
    clarifications: dict[str, Clarification | None] = dict.fromkeys(Dimension.values)
    withheld: list[str] = []
    withheld_at: dict[str, dt.datetime] = {}
    for row in clar_rows:
        if grant.may_see_item(category=row.category, institution_id=row.institution_id):
            clarifications[row.dimension] = row
        else:
            withheld.append(row.dimension)
            withheld_at[row.dimension] = row.written_at
    plans = list(
        case.plans.select_related("case_lead__unit__institution", "created_by", "agreed_in").prefetch_related(
            Prefetch(
                "measures",
                queryset=Measure.objects.select_related("service", "responsible_institution", "responsible_user"),
            )
        )
    )
    meetings = list(
        case.meetings.select_related("organised_by").prefetch_related(
            Prefetch("participants", queryset=MeetingParticipant.objects.select_related("user__unit", "contact"))
        )
    )
    agreements = list(case.agreements.select_related("owner", "meeting"))
    follow_ups = list(case.follow_ups.select_related("owner", "recorded_by", "back_with"))
    follow_on = list(case.follow_on_cases.all())
    file = CaseFile(
        case=case,
        grant=grant,
        participants=participants,
        level_changes=level_changes,
        information_requests=infos,
        joint_interviews=interviews,
        clarifications=clarifications,
        clarifications_withheld=withheld,
        clarifications_withheld_at=withheld_at,
        plans=plans,
        meetings=meetings,
        agreements=agreements,
        follow_ups=follow_ups,
        follow_on_cases=follow_on,
    )
    file.timeline = _timeline(file)
    audit_record(
        actor=user,
        action=AuditAction.READ,
        client_id=case.client_id,
        object_type="case",
        object_id=case.pk,
        basis=AuditBasis.CASE,
        request=request,
        details={"case": case.reference, **grant.audit_details(), "clarifications_withheld": withheld},
    )
    return file


def _timeline(file: CaseFile) -> list[TimelineEntry]:
    """One chronological list of everything that happened in the case, filtered by what the viewer may see."""
    grant, case = file.grant, file.case
    entries: list[TimelineEntry] = []
    for change in file.level_changes:
        if change.from_level is None:
            title = _("Fall eröffnet (Stufe 1)")
        elif change.from_level == change.to_level:
            title = _("Vorgehen festgelegt: %(route)s") % {"route": change.get_route_display()}
        else:
            title = _("Stufe %(source)s → Stufe %(target)s") % {"source": change.from_level, "target": change.to_level}
        entries.append(
            TimelineEntry(
                change.changed_on, change.changed_at, "level", title, change.reason, person=str(change.changed_by)
            )
        )
    for info in file.information_requests:
        entries.append(
            TimelineEntry(
                info.asked_on,
                None,
                "information_request",
                _("Informationsanfrage an %(inst)s") % {"inst": info.to_institution.short_name},
                info.question,
                person=str(info.asked_by),
            )
        )
        if info.answered_on:
            visible = _info_visible(grant, info)
            entries.append(
                TimelineEntry(
                    info.answered_on,
                    None,
                    "information_answer",
                    _("Antwort von %(inst)s") % {"inst": info.to_institution.short_name},
                    info.answer if visible else "",
                    person=str(info.answered_by),
                    withheld=not visible,
                )
            )
    for interview in file.joint_interviews:
        entries.append(
            TimelineEntry(
                interview.held_on,
                None,
                "joint_interview",
                _("Gemeinsames Kundengespräch"),
                interview.summary,
                person=str(interview.recorded_by),
            )
        )
    for clarification in file.clarifications.values():
        if clarification is not None:
            entries.append(
                TimelineEntry(
                    timezone.localtime(clarification.written_at).date(),
                    clarification.written_at,
                    "clarification",
                    _("Situationsklärung: %(dim)s") % {"dim": clarification.get_dimension_display()},
                    institution=clarification.institution.short_name,
                    person=str(clarification.written_by),
                )
            )
    for dimension in file.clarifications_withheld:
        written_at = file.clarifications_withheld_at.get(dimension)
        entries.append(
            TimelineEntry(
                timezone.localtime(written_at).date() if written_at else case.opened_on,
                written_at,
                "clarification",
                _("Situationsklärung: %(dim)s") % {"dim": Dimension(dimension).label},
                withheld=True,
            )
        )
    for plan in file.plans:
        entries.append(
            TimelineEntry(
                timezone.localtime(plan.created_at).date(),
                plan.created_at,
                "plan",
                _("Integrationsplan Version %(v)s erstellt") % {"v": plan.version},
                person=str(plan.created_by),
            )
        )
        if plan.agreed_on:
            entries.append(
                TimelineEntry(
                    plan.agreed_on, None, "plan", _("Integrationsplan Version %(v)s vereinbart") % {"v": plan.version}
                )
            )
    for meeting in file.meetings:
        local = timezone.localtime(meeting.starts_at)
        entries.append(
            TimelineEntry(
                local.date(),
                meeting.starts_at,
                "meeting",
                _("Fallteam-Sitzung in %(place)s") % {"place": meeting.place},
                meeting.agenda,
                person=str(meeting.organised_by),
            )
        )
    for agreement in file.agreements:
        entries.append(
            TimelineEntry(
                agreement.created_on,
                None,
                "agreement",
                _("Vereinbarung: %(owner)s bis %(due)s")
                % {"owner": agreement.owner, "due": agreement.due_on.strftime("%d.%m.%Y")},
                agreement.text,
            )
        )
        if agreement.done_on:
            entries.append(
                TimelineEntry(
                    agreement.done_on,
                    None,
                    "agreement",
                    _("Vereinbarung erledigt"),
                    agreement.text,
                    person=str(agreement.owner),
                )
            )
    if case.closed_on:
        entries.append(
            TimelineEntry(
                case.closed_on,
                None,
                "closure",
                _("Fall abgeschlossen: %(outcome)s") % {"outcome": case.get_outcome_display()},
                case.closure_note,
                person=str(case.closed_by or ""),
            )
        )
    for follow_up in file.follow_ups:
        if follow_up.recorded_on:
            entries.append(
                TimelineEntry(
                    follow_up.recorded_on,
                    None,
                    "follow_up",
                    _("Nachbefragung nach %(m)s Monaten: %(status)s")
                    % {"m": follow_up.months_after, "status": follow_up.get_status_display()},
                    follow_up.note,
                    person=str(follow_up.recorded_by or ""),
                )
            )
    far_past = dt.datetime.min.replace(tzinfo=dt.UTC)
    entries.sort(key=lambda e: (e.day, e.at or far_past), reverse=True)
    return entries


# ---------------------------------------------------------------------------------------------------------
# The start page: my tasks
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Task:
    kind: str
    title: str
    case: Case
    due_on: dt.date
    overdue: bool


def tasks_for_user(*, user: User, today: dt.date | None = None) -> list[Task]:
    """Open agreements, measures, information requests to the user's institution and due follow-ups."""
    day = today or timezone.localdate()
    tasks: list[Task] = []
    for agreement in Agreement.objects.filter(
        owner=user, status=AgreementStatus.OPEN, case__status=CaseStatus.OPEN
    ).select_related("case"):
        tasks.append(Task("agreement", agreement.text, agreement.case, agreement.due_on, agreement.is_overdue_on(day)))
    for measure in Measure.objects.filter(
        responsible_user=user,
        status__in=[MeasureStatus.PLANNED, MeasureStatus.RUNNING],
        plan__status=PlanStatus.AGREED,
        plan__case__status=CaseStatus.OPEN,
    ).select_related("plan__case"):
        tasks.append(
            Task("measure", measure.description, measure.plan.case, measure.due_on, measure.is_overdue_on(day))
        )
    institution_id = user.institution_id
    if institution_id is not None:
        infos = InformationRequest.objects.filter(
            to_institution_id=institution_id,
            answered_on__isnull=True,
            case__status=CaseStatus.OPEN,
            case__participants__user=user,
            case__participants__left_on__isnull=True,
        ).select_related("case")
        for info in infos:
            tasks.append(Task("information_request", info.question, info.case, info.due_on, info.due_on < day))
    for follow_up in FollowUp.objects.filter(owner=user, recorded_on__isnull=True).select_related("case"):
        tasks.append(
            Task(
                "follow_up",
                _("Nachbefragung nach %(m)s Monaten") % {"m": follow_up.months_after},
                follow_up.case,
                follow_up.due_on,
                follow_up.due_on < day,
            )
        )
    tasks.sort(key=lambda t: (not t.overdue, t.due_on))
    return tasks


def meetings_upcoming_for_user(*, user: User, days: int = 28, now: dt.datetime | None = None) -> list[Meeting]:
    """The case-team meetings of the user's open cases in the coming weeks that the user organises or attends."""
    start = now or timezone.now()
    attends = MeetingParticipant.objects.filter(meeting=OuterRef("pk"), user=user)
    return list(
        Meeting.objects.filter(
            case__in=access.cases_visible_to(user=user).filter(status=CaseStatus.OPEN),
            starts_at__gte=start,
            starts_at__lt=start + dt.timedelta(days=days),
        )
        .filter(Q(organised_by=user) | Q(Exists(attends)))
        .select_related("case")
        .order_by("starts_at")[:20]
    )


def cases_waiting_for_a_meeting(*, user: User, today: dt.date) -> list[Case]:
    """The coordinator's open cases at level 2 or 3 with no case-team meeting from today on (oldest first)."""
    ahead = Meeting.objects.filter(case=OuterRef("pk"), starts_at__date__gte=today)
    return list(
        access.cases_visible_to(user=user)
        .filter(status=CaseStatus.OPEN, level__gte=2)
        .exclude(Exists(ahead))
        .select_related("client")
        .order_by("opened_on", "id")[:20]
    )


def notifications_unread(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at__isnull=True).order_by("-created_at")[:20]


# ---------------------------------------------------------------------------------------------------------
# Reads for the case pages: detection on the client page, target-group checks, plan versions, meetings
# ---------------------------------------------------------------------------------------------------------


def information_answer_visible(*, grant: access.CaseAccess, info: InformationRequest) -> bool:
    """Whether the viewer may read the answer to an information request (the rule the timeline applies)."""
    return _info_visible(grant, info)


def _detection_visible(grant: access.ClientAccess, institution_id: int) -> bool:
    """Screenings and target-group checks name life situations and problem topics, health among them.

    The recording institution always sees its own; another institution sees them only under a consent
    that covers both the occupational and the medical category.
    """
    return grant.may_see(category=DataCategory.OCCUPATIONAL, recorded_by_id=institution_id) and grant.may_see(
        category=DataCategory.MEDICAL, recorded_by_id=institution_id
    )


@dataclass
class ClientDetection:
    """The IIZ side of a client as the user may see it: screenings, target-group checks and cases."""

    screenings: list[Screening]
    checks: list[TargetGroupCheck]
    cases: list[Case]
    hidden_entries: int
    open_case_elsewhere: bool
    may_open_case: bool

    @property
    def check_allowing_case(self) -> TargetGroupCheck | None:
        """The latest check that allows a case and opened none yet, when no case is open for the person."""
        if self.open_case_elsewhere or any(case.is_open for case in self.cases):
            return None
        return next(
            (check for check in self.checks if check.allows_case and not getattr(check, "opened_a_case", False)),
            None,
        )


def screenings_visible(*, grant: access.ClientAccess) -> tuple[list[Screening], int]:
    """The client's screenings the user may see, newest first, and how many are hidden."""
    rows = list(
        grant.client.screenings.select_related("institution", "screened_by").prefetch_related("life_situations")
    )
    shown = [row for row in rows if _detection_visible(grant, row.institution_id)]
    return shown, len(rows) - len(shown)


def target_group_checks_visible(*, grant: access.ClientAccess) -> tuple[list[TargetGroupCheck], int]:
    rows = list(
        grant.client.target_group_checks.select_related("serving_institution", "checked_by", "override_by")
        .prefetch_related("topics")
        # A person who comes back starts a new case with a new check: a check opens one case.
        .annotate(opened_a_case=Exists(Case.objects.filter(target_group_check=OuterRef("pk"))))
    )
    shown: list[TargetGroupCheck] = [row for row in rows if _detection_visible(grant, row.serving_institution_id)]
    return shown, len(rows) - len(shown)


def client_detection_for_user(*, grant: access.ClientAccess) -> ClientDetection:
    """Read in a fixed number of queries: the client page stays constant whatever the number of entries."""
    client, user = grant.client, grant.user
    screenings, hidden_screenings = screenings_visible(grant=grant)
    checks, hidden_checks = target_group_checks_visible(grant=grant)
    cases = list(
        access.cases_visible_to(user=user).filter(client=client).select_related("case_lead").order_by("-opened_on")
    )
    own_case_ids = [case.pk for case in cases]
    open_elsewhere = Case.objects.filter(client=client, status=CaseStatus.OPEN).exclude(pk__in=own_case_ids).exists()
    return ClientDetection(
        screenings=screenings,
        checks=checks,
        cases=cases,
        hidden_entries=hidden_screenings + hidden_checks,
        open_case_elsewhere=open_elsewhere,
        may_open_case=may_open_case(user),
    )


def target_group_check_get(*, grant: access.ClientAccess, check_id: int) -> TargetGroupCheck:
    """One of the client's checks, or 404 when it does not exist or the user may not see it."""
    check = (
        grant.client.target_group_checks.select_related("serving_institution", "checked_by", "override_by", "screening")
        .prefetch_related("topics")
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        raise Http404
    requested_from_coordinator = check.override_pending and grant.user.has_role(Role.COORDINATOR)
    if not requested_from_coordinator and not _detection_visible(grant, check.serving_institution_id):
        raise Http404
    return check


def override_requests_pending() -> QuerySet[TargetGroupCheck]:
    """Failed target-group checks whose override a specialist has asked the Geschäftsstelle for."""
    return (
        TargetGroupCheck.objects.filter(override_requested_at__isnull=False, override_by__isnull=True, passed=False)
        .select_related("client__municipality", "serving_institution", "override_requested_by")
        .order_by("override_requested_at")
    )


def plan_version_for_user(
    *, user: User, reference: str, version: int, request: HttpRequest | None = None
) -> tuple[access.CaseAccess, IntegrationPlan]:
    """One version of the integration plan with its measures (audited as a read), or 404."""
    grant = case_access_get(user=user, reference=reference, request=request)
    case = grant.case
    assert case is not None  # noqa: S101 - case_access_get always sets it
    plan = (
        case.plans.select_related("case_lead__unit__institution", "created_by", "agreed_in")
        .prefetch_related(
            Prefetch(
                "measures",
                queryset=Measure.objects.select_related("service", "responsible_institution", "responsible_user"),
            )
        )
        .filter(version=version)
        .first()
    )
    if plan is None:
        raise Http404
    audit_record(
        actor=user,
        action=AuditAction.READ,
        client_id=case.client_id,
        object_type="integration_plan",
        object_id=plan.pk,
        basis=AuditBasis.CASE,
        request=request,
        details={"case": case.reference, "version": plan.version},
    )
    return grant, plan


def meeting_get_for_user(*, user: User, reference: str, meeting_id: int, request: HttpRequest | None = None) -> Meeting:
    """A meeting of a case the user takes part in, or 404."""
    grant = case_access_get(user=user, reference=reference, request=request)
    meeting = Meeting.objects.select_related("case", "organised_by").filter(pk=meeting_id, case=grant.case).first()
    if meeting is None:
        raise Http404
    return meeting


def may_open_case(user: User) -> bool:
    """The roles that services.case_open accepts: iiz specialists open cases, coordinators may too."""
    return access.may_work_with_clients(user) and user.has_role(Role.SPECIALIST, Role.COORDINATOR)
