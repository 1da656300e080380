"""Synthetic IIZ cases in bulk, for the benchmark's 100,000 clients (``manage.py demo_generate_cases``).

``iiz.demo.cases`` builds a few dozen cases through the case services, which is the demo's way: every row
passes every check. For a population of 100,000 that is far too slow, so this module writes the same rows
with ``bulk_create``, one batch of clients at a time (flat memory), and keeps the rules the services
enforce by construction:

- a passed target-group check (resident, registered with a partner on the day, topics that block
  integration) and a screening before the opening; the case is opened by an iiz specialist of the
  institution the person is registered with, which becomes the serving institution;
- at most one open case per person; a person who comes back gets a new case linked to the closed one;
- levels move 1 → 2 → 3 on dated level changes, the coordinator joins at level 2, case-team meetings only
  on level 3; every user with a task, a measure or a meeting in the case is a participant from that day;
- an agreed integration plan has a case lead and measures; the case lead of the case is the plan's;
- agreements are due after they were made, done no later than today; a closed case has no open ones;
- a closed case has an outcome and follow-ups at 6 and 12 months, recorded only once due;
- no date lies in the future except planned meetings and due dates.

As with ``demo_generate``, bulk seeding of synthetic data writes one audit entry per batch (naming the
cases and persons) instead of one per row, and sends no webhooks or invitations.

About 3 % of the clients reach IIZ (``share``), chosen among those with an active registration at an RAV
or an IV-Stelle unit and a consent to the exchange of data; 45 % of the cases are closed, 45 % reached
level 3 and 70 % level 2, as in ``iiz.demo.cases``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.cases.models import (
    INTEGRATED_OUTCOMES,
    Agreement,
    AgreementStatus,
    Case,
    CaseParticipant,
    CaseStatus,
    CaseTeam,
    FollowUp,
    FollowUpStatus,
    InformationRequest,
    IntegrationPlan,
    LevelChange,
    LifeSituation,
    LifeSituationGroup,
    Measure,
    MeasureStatus,
    Meeting,
    MeetingParticipant,
    Outcome,
    PlanStatus,
    ProblemTopic,
    Route,
    Screening,
    ServiceOffering,
    TargetGroupCheck,
)
from iiz.cases.services import FOLLOW_UP_MONTHS
from iiz.clients.models import Client, Consent, DataCategory, Registration
from iiz.demo.cases import (
    AGREEMENT_TEXTS,
    CLOSURE_NOTES,
    MEASURE_TEXTS,
    MEETING_PLACES,
    OUTCOMES,
    case_teams_by_district,
    demo_benefits_record,
    offerings_by_kind,
)
from iiz.demo.people import demo_contacts_ensure, office_phone, staff_name
from iiz.demo.world import refuse_outside_demo
from iiz.organisations.models import Contact, ContactKind, InstitutionKind, OrganisationalUnit, Role, User
from iiz.organisations.services import user_create

SOURCE = "demo_generate_cases"
SHARE = 0.03
HORIZON_DAYS = 3 * 365  # cases are opened within the last three years
# The outcome of a closure depends on where the person stood: a person at risk of losing the job mostly
# keeps it or fails to, a person without one finds a job, starts a training or drops out.
OUTCOMES_BY_GROUP: dict[str, tuple[tuple[str, int], ...]] = {
    LifeSituationGroup.JOB_AT_RISK: (
        (Outcome.JOB_KEPT, 48), (Outcome.FIRST_LABOUR_MARKET, 8), (Outcome.IV_MEASURE, 16),
        (Outcome.OTHER, 10), (Outcome.DROPPED_OUT, 12), (Outcome.MOVED_AWAY, 6),
    ),
    LifeSituationGroup.WITHOUT_JOB: (
        (Outcome.FIRST_LABOUR_MARKET, 36), (Outcome.TRAINING, 14), (Outcome.IV_MEASURE, 13),
        (Outcome.OTHER, 12), (Outcome.DROPPED_OUT, 17), (Outcome.MOVED_AWAY, 8),
    ),
    LifeSituationGroup.LONG_TERM: (
        (Outcome.FIRST_LABOUR_MARKET, 22), (Outcome.TRAINING, 6), (Outcome.IV_MEASURE, 26),
        (Outcome.OTHER, 24), (Outcome.DROPPED_OUT, 15), (Outcome.MOVED_AWAY, 7),
    ),
}
COORDINATORS = 6
CLOSED_SHARE = 0.45
LEVELS = ((3, 45), (2, 25), (1, 30))
RETURN_SHARE = 0.08
CASE_UNIT_KINDS = (InstitutionKind.LABOUR, InstitutionKind.DISABILITY)
GOALS = (
    "Stelle im ersten Arbeitsmarkt innerhalb eines Jahres",
    "Arbeitsplatz erhalten, Pensum schrittweise erhöhen",
    "Berufliche Grundbildung beginnen",
    "Gesundheit stabilisieren und Arbeitsfähigkeit klären",
)


@dataclass
class _Staff:
    """The users the cases are worked by, and the catalogues, looked up once."""

    specialists: dict[int, User]  # by unit: an iiz specialist of each RAV and IV-Stelle unit
    workers: dict[int, User]  # by unit: the case worker who records the unit's registrations
    coordinators: list[User]
    units: dict[int, OrganisationalUnit]
    situations: list[LifeSituation]
    topics: list[ProblemTopic]
    offerings: dict[str, list[ServiceOffering]]
    teams: dict[int, CaseTeam]  # by district number
    default_team: CaseTeam | None
    contacts: dict[str, list[Contact]]  # external contacts by kind (doctor, employer, coach)


@dataclass
class _Built:
    """The rows of one batch, in the order they are inserted."""

    screenings: list[Screening] = field(default_factory=list)
    situations: list[tuple[Screening, int]] = field(default_factory=list)
    checks: list[TargetGroupCheck] = field(default_factory=list)
    topics: list[tuple[TargetGroupCheck, int]] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    returning: list[Case] = field(default_factory=list)  # follow-on cases, inserted after the cases they follow
    participants: list[CaseParticipant] = field(default_factory=list)
    level_changes: list[LevelChange] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    meeting_participants: list[MeetingParticipant] = field(default_factory=list)
    plans: list[IntegrationPlan] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    requests: list[InformationRequest] = field(default_factory=list)


def _user(username: str, unit: OrganisationalUnit, roles: list[str]) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        first_name, last_name = staff_name(username)
        user = user_create(
            actor=None, username=username, first_name=first_name, last_name=last_name,
            email=f"{username}@demo.iiz.invalid", unit=unit, roles=roles, password=None,
            phone=office_phone(unit, username), is_demo_account=True,
        )
    return user


def _staff() -> _Staff:
    units = {
        unit.pk: unit
        for unit in OrganisationalUnit.objects.select_related("institution", "municipality__district")
    }
    specialists: dict[int, User] = {}
    workers: dict[int, User] = {}
    for unit in units.values():
        workers_found = User.objects.filter(username=f"demo-staff-{slugify(unit.name)}"[:150]).first()
        if workers_found is not None:
            workers[unit.pk] = workers_found
        if unit.institution.kind in CASE_UNIT_KINDS and unit.pk in workers:
            specialists[unit.pk] = _user(
                f"demo-iiz-{slugify(unit.name)}"[:150], unit, [Role.SPECIALIST, Role.CASE_TEAM_MEMBER]
            )
    office = next(u for u in units.values() if u.institution.kind == InstitutionKind.COORDINATION)
    coordinators = [
        _user(f"demo-koordination-{n}", office, [Role.COORDINATOR, Role.CASE_TEAM_MEMBER])
        for n in range(1, COORDINATORS + 1)
    ]
    offerings = offerings_by_kind()
    teams = case_teams_by_district()
    return _Staff(
        specialists=specialists,
        workers=workers,
        coordinators=coordinators,
        units=units,
        situations=list(LifeSituation.objects.filter(is_active=True).order_by("position", "code")),
        topics=list(ProblemTopic.objects.filter(is_active=True).order_by("position", "code")),
        offerings=offerings,
        teams=teams,
        default_team=CaseTeam.objects.filter(is_active=True).order_by("name").first(),
        contacts=demo_contacts_ensure(),
    )


@dataclass
class _Person:
    client_id: int
    born: dt.date
    district: int | None
    registrations: list[tuple[int, int, dt.date, dt.date | None]]  # unit, institution, from, until


class _CaseWriter:
    """Plans the cases of one person at a time and collects their rows."""

    def __init__(self, *, rng: random.Random, staff: _Staff, today: dt.date) -> None:
        self.rng = rng
        self.staff = staff
        self.today = today
        self.tz = timezone.get_current_timezone()
        self.numbers: dict[int, int] = {}

    def _days(self, lo: int, hi: int) -> dt.timedelta:
        return dt.timedelta(days=self.rng.randint(lo, max(lo, hi)))

    def _reference(self, year: int) -> str:
        if year not in self.numbers:
            last = Case.objects.filter(reference__startswith=f"IIZ-{year}-").aggregate(last=Max("reference"))["last"]
            self.numbers[year] = int(last.rsplit("-", 1)[1]) if last else 0
        self.numbers[year] += 1
        return f"IIZ-{year}-{self.numbers[year]:05d}"

    def person(self, person: _Person, built: _Built) -> int:
        """The case (and, for a few, the case after it) of one person; returns how many cases."""
        rng, today = self.rng, self.today
        serving = [r for r in person.registrations if r[3] is None and r[0] in self.staff.specialists]
        if not serving:
            return 0
        unit_id, _institution, since, _until = rng.choice(serving)
        earliest = max(since + dt.timedelta(days=36), today - dt.timedelta(days=HORIZON_DAYS))
        latest = today - dt.timedelta(days=3)
        if earliest > latest:
            return 0
        # A person registered only lately can have a case only lately; taking such persons as often as the
        # others would crowd the recent months. Taking each person in proportion to the span of days open to
        # them spreads the openings over the whole horizon, as in a network that has been at work for years.
        if rng.random() * HORIZON_DAYS > (latest - earliest).days:
            return 0
        opened_on = earliest + dt.timedelta(days=rng.randint(0, (latest - earliest).days))
        closed = (today - opened_on).days >= 120 and rng.random() < CLOSED_SHARE / 0.8
        level = rng.choices([lv for lv, _ in LEVELS], weights=[w for _, w in LEVELS])[0]
        first = self._case(person, built, unit_id=unit_id, since=since, opened_on=opened_on, level=level,
                           closed=closed, previous=None)
        if first.closed_on is None or (today - first.closed_on).days < 90 or rng.random() >= RETURN_SHARE:
            return 1
        # The person comes back: screened again after the closure, a new case linked to the closed one.
        again = first.closed_on + self._days(30, (today - first.closed_on).days - 10)
        self._case(person, built, unit_id=unit_id, since=since, opened_on=again, level=rng.choice((1, 2)),
                   closed=False, previous=first)
        return 2

    def _case(self, person: _Person, built: _Built, *, unit_id: int, since: dt.date, opened_on: dt.date,
              level: int, closed: bool, previous: Case | None) -> Case:
        rng, today, staff = self.rng, self.today, self.staff
        unit = staff.units[unit_id]
        specialist = staff.specialists[unit_id]
        coordinator = rng.choice(staff.coordinators)
        lower = max(since, previous.closed_on + dt.timedelta(days=1)) if previous and previous.closed_on else since
        screened_on = max(lower, opened_on - self._days(3, 35))
        checked_on = screened_on + self._days(0, (opened_on - screened_on).days)
        age = opened_on.year - person.born.year
        fitting = [s for s in staff.situations if s.fits_age(age)] or staff.situations
        screening = Screening(client_id=person.client_id, institution_id=unit.institution_id, screened_by=specialist,
                              screened_on=screened_on)
        built.screenings.append(screening)
        chosen = rng.sample(fitting, k=min(len(fitting), rng.choice((1, 1, 2))))
        built.situations += [(screening, s.pk) for s in chosen]
        group = chosen[0].group if chosen else LifeSituationGroup.WITHOUT_JOB
        check = TargetGroupCheck(
            client_id=person.client_id, screening=screening, serving_institution_id=unit.institution_id,
            checked_by=specialist, checked_on=checked_on, employable=True, resident_in_canton=True,
            registered_with_partner=True, topics_block_integration=True, passed=True, failures=[],
        )
        built.checks.append(check)
        built.topics += [(check, t.pk) for t in rng.sample(staff.topics, k=min(len(staff.topics), rng.randint(2, 3)))]

        # Dates in order: opening, level 2, level 3, first meeting and agreed plan, closure; none after today.
        end = today
        closed_on = None
        if closed:
            closed_on = min(today - dt.timedelta(days=1), opened_on + self._days(90, 540))
            end = closed_on
        level2_on = min(end, opened_on + self._days(7, 30)) if level >= 2 else None
        level3_on = min(end, level2_on + self._days(10, 30)) if level == 3 and level2_on else None
        case = Case(
            client_id=person.client_id, reference=self._reference(opened_on.year), level=level,
            route=Route.COORDINATION if level >= 2 else Route.INTERNAL, detected_on=screened_on,
            opened_on=opened_on, opened_by=specialist, serving_institution_id=unit.institution_id,
            screening=screening, target_group_check=check, previous_case=previous,
            case_team=(staff.teams.get(person.district or 0, staff.default_team) if level == 3 else None),
        )
        (built.returning if previous is not None else built.cases).append(case)
        joined: dict[int, tuple[User, dt.date]] = {}

        def join(user: User, day: dt.date) -> None:
            if user.pk not in joined or day < joined[user.pk][1]:
                joined[user.pk] = (user, max(day, opened_on))

        join(specialist, opened_on)
        built.level_changes.append(LevelChange(case=case, from_level=None, to_level=1, route=Route.INTERNAL,
                                               changed_by=specialist, changed_on=opened_on, reason="Fall eröffnet"))
        if level2_on is not None:
            join(coordinator, level2_on)
            built.level_changes.append(LevelChange(case=case, from_level=1, to_level=2, route=Route.COORDINATION,
                                                   changed_by=specialist, changed_on=level2_on,
                                                   reason="Unterstützung der Geschäftsstelle nötig"))
        if level3_on is not None:
            built.level_changes.append(LevelChange(case=case, from_level=2, to_level=3, route=Route.COORDINATION,
                                                   changed_by=coordinator, changed_on=level3_on,
                                                   reason="Gemeinsame Planung im Fallteam nötig"))

        # The people of the other institutions the person is registered with.
        others: list[tuple[OrganisationalUnit, User]] = []
        for other_unit_id, _inst, _since, until in person.registrations:
            other = staff.units[other_unit_id]
            worker = staff.workers.get(other_unit_id)
            if other_unit_id != unit_id and until is None and worker is not None and \
                    other.institution.kind in MEASURE_TEXTS:
                others.append((other, worker))
        leads = [specialist] + [w for u, w in others if u.institution.kind != InstitutionKind.YOUTH]
        case_lead = specialist if level == 1 else rng.choice(leads)

        meetings: list[Meeting] = []
        if level3_on is not None:
            meetings = self._meetings(built, case, coordinator, [specialist, case_lead, *(w for _u, w in others)],
                                      start=min(today - dt.timedelta(days=1), level3_on + self._days(5, 20)),
                                      end=end, closed=closed, join=join,
                                      external=self._external(group, unit))
        # The plan: agreed at the first meeting on level 3, a few weeks after level 2, or (level 1) by the
        # specialist with the person; some level-1 cases have a draft only.
        agreed_on: dt.date | None = None
        if meetings and timezone.localdate(meetings[0].starts_at) < today:
            agreed_on = timezone.localdate(meetings[0].starts_at)
        elif level == 2 and level2_on is not None:
            agreed_on = level2_on + self._days(14, 40)
        elif level == 1 and rng.random() < 0.5:
            agreed_on = opened_on + self._days(10, 60)
        if agreed_on is not None and agreed_on > end:
            agreed_on = None
        if level >= 2 or agreed_on is not None or rng.random() < 0.5:
            self._plan(built, case, coordinator if level >= 2 else specialist, case_lead, unit, specialist, others,
                       agreed_on=agreed_on, end=end, meeting=meetings[0] if meetings and agreed_on else None,
                       join=join)
            if agreed_on is not None:
                case.case_lead = case_lead
                join(case_lead, agreed_on)
        owners = [specialist, case_lead, coordinator, *(w for _u, w in others)]
        for meeting in meetings:
            self._agreements(built, case, meeting, coordinator, owners, end=end, closed=closed, join=join)
        if level >= 2 and others and rng.random() < 0.3:
            self._request(built, case, coordinator, rng.choice(others), start=level2_on or opened_on, end=end)
        if closed_on is not None:
            self._close(built, case, closed_on, closer=coordinator if level >= 2 else specialist, agreed_on=agreed_on,
                        back_with=[staff.units[r[0]].institution for r in person.registrations], group=group)
        built.participants += [
            CaseParticipant(case=case, user=user, institution_id=user.unit.institution_id, joined_on=day)
            for user, day in joined.values()
            if user.unit is not None
        ]
        return case

    def _external(self, group: str, unit: OrganisationalUnit) -> list[Contact]:
        """The doctor, employer or job coach a coordinator would invite to this person's case team."""
        rng, contacts = self.rng, self.staff.contacts
        chosen: list[Contact] = []
        health = unit.institution.kind == InstitutionKind.DISABILITY or group == LifeSituationGroup.JOB_AT_RISK
        if contacts.get(ContactKind.DOCTOR) and rng.random() < (0.55 if health else 0.2):
            chosen.append(rng.choice(contacts[ContactKind.DOCTOR]))
        if contacts.get(ContactKind.EMPLOYER) and rng.random() < (0.7 if group == LifeSituationGroup.JOB_AT_RISK
                                                                   else 0.15):
            chosen.append(rng.choice(contacts[ContactKind.EMPLOYER]))
        if contacts.get(ContactKind.COACH) and rng.random() < 0.15:
            chosen.append(rng.choice(contacts[ContactKind.COACH]))
        return chosen

    def _meetings(self, built: _Built, case: Case, coordinator: User, invited: list[User], *, start: dt.date,
                  end: dt.date, closed: bool, join: Callable[[User, dt.date], None],
                  external: list[Contact]) -> list[Meeting]:
        rng, today = self.rng, self.today
        days = [start]
        while (following := days[-1] + self._days(42, 70)) < end:
            days.append(following)
        if not closed and rng.random() < 0.6:
            days.append(today + self._days(7, 35))
        users = list({u.pk: u for u in [coordinator, *invited]}.values())
        meetings = []
        for day in days:
            starts_at = dt.datetime.combine(day, dt.time(rng.choice((9, 10, 14, 15))), tzinfo=self.tz)
            held = day < today
            meeting = Meeting(
                case=case, case_team=case.case_team, starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=rng.choice((60, 90, 120))), place=rng.choice(MEETING_PLACES),
                agenda="1. Situation\n2. Integrationsplan\n3. Vereinbarungen", organised_by=coordinator,
                held=held, minutes="Situation besprochen; Plan und Zuständigkeiten vereinbart." if held else "",
                minutes_by=coordinator if held else None,
            )
            built.meetings.append(meeting)
            built.meeting_participants += [MeetingParticipant(meeting=meeting, user=u) for u in users]
            # External participants come to most meetings of their case, not always to every one.
            built.meeting_participants += [
                MeetingParticipant(meeting=meeting, contact=c) for c in external if day == start or rng.random() < 0.6
            ]
            if rng.random() < 0.6:
                built.meeting_participants.append(MeetingParticipant(meeting=meeting, is_client=True))
            for user in users:
                # The service adds the invited as participants on the day the meeting is scheduled.
                join(user, min(day, today))
            meetings.append(meeting)
        return meetings

    def _plan(self, built: _Built, case: Case, editor: User, case_lead: User, unit: OrganisationalUnit,
              specialist: User, others: list[tuple[OrganisationalUnit, User]], *, agreed_on: dt.date | None,
              end: dt.date, meeting: Meeting | None, join: Callable[[User, dt.date], None]) -> None:
        rng, today = self.rng, self.today
        plan = IntegrationPlan(
            case=case, version=1, status=PlanStatus.AGREED if agreed_on else PlanStatus.DRAFT, goals=rng.choice(GOALS),
            case_lead=case_lead, agreed_on=agreed_on, agreed_in=meeting,
            client_agreed_on=(agreed_on if meeting else min(end, agreed_on + self._days(0, 7))) if agreed_on else None,
            created_by=editor,
        )
        built.plans.append(plan)
        for measure_unit, person in [(unit, specialist), *others[:2]]:
            kind = measure_unit.institution.kind
            offerings: list[ServiceOffering | None] = [*self.staff.offerings.get(kind, [])] or [None]
            start = (agreed_on or today) + self._days(0, 21)
            due = start + self._days(60, 200)
            responsible = person if rng.random() < 0.85 else None
            status, done_on = MeasureStatus.PLANNED, None
            if agreed_on is not None and start <= end:
                draw = rng.random()
                status = MeasureStatus.RUNNING
                if due < end and draw < 0.65:
                    status, done_on = MeasureStatus.DONE, max(start, min(end, due - self._days(0, 20)))
                elif due < end and draw >= 0.9:
                    status = MeasureStatus.CANCELLED
            built.measures.append(Measure(
                plan=plan, service=rng.choice(offerings), description=rng.choice(MEASURE_TEXTS[kind]),
                responsible_institution_id=measure_unit.institution_id, responsible_user=responsible,
                start_on=start, due_on=due, status=status, done_on=done_on,
            ))
            if responsible is not None and agreed_on is not None:
                join(responsible, agreed_on)

    def _agreements(self, built: _Built, case: Case, meeting: Meeting, coordinator: User, owners: list[User], *,
                    end: dt.date, closed: bool, join: Callable[[User, dt.date], None]) -> None:
        rng, today = self.rng, self.today
        day = timezone.localdate(meeting.starts_at)
        if day >= today:
            return
        candidates = list({u.pk: u for u in owners}.values())
        for _ in range(rng.randint(1, 3)):
            owner = rng.choice(candidates)
            due = day + self._days(14, 42)
            status, done_on = AgreementStatus.OPEN, None
            draw = rng.random()
            if due < end:
                if draw < 0.6:
                    done_on = day + self._days(0, (due - day).days)
                elif draw < (0.9 if closed else 0.82):
                    done_on = min(end, due + self._days(1, 30))
            elif draw < 0.3 and day < end:
                done_on = day + self._days(0, (end - day).days)
            if done_on is not None:
                status, done_on = AgreementStatus.DONE, min(done_on, today)
            elif closed:
                # Closing a case drops its open agreements.
                status = AgreementStatus.DROPPED
            built.agreements.append(Agreement(
                case=case, meeting=meeting, text=rng.choice(AGREEMENT_TEXTS), owner=owner, due_on=due, status=status,
                done_on=done_on, created_by=coordinator, created_on=day,
            ))
            join(owner, day)

    def _request(self, built: _Built, case: Case, coordinator: User, other: tuple[OrganisationalUnit, User], *,
                 start: dt.date, end: dt.date) -> None:
        rng, today = self.rng, self.today
        unit, worker = other
        asked_on = min(end, start + self._days(0, 20))
        due_on = asked_on + self._days(10, 30)
        answered_on = asked_on + self._days(1, 35) if rng.random() < 0.75 else None
        if answered_on is not None and answered_on > today:
            answered_on = None
        built.requests.append(InformationRequest(
            case=case, to_institution_id=unit.institution_id,
            category=DataCategory.FINANCIAL if unit.institution.kind == InstitutionKind.SOCIAL_SERVICE
            else DataCategory.OCCUPATIONAL,
            question="Welche Leistungen bezieht die Person aktuell, und seit wann?", asked_by=coordinator,
            asked_on=asked_on, due_on=due_on, answer="Siehe Beilage." if answered_on else "",
            answered_by=worker if answered_on else None, answered_on=answered_on,
        ))

    def _close(self, built: _Built, case: Case, closed_on: dt.date, *, closer: User, agreed_on: dt.date | None,
               back_with: list[Any], group: str) -> None:
        rng, today = self.rng, self.today
        weighted = OUTCOMES_BY_GROUP.get(group, OUTCOMES)
        outcome = rng.choices([o for o, _ in weighted], weights=[w for _, w in weighted])[0]
        outcome_on = max(agreed_on or case.opened_on, case.opened_on, closed_on - self._days(0, 30))
        outcome_on = min(outcome_on, closed_on)
        integrated = outcome in INTEGRATED_OUTCOMES
        case.status = CaseStatus.CLOSED
        case.outcome = outcome
        case.outcome_on = outcome_on
        case.closed_on = closed_on
        case.benefits_ended_on = min(today, outcome_on + self._days(0, 60)) if integrated else None
        case.closure_note = CLOSURE_NOTES[outcome]
        case.closed_by = closer
        owner = case.case_lead or closer
        for months in FOLLOW_UP_MONTHS:
            due_on = closed_on + relativedelta(months=months)
            follow_up = FollowUp(case=case, months_after=months, due_on=due_on, owner=owner)
            if due_on <= today - dt.timedelta(days=3) and rng.random() >= 0.15:
                weights = (78, 10, 4, 8) if integrated else (20, 35, 25, 20)
                status = rng.choices(
                    [FollowUpStatus.STILL_INTEGRATED, FollowUpStatus.BACK_WITH_PARTNER, FollowUpStatus.NOT_INTEGRATED,
                     FollowUpStatus.UNKNOWN], weights=weights)[0]
                follow_up.status = status
                follow_up.recorded_on = due_on + self._days(0, min(30, (today - due_on).days))
                follow_up.recorded_by = owner
                follow_up.back_with = rng.choice(back_with) if status == FollowUpStatus.BACK_WITH_PARTNER else None
                follow_up.note = "Telefonische Nachbefragung."
            built.follow_ups.append(follow_up)


def _insert(built: _Built) -> None:
    """Insert a batch in the order of its foreign keys; bulk_create fills in the keys of the rows before."""
    Screening.objects.bulk_create(built.screenings)
    Screening.life_situations.through.objects.bulk_create(
        [Screening.life_situations.through(screening_id=s.pk, lifesituation_id=pk) for s, pk in built.situations]
    )
    TargetGroupCheck.objects.bulk_create(built.checks)
    TargetGroupCheck.topics.through.objects.bulk_create(
        [TargetGroupCheck.topics.through(targetgroupcheck_id=c.pk, problemtopic_id=pk) for c, pk in built.topics]
    )
    Case.objects.bulk_create(built.cases)
    Case.objects.bulk_create(built.returning)
    CaseParticipant.objects.bulk_create(built.participants)
    LevelChange.objects.bulk_create(built.level_changes)
    Meeting.objects.bulk_create(built.meetings)
    MeetingParticipant.objects.bulk_create(built.meeting_participants)
    IntegrationPlan.objects.bulk_create(built.plans)
    Measure.objects.bulk_create(built.measures)
    Agreement.objects.bulk_create(built.agreements)
    FollowUp.objects.bulk_create(built.follow_ups)
    InformationRequest.objects.bulk_create(built.requests)


def _people(ids: list[int], today: dt.date) -> list[_Person]:
    """The persons among ``ids`` without a case yet, resident in a municipality, with a standing consent."""
    with_case = set(Case.objects.filter(client_id__in=ids).values_list("client_id", flat=True))
    consented = set(
        Consent.objects.filter(client_id__in=ids, revoked_at__isnull=True, valid_from__lte=today)
        .values_list("client_id", flat=True)
    )
    registrations: dict[int, list[tuple[int, int, dt.date, dt.date | None]]] = {}
    for client_id, unit_id, institution_id, since, until in Registration.objects.filter(client_id__in=ids).values_list(
        "client_id", "unit_id", "institution_id", "registered_on", "deregistered_on"
    ):
        registrations.setdefault(client_id, []).append((unit_id, institution_id, since, until))
    people = []
    for pk, born, district in Client.objects.filter(pk__in=ids, municipality__isnull=False).order_by("pk").values_list(
        "pk", "date_of_birth", "municipality__district__number"
    ):
        if pk in with_case or pk not in consented or pk not in registrations:
            continue
        people.append(_Person(pk, born, district, sorted(registrations[pk], key=lambda r: (r[2], r[0]))))
    return people


def demo_cases_bulk_generate(
    *,
    share: float = SHARE,
    seed: int = 2026,
    batch_size: int = 2000,
    today: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Give about ``share`` of all clients an IIZ case, in batches of ``batch_size`` clients; returns the cases made.

    Clients that already have a case count towards the share, so a second run adds nothing (a person who
    came back has two cases but counts once). Each batch is one transaction with one audit entry.
    ``progress(clients_seen, cases_made)`` is called after each batch.
    """
    refuse_outside_demo()
    today = today or timezone.localdate()
    total = Client.objects.count()
    with_case = Case.objects.values("client_id").distinct().count()
    wanted = round(total * share) - with_case
    if wanted <= 0 or total == 0:
        return 0
    staff = _staff()
    case_units = list(staff.specialists)
    eligible = (
        Registration.objects.filter(
            unit_id__in=case_units, deregistered_on__isnull=True, client__municipality__isnull=False
        )
        .exclude(client__cases__isnull=False)
        .values("client_id")
        .distinct()
        .count()
    )
    if eligible == 0:
        return 0
    # About 60 % of the eligible have a standing consent, and about half of those are taken (see
    # ``_CaseWriter.person``); the chance makes up for the ones left out.
    chance = min(1.0, wanted / (eligible * 0.55 * 0.5))
    rng = random.Random(seed)
    writer = _CaseWriter(rng=rng, staff=staff, today=today)
    created = 0
    persons = 0
    seen = 0
    last = 0
    while persons < wanted:
        ids = list(Client.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        last = ids[-1]
        seen += len(ids)
        built = _Built()
        made = 0
        for person in _people(ids, today):
            if persons < wanted and rng.random() < chance:
                count = writer.person(person, built)
                persons += 1 if count else 0
                made += count
        if made:
            with transaction.atomic():
                _insert(built)
                cases = built.cases + built.returning
                audit_record(
                    actor=None,
                    action=AuditAction.CREATE,
                    object_type="case_batch",
                    basis=AuditBasis.CASE,
                    actor_username=SOURCE,
                    details={
                        "count": len(cases),
                        "source": SOURCE,
                        "case_ids": [case.pk for case in cases],
                        "client_ids": sorted({case.client_id for case in cases}),
                        "meetings": len(built.meetings),
                        "agreements": len(built.agreements),
                        "follow_ups": len(built.follow_ups),
                    },
                )
                demo_benefits_record(client_ids=sorted({case.client_id for case in cases}), seed=seed + last)
            created += made
        if progress is not None:
            progress(seen, created)
    return created
