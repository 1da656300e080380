"""Case data for the tests of the cases app, built through the real services.

The shared world (``tests/conftest.py``) provides the institutions and the demo users; this module adds
what a case test needs on top of it: a person living in the canton and registered with the specialist's
institution, a passed target-group check, and a case brought to a level by the moves the level model
allows. Everything goes through ``iiz.clients.services`` and ``iiz.cases.services`` so that the data is
data the platform itself could have produced.

Dates are counted back from today: the services refuse dates in the future and moves dated before the
previous one, so a case opened ``OPENED_DAYS_AGO`` days ago leaves room for every later step.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable

from django.utils import timezone

from iiz.cases import services
from iiz.cases.models import (
    Agreement,
    Case,
    CaseTeam,
    IntegrationPlan,
    Measure,
    Meeting,
    ProblemTopic,
    TargetGroupCheck,
)
from iiz.clients.models import Client, Consent, Sex
from iiz.clients.services import client_create, consent_record
from iiz.organisations.models import (
    Contact,
    ContactKind,
    Institution,
    Municipality,
    OrganisationalUnit,
    Role,
    User,
)
from tests.factories import UserFactory, ahv_from_serial

OPENED_DAYS_AGO = 60
# Persons are registered long before any date a test uses.
REGISTERED_SINCE = dt.date(2015, 1, 5)
# AHV serials of the persons created here; far from the range of ``ClientFactory``.
_serials = itertools.count(400_000_000)


def days_ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def uster() -> Municipality:
    """The current entry of the municipality of Uster (BFS 198), in the canton of Zürich."""
    return Municipality.objects.get(bfs_number=198, valid_until__isnull=True)


def oberland_team() -> CaseTeam:
    return CaseTeam.objects.get(name="iiz-Fallteam Oberland")


def topics(*codes: str) -> list[ProblemTopic]:
    return list(ProblemTopic.objects.filter(code__in=codes or ("health", "debt")).order_by("code"))


def person_create(
    *,
    actor: User,
    last_name: str = "Vonlanthen",
    first_name: str = "Laura",
    municipality: Municipality | None = None,
    outside_canton: bool = False,
    registered_on: dt.date | None = None,
) -> Client:
    """A person recorded and registered by the actor's institution (living in Uster unless told).

    ``outside_canton=True`` records no municipality: the person lives outside the canton.
    """
    return client_create(
        actor=actor,
        ahv_number=ahv_from_serial(next(_serials)),
        first_name=first_name,
        last_name=last_name,
        date_of_birth=dt.date(1979, 4, 2),
        sex=Sex.FEMALE,
        municipality=None if outside_canton else (municipality or uster()),
        registered_on=registered_on or REGISTERED_SINCE,
    )


def check_passed(*, actor: User, client: Client, checked_on: dt.date | None = None) -> TargetGroupCheck:
    """A target-group check that passes: employable, resident, registered, blocking topics."""
    return services.target_group_check_record(
        actor=actor,
        client=client,
        employable=True,
        topics=topics(),
        topics_block_integration=True,
        checked_on=checked_on or days_ago(OPENED_DAYS_AGO),
    )


def case_open(
    *,
    specialist: User,
    client: Client | None = None,
    opened_on: dt.date | None = None,
    previous_case: Case | None = None,
) -> Case:
    """A case at level 1, opened by the specialist for a person of the specialist's institution."""
    day = opened_on or days_ago(OPENED_DAYS_AGO)
    person = client or person_create(actor=specialist)
    check = check_passed(actor=specialist, client=person, checked_on=day)
    return services.case_open(
        actor=specialist, client=person, target_group_check=check, opened_on=day, previous_case=previous_case
    )


def case_at_level(level: int, *, specialist: User, coordinator: User, client: Client | None = None) -> Case:
    """A case brought to ``level`` by the allowed moves: opened, then 1 → 2 (specialist), then 2 → 3 (coordinator)."""
    case = case_open(specialist=specialist, client=client)
    moves: list[Callable[[Case], Case]] = [
        lambda c: services.case_change_level(
            actor=specialist,
            case=c,
            to_level=2,
            reason="Mehrere Institutionen beteiligt",
            changed_on=days_ago(OPENED_DAYS_AGO - 10),
            coordinator=coordinator,
        ),
        lambda c: services.case_change_level(
            actor=coordinator,
            case=c,
            to_level=3,
            reason="Gemeinsame Planung im Fallteam nötig",
            changed_on=days_ago(OPENED_DAYS_AGO - 20),
            case_team=oberland_team(),
        ),
    ]
    for move in moves[: level - 1]:
        case = move(case)
    return case


def participant_join(*, case: Case, by: User, users: Iterable[User]) -> None:
    for user in users:
        services.case_participant_add(actor=by, case=case, user=user)


def rav_specialist(unit_name: str = "RAV Uster") -> User:
    """A second iiz specialist, at the RAV (the demo world has only the IV-Stelle's)."""
    return UserFactory(unit=OrganisationalUnit.objects.get(name=unit_name), roles=[Role.SPECIALIST])


def plan_with_measure(
    *,
    case: Case,
    actor: User,
    case_lead: User | None,
    responsible_institution: Institution,
    responsible_user: User | None = None,
    goals: str = "Stelle im ersten Arbeitsmarkt bis Jahresende",
    due_on: dt.date | None = None,
) -> tuple[IntegrationPlan, Measure]:
    plan = services.plan_draft_create(actor=actor, case=case, goals=goals, case_lead=case_lead)
    measure = services.measure_add(
        actor=actor,
        plan=plan,
        description="Arbeitsversuch im ersten Arbeitsmarkt",
        responsible_institution=responsible_institution,
        responsible_user=responsible_user,
        start_on=days_ago(20),
        due_on=due_on or days_ago(-60),
    )
    plan.refresh_from_db()
    return plan, measure


def plan_agreed(*, plan: IntegrationPlan, actor: User, agreed_on: dt.date | None = None) -> IntegrationPlan:
    day = agreed_on or days_ago(5)
    return services.plan_agree(actor=actor, plan=plan, agreed_on=day, client_agreed_on=day)


def doctor(email: str = "dr.arzt@praxis.example") -> Contact:
    return Contact.objects.create(kind=ContactKind.DOCTOR, first_name="Hans", last_name="Arzt", email=email)


def meeting_at(day: dt.date, hour: int = 14, minutes: int = 0) -> tuple[dt.datetime, dt.datetime]:
    """A two-hour meeting on ``day`` in Zürich local time."""
    start = dt.datetime.combine(day, dt.time(hour, minutes), tzinfo=timezone.get_current_timezone())
    return start, start + dt.timedelta(hours=2)


def meeting_schedule(
    *,
    case: Case,
    coordinator: User,
    users: Iterable[User],
    day: dt.date | None = None,
    contacts: Iterable[Contact] = (),
) -> Meeting:
    starts_at, ends_at = meeting_at(day or days_ago(-7))
    return services.meeting_schedule(
        actor=coordinator,
        case=case,
        starts_at=starts_at,
        ends_at=ends_at,
        place="Stadthaus Uster, Sitzungszimmer 2",
        agenda="1. Situation\n2. Integrationsplan\n3. Vereinbarungen",
        users=users,
        contacts=contacts,
    )


def agreement_add(*, case: Case, coordinator: User, owner: User, due_on: dt.date) -> Agreement:
    return services.agreement_add(
        actor=coordinator, case=case, text="Arztbericht zur Arbeitsfähigkeit einholen", owner=owner, due_on=due_on
    )


def consent_give(
    *, actor: User, client: Client, institutions: Iterable[Institution], categories: Iterable[str]
) -> Consent:
    """The client's consent, recorded by the actor, valid since yesterday."""
    return consent_record(
        actor=actor,
        client=client,
        institutions=institutions,
        categories=categories,
        purpose="Koordination im iiz-Fall",
        valid_from=days_ago(1),
        # Given orally, the signed form to follow (a consent for other institutions needs one or the other).
        verbal_statement="Im Gespräch mündlich erteilt",
        form_due_on=days_ago(-14),
    )
