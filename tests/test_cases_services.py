"""The case services, from screening to follow-up: what they record, and what they refuse.

Every refusal is checked for its message and for "nothing saved": the rows of the models the service
would have written are counted before and after.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.utils import timezone, translation
from icalendar import Calendar

from iiz.audit.models import AuditAction, AuditEvent
from iiz.cases import services
from iiz.cases.models import (
    Agreement,
    AgreementStatus,
    Case,
    CaseParticipant,
    CaseStatus,
    Clarification,
    FollowUp,
    FollowUpStatus,
    InformationRequest,
    IntegrationPlan,
    LevelChange,
    LifeSituation,
    Measure,
    Meeting,
    MeetingParticipant,
    Outcome,
    PlanStatus,
    Route,
    Screening,
    ServiceOffering,
    TargetGroupCheck,
)
from iiz.clients.services import registration_end
from iiz.organisations.models import District, Municipality, Role, User
from tests import cases_world as cw
from tests.factories import ClientFactory, UserFactory

if TYPE_CHECKING:
    from tests.conftest import World


def rows(*models: type[Model]) -> tuple[int, ...]:
    return tuple(model._default_manager.count() for model in models)


@pytest.fixture
def case2(iv_specialist: User, coordinator: User) -> Case:
    """A case at level 2: the IV specialist opened it and asked the coordinator for help."""
    return cw.case_at_level(2, specialist=iv_specialist, coordinator=coordinator)


@pytest.fixture
def case3(iv_specialist: User, coordinator: User, rav_adviser: User, social_worker: User) -> Case:
    """A case at level 3 in which the RAV adviser and the social worker take part."""
    case = cw.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    cw.participant_join(case=case, by=coordinator, users=[rav_adviser, social_worker])
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def iv_colleague(iv_specialist: User) -> User:
    """A second iiz specialist of the IV-Stelle."""
    return UserFactory(unit=iv_specialist.unit, roles=[Role.SPECIALIST])


# ---------------------------------------------------------------------------------------------------------
# Screening and the target-group check
# ---------------------------------------------------------------------------------------------------------


def test_it_records_a_screening_with_its_life_situations(iv_specialist: User) -> None:
    # given a person of the IV-Stelle and two life situations
    client = cw.person_create(actor=iv_specialist)
    situations = list(
        LifeSituation.objects.filter(code__in=["frequent-certified-absences", "employee-over-55-limited"])
    )
    # when the specialist records the screening
    screening = services.screening_record(
        actor=iv_specialist, client=client, life_situations=situations, screened_on=cw.days_ago(1)
    )
    # then it names the situations and the institution, and the audit trail has it
    assert set(screening.life_situations.values_list("code", flat=True)) == {
        "frequent-certified-absences",
        "employee-over-55-limited",
    }
    assert screening.institution == iv_specialist.institution
    assert AuditEvent.objects.filter(object_type="screening", object_id=str(screening.pk), actor=iv_specialist).exists()


def test_it_refuses_a_screening_dated_in_the_future(iv_specialist: User) -> None:
    # given a person of the IV-Stelle
    client = cw.person_create(actor=iv_specialist)
    before = rows(Screening)
    # when the specialist dates the screening tomorrow
    with pytest.raises(ValidationError, match="nicht in der Zukunft"):
        services.screening_record(
            actor=iv_specialist, client=client, life_situations=LifeSituation.objects.all(), screened_on=cw.days_ago(-1)
        )
    # then nothing is saved
    assert rows(Screening) == before


def test_it_refuses_a_screening_of_a_person_the_user_does_not_see(iv_specialist: User, rav_adviser: User) -> None:
    # given a person known only to the RAV
    client = cw.person_create(actor=rav_adviser)
    before = rows(Screening)
    # when the IV specialist tries to screen the person
    with pytest.raises(PermissionDenied):
        services.screening_record(actor=iv_specialist, client=client, life_situations=[], screened_on=cw.days_ago(0))
    # then nothing is saved
    assert rows(Screening) == before


def _evaluate(client: object, **overrides: object) -> list[str]:
    arguments: dict[str, object] = {
        "employable": True,
        "topics": cw.topics(),
        "topics_block_integration": True,
        "on": timezone.localdate(),
    }
    arguments.update(overrides)
    return services.target_group_evaluate(client=client, **arguments)  # type: ignore[arg-type]


def test_it_finds_no_failing_criterion_for_a_person_of_the_target_group(iv_specialist: User) -> None:
    # given an employable person living in Uster, registered with the IV-Stelle, with blocking topics
    client = cw.person_create(actor=iv_specialist)
    # when the criteria are evaluated
    failures = _evaluate(client)
    # then none fails
    assert failures == []


def test_it_names_the_employability_criterion(iv_specialist: User) -> None:
    # given a person judged not employable
    client = cw.person_create(actor=iv_specialist)
    # when the criteria are evaluated
    failures = _evaluate(client, employable=False)
    # then exactly the employability criterion fails, with its reason
    assert failures == ["Erwerbsfähigkeit: Die Person gilt als nicht erwerbsfähig."]


def test_it_names_the_residence_criterion_for_a_person_without_municipality(iv_specialist: User) -> None:
    # given a person living outside the canton
    client = cw.person_create(actor=iv_specialist, outside_canton=True)
    # when the criteria are evaluated
    failures = _evaluate(client)
    # then exactly the residence criterion fails
    assert failures == ["Wohnsitz: Die Person wohnt nicht in einer Gemeinde des Kantons Zürich."]


def _ended_municipality(valid_until: dt.date) -> Municipality:
    # Municipalities are reference data kept by administrators; a merger ends the old entry.
    return Municipality.objects.create(
        bfs_number=9901,
        name="Altgemeinde",
        district=District.objects.order_by("pk").first(),
        valid_from=dt.date(2000, 1, 1),
        valid_until=valid_until,
    )


def test_it_names_the_residence_criterion_for_a_municipality_that_no_longer_exists(iv_specialist: User) -> None:
    # given a person whose municipality merged into another ten days ago
    client = cw.person_create(actor=iv_specialist, municipality=_ended_municipality(cw.days_ago(10)))
    # when the criteria are evaluated today
    failures = _evaluate(client)
    # then exactly the residence criterion fails
    assert failures == ["Wohnsitz: Die Person wohnt nicht in einer Gemeinde des Kantons Zürich."]


def test_it_counts_a_municipality_as_valid_until_its_last_day(iv_specialist: User) -> None:
    # given a person whose municipality ends today
    client = cw.person_create(actor=iv_specialist, municipality=_ended_municipality(cw.days_ago(0)))
    # when the criteria are evaluated today
    failures = _evaluate(client)
    # then the person still lives in the canton
    assert failures == []


def test_it_names_the_registration_criterion_for_a_person_without_registration(world: World) -> None:
    # given a person in Uster who is registered nowhere (a state only a direct write produces)
    client = ClientFactory(registered=False, municipality=cw.uster())
    # when the criteria are evaluated
    failures = _evaluate(client)
    # then exactly the registration criterion fails
    assert failures == ["Anmeldung: Die Person ist bei keiner Partnerinstitution angemeldet."]


def test_it_names_the_registration_criterion_for_an_ended_registration(iv_specialist: User) -> None:
    # given a person whose only registration, with the IV-Stelle, ended ten days ago
    client = cw.person_create(actor=iv_specialist)
    registration_end(actor=iv_specialist, registration=client.registrations.get(), deregistered_on=cw.days_ago(10))
    # when the criteria are evaluated today
    failures = _evaluate(client)
    # then exactly the registration criterion fails
    assert failures == ["Anmeldung: Die Person ist bei keiner Partnerinstitution angemeldet."]


def test_it_names_the_registration_criterion_before_the_registration_starts(iv_specialist: User) -> None:
    # given a person registered with the IV-Stelle from today
    client = cw.person_create(actor=iv_specialist, registered_on=cw.days_ago(0))
    # when the criteria are evaluated as of yesterday
    failures = _evaluate(client, on=cw.days_ago(1))
    # then exactly the registration criterion fails
    assert failures == ["Anmeldung: Die Person ist bei keiner Partnerinstitution angemeldet."]


def test_it_names_the_multi_problem_criterion_without_topics(iv_specialist: User) -> None:
    # given a person with no topic beyond the serving institution's remit
    client = cw.person_create(actor=iv_specialist)
    # when the criteria are evaluated
    failures = _evaluate(client, topics=[])
    # then exactly the multi-problem criterion fails, saying that no topic is recorded
    assert len(failures) == 1
    assert failures[0].startswith("Mehrfachproblematik: Es ist kein Thema erfasst")


def test_it_names_the_multi_problem_criterion_when_the_topics_do_not_block_integration(iv_specialist: User) -> None:
    # given a person with topics that do not stand in the way of a job
    client = cw.person_create(actor=iv_specialist)
    # when the criteria are evaluated
    failures = _evaluate(client, topics_block_integration=False)
    # then exactly the multi-problem criterion fails, saying that the topics do not block integration
    assert failures == [
        "Mehrfachproblematik: Die erfassten Themen behindern die Integration in den ersten Arbeitsmarkt nicht."
    ]


def test_it_names_every_failing_criterion_at_once(iv_specialist: User) -> None:
    # given a person outside the canton, not employable, without topics
    client = cw.person_create(actor=iv_specialist, outside_canton=True)
    # when the criteria are evaluated
    failures = _evaluate(client, employable=False, topics=[])
    # then the three criteria are named, in the order of the form
    assert [failure.split(":")[0] for failure in failures] == ["Erwerbsfähigkeit", "Wohnsitz", "Mehrfachproblematik"]


def test_it_stores_a_failed_check_with_its_criteria(iv_specialist: User) -> None:
    # given a person whose registration with the IV-Stelle ended
    client = cw.person_create(actor=iv_specialist)
    registration_end(actor=iv_specialist, registration=client.registrations.get(), deregistered_on=cw.days_ago(10))
    # when the specialist records the check
    check = services.target_group_check_record(
        actor=iv_specialist,
        client=client,
        employable=True,
        topics=cw.topics(),
        topics_block_integration=True,
        checked_on=cw.days_ago(0),
    )
    # then the check failed for the registration only, and it does not allow a case
    assert (check.passed, check.allows_case, check.resident_in_canton, check.registered_with_partner) == (
        False,
        False,
        True,
        False,
    )
    assert check.failures == ["Anmeldung: Die Person ist bei keiner Partnerinstitution angemeldet."]


def test_it_stores_the_criteria_as_they_were_on_the_day_of_the_check(iv_specialist: User) -> None:
    # given a person whose municipality is due to merge in a month (recorded ahead by an administrator)
    client = cw.person_create(actor=iv_specialist, municipality=_ended_municipality(cw.days_ago(-30)))
    # when the check is recorded today
    check = cw.check_passed(actor=iv_specialist, client=client, checked_on=cw.days_ago(0))
    # then the stored residence agrees with the result: the person lives in the canton today
    assert (check.passed, check.resident_in_canton, check.registered_with_partner) == (True, True, True)


@pytest.mark.parametrize("language", ["de", "fr", "it", "en"])
def test_it_stores_the_registration_criterion_whatever_the_users_language(language: str, world: World) -> None:
    # given a person registered nowhere, and a specialist working in some language
    specialist = UserFactory(unit=world.unit("IV-Stelle Zürich, Eingliederung Oberland"), roles=[Role.SPECIALIST])
    client = ClientFactory(registered=False, municipality=cw.uster())
    client.registrations.create(institution=specialist.institution, registered_on=cw.days_ago(0))
    # when the check is recorded as of yesterday, in that language
    with translation.override(language):
        check = cw.check_passed(actor=specialist, client=client, checked_on=cw.days_ago(1))
    # then the registration criterion is stored as failed
    assert (check.passed, check.registered_with_partner, check.resident_in_canton) == (False, False, True)


def _failed_check(actor: User) -> TargetGroupCheck:
    client = cw.person_create(actor=actor)
    return services.target_group_check_record(
        actor=actor,
        client=client,
        employable=True,
        topics=[],
        topics_block_integration=False,
        checked_on=cw.days_ago(cw.OPENED_DAYS_AGO),
    )


def test_it_lets_a_coordinator_override_a_failed_check_with_a_reason(iv_specialist: User, coordinator: User) -> None:
    # given a failed check
    check = _failed_check(iv_specialist)
    # when the coordinator overrides it with a reason
    services.target_group_override(actor=coordinator, check=check, reason="  Sucht und Schulden, siehe Gespräch  ")
    # then the check allows a case, with the coordinator and the reason on record
    check.refresh_from_db()
    assert (check.allows_case, check.override_by, check.override_reason) == (
        True,
        coordinator,
        "Sucht und Schulden, siehe Gespräch",
    )
    assert AuditEvent.objects.filter(
        object_type="target_group_check", object_id=str(check.pk), actor=coordinator, details__override=True
    ).exists()


@pytest.mark.parametrize("persona", ["iv_specialist", "rav_adviser", "committee"])
def test_it_refuses_an_override_by_anyone_but_a_coordinator(persona: str, request: pytest.FixtureRequest) -> None:
    # given a failed check
    check = _failed_check(request.getfixturevalue("iv_specialist"))
    # when someone who is not a coordinator overrides it
    with pytest.raises(PermissionDenied, match="Koordinator"):
        services.target_group_override(
            actor=request.getfixturevalue(persona), check=check, reason="Ein ausführlicher Grund"
        )
    # then the check still does not allow a case
    check.refresh_from_db()
    assert (check.allows_case, check.override_by, check.override_reason) == (False, None, "")


@pytest.mark.parametrize("reason", ["", "   ", "zu kurz"])
def test_it_refuses_an_override_without_a_written_reason(reason: str, iv_specialist: User, coordinator: User) -> None:
    # given a failed check
    check = _failed_check(iv_specialist)
    # when the coordinator overrides it without (enough of) a reason
    with pytest.raises(ValidationError, match="Begründen Sie die Übersteuerung"):
        services.target_group_override(actor=coordinator, check=check, reason=reason)
    # then the check is unchanged
    check.refresh_from_db()
    assert (check.allows_case, check.override_by) == (False, None)


def test_it_refuses_to_override_a_check_that_passed(iv_specialist: User, coordinator: User) -> None:
    # given a check that passed
    check = cw.check_passed(actor=iv_specialist, client=cw.person_create(actor=iv_specialist))
    # when the coordinator tries to override it
    with pytest.raises(ValidationError, match="nicht nötig"):
        services.target_group_override(actor=coordinator, check=check, reason="Ein ausführlicher Grund")
    # then no override is recorded
    check.refresh_from_db()
    assert (check.override_by, check.override_reason) == (None, "")


# ---------------------------------------------------------------------------------------------------------
# Opening a case
# ---------------------------------------------------------------------------------------------------------

CASE_ROWS = (Case, CaseParticipant, LevelChange)


def test_it_refuses_to_open_a_case_when_the_check_failed(iv_specialist: User) -> None:
    # given a failed check that nobody overrode
    check = _failed_check(iv_specialist)
    before = rows(*CASE_ROWS)
    # when the specialist opens a case
    with pytest.raises(ValidationError, match="Zielgruppenprüfung ist nicht erfüllt"):
        services.case_open(actor=iv_specialist, client=check.client, target_group_check=check, opened_on=cw.days_ago(1))
    # then no case, participant or level change is saved
    assert rows(*CASE_ROWS) == before


def test_it_opens_a_case_once_a_coordinator_overrode_the_check(iv_specialist: User, coordinator: User) -> None:
    # given a failed check overridden by the coordinator
    check = _failed_check(iv_specialist)
    services.target_group_override(actor=coordinator, check=check, reason="Mehrfachproblematik laut Gespräch")
    # when the specialist opens a case
    case = services.case_open(
        actor=iv_specialist, client=check.client, target_group_check=check, opened_on=cw.days_ago(1)
    )
    # then the case is open at level 1 on that check
    assert (case.status, case.level, case.target_group_check) == (CaseStatus.OPEN, 1, check)


def test_it_opens_a_case_at_level_1_with_the_opener_taking_part(iv_specialist: User) -> None:
    # given a person of the IV-Stelle with a passed check
    client = cw.person_create(actor=iv_specialist)
    check = cw.check_passed(actor=iv_specialist, client=client, checked_on=cw.days_ago(3))
    # when the specialist opens a case two days later
    case = services.case_open(
        actor=iv_specialist, client=client, target_group_check=check, opened_on=cw.days_ago(1), reason="Erstgespräch"
    )
    # then the opener takes part for the IV-Stelle, the opening is the first level change, and it is audited
    participant = CaseParticipant.objects.get(case=case)
    change = LevelChange.objects.get(case=case)
    assert (participant.user, participant.institution, participant.joined_on) == (
        iv_specialist,
        iv_specialist.institution,
        cw.days_ago(1),
    )
    assert (change.from_level, change.to_level, change.changed_by, change.reason) == (
        None,
        1,
        iv_specialist,
        "Erstgespräch",
    )
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.CREATE, object_type="case", object_id=str(case.pk), actor=iv_specialist
        ).count()
        == 1
    )
    assert (case.serving_institution, case.detected_on) == (iv_specialist.institution, cw.days_ago(3))


def test_it_numbers_cases_by_year_in_sequence(iv_specialist: User) -> None:
    # given a case opened yesterday
    first = cw.case_open(specialist=iv_specialist, opened_on=cw.days_ago(1))
    # when a second case is opened on the same day
    second = cw.case_open(specialist=iv_specialist, opened_on=cw.days_ago(1))
    # then both references read IIZ-<year>-<five digits> and the second follows the first
    pattern = re.compile(r"^IIZ-(\d{4})-(\d{5})$")
    first_year, first_number = pattern.fullmatch(first.reference).groups()  # type: ignore[union-attr]
    second_year, second_number = pattern.fullmatch(second.reference).groups()  # type: ignore[union-attr]
    assert (int(first_year), int(second_year)) == (first.opened_on.year, second.opened_on.year)
    assert int(second_number) == int(first_number) + 1


def test_it_starts_each_year_at_number_one(iv_specialist: User) -> None:
    # given a case opened this year
    cw.case_open(specialist=iv_specialist, opened_on=cw.days_ago(0))
    last_year = dt.date(timezone.localdate().year - 1, 6, 1)
    # when a case is opened with a date in the previous year
    case = cw.case_open(specialist=iv_specialist, opened_on=last_year)
    # then it is that year's first case
    assert case.reference == f"IIZ-{last_year.year}-00001"


def test_it_refuses_a_second_open_case_for_the_same_person(iv_specialist: User) -> None:
    # given a person with an open case
    case = cw.case_open(specialist=iv_specialist)
    check = cw.check_passed(actor=iv_specialist, client=case.client, checked_on=cw.days_ago(1))
    before = rows(*CASE_ROWS)
    # when the specialist opens another one
    with pytest.raises(ValidationError, match="bereits ein iiz-Fall offen"):
        services.case_open(actor=iv_specialist, client=case.client, target_group_check=check, opened_on=cw.days_ago(0))
    # then nothing is saved
    assert rows(*CASE_ROWS) == before


@pytest.mark.parametrize(
    ("opened_days_ago", "message"),
    [(-1, "nicht in der Zukunft"), (11, "vor der Zielgruppenprüfung")],
    ids=["future", "before-check"],
)
def test_it_refuses_an_opening_date_out_of_order(opened_days_ago: int, message: str, iv_specialist: User) -> None:
    # given a check made ten days ago
    client = cw.person_create(actor=iv_specialist)
    check = cw.check_passed(actor=iv_specialist, client=client, checked_on=cw.days_ago(10))
    before = rows(*CASE_ROWS)
    # when the case is dated tomorrow or before the check
    with pytest.raises(ValidationError, match=message):
        services.case_open(
            actor=iv_specialist, client=client, target_group_check=check, opened_on=cw.days_ago(opened_days_ago)
        )
    # then nothing is saved
    assert rows(*CASE_ROWS) == before


def test_it_refuses_a_case_opened_by_a_case_worker(rav_adviser: User) -> None:
    # given a person of the RAV with a passed check
    client = cw.person_create(actor=rav_adviser)
    check = cw.check_passed(actor=rav_adviser, client=client, checked_on=cw.days_ago(1))
    before = rows(*CASE_ROWS)
    # when the RAV adviser (a case worker, not an iiz specialist) opens a case
    with pytest.raises(PermissionDenied, match="iiz-Spezialist"):
        services.case_open(actor=rav_adviser, client=client, target_group_check=check, opened_on=cw.days_ago(0))
    # then nothing is saved
    assert rows(*CASE_ROWS) == before


def test_it_refuses_a_check_of_another_person(iv_specialist: User) -> None:
    # given two persons, and a passed check of the first
    check = cw.check_passed(actor=iv_specialist, client=cw.person_create(actor=iv_specialist))
    other = cw.person_create(actor=iv_specialist, last_name="Andere")
    before = rows(*CASE_ROWS)
    # when a case for the second person is opened on the first person's check
    with pytest.raises(ValidationError, match="anderen Person"):
        services.case_open(actor=iv_specialist, client=other, target_group_check=check, opened_on=cw.days_ago(0))
    # then nothing is saved
    assert rows(*CASE_ROWS) == before


def _closed_case(*, specialist: User, closed_days_ago: int = 20) -> Case:
    case = cw.case_open(specialist=specialist)
    return services.case_close(
        actor=specialist, case=case, outcome=Outcome.FIRST_LABOUR_MARKET, closed_on=cw.days_ago(closed_days_ago)
    )


def test_it_links_the_new_case_of_a_returning_person_to_the_closed_one(iv_specialist: User) -> None:
    # given a person whose case was closed twenty days ago
    old = _closed_case(specialist=iv_specialist)
    # when the person comes back and a new case is opened
    new = cw.case_open(specialist=iv_specialist, client=old.client, opened_on=cw.days_ago(1), previous_case=old)
    # then the new case is open and linked to the old one, which stays closed
    old.refresh_from_db()
    assert (new.status, new.previous_case, old.status) == (CaseStatus.OPEN, old, CaseStatus.CLOSED)
    assert list(old.follow_on_cases.all()) == [new]
    assert new.reference != old.reference


def test_it_links_the_last_closed_case_when_none_is_named(iv_specialist: User) -> None:
    # given a person whose case was closed twenty days ago
    old = _closed_case(specialist=iv_specialist)
    # when a new case is opened without naming the old one
    new = cw.case_open(specialist=iv_specialist, client=old.client, opened_on=cw.days_ago(1))
    # then the platform links it
    assert new.previous_case == old


def test_it_refuses_to_link_a_case_of_another_person(iv_specialist: User) -> None:
    # given a closed case of one person and a second person
    old = _closed_case(specialist=iv_specialist)
    other = cw.person_create(actor=iv_specialist, last_name="Andere")
    check = cw.check_passed(actor=iv_specialist, client=other, checked_on=cw.days_ago(1))
    before = rows(*CASE_ROWS)
    # when the second person's case is opened as a follow-on of the first person's
    with pytest.raises(ValidationError, match="derselben Person"):
        services.case_open(
            actor=iv_specialist, client=other, target_group_check=check, opened_on=cw.days_ago(0), previous_case=old
        )
    # then nothing is saved
    assert rows(*CASE_ROWS) == before


# ---------------------------------------------------------------------------------------------------------
# The route at level 1
# ---------------------------------------------------------------------------------------------------------


def test_it_refuses_a_bilateral_route_without_the_partner_institution(iv_specialist: User) -> None:
    # given a case at level 1
    case = cw.case_open(specialist=iv_specialist)
    before = rows(*CASE_ROWS)
    # when the specialist chooses the bilateral route without naming the institution
    with pytest.raises(ValidationError, match="Nennen Sie die Institution"):
        services.case_set_route(
            actor=iv_specialist, case=case, route=Route.BILATERAL, bilateral_institution=None, reason="bilateral"
        )
    # then nothing is saved and the case has no route
    assert rows(*CASE_ROWS) == before
    assert Case.objects.get(pk=case.pk).route == ""


def test_it_refuses_a_bilateral_route_with_the_users_own_institution(iv_specialist: User) -> None:
    # given a case at level 1
    case = cw.case_open(specialist=iv_specialist)
    before = rows(*CASE_ROWS)
    # when the IV specialist names the IV-Stelle as the bilateral partner
    with pytest.raises(ValidationError, match="andere als Ihre eigene"):
        services.case_set_route(
            actor=iv_specialist,
            case=case,
            route=Route.BILATERAL,
            bilateral_institution=iv_specialist.institution,
            reason="bilateral",
        )
    # then nothing is saved
    assert rows(*CASE_ROWS) == before


def test_it_brings_the_bilateral_partners_specialists_into_the_case(iv_specialist: User, world: World) -> None:
    # given a case at level 1 and an iiz specialist at the RAV
    case = cw.case_open(specialist=iv_specialist)
    rav_specialist = cw.rav_specialist()
    # when the IV specialist decides to work bilaterally with the Amt für Arbeit
    services.case_set_route(
        actor=iv_specialist, case=case, route=Route.BILATERAL, bilateral_institution=world.labour, reason="Stellensuche"
    )
    # then the route is recorded as a dated change at level 1 and the RAV specialist takes part
    case.refresh_from_db()
    change = LevelChange.objects.filter(case=case).latest("changed_at", "id")
    assert (case.route, case.bilateral_institution, case.level) == (Route.BILATERAL, world.labour, 1)
    assert (change.from_level, change.to_level, change.route, change.reason) == (1, 1, Route.BILATERAL, "Stellensuche")
    assert CaseParticipant.objects.filter(case=case, user=rav_specialist, institution=world.labour).exists()


def test_it_refuses_to_set_the_route_above_level_1(case2: Case, iv_specialist: User) -> None:
    # given a case at level 2
    before = rows(*CASE_ROWS)
    # when the specialist sets an internal route
    with pytest.raises(ValidationError, match="Stufe 1"):
        services.case_set_route(
            actor=iv_specialist, case=case2, route=Route.INTERNAL, bilateral_institution=None, reason="intern"
        )
    # then nothing is saved
    assert rows(*CASE_ROWS) == before


# ---------------------------------------------------------------------------------------------------------
# Level 2: information requests
# ---------------------------------------------------------------------------------------------------------


def _ask(
    case: Case, asker: User, world: World, due_on: dt.date | None = None, category: str = "occupational"
) -> InformationRequest:
    return services.information_request_create(
        actor=asker,
        case=case,
        to_institution=world.labour,
        question="Seit wann ist die Person beim RAV gemeldet?",
        category=category,
        due_on=due_on or cw.days_ago(-7),
    )


def test_it_refuses_an_information_request_due_in_the_past(case2: Case, coordinator: User, world: World) -> None:
    # given a case at level 2
    before = rows(InformationRequest)
    # when the coordinator asks the RAV with an answer due yesterday
    with pytest.raises(ValidationError, match="Antwortfrist liegt in der Vergangenheit"):
        _ask(case2, coordinator, world, due_on=cw.days_ago(1))
    # then nothing is saved
    assert rows(InformationRequest) == before


def test_it_lets_only_the_asked_institution_answer(case3: Case, coordinator: User, social_worker: User, world: World):
    # given a request to the Amt für Arbeit
    info = _ask(case3, coordinator, world)
    # when the social worker (another institution taking part) answers it
    with pytest.raises(PermissionDenied, match="angefragte Institution"):
        services.information_request_answer(actor=social_worker, info=info, answer="Seit März")
    # then it is still unanswered
    info.refresh_from_db()
    assert (info.answered_on, info.answer, info.state_on(timezone.localdate())) == (None, "", "open")


def test_it_records_the_answer_of_the_asked_institution(
    case3: Case, coordinator: User, rav_adviser: User, world: World
):
    # given a request to the Amt für Arbeit
    info = _ask(case3, coordinator, world)
    # when the RAV adviser answers it
    services.information_request_answer(actor=rav_adviser, info=info, answer="  Seit März  ")
    # then the answer is recorded with who answered and when, and the disclosure is audited
    info.refresh_from_db()
    assert (info.answer, info.answered_by, info.answered_on) == ("Seit März", rav_adviser, timezone.localdate())
    assert AuditEvent.objects.filter(
        action=AuditAction.DISCLOSE, object_type="information_request", object_id=str(info.pk), actor=rav_adviser
    ).exists()


def test_it_refuses_to_answer_a_request_twice(case3: Case, coordinator: User, rav_adviser: User, world: World) -> None:
    # given an answered request
    info = _ask(case3, coordinator, world)
    services.information_request_answer(actor=rav_adviser, info=info, answer="Seit März")
    # when it is answered again
    with pytest.raises(ValidationError, match="bereits beantwortet"):
        services.information_request_answer(actor=rav_adviser, info=info, answer="Doch seit April")
    # then the first answer stands
    info.refresh_from_db()
    assert info.answer == "Seit März"


def test_it_refuses_an_empty_answer(case3: Case, coordinator: User, rav_adviser: User, world: World) -> None:
    # given a request to the Amt für Arbeit
    info = _ask(case3, coordinator, world)
    # when the RAV adviser sends an empty answer
    with pytest.raises(ValidationError, match="Antwort ist leer"):
        services.information_request_answer(actor=rav_adviser, info=info, answer="   ")
    # then it is still unanswered
    info.refresh_from_db()
    assert info.answered_on is None


def test_it_tells_whether_a_request_is_open_overdue_or_answered(
    case3: Case, coordinator: User, rav_adviser: User, world: World
) -> None:
    # given a request due in a week
    info = _ask(case3, coordinator, world, due_on=cw.days_ago(-7))
    due = info.due_on
    # when its state is read on its due day and the day after, then after an answer
    states = [info.state_on(due), info.state_on(due + dt.timedelta(days=1))]
    services.information_request_answer(actor=rav_adviser, info=info, answer="Seit März")
    states.append(info.state_on(due + dt.timedelta(days=1)))
    # then it is open, overdue, answered
    assert states == ["open", "overdue", "answered"]


# ---------------------------------------------------------------------------------------------------------
# Clarification
# ---------------------------------------------------------------------------------------------------------

# Which persona's institution writes which dimension (the test's own reading of the issue).
CLARIFICATION_CASES = [
    ("social", "social_worker", True),
    ("social", "rav_adviser", False),
    ("social", "iv_specialist", False),
    ("occupational", "rav_adviser", True),
    ("occupational", "iv_specialist", True),
    ("occupational", "social_worker", False),
    ("medical", "iv_specialist", True),
    ("medical", "rav_adviser", False),
    ("medical", "social_worker", False),
    ("medical", "coordinator", False),
]


@pytest.mark.parametrize(
    ("dimension", "persona"),
    [(d, p) for d, p, allowed in CLARIFICATION_CASES if allowed],
)
def test_it_lets_the_responsible_institution_write_its_dimension(
    dimension: str, persona: str, case3: Case, request: pytest.FixtureRequest
) -> None:
    # given a participant of the institution responsible for the dimension
    writer = request.getfixturevalue(persona)
    # when the participant writes the clarification
    clarification = services.clarification_save(
        actor=writer, case=case3, dimension=dimension, situation="Lage geklärt", work_capacity_percent=50
    )
    # then it is recorded for the writer's institution
    assert (clarification.institution, clarification.written_by, clarification.lock_version) == (
        writer.institution,
        writer,
        0,
    )


@pytest.mark.parametrize(
    ("dimension", "persona"),
    [(d, p) for d, p, allowed in CLARIFICATION_CASES if not allowed],
)
def test_it_refuses_a_dimension_written_by_another_institution(
    dimension: str, persona: str, case3: Case, request: pytest.FixtureRequest
) -> None:
    # given a participant of an institution that is not responsible for the dimension
    writer = request.getfixturevalue(persona)
    before = rows(Clarification)
    # when the participant writes it
    with pytest.raises(PermissionDenied, match="andere Institution"):
        services.clarification_save(actor=writer, case=case3, dimension=dimension, situation="Meine Sicht")
    # then nothing is saved
    assert rows(Clarification) == before


def test_it_tells_the_second_of_two_writers_and_keeps_the_first_ones_text(
    case3: Case, iv_specialist: User, iv_colleague: User, coordinator: User
) -> None:
    # given a medical clarification both IV specialists loaded at version 0
    services.case_participant_add(actor=coordinator, case=case3, user=iv_colleague)
    first = services.clarification_save(actor=iv_specialist, case=case3, dimension="medical", situation="Fassung A")
    loaded_version = first.lock_version
    services.clarification_save(
        actor=iv_specialist, case=case3, dimension="medical", situation="Fassung B", expected_version=loaded_version
    )
    # when the colleague saves the form loaded at the same version
    with pytest.raises(services.StaleEdit, match="Jemand anderes hat diese Angaben inzwischen geändert"):
        services.clarification_save(
            actor=iv_colleague,
            case=case3,
            dimension="medical",
            situation="Fassung C",
            obstacles="Schmerzen",
            expected_version=loaded_version,
        )
    # then the first writer's text stands and nothing of the second is saved
    stored = Clarification.objects.get(case=case3, dimension="medical")
    assert (stored.situation, stored.obstacles, stored.written_by, stored.lock_version) == (
        "Fassung B",
        "",
        iv_specialist,
        loaded_version + 1,
    )


def test_it_refuses_to_overwrite_a_clarification_without_the_loaded_version(case3: Case, iv_specialist: User) -> None:
    # given a medical clarification
    services.clarification_save(actor=iv_specialist, case=case3, dimension="medical", situation="Fassung A")
    # when it is saved again without saying which version the form showed
    with pytest.raises(services.StaleEdit):
        services.clarification_save(actor=iv_specialist, case=case3, dimension="medical", situation="Fassung B")
    # then the first text stands
    assert Clarification.objects.get(case=case3, dimension="medical").situation == "Fassung A"


def test_it_refuses_a_work_capacity_above_100_percent(case3: Case, iv_specialist: User) -> None:
    # given a case at level 3
    before = rows(Clarification)
    # when the IV specialist records 120 % work capacity
    with pytest.raises(ValidationError):
        services.clarification_save(
            actor=iv_specialist, case=case3, dimension="medical", situation="x", work_capacity_percent=120
        )
    # then nothing is saved
    assert rows(Clarification) == before


# ---------------------------------------------------------------------------------------------------------
# The integration plan
# ---------------------------------------------------------------------------------------------------------

PLAN_ROWS = (IntegrationPlan, Measure)


def _draft(case: Case, coordinator: User, case_lead: User | None) -> IntegrationPlan:
    return services.plan_draft_create(actor=coordinator, case=case, goals="Stelle finden", case_lead=case_lead)


def _measure(plan: IntegrationPlan, actor: User, **overrides: object) -> Measure:
    arguments: dict[str, object] = {
        "description": "Arbeitsversuch",
        "responsible_institution": plan.case.serving_institution,
        "start_on": cw.days_ago(10),
        "due_on": cw.days_ago(-50),
    }
    arguments.update(overrides)
    return services.measure_add(actor=actor, plan=plan, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("persona", ["coordinator", "biz_adviser"])
def test_it_refuses_a_case_lead_outside_rav_social_services_and_iv(
    persona: str, case3: Case, coordinator: User, request: pytest.FixtureRequest
) -> None:
    # given a case at level 3
    before = rows(*PLAN_ROWS)
    # when the coordinator names a coordinator or a career adviser as case lead
    with pytest.raises(ValidationError, match="RAV, beim Sozialdienst oder bei der IV-Stelle"):
        _draft(case3, coordinator, request.getfixturevalue(persona))
    # then no plan is saved
    assert rows(*PLAN_ROWS) == before


@pytest.mark.parametrize("persona", ["rav_adviser", "social_worker", "iv_specialist"])
def test_it_accepts_a_case_lead_from_rav_social_services_or_iv(
    persona: str, case3: Case, coordinator: User, request: pytest.FixtureRequest
) -> None:
    # given a case at level 3
    lead = request.getfixturevalue(persona)
    # when the coordinator names the case lead
    plan = _draft(case3, coordinator, lead)
    # then the first version is a draft with that lead
    assert (plan.version, plan.status, plan.case_lead) == (1, PlanStatus.DRAFT, lead)


def test_it_keeps_one_draft_at_a_time(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given a draft
    _draft(case3, coordinator, rav_adviser)
    before = rows(*PLAN_ROWS)
    # when a second draft is started
    with pytest.raises(ValidationError, match="bereits einen Entwurf"):
        _draft(case3, coordinator, rav_adviser)
    # then there is still one plan
    assert rows(*PLAN_ROWS) == before


def test_it_tells_the_second_plan_writer_and_keeps_the_first_ones_goals(
    case3: Case, coordinator: User, iv_specialist: User, rav_adviser: User
) -> None:
    # given a draft that the coordinator and the specialist loaded at the same version
    plan = _draft(case3, coordinator, rav_adviser)
    loaded = plan.lock_version
    services.plan_update(
        actor=coordinator, plan=plan, goals="Ziele der Koordinatorin", case_lead=rav_adviser, expected_version=loaded
    )
    # when the specialist saves the form loaded at that version
    with pytest.raises(services.StaleEdit):
        services.plan_update(
            actor=iv_specialist,
            plan=IntegrationPlan.objects.get(pk=plan.pk),
            goals="Ziele des Spezialisten",
            case_lead=None,
            expected_version=loaded,
        )
    # then the coordinator's goals and case lead stand
    plan.refresh_from_db()
    assert (plan.goals, plan.case_lead, plan.lock_version) == ("Ziele der Koordinatorin", rav_adviser, loaded + 1)


def test_it_tells_a_writer_whose_plan_object_is_out_of_date(
    case3: Case, coordinator: User, iv_specialist: User, rav_adviser: User
) -> None:
    # given a draft held in memory by two writers, without a version from a form
    plan = _draft(case3, coordinator, rav_adviser)
    other_copy = IntegrationPlan.objects.get(pk=plan.pk)
    services.plan_update(actor=coordinator, plan=plan, goals="Zuerst", case_lead=rav_adviser, expected_version=None)
    # when the second writer saves its older copy
    with pytest.raises(services.StaleEdit):
        services.plan_update(
            actor=iv_specialist, plan=other_copy, goals="Danach", case_lead=None, expected_version=None
        )
    # then the first writer's goals stand
    assert IntegrationPlan.objects.get(pk=plan.pk).goals == "Zuerst"


def test_it_adds_a_measure_and_bumps_the_plan_version(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given a draft
    plan = _draft(case3, coordinator, rav_adviser)
    # when the coordinator adds an RAV measure with the RAV adviser responsible
    measure = _measure(
        plan,
        coordinator,
        responsible_institution=rav_adviser.institution,
        responsible_user=rav_adviser,
        service=ServiceOffering.objects.get(code="alv-placement"),
        expected_version=plan.lock_version,
    )
    # then it belongs to the draft and the draft's version moved on
    plan.refresh_from_db()
    assert (measure.plan, measure.responsible_user, plan.lock_version) == (plan, rav_adviser, 1)


@pytest.mark.parametrize(
    ("institution", "service_code", "responsible", "due_after_start_days", "message"),
    [
        ("none", "", "rav_adviser", 30, "Jede Massnahme braucht eine verantwortliche Institution"),
        ("labour", "", "rav_adviser", -1, "Termin liegt vor dem Beginn"),
        ("labour", "iv-job-coaching", "rav_adviser", 30, "Leistung gehört nicht zur verantwortlichen Institution"),
        ("labour", "", "social_worker", 30, "Person gehört nicht zur verantwortlichen Institution"),
    ],
    ids=["no-institution", "due-before-start", "service-of-another-kind", "person-of-another-institution"],
)
def test_it_refuses_an_invalid_measure(
    institution: str,
    service_code: str,
    responsible: str,
    due_after_start_days: int,
    message: str,
    case3: Case,
    coordinator: User,
    rav_adviser: User,
    world: World,
    request: pytest.FixtureRequest,
) -> None:
    # given a draft, and a measure for the Amt für Arbeit that is wrong in one respect
    plan = _draft(case3, coordinator, rav_adviser)
    start = cw.days_ago(10)
    before = rows(*PLAN_ROWS)
    # when the coordinator adds it
    with pytest.raises(ValidationError, match=message):
        _measure(
            plan,
            coordinator,
            responsible_institution={"none": None, "labour": world.labour}[institution],
            service=ServiceOffering.objects.filter(code=service_code).first(),
            responsible_user=request.getfixturevalue(responsible),
            start_on=start,
            due_on=start + dt.timedelta(days=due_after_start_days),
        )
    # then nothing is saved and the plan's version did not move
    assert rows(*PLAN_ROWS) == before
    assert IntegrationPlan.objects.get(pk=plan.pk).lock_version == 0


def test_it_accepts_a_measure_due_on_its_first_day(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given a draft
    plan = _draft(case3, coordinator, rav_adviser)
    # when a one-day measure is added
    measure = _measure(plan, coordinator, start_on=cw.days_ago(1), due_on=cw.days_ago(1))
    # then it is saved
    assert Measure.objects.filter(pk=measure.pk, plan=plan).exists()


def _agree(plan: IntegrationPlan, actor: User, client_agreed_on: dt.date | None) -> ValidationError:
    with pytest.raises(ValidationError) as refusal:
        services.plan_agree(actor=actor, plan=plan, agreed_on=cw.days_ago(1), client_agreed_on=client_agreed_on)
    return refusal.value


def test_it_refuses_to_agree_a_plan_without_a_case_lead(case3: Case, coordinator: User) -> None:
    # given a draft with a measure but no case lead
    plan = _draft(case3, coordinator, None)
    _measure(plan, coordinator)
    plan.refresh_from_db()
    # when the coordinator records the agreement
    refusal = _agree(plan, coordinator, cw.days_ago(1))
    # then the missing case lead is named and the plan is still a draft
    assert refusal.message_dict == {"case_lead": ["Vor der Vereinbarung braucht der Plan eine Fallführung."]}
    assert IntegrationPlan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT


def test_it_refuses_to_agree_a_plan_without_measures(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given a draft with a case lead but no measure
    plan = _draft(case3, coordinator, rav_adviser)
    # when the coordinator records the agreement
    refusal = _agree(plan, coordinator, cw.days_ago(1))
    # then the missing measures are named and the plan is still a draft
    assert refusal.message_dict == {"measures": ["Ein Plan ohne Massnahmen kann nicht vereinbart werden."]}
    assert IntegrationPlan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT


def test_it_refuses_to_agree_a_plan_without_the_clients_agreement(
    case3: Case, coordinator: User, rav_adviser: User
) -> None:
    # given a complete draft
    plan, _ = cw.plan_with_measure(
        case=case3, actor=coordinator, case_lead=rav_adviser, responsible_institution=rav_adviser.institution
    )
    # when the coordinator records the agreement without the day the client agreed
    refusal = _agree(plan, coordinator, None)
    # then the missing agreement of the client is named, the plan is still a draft and the case has no lead
    assert list(refusal.message_dict) == ["client_agreed_on"]
    assert IntegrationPlan.objects.get(pk=plan.pk).status == PlanStatus.DRAFT
    assert Case.objects.get(pk=case3.pk).case_lead is None


def test_it_agrees_a_plan_and_makes_its_lead_the_case_lead(
    case3: Case, coordinator: User, social_worker: User, rav_adviser: User
) -> None:
    # given a complete draft with the social worker as lead and an RAV measure for the RAV adviser
    plan, _ = cw.plan_with_measure(
        case=case3,
        actor=coordinator,
        case_lead=social_worker,
        responsible_institution=rav_adviser.institution,
        responsible_user=rav_adviser,
    )
    # when it is agreed
    services.plan_agree(actor=coordinator, plan=plan, agreed_on=cw.days_ago(2), client_agreed_on=cw.days_ago(2))
    # then it is the agreed version, the social worker leads the case and everyone responsible takes part
    plan.refresh_from_db()
    case3.refresh_from_db()
    assert (plan.status, plan.agreed_on, plan.client_agreed_on) == (PlanStatus.AGREED, cw.days_ago(2), cw.days_ago(2))
    assert case3.case_lead == social_worker
    assert {social_worker, rav_adviser} <= {p.user for p in CaseParticipant.objects.filter(case=case3)}


def test_it_carries_the_measures_of_the_agreed_plan_over_to_the_next_draft(
    case3: Case, coordinator: User, rav_adviser: User
) -> None:
    # given an agreed first version with one RAV measure
    v1, measure = cw.plan_with_measure(
        case=case3, actor=coordinator, case_lead=rav_adviser, responsible_institution=rav_adviser.institution
    )
    cw.plan_agreed(plan=v1, actor=coordinator)
    # when a second version is drafted
    v2 = services.plan_draft_create(actor=coordinator, case=case3, goals="Neue Ziele", case_lead=rav_adviser)
    # then it is version 2 with a copy of the measure, while version 1 keeps its own
    copied = v2.measures.get()
    assert (v2.version, v2.status) == (2, PlanStatus.DRAFT)
    assert (copied.description, copied.responsible_institution, copied.start_on, copied.due_on) == (
        measure.description,
        measure.responsible_institution,
        measure.start_on,
        measure.due_on,
    )
    assert copied.pk != measure.pk
    assert list(v1.measures.all()) == [measure]


def test_it_supersedes_the_old_version_and_keeps_it_readable(
    case3: Case, coordinator: User, rav_adviser: User, iv_specialist: User
) -> None:
    # given an agreed first version and a second version with one more measure
    v1, measure = cw.plan_with_measure(
        case=case3, actor=coordinator, case_lead=rav_adviser, responsible_institution=rav_adviser.institution
    )
    cw.plan_agreed(plan=v1, actor=coordinator, agreed_on=cw.days_ago(10))
    v2 = services.plan_draft_create(actor=coordinator, case=case3, goals="Neue Ziele", case_lead=rav_adviser)
    _measure(v2, coordinator, responsible_institution=iv_specialist.institution, description="IV-Coaching")
    v2.refresh_from_db()
    # when the second version is agreed
    services.plan_agree(actor=coordinator, plan=v2, agreed_on=cw.days_ago(1), client_agreed_on=cw.days_ago(1))
    # then the first is superseded, with its goals, date and measure unchanged, and the second is agreed
    v1.refresh_from_db()
    assert (v1.status, v1.goals, v1.agreed_on) == (
        PlanStatus.SUPERSEDED,
        "Stelle im ersten Arbeitsmarkt bis Jahresende",
        cw.days_ago(10),
    )
    assert list(v1.measures.values_list("description", flat=True)) == [measure.description]
    assert IntegrationPlan.objects.get(pk=v2.pk).status == PlanStatus.AGREED
    assert IntegrationPlan.objects.filter(case=case3, status=PlanStatus.AGREED).count() == 1


def test_it_refuses_to_change_an_agreed_plan(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given an agreed plan
    plan, _ = cw.plan_with_measure(
        case=case3, actor=coordinator, case_lead=rav_adviser, responsible_institution=rav_adviser.institution
    )
    cw.plan_agreed(plan=plan, actor=coordinator)
    plan.refresh_from_db()
    before = rows(*PLAN_ROWS)
    # when its goals are changed or a measure is added
    with pytest.raises(ValidationError, match="vereinbarte Version wird nicht mehr geändert"):
        services.plan_update(
            actor=coordinator, plan=plan, goals="Anders", case_lead=rav_adviser, expected_version=plan.lock_version
        )
    with pytest.raises(ValidationError, match="vereinbarte Version wird nicht mehr geändert"):
        _measure(plan, coordinator)
    # then nothing is saved
    assert rows(*PLAN_ROWS) == before
    assert IntegrationPlan.objects.get(pk=plan.pk).goals == "Stelle im ersten Arbeitsmarkt bis Jahresende"


def test_it_refuses_plan_work_by_a_case_worker_who_does_not_lead(case3: Case, coordinator: User, rav_adviser: User):
    # given a case at level 3 in which the RAV adviser takes part but does not lead
    before = rows(*PLAN_ROWS)
    # when the RAV adviser drafts a plan
    with pytest.raises(PermissionDenied):
        _draft(case3, rav_adviser, None)
    # then nothing is saved
    assert rows(*PLAN_ROWS) == before


def test_it_refuses_a_measure_status_change_after_closure(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given an agreed plan with an RAV measure, on a case that was then closed
    plan, measure = cw.plan_with_measure(
        case=case3, actor=coordinator, case_lead=rav_adviser, responsible_institution=rav_adviser.institution
    )
    cw.plan_agreed(plan=plan, actor=coordinator)
    services.case_close(actor=coordinator, case=case3, outcome=Outcome.JOB_KEPT, closed_on=cw.days_ago(0))
    # when the responsible RAV adviser reports the measure done
    with pytest.raises(ValidationError, match="abgeschlossen"):
        services.measure_set_status(actor=rav_adviser, measure=Measure.objects.get(pk=measure.pk), status="done")
    # then its status is unchanged
    assert Measure.objects.get(pk=measure.pk).status == "planned"


# ---------------------------------------------------------------------------------------------------------
# Case-team meetings
# ---------------------------------------------------------------------------------------------------------

MEETING_ROWS = (Meeting, MeetingParticipant, CaseParticipant)


def _schedule(case: Case, actor: User, **overrides: object) -> Meeting:
    starts_at, ends_at = cw.meeting_at(cw.days_ago(-7))
    arguments: dict[str, object] = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "place": "Stadthaus Uster",
        "agenda": "Integrationsplan",
        "users": [],
        "contacts": [],
    }
    arguments.update(overrides)
    return services.meeting_schedule(actor=actor, case=case, **arguments)  # type: ignore[arg-type]


def test_it_refuses_a_meeting_below_level_3(case2: Case, coordinator: User, iv_specialist: User) -> None:
    # given a case at level 2
    before = rows(*MEETING_ROWS)
    # when the coordinator schedules a case-team meeting
    with pytest.raises(ValidationError, match="Stufe 3"):
        _schedule(case2, coordinator, users=[iv_specialist])
    # then nothing is saved
    assert rows(*MEETING_ROWS) == before


def test_it_refuses_a_meeting_without_participants(case3: Case, coordinator: User) -> None:
    # given a case at level 3
    before = rows(*MEETING_ROWS)
    # when the coordinator schedules a meeting with nobody
    with pytest.raises(ValidationError, match="braucht Teilnehmende"):
        _schedule(case3, coordinator, users=[], contacts=[], with_client=False)
    # then nothing is saved
    assert rows(*MEETING_ROWS) == before


@pytest.mark.parametrize("minutes", [0, -30], ids=["same-time", "before-start"])
def test_it_refuses_a_meeting_that_ends_before_it_starts(
    minutes: int, case3: Case, coordinator: User, rav_adviser: User
) -> None:
    # given a case at level 3
    starts_at, _ = cw.meeting_at(cw.days_ago(-7))
    before = rows(*MEETING_ROWS)
    # when the end is at or before the start
    with pytest.raises(ValidationError, match="Ende muss nach dem Beginn"):
        _schedule(
            case3,
            coordinator,
            users=[rav_adviser],
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=minutes),
        )
    # then nothing is saved
    assert rows(*MEETING_ROWS) == before


def test_it_refuses_a_meeting_scheduled_by_a_specialist(case3: Case, iv_specialist: User, rav_adviser: User) -> None:
    # given a case at level 3 in which the specialist takes part
    before = rows(*MEETING_ROWS)
    # when the specialist schedules a case-team meeting
    with pytest.raises(PermissionDenied, match="Koordination"):
        _schedule(case3, iv_specialist, users=[rav_adviser])
    # then nothing is saved
    assert rows(*MEETING_ROWS) == before


def test_it_brings_the_invited_users_into_the_case(case3: Case, coordinator: User, biz_adviser: User) -> None:
    # given a case at level 3 in which the career adviser does not take part
    # when the coordinator invites the career adviser, a doctor and the client
    meeting = _schedule(case3, coordinator, users=[biz_adviser], contacts=[cw.doctor()], with_client=True)
    # then the career adviser takes part in the case and the meeting lists all three
    assert CaseParticipant.objects.filter(case=case3, user=biz_adviser, left_on__isnull=True).exists()
    assert sorted(str(p) for p in meeting.participants.all()) == sorted([str(biz_adviser), "Hans Arzt", "Klient/in"])


def test_it_sends_no_invitation_before_the_commit(
    case3: Case,
    coordinator: User,
    rav_adviser: User,
    settings: object,
    mailoutbox: list,
    django_capture_on_commit_callbacks,
) -> None:
    # given tasks that run inline
    settings.CELERY_TASK_ALWAYS_EAGER = True  # type: ignore[attr-defined]
    # when the meeting is scheduled and the transaction has not committed yet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _schedule(case3, coordinator, users=[rav_adviser])
    # then no mail has gone out and one invitation waits for the commit
    assert (len(mailoutbox), len(callbacks)) == (0, 1)


def test_it_sends_an_icalendar_invitation_after_the_commit(
    case3: Case,
    coordinator: User,
    rav_adviser: User,
    social_worker: User,
    settings: object,
    mailoutbox: list,
    django_capture_on_commit_callbacks,
) -> None:
    # given tasks that run inline and a doctor without e-mail address
    settings.CELERY_TASK_ALWAYS_EAGER = True  # type: ignore[attr-defined]
    no_mail = cw.doctor(email="")
    # when the meeting is scheduled and the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        meeting = _schedule(case3, coordinator, users=[rav_adviser, social_worker], contacts=[cw.doctor(), no_mail])
    # then one e-mail goes to everyone with an address, with the case reference but not the client's name,
    # and carries a calendar request for the meeting
    [message] = mailoutbox
    filename, content, mimetype = message.attachments[0]
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert sorted(message.to) == sorted([rav_adviser.email, social_worker.email, "dr.arzt@praxis.example"])
    assert case3.reference in message.subject and case3.reference in message.body
    assert case3.client.last_name not in message.subject + message.body
    assert case3.client.first_name not in message.subject + message.body
    assert (filename.endswith(".ics"), mimetype.split(";")[0]) == (True, "text/calendar")
    assert str(event["UID"]) == meeting.ical_uid


# ---------------------------------------------------------------------------------------------------------
# Agreements
# ---------------------------------------------------------------------------------------------------------


def test_it_refuses_an_agreement_due_before_it_was_made(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given a case at level 3
    before = rows(Agreement)
    # when the coordinator records an agreement due yesterday
    with pytest.raises(ValidationError, match="Termin liegt vor der Vereinbarung"):
        cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(1))
    # then nothing is saved
    assert rows(Agreement) == before


def test_it_dates_an_agreement_on_the_local_day_of_its_meeting(
    case3: Case, coordinator: User, rav_adviser: User
) -> None:
    # given a meeting that started at half past midnight in Zürich, read back from the database (in UTC)
    starts_at, _ = cw.meeting_at(cw.days_ago(3), hour=0, minutes=30)
    meeting = Meeting.objects.get(pk=_schedule(case3, coordinator, users=[rav_adviser], starts_at=starts_at).pk)
    # when an agreement of that meeting is recorded, due the same day
    agreement = services.agreement_add(
        actor=coordinator, case=case3, text="Bericht", owner=rav_adviser, due_on=cw.days_ago(3), meeting=meeting
    )
    # then it is dated on the meeting's day in Zürich
    assert agreement.created_on == cw.days_ago(3)


def test_it_refuses_an_agreement_owner_who_does_not_work_with_clients(
    case3: Case, coordinator: User, committee: User
) -> None:
    # given a case at level 3
    before = rows(Agreement, CaseParticipant)
    # when the coordinator gives a task to the operating committee
    with pytest.raises(ValidationError, match="keine Aufgaben"):
        cw.agreement_add(case=case3, coordinator=coordinator, owner=committee, due_on=cw.days_ago(-5))
    # then nothing is saved
    assert rows(Agreement, CaseParticipant) == before


@pytest.mark.parametrize("persona", ["rav_adviser", "coordinator"])
def test_it_lets_the_owner_or_the_coordinator_mark_an_agreement_done(
    persona: str, case3: Case, coordinator: User, rav_adviser: User, request: pytest.FixtureRequest
) -> None:
    # given an agreement owned by the RAV adviser, due in five days
    agreement = cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(-5))
    # when the owner or the coordinator marks it done today
    services.agreement_set_status(actor=request.getfixturevalue(persona), agreement=agreement, status="done")
    # then it is done today, in time
    agreement.refresh_from_db()
    assert (agreement.status, agreement.done_on, agreement.done_in_time()) == (
        AgreementStatus.DONE,
        timezone.localdate(),
        True,
    )


def test_it_refuses_to_let_another_participant_mark_an_agreement_done(
    case3: Case, coordinator: User, rav_adviser: User, social_worker: User
) -> None:
    # given an agreement owned by the RAV adviser
    agreement = cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(-5))
    # when the social worker marks it done
    with pytest.raises(PermissionDenied, match="zuständige Person"):
        services.agreement_set_status(actor=social_worker, agreement=agreement, status="done")
    # then it is still open
    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.OPEN


def test_it_tells_an_agreement_done_late_from_one_done_in_time(
    case3: Case, coordinator: User, rav_adviser: User
) -> None:
    # given two agreements of a meeting ten days ago, due eight days ago
    starts_at, _ = cw.meeting_at(cw.days_ago(10))
    meeting = _schedule(case3, coordinator, users=[rav_adviser], starts_at=starts_at)
    made = [
        services.agreement_add(
            actor=coordinator, case=case3, text=text, owner=rav_adviser, due_on=cw.days_ago(8), meeting=meeting
        )
        for text in ("rechtzeitig", "verspätet")
    ]
    # when the owner marks one done on its due day and the other three days ago
    for agreement, done_on in zip(made, [cw.days_ago(8), cw.days_ago(3)], strict=True):
        services.agreement_set_status(actor=rav_adviser, agreement=agreement, status="done", done_on=done_on)
    # then only the first was done in time
    assert [Agreement.objects.get(pk=a.pk).done_in_time() for a in made] == [True, False]


@pytest.mark.parametrize(
    ("done_days_ago", "message"),
    [(-1, "nicht in der Zukunft"), (20, "vor der Vereinbarung")],
    ids=["future", "before-agreement"],
)
def test_it_refuses_a_done_date_out_of_order(
    done_days_ago: int, message: str, case3: Case, coordinator: User, rav_adviser: User
) -> None:
    # given an agreement made today
    agreement = cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(-5))
    # when it is marked done tomorrow or before it was made
    with pytest.raises(ValidationError, match=message):
        services.agreement_set_status(
            actor=rav_adviser, agreement=agreement, status="done", done_on=cw.days_ago(done_days_ago)
        )
    # then it is still open
    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.OPEN


# ---------------------------------------------------------------------------------------------------------
# Closure and follow-up
# ---------------------------------------------------------------------------------------------------------

CLOSURE_ROWS = (FollowUp,)


@pytest.mark.parametrize("outcome", ["", "won_the_lottery"], ids=["missing", "unknown"])
def test_it_refuses_a_closure_without_a_known_outcome(outcome: str, case3: Case, coordinator: User) -> None:
    # given an open case
    before = rows(*CLOSURE_ROWS)
    # when the coordinator closes it without an outcome from the catalogue
    with pytest.raises(ValidationError, match="Ergebnis des Falls"):
        services.case_close(actor=coordinator, case=case3, outcome=outcome, closed_on=cw.days_ago(0))
    # then it is still open and no follow-up is scheduled
    assert Case.objects.get(pk=case3.pk).status == CaseStatus.OPEN
    assert rows(*CLOSURE_ROWS) == before


@pytest.mark.parametrize(
    ("closed_days_ago", "message"),
    [(cw.OPENED_DAYS_AGO + 1, "Abschluss liegt vor der Eröffnung"), (-1, "nicht in der Zukunft")],
    ids=["before-opening", "future"],
)
def test_it_refuses_a_closing_date_out_of_order(
    closed_days_ago: int, message: str, case3: Case, coordinator: User
) -> None:
    # given a case opened sixty days ago
    before = rows(*CLOSURE_ROWS)
    # when it is closed before it was opened, or tomorrow
    with pytest.raises(ValidationError, match=message):
        services.case_close(
            actor=coordinator, case=case3, outcome=Outcome.JOB_KEPT, closed_on=cw.days_ago(closed_days_ago)
        )
    # then it is still open and no follow-up is scheduled
    assert Case.objects.get(pk=case3.pk).status == CaseStatus.OPEN
    assert rows(*CLOSURE_ROWS) == before


def test_it_refuses_a_closure_by_a_participant_who_neither_coordinates_nor_leads(
    case3: Case, rav_adviser: User
) -> None:
    # given a case at level 3 in which the RAV adviser takes part
    # when the RAV adviser closes it
    with pytest.raises(PermissionDenied):
        services.case_close(actor=rav_adviser, case=case3, outcome=Outcome.JOB_KEPT, closed_on=cw.days_ago(0))
    # then it is still open
    assert Case.objects.get(pk=case3.pk).status == CaseStatus.OPEN


def test_it_schedules_follow_ups_six_and_twelve_months_after_closure(iv_specialist: User) -> None:
    # given a case opened on 1 August 2025
    case = cw.case_open(specialist=iv_specialist, opened_on=dt.date(2025, 8, 1))
    # when it is closed on 31 August 2025
    services.case_close(actor=iv_specialist, case=case, outcome=Outcome.TRAINING, closed_on=dt.date(2025, 8, 31))
    # then follow-ups are due at the end of February and of August 2026, owned by the closer
    assert list(FollowUp.objects.filter(case=case).values_list("months_after", "due_on", "owner")) == [
        (6, dt.date(2026, 2, 28), iv_specialist.pk),
        (12, dt.date(2026, 8, 31), iv_specialist.pk),
    ]


def test_it_records_the_closure_and_gives_the_follow_ups_to_the_case_lead(
    case3: Case, coordinator: User, rav_adviser: User
) -> None:
    # given a case led by the RAV adviser
    plan, _ = cw.plan_with_measure(
        case=case3, actor=coordinator, case_lead=rav_adviser, responsible_institution=rav_adviser.institution
    )
    cw.plan_agreed(plan=plan, actor=coordinator)
    # when the coordinator closes it
    services.case_close(
        actor=coordinator,
        case=Case.objects.get(pk=case3.pk),
        outcome=Outcome.FIRST_LABOUR_MARKET,
        closed_on=cw.days_ago(1),
        note="  Festanstellung  ",
    )
    # then the case is closed with its outcome and the follow-ups are the lead's
    case3.refresh_from_db()
    assert (case3.status, case3.outcome, case3.closed_on, case3.outcome_on, case3.closed_by, case3.closure_note) == (
        CaseStatus.CLOSED,
        Outcome.FIRST_LABOUR_MARKET,
        cw.days_ago(1),
        cw.days_ago(1),
        coordinator,
        "Festanstellung",
    )
    assert set(FollowUp.objects.filter(case=case3).values_list("owner", flat=True)) == {rav_adviser.pk}


def test_it_drops_the_open_agreements_of_a_closed_case(case3: Case, coordinator: User, rav_adviser: User) -> None:
    # given one open and one done agreement
    open_one = cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(-5))
    done_one = cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(-5))
    services.agreement_set_status(actor=rav_adviser, agreement=done_one, status="done")
    # when the case is closed
    services.case_close(actor=coordinator, case=case3, outcome=Outcome.JOB_KEPT, closed_on=cw.days_ago(0))
    # then the open one is dropped and the done one stays done
    assert [Agreement.objects.get(pk=a.pk).status for a in (open_one, done_one)] == [
        AgreementStatus.DROPPED,
        AgreementStatus.DONE,
    ]


def test_it_refuses_to_reopen_a_dropped_agreement_after_closure(
    case3: Case, coordinator: User, rav_adviser: User
) -> None:
    # given an agreement dropped by the closure
    agreement = cw.agreement_add(case=case3, coordinator=coordinator, owner=rav_adviser, due_on=cw.days_ago(-5))
    services.case_close(actor=coordinator, case=case3, outcome=Outcome.JOB_KEPT, closed_on=cw.days_ago(0))
    # when its owner sets it open or done again
    with pytest.raises(ValidationError, match="abgeschlossen"):
        services.agreement_set_status(actor=rav_adviser, agreement=agreement, status="open")
    # then it stays dropped
    assert Agreement.objects.get(pk=agreement.pk).status == AgreementStatus.DROPPED


def test_it_tells_the_second_closer_that_the_case_changed(case3: Case, coordinator: User) -> None:
    # given a case whose closure form was loaded at some version, after which the case changed
    loaded = Case.objects.get(pk=case3.pk).lock_version
    services.case_change_level(
        actor=coordinator, case=case3, to_level=2, reason="zurück", changed_on=cw.days_ago(0), expected_version=loaded
    )
    # when the form is saved
    with pytest.raises(services.StaleEdit):
        services.case_close(
            actor=coordinator,
            case=Case.objects.get(pk=case3.pk),
            outcome=Outcome.JOB_KEPT,
            closed_on=cw.days_ago(0),
            expected_version=loaded,
        )
    # then the case is still open without follow-ups
    assert (Case.objects.get(pk=case3.pk).status, FollowUp.objects.filter(case=case3).count()) == (CaseStatus.OPEN, 0)


def _follow_up(specialist: User, closed_days_ago: int = 20) -> FollowUp:
    case = _closed_case(specialist=specialist, closed_days_ago=closed_days_ago)
    return FollowUp.objects.get(case=case, months_after=6)


def test_it_records_a_follow_up(iv_specialist: User) -> None:
    # given a follow-up of a case closed twenty days ago
    follow_up = _follow_up(iv_specialist)
    # when the specialist records that the person is still integrated
    services.follow_up_record(
        actor=iv_specialist, follow_up=follow_up, status=FollowUpStatus.STILL_INTEGRATED, recorded_on=cw.days_ago(0)
    )
    # then it is recorded by the specialist today
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.recorded_on, follow_up.recorded_by, follow_up.back_with) == (
        FollowUpStatus.STILL_INTEGRATED,
        cw.days_ago(0),
        iv_specialist,
        None,
    )


def test_it_records_which_partner_the_person_came_back_to(iv_specialist: User, world: World) -> None:
    # given a follow-up of a closed case
    follow_up = _follow_up(iv_specialist)
    # when the person is back at the RAV (the revolving door)
    services.follow_up_record(
        actor=iv_specialist,
        follow_up=follow_up,
        status=FollowUpStatus.BACK_WITH_PARTNER,
        recorded_on=cw.days_ago(0),
        back_with=world.labour,
    )
    # then the institution is recorded
    assert FollowUp.objects.get(pk=follow_up.pk).back_with == world.labour


@pytest.mark.parametrize(
    ("status", "recorded_days_ago", "message"),
    [
        (FollowUpStatus.BACK_WITH_PARTNER, 0, "Bei welcher Partnerinstitution"),
        ("", 0, "Ergebnis der Nachbefragung"),
        (FollowUpStatus.STILL_INTEGRATED, 21, "vor dem Abschluss"),
        (FollowUpStatus.STILL_INTEGRATED, -1, "nicht in der Zukunft"),
    ],
    ids=["back-without-institution", "no-status", "before-closure", "future"],
)
def test_it_refuses_an_incomplete_or_misdated_follow_up(
    status: str, recorded_days_ago: int, message: str, iv_specialist: User
) -> None:
    # given a follow-up of a case closed twenty days ago
    follow_up = _follow_up(iv_specialist, closed_days_ago=20)
    # when it is recorded without what it needs or on the wrong day
    with pytest.raises(ValidationError, match=message):
        services.follow_up_record(
            actor=iv_specialist, follow_up=follow_up, status=status, recorded_on=cw.days_ago(recorded_days_ago)
        )
    # then nothing is recorded
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.recorded_on, follow_up.recorded_by) == ("", None, None)


def test_it_refuses_a_follow_up_of_a_case_that_is_still_open(iv_specialist: User) -> None:
    # given an open case with a follow-up (a state only a direct write produces)
    case = cw.case_open(specialist=iv_specialist)
    follow_up = FollowUp.objects.create(case=case, months_after=6, due_on=cw.days_ago(0), owner=iv_specialist)
    # when it is recorded
    with pytest.raises(ValidationError, match="erst nach dem Abschluss"):
        services.follow_up_record(
            actor=iv_specialist, follow_up=follow_up, status=FollowUpStatus.UNKNOWN, recorded_on=cw.days_ago(0)
        )
    # then nothing is recorded
    assert FollowUp.objects.get(pk=follow_up.pk).recorded_on is None
