"""Bulk IIZ cases for the benchmark: valid data by the services' rules, and every KPI computes on them."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from iiz.audit.models import AuditEvent
from iiz.cases.models import (
    Agreement,
    AgreementStatus,
    Case,
    CaseParticipant,
    CaseStatus,
    FollowUp,
    IntegrationPlan,
    LevelChange,
    LifeSituationGroup,
    Measure,
    Meeting,
    MeetingParticipant,
    Outcome,
    PlanStatus,
)
from iiz.demo.bulk_cases import demo_cases_bulk_generate
from iiz.demo.generator import demo_clients_generate
from iiz.demo.world import demo_world_build
from iiz.organisations.models import ContactKind, User
from iiz.steering.kpis import KPIS, Period, Scope, dataset_load, kpi_breakdown
from iiz.steering.selectors import Filters, operational_dashboard, strategic_dashboard

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def bulk_cases() -> list[Case]:
    units = demo_world_build()
    demo_clients_generate(count=400, seed=11, units=units, today=TODAY)
    created = demo_cases_bulk_generate(share=0.15, seed=5, batch_size=150, today=TODAY)
    cases = list(Case.objects.select_related("opened_by__unit", "target_group_check", "screening"))
    assert created == len(cases)
    return cases


def test_it_makes_cases_that_keep_the_services_rules(bulk_cases: list[Case]) -> None:
    # given: the cases of 400 synthetic clients
    cases = bulk_cases

    # then: a realistic share, open and closed, on all three levels
    assert 40 <= len(cases) <= 70
    assert {c.status for c in cases} == {CaseStatus.OPEN, CaseStatus.CLOSED}
    assert {c.level for c in cases} == {1, 2, 3}
    open_per_client = Case.objects.filter(status=CaseStatus.OPEN).values("client_id").annotate(n=Count("id"))
    assert all(row["n"] == 1 for row in open_per_client)
    for case in cases:
        case.full_clean()
        check = case.target_group_check
        assert check is not None and check.passed and case.screening is not None
        assert case.screening.screened_on <= check.checked_on <= case.opened_on <= TODAY
        assert case.serving_institution_id == case.opened_by.institution_id == check.serving_institution_id
        assert case.client.registrations.filter(
            institution_id=case.serving_institution_id, registered_on__lte=check.checked_on,
            deregistered_on__isnull=True,
        ).exists()
        changes = list(LevelChange.objects.filter(case=case).order_by("changed_on", "id"))
        assert [c.to_level for c in changes] == list(range(1, case.level + 1))
        assert [c.changed_on for c in changes] == sorted(c.changed_on for c in changes)
        assert changes[0].changed_on == case.opened_on
        participants = set(CaseParticipant.objects.filter(case=case).values_list("user_id", flat=True))
        assert case.opened_by_id in participants
        assert case.case_lead_id is None or case.case_lead_id in participants
        if case.level < 3:
            assert not Meeting.objects.filter(case=case).exists()
        for meeting in Meeting.objects.filter(case=case):
            assert meeting.held == (timezone.localdate(meeting.starts_at) < TODAY)
            assert set(meeting.participants.exclude(user=None).values_list("user_id", flat=True)) <= participants
        for agreement in Agreement.objects.filter(case=case):
            assert agreement.owner_id in participants
            assert agreement.due_on >= agreement.created_on
            assert agreement.done_on is None or agreement.created_on <= agreement.done_on <= TODAY
        for plan in IntegrationPlan.objects.filter(case=case, status=PlanStatus.AGREED):
            assert plan.case_lead_id == case.case_lead_id and plan.agreed_on is not None
            assert plan.client_agreed_on is not None and Measure.objects.filter(plan=plan).exists()
        follow_ups = FollowUp.objects.filter(case=case)
        if case.status == CaseStatus.CLOSED:
            assert case.outcome and case.closed_on is not None and case.opened_on <= case.outcome_on <= case.closed_on
            assert not Agreement.objects.filter(case=case, status=AgreementStatus.OPEN).exists()
            assert sorted(f.months_after for f in follow_ups) == [6, 12]
            assert all(f.recorded_on is None or f.due_on <= f.recorded_on <= TODAY for f in follow_ups)
        else:
            assert not case.outcome and case.closed_on is None and not follow_ups.exists()


def test_it_writes_one_audit_entry_per_batch_naming_the_cases(bulk_cases: list[Case]) -> None:
    # when
    entries = list(AuditEvent.objects.filter(object_type="case_batch"))

    # then
    assert entries
    named = {case_id for entry in entries for case_id in entry.details["case_ids"]}
    assert named == {case.pk for case in bulk_cases}
    assert all(entry.actor_username == "demo_generate_cases" for entry in entries)


def test_it_lets_every_kpi_compute_on_the_bulk_cases(bulk_cases: list[Case]) -> None:
    # given
    dataset = dataset_load(scope=Scope())
    periods = [Period.parse("2026"), Period.parse("2025"), Period.parse("2026-Q3")]

    # when
    values = {(kpi.code, p.label): kpi.compute(dataset, p) for kpi in KPIS for p in periods}
    breakdown = kpi_breakdown("integration_rate", dataset, periods[1], "district")

    # then: figures behind the outcomes, follow-ups and agreements, not only counts
    assert values[("new_cases", "2026")].value
    assert values[("integration_rate", "2025")].value is not None
    assert values[("agreements_on_time", "2026")].value is not None
    assert values[("caseload_per_coordinator", "2026")].value
    assert values[("days_to_plan", "2026")].value is not None
    assert breakdown
    filters = Filters(period=periods[0], scope=Scope())
    assert strategic_dashboard(filters=filters, today=TODAY).figures
    assert operational_dashboard(filters=filters, today=TODAY, drill=False).figures


def test_it_adds_nothing_once_the_share_is_reached(bulk_cases: list[Case]) -> None:
    # when
    out = io.StringIO()
    call_command("demo_generate_cases", "--share", "0.05", stdout=out)

    # then
    assert "Created 0 cases" in out.getvalue()
    assert Case.objects.count() == len(bulk_cases)


def test_it_closes_cases_by_the_persons_situation_and_invites_external_contacts(bulk_cases: list[Case]) -> None:
    # given: the bulk cases of 400 synthetic clients
    closed = [c for c in bulk_cases if c.status == CaseStatus.CLOSED]

    # then: only persons at risk of losing their job can keep it
    for case in closed:
        assert case.screening is not None
        groups = {s.group for s in case.screening.life_situations.all()}
        if case.outcome == Outcome.JOB_KEPT:
            assert LifeSituationGroup.JOB_AT_RISK in groups
    # and: doctors and employers sit in case teams, with the phone numbers a coordinator calls
    contacts = MeetingParticipant.objects.filter(contact__isnull=False).select_related("contact")
    kinds = {p.contact.kind for p in contacts if p.contact is not None}
    assert {ContactKind.DOCTOR, ContactKind.EMPLOYER} <= kinds
    assert all(p.contact is not None and p.contact.phone for p in contacts)
    # and: the staff who work the cases have names and direct lines, not unit labels
    staff = User.objects.filter(username__startswith="demo-iiz-")
    assert staff.exists()
    assert all(u.phone and u.first_name and u.last_name != u.unit.name for u in staff if u.unit is not None)


def test_it_records_what_the_persons_draw_for_the_cost_benefit_model(bulk_cases: list[Case]) -> None:
    from iiz.clients.models import IvPensionStatus, Registration

    # given the cases of the synthetic clients
    clients = {case.client_id for case in bulk_cases}
    registrations = list(Registration.objects.filter(client_id__in=clients).select_related("institution"))
    # then the RAV's, the social services' and the IV's registrations carry what the persons draw or risk,
    # valid by the model's rules
    for registration in registrations:
        registration.full_clean()
    assert any(r.alv_remaining_days for r in registrations)
    assert {r.iv_pension_status for r in registrations} >= {IvPensionStatus.NONE, IvPensionStatus.PENDING}
