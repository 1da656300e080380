"""Two (or fifty) writers on the same state change at the same moment, on PostgreSQL.

Every change of a status or of versioned content either checks the version the writer saw or locks the
row for the transition: exactly one writer succeeds, the others are told (and keep their input), nothing is
recorded twice and no one gets an error page. The writers run in threads, each with its own database
connection, on committed data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse

from iiz.audit.models import AuditAction, AuditEvent
from iiz.cases import services
from iiz.cases.models import AgreementStatus, Case, CaseStatus, IntegrationPlan, MeasureStatus, Outcome, PlanStatus
from iiz.clients.models import Registration
from iiz.clients.services import registration_end
from iiz.organisations.models import User
from tests import cases_world as cw

pytestmark = [pytest.mark.postgres]


def race(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` in ``count`` threads released at the same moment; each result or raised exception."""
    results: list[object] = [None] * count
    start = threading.Barrier(count, timeout=60)

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread raised
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def signed_in(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user, backend="iiz.organisations.backends.IizBackend")
    return http


def audit_count(object_type: str, object_id: object, action: str = AuditAction.UPDATE) -> int:
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id), action=action).count()


def people() -> dict[str, User]:
    names = {
        "iv": "iv-spezialistin",
        "coordinator": "koordinatorin",
        "rav": "rav-berater",
        "social": "sozialdienst-uster",
    }
    return {key: User.objects.get(username=name) for key, name in names.items()}


def case3(users: dict[str, User]) -> Case:
    case = cw.case_at_level(3, specialist=users["iv"], coordinator=users["coordinator"])
    cw.participant_join(case=case, by=users["coordinator"], users=[users["rav"], users["social"]])
    return case


# ---------------------------------------------------------------------------------------------------------
# The two checks of the issue, through the pages
# ---------------------------------------------------------------------------------------------------------


def test_it_lets_one_of_25_done_and_25_dropped_clicks_on_an_agreement_through(committed_world) -> None:
    # given an open agreement, and fifty pages showing it open (the owner's and the coordinator's)
    users = people()
    case = case3(users)
    agreement = cw.agreement_add(
        case=case, coordinator=users["coordinator"], owner=users["rav"], due_on=cw.days_ago(-30)
    )
    url = reverse("cases:agreement_status", args=[case.reference, agreement.pk])
    pages = [signed_in(users["rav"] if i % 2 else users["coordinator"]) for i in range(50)]

    # when 25 mark it done and 25 mark it dropped at the same moment
    responses = race(
        50,
        lambda i: pages[i].post(url, {"status": "done" if i < 25 else "dropped", "expected_status": "open"}),
    )

    # then exactly one succeeds, the 49 others are told (no error page), and one change is audited
    codes = sorted(getattr(r, "status_code", r) for r in responses)
    assert codes == [302] + [400] * 49
    told = [r.content.decode() for r in responses if r.status_code == 400]  # type: ignore[union-attr]
    assert all("bereits als" in page or "inzwischen als" in page for page in told)
    agreement.refresh_from_db()
    assert agreement.status in {AgreementStatus.DONE, AgreementStatus.DROPPED}
    assert audit_count("agreement", agreement.pk) == 1


def test_it_creates_one_draft_when_fifty_users_start_a_new_plan_version_at_once(committed_world) -> None:
    # given a case with an agreed plan, and fifty pages offering "new version"
    users = people()
    case = case3(users)
    plan, _measure = cw.plan_with_measure(
        case=case, actor=users["coordinator"], case_lead=users["rav"], responsible_institution=users["rav"].institution
    )
    cw.plan_agreed(plan=plan, actor=users["coordinator"])
    url = reverse("cases:plan_create", args=[case.reference])
    pages = [signed_in(users["coordinator"] if i % 2 else users["iv"]) for i in range(50)]

    # when all fifty start a new version at the same moment
    responses = race(50, lambda i: pages[i].post(url, {"plannew-goals": f"Neue Ziele {i}"}))

    # then exactly one draft exists (version 2), the others are told, and no one gets an error page
    codes = sorted(getattr(r, "status_code", r) for r in responses)
    assert codes == [302] + [400] * 49
    assert list(case.plans.filter(status=PlanStatus.DRAFT).values_list("version", flat=True)) == [2]
    assert audit_count("integration_plan", case.plans.get(version=2).pk, AuditAction.CREATE) == 1


# ---------------------------------------------------------------------------------------------------------
# Two writers on each other state change, through the services
# ---------------------------------------------------------------------------------------------------------


def outcome(results: list[object]) -> tuple[int, list[str]]:
    """How many writers succeeded, and the codes of the errors the others were told."""
    refused = [r for r in results if isinstance(r, ValidationError)]
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, ValidationError)]
    assert not unexpected, unexpected
    return len(results) - len(refused), sorted(str(e.code) for e in refused)


def test_it_takes_each_transition_once_when_two_writers_race(committed_world) -> None:
    """One case, and on it every kind of state change raced by two writers who loaded the same state."""
    from iiz.interfaces.imports import import_batch_confirm
    from iiz.interfaces.models_imports import ImportBatch, ImportStatus
    from iiz.outbox.models import OutboxMessage

    users = people()
    rav, coordinator = users["rav"], users["coordinator"]
    case = case3(users)
    day = cw.days_ago(2)

    # a measure reported done and running at once, from pages that showed it planned
    plan, measure = cw.plan_with_measure(
        case=case, actor=coordinator, case_lead=rav, responsible_institution=rav.institution
    )
    # the draft agreed twice at once
    seen_plans = [IntegrationPlan.objects.select_related("case").get(pk=plan.pk) for _ in range(2)]
    results = race(2, lambda i: services.plan_agree(
        actor=coordinator, plan=seen_plans[i], agreed_on=day, client_agreed_on=day, expected_version=plan.lock_version
    ))
    assert outcome(results)[0] == 1, "plan agreed"
    assert audit_count("integration_plan", plan.pk) == 1

    seen_measures = [type(measure).objects.select_related("plan__case").get(pk=measure.pk) for _ in range(2)]
    results = race(2, lambda i: services.measure_set_status(
        actor=rav, measure=seen_measures[i], status=[MeasureStatus.DONE, MeasureStatus.RUNNING][i],
        expected_status=MeasureStatus.PLANNED,
    ))
    assert outcome(results)[0] == 1, "measure state"
    assert audit_count("measure", measure.pk) == 1

    # an information request answered twice
    info = services.information_request_create(
        actor=coordinator, case=case, to_institution=rav.institution, question="Stand der Vermittlung?",
        category="occupational", due_on=cw.days_ago(-10),
    )
    seen_infos = [type(info).objects.select_related("case").get(pk=info.pk) for _ in range(2)]
    results = race(2, lambda i: services.information_request_answer(actor=rav, info=seen_infos[i], answer=f"A{i}"))
    assert outcome(results) == (1, ["already_done"]), "information request"
    assert audit_count("information_request", info.pk, AuditAction.DISCLOSE) == 1

    # minutes saved twice from the same version
    meeting = cw.meeting_schedule(case=case, coordinator=coordinator, users=[rav], day=cw.days_ago(3))
    seen_meetings = [type(meeting).objects.select_related("case").get(pk=meeting.pk) for _ in range(2)]
    results = race(2, lambda i: services.meeting_record_minutes(
        actor=coordinator, meeting=seen_meetings[i], minutes=f"Protokoll {i}", expected_version=0
    ))
    assert outcome(results) == (1, ["stale"]), "minutes"
    assert audit_count("meeting_minutes", meeting.pk) == 1

    # the first version of a clarification written twice
    results = race(2, lambda i: services.clarification_save(
        actor=rav, case=Case.objects.get(pk=case.pk), dimension="occupational", situation=f"Fassung {i}"
    ))
    assert outcome(results) == (1, ["stale"]), "clarification"
    assert case.clarifications.count() == 1

    # an import confirmed twice
    batch = ImportBatch.objects.create(
        institution=rav.institution, created_by=rav, file_name="p.csv", file_format="csv",
        status=ImportStatus.PREVIEWED,
    )
    seen_batches = [ImportBatch.objects.get(pk=batch.pk) for _ in range(2)]
    results = race(2, lambda i: import_batch_confirm(actor=rav, batch=seen_batches[i]))
    assert outcome(results)[0] == 1, "import confirmed"
    assert OutboxMessage.objects.filter(task="iiz.interfaces.tasks_imports.imports_apply").count() == 1

    # a registration ended twice
    person = cw.person_create(actor=rav)
    registration = Registration.objects.get(client=person)
    seen_registrations = [Registration.objects.get(pk=registration.pk) for _ in range(2)]
    results = race(2, lambda i: registration_end(
        actor=rav, registration=seen_registrations[i], deregistered_on=cw.days_ago(i + 1)
    ))
    assert outcome(results) == (1, ["already_done"]), "registration"
    assert audit_count("registration", registration.pk) == 1

    # a case opened twice for one person
    iv = users["iv"]
    other = cw.person_create(actor=iv)
    checks = [cw.check_passed(actor=iv, client=other) for _ in range(2)]
    results = race(2, lambda i: services.case_open(
        actor=iv, client=other, target_group_check=checks[i], opened_on=cw.days_ago(1)
    ))
    assert outcome(results) == (1, ["already_done"]), "case opened"
    assert Case.objects.filter(client=other, status=CaseStatus.OPEN).count() == 1

    # the case closed twice, then its follow-up recorded twice
    seen_cases = [Case.objects.get(pk=case.pk) for _ in range(2)]
    results = race(2, lambda i: services.case_close(
        actor=coordinator, case=seen_cases[i], outcome=Outcome.values[0], closed_on=cw.days_ago(1)
    ))
    assert outcome(results)[0] == 1, "case closed"
    assert (case.follow_ups.count(), audit_count("case_closure", case.pk)) == (2, 1)
    follow_up = case.follow_ups.get(months_after=6)
    seen_follow_ups = [type(follow_up).objects.select_related("case").get(pk=follow_up.pk) for _ in range(2)]
    results = race(2, lambda i: services.follow_up_record(
        actor=coordinator, follow_up=seen_follow_ups[i], status="still_integrated", recorded_on=cw.days_ago(0)
    ))
    assert outcome(results) == (1, ["already_done"]), "follow-up"
    assert audit_count("follow_up", follow_up.pk) == 1
