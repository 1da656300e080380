"""A hand-built history of IIZ cases for the steering tests, with explicit dates in 2024–2026.

The data is written through the factories and the ORM, not through the case services: the KPIs are about
past periods, and the services date what they write "now" (creation stamps, audit rows, consent records) and
refuse moves dated before the previous one. Building a year of history through them would need a clock
machine. What is written here is what the services would have produced for these dates: a ``LevelChange``
from nothing to level 1 at the opening and one per move, the case's level equal to its last move, a
participant row for everyone who worked on the case, follow-ups only after closure.

The edge cases the KPIs must handle are all here: open cases, a re-opened case (``previous_case``), closures
without follow-up, a closure by moving away, a dropped agreement, requests answered late and not at all, a
consent recorded shortly after midnight in Zürich (the day before in UTC), a person who comes back with a new
registration, a case with two life situations and one with none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from iiz.cases.models import (
    Agreement,
    AgreementStatus,
    Case,
    CaseParticipant,
    CaseStatus,
    FollowUp,
    FollowUpStatus,
    InformationRequest,
    IntegrationPlan,
    LevelChange,
    LifeSituation,
    Measure,
    MeasureStatus,
    Outcome,
    PlanStatus,
    Screening,
)
from iiz.clients.models import Client, Consent
from iiz.organisations.models import Institution, InstitutionKind, Municipality, Role, User
from tests.factories import ClientFactory, ConsentFactory, RegistrationFactory, UserFactory, partner

ZURICH = ZoneInfo("Europe/Zurich")
D = dt.date
BORN = dt.date(1980, 5, 1)


def municipality(bfs: int) -> Municipality:
    return Municipality.objects.get(bfs_number=bfs, valid_until__isnull=True)


USTER, WINTERTHUR, ZUERICH, DIETIKON = 198, 230, 261, 243


@dataclass
class SteeringWorld:
    cases: dict[str, Case] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    coordinator: User | None = None
    second_coordinator: User | None = None


class Builder:
    """Writes cases with the rows the services would have written alongside."""

    def __init__(self, *, specialist: User, coordinator: User) -> None:
        self.specialist = specialist
        self.coordinator = coordinator
        self.counter = 0

    def client(self, *, bfs: int | None, institution: Institution, born: dt.date = BORN) -> Client:
        client = ClientFactory(
            municipality=municipality(bfs) if bfs else None,
            recorded_by_institution=institution,
            date_of_birth=born,
            registered=False,
        )
        RegistrationFactory(client=client, institution=institution, registered_on=D(2020, 1, 6))
        return client

    def case(
        self,
        *,
        client: Client,
        opened: dt.date,
        institution: Institution,
        detected: dt.date | None = None,
        situations: tuple[str, ...] = (),
        moves: tuple[tuple[dt.date, int], ...] = (),
        closed: dt.date | None = None,
        outcome: str = "",
        benefits_ended: dt.date | None = None,
        previous: Case | None = None,
        coordinators: tuple[User, ...] = (),
    ) -> Case:
        self.counter += 1
        screening = None
        if situations or detected:
            screening = Screening.objects.create(
                client=client,
                institution=institution,
                screened_by=self.specialist,
                screened_on=detected or opened,
            )
            screening.life_situations.set(LifeSituation.objects.filter(code__in=situations))
        level = moves[-1][1] if moves else 1
        case = Case.objects.create(
            client=client,
            reference=f"IIZ-S-{self.counter:05d}",
            status=CaseStatus.CLOSED if closed else CaseStatus.OPEN,
            level=level,
            detected_on=detected,
            opened_on=opened,
            closed_on=closed,
            opened_by=self.specialist,
            serving_institution=institution,
            screening=screening,
            previous_case=previous,
            outcome=outcome,
            outcome_on=closed if outcome else None,
            benefits_ended_on=benefits_ended,
            closed_by=self.specialist if closed else None,
        )
        LevelChange.objects.create(
            case=case, from_level=None, to_level=1, changed_by=self.specialist, changed_on=opened, reason="eröffnet"
        )
        previous_level = 1
        for changed_on, to_level in moves:
            LevelChange.objects.create(
                case=case,
                from_level=previous_level,
                to_level=to_level,
                changed_by=self.coordinator,
                changed_on=changed_on,
                reason="Stufenwechsel",
            )
            previous_level = to_level
        CaseParticipant.objects.create(
            case=case, user=self.specialist, institution=self.specialist.institution, joined_on=opened
        )
        for user in coordinators:
            CaseParticipant.objects.create(case=case, user=user, institution=user.institution, joined_on=opened)
        return case

    def plan(self, case: Case, *, version: int, status: str, agreed: dt.date | None) -> IntegrationPlan:
        return IntegrationPlan.objects.create(
            case=case,
            version=version,
            status=status,
            goals="Stelle finden",
            agreed_on=agreed,
            created_by=self.coordinator,
        )

    def agreement(self, case: Case, *, due: dt.date, status: str = AgreementStatus.OPEN, done: dt.date | None = None):
        return Agreement.objects.create(
            case=case,
            text="Unterlagen einreichen",
            owner=self.coordinator,
            due_on=due,
            status=status,
            done_on=done,
            created_by=self.coordinator,
            created_on=due - dt.timedelta(days=20),
        )

    def request(
        self, case: Case, *, asked: dt.date, due: dt.date, answered: dt.date | None, to: Institution
    ) -> InformationRequest:
        return InformationRequest.objects.create(
            case=case,
            to_institution=to,
            question="Wie ist die Arbeitsfähigkeit?",
            asked_by=self.coordinator,
            asked_on=asked,
            due_on=due,
            answered_on=answered,
            answered_by=self.coordinator if answered else None,
            answer="Antwort" if answered else "",
        )

    def follow_up(self, case: Case, *, months: int, recorded: dt.date | None, status: str = "") -> FollowUp:
        assert case.closed_on is not None
        return FollowUp.objects.create(
            case=case,
            months_after=months,
            due_on=case.closed_on + dt.timedelta(days=30 * months),
            recorded_on=recorded,
            recorded_by=self.coordinator if recorded else None,
            status=status,
        )

    def consent(self, client: Client, *, recorded: dt.datetime, revoked: dt.datetime | None = None) -> Consent:
        consent = ConsentFactory(
            client=client, recorded_by=self.specialist, institutions=[client.recorded_by_institution]
        )
        # ``recorded_at`` is stamped on insert; history needs the date it had.
        Consent.objects.filter(pk=consent.pk).update(recorded_at=recorded, revoked_at=revoked)
        return consent


def steering_world_build(*, specialist: User, coordinator: User) -> SteeringWorld:
    """Eleven cases of ten persons, most of them in 2025 (see the module docstring for what they cover)."""
    b = Builder(specialist=specialist, coordinator=coordinator)
    labour = partner(InstitutionKind.LABOUR)
    disability = partner(InstitutionKind.DISABILITY)
    youth = partner(InstitutionKind.YOUTH)
    social_winterthur = Institution.objects.get(name="Sozialdienst Winterthur")
    second = UserFactory(unit=coordinator.unit, roles=[Role.COORDINATOR])
    w = SteeringWorld(coordinator=coordinator, second_coordinator=second)

    # An integration into the first labour market after escalation to level 3, confirmed at 6 and 12 months.
    anna = w.clients["anna"] = b.client(bfs=USTER, institution=labour, born=D(2004, 3, 1))
    c1 = w.cases["c1"] = b.case(
        client=anna,
        opened=D(2025, 1, 10),
        detected=D(2024, 12, 1),
        institution=labour,
        situations=("youth-no-qualification",),
        moves=((D(2025, 2, 1), 2), (D(2025, 3, 15), 3)),
        closed=D(2025, 9, 30),
        outcome=Outcome.FIRST_LABOUR_MARKET,
        benefits_ended=D(2025, 9, 15),
        coordinators=(coordinator,),
    )
    b.plan(c1, version=1, status=PlanStatus.AGREED, agreed=D(2025, 4, 1))
    b.follow_up(c1, months=6, recorded=D(2026, 4, 2), status=FollowUpStatus.STILL_INTEGRATED)
    b.follow_up(c1, months=12, recorded=D(2026, 10, 1), status=FollowUpStatus.STILL_INTEGRATED)
    # Recorded at 00:30 in Zürich on 1 April (the second quarter), which is still 31 March in UTC; revoked in
    # the same quarter.
    b.consent(
        anna,
        recorded=dt.datetime(2025, 4, 1, 0, 30, tzinfo=ZURICH),
        revoked=dt.datetime(2025, 6, 1, 10, 0, tzinfo=ZURICH),
    )

    # A job kept by an older employee with two job-at-risk situations; back with a partner at 6 months.
    bruno = w.clients["bruno"] = b.client(bfs=USTER, institution=disability, born=D(1966, 8, 8))
    c2 = w.cases["c2"] = b.case(
        client=bruno,
        opened=D(2025, 2, 5),
        detected=D(2025, 1, 20),
        institution=disability,
        situations=("employee-over-55-limited", "frequent-certified-absences"),
        moves=((D(2025, 3, 1), 2),),
        closed=D(2025, 11, 20),
        outcome=Outcome.JOB_KEPT,
        benefits_ended=D(2025, 11, 1),
        coordinators=(coordinator,),
    )
    b.follow_up(c2, months=6, recorded=D(2026, 5, 25), status=FollowUpStatus.BACK_WITH_PARTNER)

    # A case opened before 2025 and still open at level 1.
    carla = w.clients["carla"] = b.client(bfs=WINTERTHUR, institution=social_winterthur)
    w.cases["c3"] = b.case(
        client=carla,
        opened=D(2024, 6, 3),
        detected=D(2024, 5, 1),
        institution=social_winterthur,
        situations=("sa-recipient-feels-unable",),
    )
    b.consent(carla, recorded=dt.datetime(2024, 6, 3, 9, 0, tzinfo=ZURICH))

    # Closed because the person moved away: counts neither for nor against integration.
    dario = w.clients["dario"] = b.client(bfs=WINTERTHUR, institution=labour, born=D(2003, 1, 1))
    w.cases["c4"] = b.case(
        client=dario,
        opened=D(2025, 3, 3),
        detected=D(2025, 3, 1),
        institution=labour,
        situations=("youth-no-qualification",),
        closed=D(2025, 6, 30),
        outcome=Outcome.MOVED_AWAY,
    )

    # A dropout without screening, without follow-up, with a dropped agreement; the person comes back in 2026.
    emil = w.clients["emil"] = b.client(bfs=ZUERICH, institution=labour)
    c5 = w.cases["c5"] = b.case(
        client=emil, opened=D(2025, 4, 14), institution=labour, closed=D(2025, 12, 10), outcome=Outcome.DROPPED_OUT
    )
    b.agreement(c5, due=D(2025, 6, 1), status=AgreementStatus.DROPPED)
    b.agreement(c5, due=D(2025, 5, 15), status=AgreementStatus.DONE, done=D(2025, 5, 10))
    w.cases["c7"] = b.case(
        client=emil,
        opened=D(2026, 3, 2),
        detected=D(2026, 2, 20),
        institution=labour,
        situations=("dismissed-risk-illness",),
        moves=((D(2026, 4, 1), 2),),
        previous=c5,
        coordinators=(coordinator,),
    )

    # Escalated to level 3 with a superseded and a current plan, closed into training with one follow-up;
    # the second coordinator left the case.
    fatima = w.clients["fatima"] = b.client(bfs=DIETIKON, institution=youth, born=D(2006, 2, 2))
    c8 = w.cases["c8"] = b.case(
        client=fatima,
        opened=D(2025, 7, 1),
        detected=D(2025, 6, 10),
        institution=youth,
        situations=("youth-no-qualification", "reintegration-over-two-years"),
        moves=((D(2025, 7, 20), 2), (D(2025, 8, 15), 3)),
        closed=D(2025, 12, 20),
        outcome=Outcome.TRAINING,
        benefits_ended=D(2025, 12, 31),
        coordinators=(coordinator,),
    )
    CaseParticipant.objects.create(
        case=c8, user=second, institution=second.institution, joined_on=D(2025, 7, 1), left_on=D(2025, 9, 1)
    )
    b.plan(c8, version=1, status=PlanStatus.SUPERSEDED, agreed=D(2025, 9, 1))
    b.plan(c8, version=2, status=PlanStatus.AGREED, agreed=D(2025, 10, 1))
    b.follow_up(c8, months=6, recorded=D(2026, 6, 22), status=FollowUpStatus.STILL_INTEGRATED)
    b.follow_up(c8, months=12, recorded=None)

    # Open at level 2 since October 2025 (stuck), with agreements and requests on time, late and open.
    gina = w.clients["gina"] = b.client(bfs=USTER, institution=labour)
    c9 = w.cases["c9"] = b.case(
        client=gina,
        opened=D(2025, 10, 1),
        detected=D(2025, 9, 25),
        institution=labour,
        situations=("sa-applicant-sick-leave",),
        moves=((D(2025, 10, 15), 2),),
        coordinators=(coordinator,),
    )
    b.agreement(c9, due=D(2025, 11, 1), status=AgreementStatus.DONE, done=D(2025, 11, 5))
    b.agreement(c9, due=D(2025, 12, 1), status=AgreementStatus.DONE, done=D(2025, 11, 30))
    b.agreement(c9, due=D(2025, 12, 15))
    b.agreement(c9, due=D(2025, 11, 20), status=AgreementStatus.DROPPED)
    b.request(c9, asked=D(2025, 10, 5), due=D(2025, 10, 20), answered=D(2025, 10, 25), to=disability)
    b.request(c9, asked=D(2025, 11, 1), due=D(2025, 11, 15), answered=D(2025, 11, 10), to=disability)
    b.request(c9, asked=D(2025, 12, 1), due=D(2025, 12, 20), answered=None, to=youth)
    plan = b.plan(c9, version=1, status=PlanStatus.AGREED, agreed=D(2025, 11, 3))
    Measure.objects.create(
        plan=plan,
        description="Bewerbungscoaching",
        responsible_institution=labour,
        responsible_user=coordinator,
        start_on=D(2025, 11, 3),
        due_on=D(2026, 1, 31),
        status=MeasureStatus.RUNNING,
    )
    b.consent(gina, recorded=dt.datetime(2025, 10, 2, 14, 0, tzinfo=ZURICH))

    # Integrated quickly; no follow-up recorded; the person registers again at the RAV within 12 months.
    hans = w.clients["hans"] = b.client(bfs=ZUERICH, institution=disability)
    c10 = w.cases["c10"] = b.case(
        client=hans,
        opened=D(2025, 5, 5),
        detected=D(2025, 5, 1),
        institution=disability,
        situations=("frequent-certified-absences",),
        closed=D(2025, 8, 8),
        outcome=Outcome.FIRST_LABOUR_MARKET,
    )
    b.follow_up(c10, months=6, recorded=None)
    RegistrationFactory(client=hans, institution=labour, registered_on=D(2026, 1, 15))

    # Another solution after a short case in the third quarter, living outside the canton.
    ines = w.clients["ines"] = b.client(bfs=None, institution=disability)
    w.cases["c11"] = b.case(
        client=ines,
        opened=D(2025, 8, 1),
        detected=D(2025, 7, 28),
        institution=disability,
        situations=("employee-over-55-limited",),
        closed=D(2025, 9, 1),
        outcome=Outcome.IV_MEASURE,
        benefits_ended=D(2025, 8, 25),
    )

    # A 2026 case with an agreement due far in the future (undecided) and one overdue in an open case.
    jonas = w.clients["jonas"] = b.client(bfs=WINTERTHUR, institution=youth, born=D(2007, 7, 7))
    c12 = w.cases["c12"] = b.case(
        client=jonas,
        opened=D(2026, 1, 12),
        detected=D(2026, 1, 5),
        institution=youth,
        situations=("youth-no-qualification",),
        coordinators=(second,),
    )
    b.agreement(c12, due=D(2099, 1, 1))
    b.agreement(c12, due=D(2026, 2, 1))
    b.request(c12, asked=D(2026, 1, 20), due=D(2099, 1, 1), answered=None, to=labour)
    return w


def bulk_cases_build(*, count: int, specialist: User, coordinator: User) -> list[Case]:
    """``count`` similar cases with every related row, for the query-count tests."""
    b = Builder(specialist=specialist, coordinator=coordinator)
    b.counter = 50_000 + Case.objects.count()
    labour = partner(InstitutionKind.LABOUR)
    cases = []
    for index in range(count):
        client = b.client(bfs=(USTER, WINTERTHUR, ZUERICH)[index % 3], institution=labour)
        closed = D(2025, 9, 1) if index % 2 else None
        case = b.case(
            client=client,
            opened=D(2025, 1, 10) + dt.timedelta(days=index),
            detected=D(2025, 1, 2),
            institution=labour,
            situations=("youth-no-qualification", "employee-over-55-limited")[: 1 + index % 2],
            moves=((D(2025, 3, 1), 2),),
            closed=closed,
            outcome=Outcome.FIRST_LABOUR_MARKET if closed else "",
            benefits_ended=closed,
            coordinators=(coordinator,),
        )
        b.plan(case, version=1, status=PlanStatus.AGREED, agreed=D(2025, 4, 1))
        b.agreement(case, due=D(2025, 5, 1), status=AgreementStatus.DONE, done=D(2025, 4, 20))
        b.agreement(case, due=D(2025, 6, 1))
        b.request(case, asked=D(2025, 4, 1), due=D(2025, 4, 15), answered=None, to=labour)
        if closed:
            b.follow_up(case, months=6, recorded=D(2026, 3, 1), status=FollowUpStatus.STILL_INTEGRATED)
        b.consent(client, recorded=dt.datetime(2025, 2, 1, 9, 0, tzinfo=ZURICH))
        cases.append(case)
    return cases
