"""Synthetic IIZ cases for the demo, built through the services in ``iiz.cases.services``.

Each case follows the path the platform itself records: a screening with one or two life situations, a
passing target-group check, the case opened by an iiz specialist of the IV-Stelle (Eingliederung
Oberland) or of RAV Uster, then (for most) the move to the Geschäftsstelle's coordination (level 2) and
to a regional case team (level 3), clarifications, an integration plan with measures of several
institutions agreed with the client, case-team meetings with minutes and agreements, the closure with
its outcome and the follow-ups six and twelve months later. A few persons come back and get a new case
linked to the closed one.

The cases are planned first (dates, levels, outcome, client), from one ``random.Random(seed)``, and then
built in the order of their opening dates, so that the case numbers follow the calendar. The dates
never lie in the future where the services refuse that, and they keep their order: screening, check,
opening, level changes, plan agreed, closure.

Two dates cannot be passed to the services, which take today's date: the day a participant joined
(``case_participant_add``, ``meeting_schedule``) and the day a measure was done (``measure_set_status``).
They are set back to the day of the event afterwards, so that the history reads as it happened.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from iiz.cases import services
from iiz.cases.models import (
    INTEGRATED_OUTCOMES,
    Agreement,
    AgreementStatus,
    Case,
    CaseParticipant,
    CaseTeam,
    Dimension,
    FollowUpStatus,
    LifeSituation,
    LifeSituationGroup,
    Measure,
    MeasureStatus,
    Meeting,
    Outcome,
    ProblemTopic,
    ServiceOffering,
)
from iiz.clients.models import Client, DataCategory, IvPensionStatus, Registration
from iiz.clients.services import registration_create
from iiz.demo.people import demo_contacts_ensure
from iiz.demo.world import demo_specialists_ensure, refuse_outside_demo
from iiz.organisations.models import Contact, ContactKind, Institution, InstitutionKind, OrganisationalUnit, User

IV_UNIT = "IV-Stelle Zürich, Eingliederung Oberland"
RAV_UNIT = "RAV Uster"
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
HORIZON_DAYS = 730  # cases are opened within the last 24 months

OUTCOMES: tuple[tuple[str, int], ...] = (
    (Outcome.FIRST_LABOUR_MARKET, 30),
    (Outcome.JOB_KEPT, 14),
    (Outcome.TRAINING, 11),
    (Outcome.IV_MEASURE, 15),
    (Outcome.OTHER, 10),
    (Outcome.DROPPED_OUT, 13),
    (Outcome.MOVED_AWAY, 7),
)
CLOSURE_NOTES: dict[str, str] = {
    Outcome.FIRST_LABOUR_MARKET: "Festanstellung nach erfolgreichem Arbeitsversuch.",
    Outcome.JOB_KEPT: "Arbeitsplatz mit angepasstem Pensum und Job-Coaching erhalten.",
    Outcome.TRAINING: "Lehrstelle angetreten, Begleitung durch Case Management Berufsbildung.",
    Outcome.IV_MEASURE: "Weiterführung im Rahmen einer beruflichen Massnahme der IV.",
    Outcome.OTHER: "Stabilisierung erreicht, weitere Begleitung durch die Regelstrukturen.",
    Outcome.DROPPED_OUT: "Die Person hat die Zusammenarbeit beendet.",
    Outcome.MOVED_AWAY: "Wegzug in einen anderen Kanton.",
}
MEASURE_TEXTS: dict[str, tuple[str, ...]] = {
    InstitutionKind.LABOUR: ("Bewerbungscoaching und Stellenvermittlung", "Einsatz in einem Beschäftigungsprogramm"),
    InstitutionKind.DISABILITY: ("Arbeitsversuch mit Job-Coaching", "Belastbarkeitstraining", "Frühintervention"),
    InstitutionKind.SOCIAL_SERVICE: ("Schuldenberatung vermitteln", "Wohnsituation stabilisieren"),
    InstitutionKind.YOUTH: ("Standortbestimmung und Laufbahnberatung", "Lehrstellensuche begleiten"),
}
AGREEMENT_TEXTS = (
    "Arztbericht zur Arbeitsfähigkeit einholen",
    "Bewerbungsdossier mit der Person überarbeiten",
    "Kostengutsprache für das Programm klären",
    "Schnuppereinsatz beim Arbeitgeber organisieren",
    "Budget und Schuldensituation mit der Person besprechen",
    "Termin bei der Berufsberatung vereinbaren",
    "Rückmeldung des Arbeitgebers zum Arbeitsversuch einholen",
    "Anmeldung bei der IV prüfen",
    "Kinderbetreuung für den Programmeinsatz klären",
)
MEETING_PLACES = ("Stadthaus Uster, Sitzungszimmer 2", "RAV Uster, Sitzungszimmer 1", "Online (Teams)")


@dataclass
class _Cast:
    coordinator: User
    specialists: list[User]
    rav: User
    social: User
    biz: User
    institutions: dict[str, Institution]
    services: dict[str, list[ServiceOffering]]
    situations: list[LifeSituation]
    topics: list[ProblemTopic]
    teams: dict[int, CaseTeam]  # by district number
    default_team: CaseTeam
    contacts: dict[str, list[Contact]]  # external contacts by kind (doctor, employer, coach)

    def user_for(self, kind: str, specialist: User) -> User:
        if kind == InstitutionKind.DISABILITY:
            return specialist if specialist.institution_id == self.institutions[kind].pk else self.specialists[0]
        people: dict[str, User] = {InstitutionKind.LABOUR: self.rav, InstitutionKind.SOCIAL_SERVICE: self.social}
        return people.get(kind, self.biz)


@dataclass
class _Candidate:
    client: Client
    active_since: dt.date  # earliest still-active registration with the IV-Stelle or the RAV
    institution_ids: set[int]


@dataclass
class _Plan:
    level: int
    closed: bool
    opened_on: dt.date
    client: Client | None = None
    specialist: User | None = None
    previous: _Plan | None = None
    back_again: bool = False
    outcome: str = ""
    closed_on: dt.date | None = None
    dates: dict[str, dt.date] = field(default_factory=dict)


def offerings_by_kind() -> dict[str, list[ServiceOffering]]:
    """The active measures of the service catalogue, by the kind of institution that offers them."""
    offerings: dict[str, list[ServiceOffering]] = {}
    for offering in ServiceOffering.objects.filter(is_active=True).order_by("code"):
        offerings.setdefault(offering.institution_kind, []).append(offering)
    return offerings


def case_teams_by_district() -> dict[int, CaseTeam]:
    """The active case team of each district (Bezirk) number."""
    teams: dict[int, CaseTeam] = {}
    for team in CaseTeam.objects.filter(is_active=True).prefetch_related("districts").order_by("name"):
        for district in team.districts.all():
            teams[district.number] = team
    return teams


def _cast() -> _Cast:
    users = {u.username: u for u in User.objects.filter(
        username__in=["koordinatorin", "iv-spezialistin", "rav-berater", "sozialdienst-uster", "biz-beraterin"]
    ).select_related("unit__institution")}
    extra = demo_specialists_ensure()
    specialists = [users["iv-spezialistin"], extra["iiz-spezialist-iv-oberland"], extra["iiz-spezialistin-rav-uster"]]
    institutions: dict[str, Institution] = {}
    for username, kind in (
        ("rav-berater", InstitutionKind.LABOUR),
        ("iv-spezialistin", InstitutionKind.DISABILITY),
        ("sozialdienst-uster", InstitutionKind.SOCIAL_SERVICE),
        ("biz-beraterin", InstitutionKind.YOUTH),
    ):
        institution = users[username].institution
        if institution is None:
            raise RuntimeError(f"{username} belongs to no institution; run demo_world_build first.")
        institutions[kind] = institution
    offerings = offerings_by_kind()
    teams = case_teams_by_district()
    return _Cast(
        coordinator=users["koordinatorin"],
        specialists=specialists,
        rav=users["rav-berater"],
        social=users["sozialdienst-uster"],
        biz=users["biz-beraterin"],
        institutions=institutions,
        services=offerings,
        situations=list(LifeSituation.objects.filter(is_active=True).order_by("position", "code")),
        topics=list(ProblemTopic.objects.filter(is_active=True).order_by("position", "code")),
        teams=teams,
        default_team=CaseTeam.objects.get(name="iiz-Fallteam Oberland"),
        contacts=demo_contacts_ensure(),
    )


def _candidates(cast: _Cast) -> list[_Candidate]:
    """Clients in the canton, registered with the IV-Stelle's Oberland unit or RAV Uster, without a case yet."""
    units = list(OrganisationalUnit.objects.filter(name__in=[IV_UNIT, RAV_UNIT]).values_list("pk", flat=True))
    rows = (
        Registration.objects.filter(
            unit_id__in=units,
            deregistered_on__isnull=True,
            client__municipality__isnull=False,
        )
        .exclude(client__cases__isnull=False)
        .select_related("client__municipality__district")
        .order_by("client_id", "registered_on")
    )
    found: dict[int, _Candidate] = {}
    for registration in rows:
        candidate = found.get(registration.client_id)
        if candidate is None:
            found[registration.client_id] = _Candidate(
                registration.client, registration.registered_on, {registration.institution_id}
            )
        else:
            candidate.active_since = min(candidate.active_since, registration.registered_on)
            candidate.institution_ids.add(registration.institution_id)
    return [found[pk] for pk in sorted(found)]


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _age(client: Client, on: dt.date) -> int:
    born = client.date_of_birth
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _profiles(count: int) -> tuple[list[tuple[int, bool]], int]:
    """(level, closed) for each case other than the re-openings, and the number of re-openings."""
    reopen = max(1, count // 12) if count >= 6 else 0
    closed = round(count * 0.45)
    level3 = round(count * 0.45)
    level2 = round(count * 0.70)
    open_main = count - closed - reopen
    open_l3 = min(open_main, max(min(2, open_main), round(level3 * 0.55)))
    closed_l3 = min(closed, max(0, level3 - open_l3))
    share_open = open_main / max(1, open_main + closed)
    open_l2 = min(open_main - open_l3, round((level2 - level3) * share_open))
    closed_l2 = min(closed - closed_l3, max(0, level2 - level3 - open_l2))
    profiles = [(3, False)] * open_l3 + [(2, False)] * open_l2 + [(1, False)] * (open_main - open_l3 - open_l2)
    profiles += [(3, True)] * closed_l3 + [(2, True)] * closed_l2 + [(1, True)] * (closed - closed_l3 - closed_l2)
    return profiles, reopen


class _Builder:
    def __init__(self, *, rng: random.Random, cast: _Cast, today: dt.date) -> None:
        self.rng = rng
        self.cast = cast
        self.today = today
        self.overdue_wanted = {cast.rav.pk: 3, cast.coordinator.pk: 2}

    # -- planning ------------------------------------------------------------------------------------

    def _days(self, lo: int, hi: int) -> dt.timedelta:
        return dt.timedelta(days=self.rng.randint(lo, max(lo, hi)))

    def plan(self, count: int, candidates: list[_Candidate]) -> list[_Plan]:
        rng, today = self.rng, self.today
        profiles, reopen = _profiles(count)
        rng.shuffle(profiles)
        pool = list(candidates)
        rng.shuffle(pool)
        plans: list[_Plan] = []
        for level, closed in profiles:
            if closed:
                age = rng.randint(160, HORIZON_DAYS)
            else:
                age = {3: rng.randint(120, 560), 2: rng.randint(40, 480), 1: rng.randint(3, 150)}[level]
            plan = _Plan(level=level, closed=closed, opened_on=today - dt.timedelta(days=age))
            if self._assign(plan, pool):
                plans.append(plan)
        closed_plans = [p for p in plans if p.closed]
        for plan, outcome in zip(closed_plans, self._outcomes(len(closed_plans)), strict=True):
            plan.outcome = outcome
            self._schedule(plan)
        earlier = [p for p in closed_plans if p.closed_on and p.closed_on <= today - dt.timedelta(days=60)]
        rng.shuffle(earlier)
        for previous in earlier[:reopen]:
            if previous.closed_on is None:
                continue
            opened = previous.closed_on + self._days(30, (today - previous.closed_on).days - 10)
            plan = _Plan(
                level=rng.choice((1, 2)),
                closed=False,
                opened_on=opened,
                client=previous.client,
                specialist=previous.specialist,
                previous=previous,
            )
            previous.back_again = True
            plans.append(plan)
        while len(plans) < count:
            # Not enough closed cases long enough ago for a return: another new case instead.
            plan = _Plan(level=1, closed=False, opened_on=today - self._days(3, 200))
            if not self._assign(plan, pool):
                break
            plans.append(plan)
        for plan in plans:
            if not plan.dates:
                self._schedule(plan)
        plans.sort(key=lambda p: (p.opened_on, p.level))
        return plans

    def _outcomes(self, count: int) -> list[str]:
        """The outcomes of ``count`` closures, shared out by the weights (largest remainder), in random order."""
        total = sum(weight for _, weight in OUTCOMES)
        shares = [(outcome, count * weight / total) for outcome, weight in OUTCOMES]
        counts = {outcome: int(share) for outcome, share in shares}
        rest = sorted(shares, key=lambda pair: pair[1] - int(pair[1]), reverse=True)
        for outcome, _ in rest[: count - sum(counts.values())]:
            counts[outcome] += 1
        outcomes = [outcome for outcome, _ in OUTCOMES for _ in range(counts[outcome])]
        self.rng.shuffle(outcomes)
        return outcomes

    def _assign(self, plan: _Plan, pool: list[_Candidate]) -> bool:
        """Pick a client whose registration was active before the screening, and the specialist."""
        screening_by = plan.opened_on - dt.timedelta(days=36)
        for index, candidate in enumerate(pool):
            if candidate.active_since <= screening_by:
                pool.pop(index)
                plan.client = candidate.client
                iv = self.cast.institutions[InstitutionKind.DISABILITY].pk
                if iv in candidate.institution_ids or self.rng.random() < 0.3:
                    plan.specialist = self.cast.specialists[0 if self.rng.random() < 0.65 else 1]
                else:
                    plan.specialist = self.cast.specialists[2]
                return True
        return False

    def _schedule(self, plan: _Plan) -> None:
        """The dates of the case, in order, none after today."""
        today, d = self.today, plan.dates
        d["screened"] = plan.opened_on - self._days(3, 35)
        if plan.previous is not None and plan.previous.closed_on is not None:
            # A person who comes back is screened again after the earlier case was closed.
            d["screened"] = max(d["screened"], plan.previous.closed_on + dt.timedelta(days=1))
        d["checked"] = d["screened"] + self._days(0, (plan.opened_on - d["screened"]).days)
        d["opened"] = plan.opened_on
        t = plan.opened_on
        if plan.level >= 2:
            t = d["level2"] = min(today, t + self._days(7, 30))
        if plan.level == 3:
            t = d["level3"] = min(today, t + self._days(10, 30))
            t = d["meeting1"] = min(today - dt.timedelta(days=1), t + self._days(5, 20))
            d["agreed"] = t
        elif (today - t).days > 15:
            d["agreed"] = t + self._days(10, min(40, (today - t).days - 1))
        if plan.closed:
            agreed = d.get("agreed", t)
            room = (today - agreed).days - 1
            closed_on = agreed + self._days(min(30, room), min(300, room))
            plan.closed_on = d["closed"] = closed_on

    # -- building ------------------------------------------------------------------------------------

    def build(self, plan: _Plan) -> Case:
        if plan.client is None or plan.specialist is None:
            raise RuntimeError("A planned case has no client or specialist.")
        with transaction.atomic():
            case = self._build(plan, plan.client, plan.specialist)
        return case

    def _build(self, plan: _Plan, client: Client, specialist: User) -> Case:
        rng, cast, d = self.rng, self.cast, plan.dates
        coordinator = cast.coordinator
        joined: dict[int, dt.date] = {}
        own = specialist.institution
        if own is None:
            raise RuntimeError(f"{specialist} belongs to no institution.")
        if not Registration.objects.filter(client=client, institution=own).exists():
            registration_create(
                actor=specialist,
                client=client,
                unit=specialist.unit,
                registered_on=d["screened"] - self._days(7, 60),
            )
        age = _age(client, d["screened"])
        fitting = [s for s in cast.situations if s.fits_age(age)]
        if plan.outcome == Outcome.JOB_KEPT:
            # Only a person who still has a job can keep it.
            fitting = [s for s in fitting if s.group == LifeSituationGroup.JOB_AT_RISK] or fitting
        elif plan.outcome:
            fitting = [s for s in fitting if s.group != LifeSituationGroup.JOB_AT_RISK] or fitting
        screening = services.screening_record(
            actor=specialist,
            client=client,
            life_situations=rng.sample(fitting, k=min(len(fitting), rng.choice((1, 1, 2)))),
            screened_on=d["screened"],
            note=rng.choice(("", "Erkannt im Beratungsgespräch.", "Hinweis des Arbeitgebers.")),
        )
        check = services.target_group_check_record(
            actor=specialist,
            client=client,
            employable=True,
            topics=rng.sample(cast.topics, k=rng.randint(1, 3)),
            topics_block_integration=True,
            checked_on=d["checked"],
            screening=screening,
        )
        case = services.case_open(
            actor=specialist,
            client=client,
            target_group_check=check,
            opened_on=d["opened"],
            previous_case=None,
        )
        # Who works on the case: the institutions of the measures, and their people.
        kinds = [own.kind]
        others = [InstitutionKind.LABOUR, InstitutionKind.SOCIAL_SERVICE, InstitutionKind.DISABILITY]
        if age <= 30:
            others.append(InstitutionKind.YOUTH)
        others = [k for k in others if k != own.kind]
        rng.shuffle(others)
        if age <= 25:
            others.remove(InstitutionKind.YOUTH)
            others.insert(0, InstitutionKind.YOUTH)
        if not plan.closed and plan.level >= 2 and InstitutionKind.LABOUR in others and rng.random() < 0.8:
            others.remove(InstitutionKind.LABOUR)
            others.insert(0, InstitutionKind.LABOUR)
        kinds += others[: rng.randint(1, 2)]
        people = [cast.user_for(kind, specialist) for kind in kinds]
        if plan.level >= 2:
            case = services.case_change_level(
                actor=specialist,
                case=case,
                to_level=2,
                reason=rng.choice(
                    ("Mehrere Institutionen beteiligt", "Koordination über die Institutionen hinweg nötig")
                ),
                changed_on=d["level2"],
                coordinator=coordinator,
            )
            if rng.random() < 0.5:
                held = min(self.today, d["level2"] + self._days(3, 15), d.get("agreed", self.today))
                services.joint_interview_record(
                    actor=coordinator,
                    case=case,
                    held_on=held,
                    participants=[specialist, coordinator, *people[1:2]],
                    summary="Gemeinsames Kundengespräch: Situation, Ziele und nächste Schritte besprochen.",
                )
                for user in people[1:2]:
                    joined[user.pk] = min(joined.get(user.pk, held), held)
        if plan.level == 3:
            municipality = client.municipality
            district = municipality.district if municipality is not None and municipality.district_id else None
            team = cast.teams.get(district.number, cast.default_team) if district else cast.default_team
            case = services.case_change_level(
                actor=coordinator,
                case=case,
                to_level=3,
                reason="Gemeinsame Planung im Fallteam nötig",
                changed_on=d["level3"],
                case_team=team,
            )
        editor = coordinator if plan.level >= 2 else specialist
        lead_choices = [p for p in people if p.institution and p.institution.kind != InstitutionKind.YOUTH]
        case_lead = specialist if plan.level == 1 else rng.choice(lead_choices)
        meetings: list[Meeting] = []
        if plan.level == 3:
            meetings = self._meetings(plan, case, [specialist, case_lead, *people[1:]], joined)
        agreed = d.get("agreed")
        plan_obj = services.plan_draft_create(
            actor=editor,
            case=case,
            goals=rng.choice(
                (
                    "Stelle im ersten Arbeitsmarkt innerhalb eines Jahres",
                    "Arbeitsplatz erhalten, Pensum schrittweise erhöhen",
                    "Berufliche Grundbildung beginnen",
                    "Gesundheit stabilisieren und Arbeitsfähigkeit klären",
                )
            ),
            case_lead=case_lead,
        )
        measures: list[Measure] = []
        start_base = agreed or self.today
        for kind, person in zip(kinds, people, strict=True):
            offering = rng.choice(self.cast.services[kind]) if self.cast.services.get(kind) else None
            start = start_base + self._days(0, 21)
            measures.append(
                services.measure_add(
                    actor=editor,
                    plan=plan_obj,
                    description=rng.choice(MEASURE_TEXTS[kind]),
                    responsible_institution=self.cast.institutions[kind],
                    responsible_user=person if rng.random() < 0.85 else None,
                    service=offering,
                    start_on=start,
                    due_on=start + self._days(60, 200),
                )
            )
        if agreed is not None:
            meeting = meetings[0] if meetings else None
            client_agreed = agreed if meeting else min(self.today, agreed + self._days(0, 7))
            services.plan_agree(
                actor=editor, plan=plan_obj, agreed_on=agreed, client_agreed_on=client_agreed, meeting=meeting
            )
            for measure in measures:
                if measure.responsible_user_id:
                    joined[measure.responsible_user_id] = min(joined.get(measure.responsible_user_id, agreed), agreed)
            joined[case_lead.pk] = min(joined.get(case_lead.pk, agreed), agreed)
            case.refresh_from_db()
        if plan.level >= 2 and rng.random() < 0.75:
            self._clarify(case, specialist, people)
        for index, meeting in enumerate(meetings):
            self._agreements(plan, case, meeting, [specialist, case_lead, coordinator, *people[1:]], index)
        if agreed is not None:
            self._measure_progress(plan, case, measures, specialist)
        if not plan.closed and plan.level >= 2 and rng.random() < 0.35:
            services.information_request_create(
                actor=coordinator,
                case=case,
                to_institution=self.cast.institutions[InstitutionKind.SOCIAL_SERVICE],
                question="Bezieht die Person aktuell Sozialhilfe, und seit wann?",
                category=DataCategory.FINANCIAL,
                due_on=self.today + self._days(5, 20),
            )
        if plan.closed:
            case = self._close(plan, case, specialist if plan.level == 1 else coordinator)
        for participant in CaseParticipant.objects.filter(case=case):
            day = joined.get(participant.user_id)
            if day is not None and day < participant.joined_on:
                participant.joined_on = max(day, case.opened_on)
                participant.save(update_fields=["joined_on"])
        return case

    def _meetings(self, plan: _Plan, case: Case, users: list[User], joined: dict[int, dt.date]) -> list[Meeting]:
        rng, today, d = self.rng, self.today, plan.dates
        end = plan.closed_on or today
        days = [d["meeting1"]]
        while True:
            following = days[-1] + self._days(42, 70)
            if following >= end:
                break
            days.append(following)
        if not plan.closed and rng.random() < 0.6:
            days.append(today + self._days(7, 35))
        invited = list(dict.fromkeys(users))
        if not plan.closed and self.cast.rav not in invited and rng.random() < 0.7:
            invited.append(self.cast.rav)
        # The treating doctor or the employer joins some case teams, as the iiz concept foresees.
        contacts = self.cast.contacts
        external = [rng.choice(contacts[kind]) for kind, chance in
                    ((ContactKind.DOCTOR, 0.45), (ContactKind.EMPLOYER, 0.35), (ContactKind.COACH, 0.1))
                    if contacts.get(kind) and rng.random() < chance]
        meetings: list[Meeting] = []
        tz = timezone.get_current_timezone()
        for day in days:
            starts_at = dt.datetime.combine(day, dt.time(rng.choice((9, 10, 14, 15)), 0), tzinfo=tz)
            meeting = services.meeting_schedule(
                actor=self.cast.coordinator,
                case=case,
                starts_at=starts_at,
                ends_at=starts_at + dt.timedelta(minutes=rng.choice((60, 90, 120))),
                place=rng.choice(MEETING_PLACES),
                agenda="1. Situation\n2. Integrationsplan\n3. Vereinbarungen",
                users=invited,
                contacts=external,
                with_client=rng.random() < 0.6,
            )
            for user in invited:
                joined[user.pk] = min(joined.get(user.pk, day), day)
            if day < today:
                services.meeting_record_minutes(
                    actor=self.cast.coordinator,
                    meeting=meeting,
                    minutes=rng.choice(
                        (
                            "Situation besprochen; Plan und Zuständigkeiten vereinbart.",
                            "Fortschritte der Massnahmen besprochen; nächste Schritte festgelegt.",
                            "Gesundheitliche Situation und Arbeitsversuch besprochen.",
                        )
                    ),
                )
            meetings.append(meeting)
        return meetings

    def _agreements(self, plan: _Plan, case: Case, meeting: Meeting, owners: list[User], index: int) -> None:
        rng, today = self.rng, self.today
        day = timezone.localdate(meeting.starts_at)
        if day >= today:
            return
        end = plan.closed_on or today
        candidates = list(dict.fromkeys(owners))
        if not plan.closed and day <= today - dt.timedelta(days=10):
            # Make sure the RAV adviser and the coordinator find overdue tasks on their start page.
            for user in (self.cast.rav, self.cast.coordinator):
                if self.overdue_wanted.get(user.pk, 0) > 0:
                    agreement = services.agreement_add(
                        actor=self.cast.coordinator,
                        case=case,
                        text=rng.choice(AGREEMENT_TEXTS),
                        owner=user,
                        due_on=day + self._days(7, (today - day).days - 2),
                        meeting=meeting,
                    )
                    self.overdue_wanted[user.pk] -= 1
        for _ in range(rng.randint(1, 3)):
            owner = rng.choice(candidates)
            due = day + self._days(14, 42)
            agreement = services.agreement_add(
                actor=self.cast.coordinator,
                case=case,
                text=rng.choice(AGREEMENT_TEXTS),
                owner=owner,
                due_on=due,
                meeting=meeting,
            )
            self._agreement_progress(agreement, end, closed=plan.closed)

    def _agreement_progress(self, agreement: Agreement, end: dt.date, *, closed: bool) -> None:
        rng, today = self.rng, self.today
        created, due = agreement.created_on, agreement.due_on
        draw = rng.random()
        done_on: dt.date | None = None
        if due < end:
            if draw < 0.6:
                done_on = created + self._days(0, (due - created).days)
            elif draw < (0.9 if closed else 0.82):
                done_on = min(end, due + self._days(1, 30))
        elif draw < 0.3 and created < end:
            done_on = created + self._days(0, (end - created).days)
        if done_on is not None:
            services.agreement_set_status(
                actor=self.cast.coordinator,
                agreement=agreement,
                status=AgreementStatus.DONE,
                done_on=min(done_on, today),
            )

    def _clarify(self, case: Case, specialist: User, people: list[User]) -> None:
        rng = self.rng
        institution = specialist.institution
        services.clarification_save(
            actor=specialist,
            case=case,
            dimension=Dimension.OCCUPATIONAL,
            situation=rng.choice(
                (
                    "Abgeschlossene Lehre, zuletzt in der Logistik tätig.",
                    "Keine Berufsausbildung, langjährige Erfahrung in der Reinigung.",
                    "Kaufmännische Ausbildung, seit zwei Jahren ohne Stelle.",
                )
            ),
            resources="Motiviert, zuverlässig, gute Deutschkenntnisse.",
            obstacles="Lücken im Lebenslauf, eingeschränkte Belastbarkeit.",
        )
        if institution is not None and institution.kind == InstitutionKind.DISABILITY and rng.random() < 0.7:
            services.clarification_save(
                actor=specialist,
                case=case,
                dimension=Dimension.MEDICAL,
                situation="Ärztlich attestierte Einschränkung, Behandlung läuft.",
                work_capacity_percent=rng.choice((30, 40, 50, 60, 70, 80)),
            )
        if self.cast.social in people and CaseParticipant.objects.filter(case=case, user=self.cast.social).exists():
            services.clarification_save(
                actor=self.cast.social,
                case=case,
                dimension=Dimension.SOCIAL,
                situation=rng.choice(
                    ("Alleinerziehend, zwei Kinder im Schulalter.", "Lebt allein, kleines soziales Netz.")
                ),
                obstacles=rng.choice(("Schulden", "Wohnsituation unsicher", "")),
            )

    def _measure_progress(self, plan: _Plan, case: Case, measures: list[Measure], specialist: User) -> None:
        rng, today = self.rng, self.today
        end = plan.closed_on or today
        for measure in measures:
            if measure.start_on > end:
                continue
            draw = rng.random()
            if measure.due_on < end:
                status = MeasureStatus.DONE if draw < 0.65 else MeasureStatus.RUNNING
                if draw >= 0.9:
                    status = MeasureStatus.CANCELLED
            else:
                status = MeasureStatus.RUNNING
            if plan.level >= 2:
                actor = self.cast.coordinator
            elif measure.responsible_institution_id == specialist.institution_id:
                actor = specialist
            elif measure.responsible_user is not None:
                actor = measure.responsible_user
            else:
                continue
            services.measure_set_status(actor=actor, measure=measure, status=status)
            if status == MeasureStatus.DONE:
                # The service dates the measure today; it was done by its due date (or at the closure).
                done_on = min(end, measure.due_on - self._days(0, 20))
                Measure.objects.filter(pk=measure.pk).update(done_on=max(done_on, measure.start_on))

    def _close(self, plan: _Plan, case: Case, actor: User) -> Case:
        rng, today = self.rng, self.today
        if plan.closed_on is None:
            return case
        outcome = plan.outcome or _weighted(rng, OUTCOMES)
        agreed = plan.dates.get("agreed", case.opened_on)
        outcome_on = max(agreed, case.opened_on, plan.closed_on - self._days(0, 30))
        benefits_ended_on = None
        if outcome in INTEGRATED_OUTCOMES:
            benefits_ended_on = min(today, outcome_on + self._days(0, 60))
        case.refresh_from_db()
        case = services.case_close(
            actor=actor,
            case=case,
            outcome=outcome,
            closed_on=plan.closed_on,
            outcome_on=outcome_on,
            benefits_ended_on=benefits_ended_on,
            note=CLOSURE_NOTES[outcome],
        )
        integrated = outcome in INTEGRATED_OUTCOMES
        institutions = self.cast.institutions
        back_with = [institutions[InstitutionKind.LABOUR], institutions[InstitutionKind.SOCIAL_SERVICE]]
        for follow_up in case.follow_ups.select_related("owner").order_by("months_after"):
            if follow_up.owner is None or follow_up.due_on > today - dt.timedelta(days=3) or rng.random() < 0.15:
                continue
            status: str
            if plan.back_again:
                status = FollowUpStatus.BACK_WITH_PARTNER
            elif integrated:
                status = _weighted(
                    rng,
                    (
                        (FollowUpStatus.STILL_INTEGRATED, 78),
                        (FollowUpStatus.BACK_WITH_PARTNER, 10),
                        (FollowUpStatus.NOT_INTEGRATED, 4),
                        (FollowUpStatus.UNKNOWN, 8),
                    ),
                )
            else:
                status = _weighted(
                    rng,
                    (
                        (FollowUpStatus.STILL_INTEGRATED, 20),
                        (FollowUpStatus.BACK_WITH_PARTNER, 35),
                        (FollowUpStatus.NOT_INTEGRATED, 25),
                        (FollowUpStatus.UNKNOWN, 20),
                    ),
                )
            services.follow_up_record(
                actor=follow_up.owner,
                follow_up=follow_up,
                status=status,
                recorded_on=follow_up.due_on + self._days(0, min(30, (today - follow_up.due_on).days)),
                back_with=rng.choice(back_with) if status == FollowUpStatus.BACK_WITH_PARTNER else None,
                note="Telefonische Nachbefragung.",
            )
        return case


def demo_benefits_record(*, client_ids: list[int], seed: int) -> int:
    """What the persons with an IIZ case draw from their institutions, for the cost-benefit model.

    The RAV records the remaining ALV entitlement, the social service the monthly social assistance, the
    IV-Stelle whether a pension is in question (about half of the IV's persons are early-intervention cases
    without one, like the Uster case of the issue). The values keep the model's bounds (``Registration.clean``)
    by construction; the demo writes them in one update per registration, as the bulk generators write rows.
    A separate random stream leaves the rest of the demo as it was for a seed. Returns the registrations set.
    """
    rng = random.Random(seed * 31 + 16)
    changed = 0
    registrations = (
        Registration.objects.filter(client_id__in=client_ids, deregistered_on__isnull=True)
        .select_related("institution")
        .order_by("pk")
    )
    for registration in registrations:
        kind = registration.institution.kind
        values: dict[str, object] = {}
        if kind == InstitutionKind.LABOUR and rng.random() < 0.85:
            values["alv_remaining_days"] = rng.choice((60, 90, 120, 180, 240, 300, 400, 520))
        elif kind == InstitutionKind.SOCIAL_SERVICE and rng.random() < 0.85:
            values["sa_monthly_amount"] = Decimal(rng.randrange(900, 3300, 50))
        elif kind == InstitutionKind.DISABILITY:
            values["iv_pension_status"] = rng.choices(
                (IvPensionStatus.NONE, IvPensionStatus.PENDING, IvPensionStatus.AT_STAKE), weights=(50, 30, 20)
            )[0]
        if values:
            Registration.objects.filter(pk=registration.pk).update(**values)
            changed += 1
    return changed


def demo_cases_generate(*, count: int, seed: int, today: dt.date | None = None) -> int:
    """Create up to ``count`` synthetic IIZ cases through the case services; returns how many were created."""
    refuse_outside_demo()
    if count <= 0:
        return 0
    rng = random.Random(seed)
    cast = _cast()
    builder = _Builder(rng=rng, cast=cast, today=today or timezone.localdate())
    plans = builder.plan(count, _candidates(cast))
    created = 0
    # The meeting invitations go out by e-mail (a task run inline); keep them and the task log out of the console.
    trace = logging.getLogger("celery.app.trace")
    level = trace.level
    trace.setLevel(logging.WARNING)
    try:
        with override_settings(EMAIL_BACKEND=LOCMEM):
            for plan in plans:
                builder.build(plan)
                created += 1
    finally:
        trace.setLevel(level)
    demo_benefits_record(client_ids=[plan.client.pk for plan in plans if plan.client is not None], seed=seed)
    return created
