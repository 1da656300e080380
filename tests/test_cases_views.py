"""The case pages: access (404 for outsiders, 403 for the wrong role), forms, htmx fragments, query counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from iiz.cases import services
from iiz.cases.models import (
    Agreement,
    Case,
    CaseStatus,
    CaseTeam,
    Clarification,
    InformationRequest,
    IntegrationPlan,
    JointInterview,
    LifeSituation,
    Measure,
    Meeting,
    MeetingParticipant,
    PlanStatus,
    ProblemTopic,
    Screening,
    ServiceOffering,
    TargetGroupCheck,
)
from iiz.clients.models import Client, DataCategory
from iiz.organisations.models import Municipality, User
from tests.conftest import World
from tests.factories import ClientFactory, ConsentFactory, RegistrationFactory

pytestmark = pytest.mark.django_db

HttpAs = Callable[[User], HttpClient]
SHARED = [DataCategory.PERSONAL, DataCategory.OCCUPATIONAL, DataCategory.SOCIAL_ASSISTANCE, DataCategory.FINANCIAL]


def _today() -> dt.date:
    return timezone.localdate()


def _person(world: World, iv_specialist: User, last_name: str = "Beispiel") -> Client:
    """A person in Uster, registered with the IV-Stelle, the RAV and the social service; consent without medical."""
    uster = Municipality.objects.get(bfs_number=198, valid_until__isnull=True)
    person = ClientFactory(
        last_name=last_name,
        recorded_by_institution=world.disability,
        municipality=uster,
        date_of_birth=_today().replace(year=_today().year - 57) - dt.timedelta(days=10),
        registered=False,
    )
    RegistrationFactory(client=person, institution=world.disability)
    RegistrationFactory(client=person, institution=world.labour, unit=world.rav_uster)
    RegistrationFactory(client=person, institution=world.social_service_uster)
    ConsentFactory(
        client=person,
        institutions=[world.disability, world.labour, world.social_service_uster, world.coordination],
        categories=SHARED,
        recorded_by=iv_specialist,
    )
    return person


def _passing_check(person: Client, iv_specialist: User, days_ago: int = 20) -> TargetGroupCheck:
    return services.target_group_check_record(
        actor=iv_specialist,
        client=person,
        employable=True,
        topics=ProblemTopic.objects.filter(code__in=["health", "debt"]),
        topics_block_integration=True,
        checked_on=_today() - dt.timedelta(days=days_ago),
    )


def _case_at_level_3(person: Client, iv: User, coordinator: User, rav: User, social: User) -> Case:
    """A case worked up to a case team with one held meeting, through the services."""
    today = _today()
    case = services.case_open(
        actor=iv,
        client=person,
        target_group_check=_passing_check(person, iv),
        opened_on=today - dt.timedelta(days=20),
    )
    case = services.case_change_level(
        actor=iv,
        case=case,
        to_level=2,
        reason="Hilfe",
        changed_on=today - dt.timedelta(days=15),
        coordinator=coordinator,
    )
    case = services.case_change_level(
        actor=coordinator,
        case=case,
        to_level=3,
        reason="Fallteam",
        changed_on=today - dt.timedelta(days=10),
        case_team=CaseTeam.objects.get(name="iiz-Fallteam Oberland"),
    )
    start = timezone.now() - dt.timedelta(days=3)
    services.meeting_schedule(
        actor=coordinator,
        case=case,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        place="Uster",
        agenda="Situation",
        users=[rav, social, iv],
    )
    return Case.objects.get(pk=case.pk)


def _add_entries(case: Case, n: int, world: World, iv: User, coordinator: User, rav: User, social: User) -> None:
    """n entries of every kind, written straight to the database (the services are tested elsewhere)."""
    today, now = _today(), timezone.now()
    for i in range(n):
        answered = i % 2 == 1
        InformationRequest.objects.create(
            case=case,
            to_institution=world.labour if i % 3 else world.social_service_uster,
            question=f"Frage {i}",
            category=DataCategory.OCCUPATIONAL if i % 3 else DataCategory.SOCIAL_ASSISTANCE,
            asked_by=coordinator,
            asked_on=today - dt.timedelta(days=5),
            due_on=today + dt.timedelta(days=i - 2),
            answer="Antwort" if answered else "",
            answered_by=rav if answered else None,
            answered_on=today if answered else None,
        )
        interview = JointInterview.objects.create(
            case=case, held_on=today, summary=f"Gespräch {i}", recorded_by=coordinator
        )
        interview.participants.set([coordinator, iv])
        start = now - dt.timedelta(days=i + 1)
        meeting = Meeting.objects.create(
            case=case,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            place=f"Ort {i}",
            agenda="Traktanden",
            organised_by=coordinator,
            minutes="Protokoll" if i % 2 else "",
        )
        MeetingParticipant.objects.bulk_create(
            [
                MeetingParticipant(meeting=meeting, user=rav),
                MeetingParticipant(meeting=meeting, user=social),
                MeetingParticipant(meeting=meeting, is_client=True),
            ]
        )
        Agreement.objects.create(
            case=case,
            meeting=meeting,
            text=f"Vereinbarung {i}",
            owner=rav if i % 2 else social,
            due_on=today + dt.timedelta(days=i - 2),
            created_by=coordinator,
            created_on=today - dt.timedelta(days=3),
        )
    for dimension, writer in (("social", social), ("occupational", rav), ("medical", iv)):
        Clarification.objects.create(
            case=case, dimension=dimension, institution=writer.institution, situation="Lage", written_by=writer
        )
    agreed = IntegrationPlan.objects.create(
        case=case,
        version=1,
        status=PlanStatus.AGREED,
        goals="Ziele",
        case_lead=rav,
        agreed_on=today,
        client_agreed_on=today,
        created_by=coordinator,
    )
    draft = IntegrationPlan.objects.create(case=case, version=2, goals="Neue Ziele", created_by=coordinator)
    service = ServiceOffering.objects.get(code="alv-placement")
    for plan in (agreed, draft):
        Measure.objects.bulk_create(
            [
                Measure(
                    plan=plan,
                    service=service,
                    description=f"Massnahme {i}",
                    responsible_institution=world.labour,
                    responsible_user=rav,
                    start_on=today - dt.timedelta(days=10),
                    due_on=today + dt.timedelta(days=i - 2),
                )
                for i in range(n)
            ]
        )


@pytest.fixture
def case(world: World, iv_specialist: User, coordinator: User, rav_adviser: User, social_worker: User) -> Case:
    person = _person(world, iv_specialist)
    return _case_at_level_3(person, iv_specialist, coordinator, rav_adviser, social_worker)


def _url(name: str, *args: object) -> str:
    return reverse(f"cases:{name}", args=args)


# ---------------------------------------------------------------------------------------------------------
# Access
# ---------------------------------------------------------------------------------------------------------


def _case_urls(case: Case) -> list[tuple[str, str]]:
    meeting = case.meetings.get()
    ref = case.reference
    return [
        ("get", _url("detail", ref)),
        ("get", _url("plan_version", ref, 1)),
        ("get", _url("meeting_ical", ref, meeting.pk)),
        ("get", _url("measure_services", ref)),
        ("post", _url("route", ref)),
        ("post", _url("level_change", ref)),
        ("post", _url("info_create", ref)),
        ("post", _url("info_answer", ref, 1)),
        ("post", _url("interview_create", ref)),
        ("post", _url("clarification_save", ref, "medical")),
        ("post", _url("plan_create", ref)),
        ("post", _url("plan_update", ref, 1)),
        ("post", _url("measure_add", ref, 1)),
        ("post", _url("plan_agree", ref, 1)),
        ("post", _url("measure_status", ref, 1)),
        ("post", _url("meeting_schedule", ref)),
        ("post", _url("meeting_minutes", ref, meeting.pk)),
        ("post", _url("agreement_add", ref, meeting.pk)),
        ("post", _url("agreement_status", ref, 1)),
        ("post", _url("close", ref)),
        ("post", _url("follow_up_record", ref, 1)),
    ]


def test_it_answers_404_to_an_outsider_on_every_case_url(case: Case, biz_adviser: User, http_as: HttpAs) -> None:
    # given a case worker of another institution who takes no part in the case
    http = http_as(biz_adviser)
    # when she tries every page and change of the case, then the case does not exist for her
    for method, url in _case_urls(case):
        response = getattr(http, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)


def test_it_answers_404_to_an_outsider_on_every_client_entry_url(
    world: World, iv_specialist: User, biz_adviser: User, http_as: HttpAs
) -> None:
    # given a person the biz adviser's institution does not know
    person = _person(world, iv_specialist)
    check = _passing_check(person, iv_specialist)
    http = http_as(biz_adviser)
    urls = [
        ("get", _url("screening_create", person.public_id)),
        ("post", _url("screening_create", person.public_id)),
        ("get", _url("check_create", person.public_id)),
        ("post", _url("check_create", person.public_id)),
        ("get", _url("check_detail", person.public_id, check.pk)),
        ("post", _url("check_override", person.public_id, check.pk)),
        ("get", _url("open", person.public_id, check.pk)),
        ("post", _url("open", person.public_id, check.pk)),
    ]
    # when / then
    for method, url in urls:
        assert getattr(http, method)(url).status_code == 404, (method, url)


def test_it_answers_404_for_an_unknown_case(coordinator: User, http_as: HttpAs) -> None:
    assert http_as(coordinator).get(_url("detail", "IIZ-2000-99999")).status_code == 404


def test_it_refuses_a_coordinator_only_change_to_a_participant_without_the_role(
    case: Case, rav_adviser: User, http_as: HttpAs
) -> None:
    # given the RAV adviser, who takes part in the case as a case worker
    http = http_as(rav_adviser)
    meeting = case.meetings.get()
    start = timezone.localtime() + dt.timedelta(days=7)
    # when he tries to schedule a meeting, record minutes and agreements, or change the level
    responses = [
        http.post(
            _url("meeting_schedule", case.reference),
            {
                "meeting-starts_at": f"{start:%Y-%m-%dT%H:%M}",
                "meeting-ends_at": f"{start + dt.timedelta(hours=1):%Y-%m-%dT%H:%M}",
                "meeting-place": "Uster",
                "meeting-agenda": "x",
                "meeting-users": [rav_adviser.pk],
            },
        ),
        http.post(_url("meeting_minutes", case.reference, meeting.pk), {f"minutes-{meeting.pk}-minutes": "x"}),
        http.post(_url("agreement_add", case.reference, meeting.pk), {}),
        http.post(_url("level_change", case.reference), {"level-to_level": "2"}),
    ]
    # then each is refused and nothing is written
    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert case.meetings.count() == 1


def test_it_refuses_get_on_a_change_url(case: Case, coordinator: User, http_as: HttpAs) -> None:
    assert http_as(coordinator).get(_url("close", case.reference)).status_code == 405


# ---------------------------------------------------------------------------------------------------------
# Query counts
# ---------------------------------------------------------------------------------------------------------


def _count(http: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("viewer", ["coordinator", "rav_adviser", "iv_specialist"])
def test_it_reads_the_case_page_in_a_fixed_number_of_queries(
    viewer: str,
    request: pytest.FixtureRequest,
    world: World,
    iv_specialist: User,
    coordinator: User,
    rav_adviser: User,
    social_worker: User,
    http_as: HttpAs,
) -> None:
    # given two cases, one with a few entries of each kind and one with many
    people = (iv_specialist, coordinator, rav_adviser, social_worker)
    few = _case_at_level_3(_person(world, iv_specialist, "Wenig"), *people)
    many = _case_at_level_3(_person(world, iv_specialist, "Viel"), *people)
    _add_entries(few, 1, world, *people)
    _add_entries(many, 7, world, *people)
    http = http_as(request.getfixturevalue(viewer))
    http.get(_url("detail", few.reference))  # warm caches (content types, translations)
    # when each case page is read
    count_few = _count(http, _url("detail", few.reference))
    count_many = _count(http, _url("detail", many.reference))
    # then both take the same number of queries
    assert count_few == count_many


def test_it_reads_the_closed_case_page_in_a_fixed_number_of_queries(
    world: World, iv_specialist: User, coordinator: User, rav_adviser: User, social_worker: User, http_as: HttpAs
) -> None:
    # given two closed cases with a few and with many entries, follow-ups due
    people = (iv_specialist, coordinator, rav_adviser, social_worker)
    cases = []
    for name, n in (("Wenig", 1), ("Viel", 6)):
        case = _case_at_level_3(_person(world, iv_specialist, name), *people)
        _add_entries(case, n, world, *people)
        case = services.case_close(actor=coordinator, case=case, outcome="job_kept", closed_on=_today())
        case.follow_ups.update(due_on=_today())
        cases.append(case)
    http = http_as(coordinator)
    http.get(_url("detail", cases[0].reference))
    # when / then
    assert _count(http, _url("detail", cases[0].reference)) == _count(http, _url("detail", cases[1].reference))


def test_it_reads_the_case_list_in_a_fixed_number_of_queries(
    world: World, iv_specialist: User, coordinator: User, rav_adviser: User, social_worker: User, http_as: HttpAs
) -> None:
    # given the coordinator in one case, then in five
    people = (iv_specialist, coordinator, rav_adviser, social_worker)
    _case_at_level_3(_person(world, iv_specialist, "Erste"), *people)
    http = http_as(coordinator)
    http.get(_url("list"))
    one = _count(http, _url("list") + "?status=&level=")
    for i in range(4):
        _case_at_level_3(_person(world, iv_specialist, f"Weitere{i}"), *people)
    # when / then
    assert _count(http, _url("list") + "?status=&level=") == one


def test_it_keeps_the_client_page_constant_with_many_screenings(
    world: World, iv_specialist: User, http_as: HttpAs
) -> None:
    # given a person with one screening and check, then with many
    person = _person(world, iv_specialist)
    situations = list(LifeSituation.objects.all()[:2])
    http = http_as(iv_specialist)

    def add() -> None:
        screening = services.screening_record(
            actor=iv_specialist, client=person, life_situations=situations, screened_on=_today()
        )
        check = _passing_check(person, iv_specialist, days_ago=1)
        check.screening = screening
        check.save()

    add()
    url = person.get_absolute_url()
    http.get(url)
    one = _count(http, url)
    for _ in range(4):
        add()
    # when / then
    assert _count(http, url) == one


# ---------------------------------------------------------------------------------------------------------
# Before a case
# ---------------------------------------------------------------------------------------------------------


def test_it_preselects_life_situations_by_age(world: World, iv_specialist: User, http_as: HttpAs) -> None:
    # given a 57-year-old
    person = _person(world, iv_specialist)
    over_55 = LifeSituation.objects.get(code="employee-over-55-limited")
    youth = LifeSituation.objects.get(code="youth-no-qualification")
    # when the screening form opens
    response = http_as(iv_specialist).get(_url("screening_create", person.public_id))
    # then the situation for people over 55 is ticked and the one for young people is not
    form = response.context["form"]
    assert form.initial["life_situations"] == [over_55.pk]
    assert youth.pk not in form.initial["life_situations"]


def test_it_records_a_screening_and_leads_to_the_check(world: World, iv_specialist: User, http_as: HttpAs) -> None:
    person = _person(world, iv_specialist)
    situation = LifeSituation.objects.get(code="employee-over-55-limited")
    # when
    response = http_as(iv_specialist).post(
        _url("screening_create", person.public_id),
        {"life_situations": [situation.pk], "screened_on": _today().isoformat(), "note": "Gespräch"},
    )
    # then
    screening = Screening.objects.get(client=person)
    assert response.status_code == 302
    assert response["Location"].endswith(f"?screening={screening.pk}")
    assert list(screening.life_situations.all()) == [situation]


def test_it_keeps_the_input_and_shows_the_error_at_the_field(
    world: World, iv_specialist: User, http_as: HttpAs
) -> None:
    person = _person(world, iv_specialist)
    # when the date lies in the future
    future = _today() + dt.timedelta(days=3)
    response = http_as(iv_specialist).post(
        _url("screening_create", person.public_id), {"screened_on": future.isoformat(), "note": "Meine Notiz"}
    )
    # then nothing is saved, the note stays and the error stands at the date
    assert response.status_code == 400
    assert "screened_on" in response.context["form"].errors
    assert "Meine Notiz" in response.content.decode()
    assert not Screening.objects.filter(client=person).exists()


def test_it_shows_each_failing_criterion_with_its_reason(world: World, iv_specialist: User, http_as: HttpAs) -> None:
    # given a check of a person judged not employable, without topics
    person = _person(world, iv_specialist)
    http = http_as(iv_specialist)
    response = http.post(
        _url("check_create", person.public_id), {"employable": "no", "checked_on": _today().isoformat()}
    )
    check = TargetGroupCheck.objects.get(client=person)
    # when the result is shown
    page = http.get(response["Location"]).content.decode()
    # then the failing criteria carry their reasons, the others say "erfüllt", and no case can be opened
    assert "Die Person gilt als nicht erwerbsfähig" in page
    assert "Es ist kein Thema erfasst" in page
    assert page.count("badge--ok") >= 2
    assert not check.allows_case
    assert _url("open", person.public_id, check.pk) not in page


def test_it_lets_a_coordinator_override_a_failed_check(
    world: World, iv_specialist: User, coordinator: User, http_as: HttpAs
) -> None:
    # given a failed check and a coordinator who sees the person (her office registered the person)
    person = _person(world, iv_specialist)
    RegistrationFactory(client=person, institution=world.coordination)
    check = services.target_group_check_record(
        actor=iv_specialist,
        client=person,
        employable=False,
        topics=[],
        topics_block_integration=False,
        checked_on=_today(),
    )
    ConsentFactory(client=person, institutions=[world.disability, world.coordination], categories=[*SHARED, "medical"])
    http = http_as(coordinator)
    # when she overrides it with too short, then with a real reason
    short = http.post(_url("check_override", person.public_id, check.pk), {"override_reason": "weil"})
    done = http.post(
        _url("check_override", person.public_id, check.pk),
        {"override_reason": "Gesundheitliche Lage wird eben geklärt."},
    )
    # then
    assert short.status_code == 400
    assert "override_reason" in short.context["override_form"].errors
    assert done.status_code == 302
    check.refresh_from_db()
    assert check.allows_case


def test_it_opens_a_case_from_a_passing_check(world: World, iv_specialist: User, http_as: HttpAs) -> None:
    person = _person(world, iv_specialist)
    check = _passing_check(person, iv_specialist, days_ago=0)
    http = http_as(iv_specialist)
    # when
    response = http.post(
        _url("open", person.public_id, check.pk),
        {"route": "coordination", "opened_on": _today().isoformat(), "reason": "Mehrere Themen"},
    )
    # then
    case = Case.objects.get(client=person)
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    assert case.route == "coordination"
    page = http.get(person.get_absolute_url()).content.decode()
    assert case.reference in page


def test_it_refuses_to_open_a_case_to_a_case_worker(
    world: World, iv_specialist: User, rav_adviser: User, http_as: HttpAs
) -> None:
    person = _person(world, iv_specialist)
    ConsentFactory(client=person, institutions=[world.disability, world.labour], categories=[*SHARED, "medical"])
    check = _passing_check(person, iv_specialist, days_ago=0)
    assert http_as(rav_adviser).get(_url("open", person.public_id, check.pk)).status_code == 403


# ---------------------------------------------------------------------------------------------------------
# The case page
# ---------------------------------------------------------------------------------------------------------


def test_it_withholds_the_medical_clarification_without_consent(
    case: Case, iv_specialist: User, social_worker: User, http_as: HttpAs
) -> None:
    # given the IV specialist's medical clarification, and a consent without the medical category
    services.clarification_save(actor=iv_specialist, case=case, dimension="medical", situation="Rückenleiden, 50 %")
    # when the social worker reads the case
    page = http_as(social_worker).get(case.get_absolute_url()).content.decode()
    # then the text is not there, and the page says it is withheld
    assert "Rückenleiden" not in page
    assert "Zurückgehalten, Einwilligung nötig." in page
    own = http_as(iv_specialist).get(case.get_absolute_url()).content.decode()
    assert "Rückenleiden" in own


def test_it_tells_the_second_writer_and_keeps_the_text(case: Case, iv_specialist: User, http_as: HttpAs) -> None:
    # given a medical clarification that someone changed after the form was loaded
    record = services.clarification_save(actor=iv_specialist, case=case, dimension="medical", situation="Erste Fassung")
    loaded_version = record.lock_version
    services.clarification_save(
        actor=iv_specialist, case=case, dimension="medical", situation="Zweite Fassung", expected_version=loaded_version
    )
    # when the form with the old version is saved
    response = http_as(iv_specialist).post(
        _url("clarification_save", case.reference, "medical"),
        {"clar-medical-situation": "Meine eigene Fassung", "clar-medical-expected_version": str(loaded_version)},
    )
    # then the writer is told, the text is kept, and the other change is not overwritten
    page = response.content.decode()
    assert response.status_code == 400
    assert "Jemand anderes hat diese Angaben inzwischen geändert" in page
    assert "Meine eigene Fassung" in page
    assert Clarification.objects.get(case=case, dimension="medical").situation == "Zweite Fassung"


def test_it_adds_a_measure_and_returns_the_plan_section_for_htmx(
    case: Case, world: World, coordinator: User, rav_adviser: User, http_as: HttpAs
) -> None:
    # given a draft plan
    plan = services.plan_draft_create(actor=coordinator, case=case, goals="Stelle finden", case_lead=rav_adviser)
    service = ServiceOffering.objects.get(code="alv-placement")
    data = {
        "measure-service": str(service.pk),
        "measure-description": "Stellensuche begleiten",
        "measure-responsible_institution": str(world.labour.pk),
        "measure-responsible_user": str(rav_adviser.pk),
        "measure-start_on": _today().isoformat(),
        "measure-due_on": (_today() + dt.timedelta(days=30)).isoformat(),
        "measure-expected_version": str(plan.lock_version),
    }
    # when the measure is added with htmx
    response = http_as(coordinator).post(
        _url("measure_add", case.reference, plan.version), data, HTTP_HX_REQUEST="true"
    )
    # then only the plan section comes back (with the timeline out of band), showing the measure
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="plan"')
    assert 'hx-swap-oob="true"' in page
    assert "Stellensuche begleiten" in page
    assert "<html" not in page


def test_it_refuses_a_measure_without_responsible_institution(
    case: Case, coordinator: User, rav_adviser: User, http_as: HttpAs
) -> None:
    plan = services.plan_draft_create(actor=coordinator, case=case, goals="Ziele", case_lead=rav_adviser)
    response = http_as(coordinator).post(
        _url("measure_add", case.reference, plan.version),
        {
            "measure-description": "Ohne Institution",
            "measure-start_on": _today().isoformat(),
            "measure-due_on": _today().isoformat(),
            "measure-expected_version": str(plan.lock_version),
        },
    )
    assert response.status_code == 400
    assert "responsible_institution" in response.context["measure_form"].errors
    assert "Ohne Institution" in response.content.decode()
    assert not plan.measures.exists()


def test_it_returns_the_section_with_the_errors_for_htmx(
    case: Case, coordinator: User, rav_adviser: User, http_as: HttpAs
) -> None:
    plan = services.plan_draft_create(actor=coordinator, case=case, goals="Ziele", case_lead=rav_adviser)
    # when an incomplete measure is sent with htmx
    response = http_as(coordinator).post(
        _url("measure_add", case.reference, plan.version),
        {"measure-description": "Halbfertig", "measure-expected_version": str(plan.lock_version)},
        HTTP_HX_REQUEST="true",
    )
    # then the plan section comes back with status 400, the input kept and the errors at the fields
    page = response.content.decode()
    assert response.status_code == 400
    assert page.lstrip().startswith('<section id="plan"')
    assert "Halbfertig" in page
    assert "Jede Massnahme braucht eine verantwortliche Institution." in page
    assert "hx-swap-oob" not in page


def test_it_moves_the_case_with_a_reason_and_shows_it_in_the_timeline(
    world: World, iv_specialist: User, coordinator: User, http_as: HttpAs
) -> None:
    # given a fresh case at level 1
    person = _person(world, iv_specialist)
    case = services.case_open(
        actor=iv_specialist, client=person, target_group_check=_passing_check(person, iv_specialist), opened_on=_today()
    )
    http = http_as(iv_specialist)
    # when the specialist asks the Geschäftsstelle for help
    response = http.post(
        _url("level_change", case.reference),
        {
            "level-to_level": "2",
            "level-coordinator": str(coordinator.pk),
            "level-changed_on": _today().isoformat(),
            "level-reason": "Mehrere Institutionen",
            "level-expected_version": str(case.lock_version),
        },
    )
    # then
    case.refresh_from_db()
    assert response.status_code == 302
    assert case.level == 2
    page = http.get(case.get_absolute_url()).content.decode()
    assert "Stufe 1 → Stufe 2" in page
    assert "Mehrere Institutionen" in page


def test_it_refuses_a_move_without_the_coordinator(world: World, iv_specialist: User, http_as: HttpAs) -> None:
    person = _person(world, iv_specialist)
    case = services.case_open(
        actor=iv_specialist, client=person, target_group_check=_passing_check(person, iv_specialist), opened_on=_today()
    )
    response = http_as(iv_specialist).post(
        _url("level_change", case.reference),
        {"level-to_level": "2", "level-changed_on": _today().isoformat(), "level-reason": "Hilfe"},
    )
    assert response.status_code == 400
    assert "coordinator" in response.context["level_form"].errors
    assert Case.objects.get(pk=case.pk).level == 1


def test_it_serves_the_meeting_invitation_to_participants(case: Case, social_worker: User, http_as: HttpAs) -> None:
    meeting = case.meetings.get()
    response = http_as(social_worker).get(_url("meeting_ical", case.reference, meeting.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "BEGIN:VCALENDAR" in body
    assert case.reference in body
    assert case.client.last_name not in body


def test_it_shows_an_overdue_agreement_on_the_owners_start_page(
    case: Case, coordinator: User, rav_adviser: User, http_as: HttpAs
) -> None:
    # given an agreement of the RAV adviser whose date has passed
    meeting = case.meetings.get()
    agreement = services.agreement_add(
        actor=coordinator,
        case=case,
        text="Bewerbungsdossier prüfen",
        owner=rav_adviser,
        due_on=_today(),
        meeting=meeting,
    )
    Agreement.objects.filter(pk=agreement.pk).update(due_on=_today() - dt.timedelta(days=2))
    # when he opens his start page
    page = http_as(rav_adviser).get(reverse("home")).content.decode()
    # then it is listed and marked overdue in words
    assert "Bewerbungsdossier prüfen" in page
    assert "überfällig" in page
    assert case.get_absolute_url() in page


def test_it_closes_the_case_and_records_a_follow_up(
    case: Case, coordinator: User, rav_adviser: User, http_as: HttpAs
) -> None:
    http = http_as(coordinator)
    # when the case is closed without an outcome, then with one
    missing = http.post(
        _url("close", case.reference),
        {"close-closed_on": _today().isoformat(), "close-expected_version": str(case.lock_version)},
    )
    closed = http.post(
        _url("close", case.reference),
        {
            "close-outcome": "first_labour_market",
            "close-closed_on": _today().isoformat(),
            "close-expected_version": str(case.lock_version),
        },
    )
    # then the first is refused at the field, the second closes the case
    assert missing.status_code == 400
    assert "outcome" in missing.context["close_form"].errors
    assert closed.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    # and when the six-month follow-up is due and recorded (time travel: six months pass)
    follow_up = case.follow_ups.get(months_after=6)
    case.follow_ups.filter(pk=follow_up.pk).update(due_on=_today())
    recorded = http.post(
        _url("follow_up_record", case.reference, follow_up.pk),
        {
            f"followup-{follow_up.pk}-status": "still_integrated",
            f"followup-{follow_up.pk}-recorded_on": _today().isoformat(),
        },
    )
    assert recorded.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == "still_integrated"
    assert "Neuen Fall eröffnen" in http.get(case.get_absolute_url()).content.decode()


def test_it_lists_older_plan_versions(
    case: Case, coordinator: User, rav_adviser: User, world: World, http_as: HttpAs
) -> None:
    # given an agreed first version and a second draft
    plan = services.plan_draft_create(actor=coordinator, case=case, goals="Erste Ziele", case_lead=rav_adviser)
    services.measure_add(
        actor=coordinator,
        plan=plan,
        description="Vermittlung",
        responsible_institution=world.labour,
        start_on=_today(),
        due_on=_today(),
    )
    services.plan_agree(actor=coordinator, plan=plan, agreed_on=_today(), client_agreed_on=_today())
    services.plan_draft_create(actor=coordinator, case=case, goals="Zweite Ziele", case_lead=rav_adviser)
    http = http_as(rav_adviser)
    # when the first version is opened
    response = http.get(_url("plan_version", case.reference, 1))
    # then it is readable with its measures
    assert response.status_code == 200
    assert "Erste Ziele" in response.content.decode()
    assert "Vermittlung" in response.content.decode()
    assert http.get(_url("plan_version", case.reference, 9)).status_code == 404


def test_it_filters_the_case_list(case: Case, coordinator: User, http_as: HttpAs) -> None:
    http = http_as(coordinator)
    assert case.reference in http.get(_url("list")).content.decode()
    assert case.reference in http.get(_url("list") + "?level=3").content.decode()
    assert case.reference not in http.get(_url("list") + "?level=1").content.decode()
    assert case.reference not in http.get(_url("list") + "?status=closed").content.decode()


def test_it_narrows_the_services_to_the_institution(
    case: Case, world: World, coordinator: User, http_as: HttpAs
) -> None:
    # when the coordinator picks the IV-Stelle in the measure form
    response = http_as(coordinator).get(
        _url("measure_services", case.reference), {"measure-responsible_institution": world.disability.pk}
    )
    # then the service select offers the IV's services only
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith("<select") and 'id="id_measure-service"' in html
    assert "Job-Coaching der IV" in html
    assert "Stellenvermittlung RAV" not in html


def test_it_links_a_new_case_to_the_closed_one(
    case: Case, world: World, iv_specialist: User, coordinator: User, http_as: HttpAs
) -> None:
    # given the person's closed case; its check does not open a second case
    services.case_close(actor=coordinator, case=case, outcome="dropped_out", closed_on=_today())
    http = http_as(iv_specialist)
    old_check = case.target_group_check
    assert old_check is not None
    client_page = http.get(case.client.get_absolute_url()).content.decode()
    assert _url("open", case.client.public_id, old_check.pk) not in client_page
    check = _passing_check(case.client, iv_specialist, days_ago=0)
    # when the specialist opens a new case: the form proposes the closed one as the earlier case
    form = http.get(_url("open", case.client.public_id, check.pk)).context["form"]
    assert form.initial["previous_case"] == case.pk
    response = http.post(
        _url("open", case.client.public_id, check.pk),
        {"opened_on": _today().isoformat(), "previous_case": str(case.pk), "reason": "Wieder angemeldet"},
    )
    # then the new case is linked to the old one, and each page shows the link
    new = Case.objects.get(client=case.client, status=CaseStatus.OPEN)
    assert response.status_code == 302
    assert new.previous_case == case
    assert case.reference in http.get(new.get_absolute_url()).content.decode()


def test_it_lets_administrators_edit_the_catalogues_only(admin: User) -> None:
    from django.contrib import admin as django_admin

    from iiz.cases.models import FollowUp

    http = HttpClient()
    http.force_login(admin, backend="iiz.organisations.backends.IizBackend")
    for model in ("lifesituation", "problemtopic", "serviceoffering", "caseteam"):
        assert http.get(f"/admin/cases/{model}/").status_code == 200, model
    for model in (Case, Screening, TargetGroupCheck, Clarification, IntegrationPlan, Meeting, Agreement, FollowUp):
        assert not django_admin.site.is_registered(model), model
