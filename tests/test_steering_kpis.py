"""Every KPI of the catalogue, checked against a second, independent computation over the raw records.

The data is the hand-built history of ``tests/steering_world.py`` (written through the ORM with explicit
dates, because the KPIs are about past periods; see there). The expected values are worked out here from rows
read with ``.values()`` and plain Python, without the catalogue's loader, rows or helpers, so that a mistake
in ``iiz.steering.kpis`` cannot hide behind the same mistake in the test.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from iiz.cases.models import (
    Agreement,
    Case,
    CaseParticipant,
    CaseStatus,
    FollowUp,
    InformationRequest,
    IntegrationPlan,
    LevelChange,
    Outcome,
    Screening,
)
from iiz.clients.models import Client, Consent, Registration
from iiz.organisations.models import InstitutionKind, User, UserRole
from iiz.steering.kpis import DIMENSIONS, KPIS, KpiValue, Period, Scope, dataset_load, kpi_breakdown, kpi_compute
from tests.factories import CaseFactory, RegistrationFactory, partner
from tests.steering_world import D, SteeringWorld, steering_world_build

PERIODS = ["2024", "2025", "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026", "2099"]
ZURICH = ZoneInfo("Europe/Zurich")


@pytest.fixture
def steering_world(iv_specialist: User, coordinator: User) -> SteeringWorld:
    return steering_world_build(specialist=iv_specialist, coordinator=coordinator)


# ---------------------------------------------------------------------------------------------------------
# The second path: raw records and plain Python
# ---------------------------------------------------------------------------------------------------------


class Raw:
    """The platform's records as plain dictionaries and tuples, read once."""

    def __init__(self) -> None:
        self.today = timezone.localdate()
        self.cases = {
            row["id"]: row
            for row in Case.objects.values(
                "id",
                "client_id",
                "opened_on",
                "closed_on",
                "detected_on",
                "serving_institution_id",
                "screening_id",
                "outcome",
                "benefits_ended_on",
            )
        }
        districts = dict(Client.objects.values_list("id", "municipality__district__number"))
        for row in self.cases.values():
            row["district"] = districts[row["client_id"]]
        through = Screening.life_situations.through
        situations: dict[int, set[tuple[str, str]]] = defaultdict(set)
        for row in through.objects.values("screening_id", "lifesituation__code", "lifesituation__group"):
            situations[row["screening_id"]].add((row["lifesituation__code"], row["lifesituation__group"]))
        for row in self.cases.values():
            row["situations"] = situations.get(row["screening_id"], set())
        self.moves = sorted(
            LevelChange.objects.values("case_id", "changed_on", "changed_at", "id", "to_level"),
            key=lambda m: (m["changed_on"], m["changed_at"], m["id"]),
        )
        self.plans = list(IntegrationPlan.objects.values("case_id", "status", "agreed_on"))
        self.follow_ups = list(FollowUp.objects.values("case_id", "months_after", "status", "recorded_on"))
        coordinator_ids = set(UserRole.objects.filter(role="coordinator").values_list("user_id", flat=True))
        self.active_coordinators = len(
            set(User.objects.filter(id__in=coordinator_ids, is_active=True).values_list("id", flat=True))
        )
        self.case_coordinators: dict[int, set[int]] = defaultdict(set)
        for row in CaseParticipant.objects.values("case_id", "user_id"):
            if row["user_id"] in coordinator_ids:
                self.case_coordinators[row["case_id"]].add(row["user_id"])
        self.registrations = list(Registration.objects.values("client_id", "registered_on", "institution__kind"))
        self.agreements = list(Agreement.objects.values("case_id", "due_on", "done_on", "status"))
        self.requests = list(InformationRequest.objects.values("case_id", "due_on", "answered_on"))
        self.consents = [
            (
                row["client_id"],
                row["recorded_at"].astimezone(ZURICH).date(),
                row["revoked_at"].astimezone(ZURICH).date() if row["revoked_at"] else None,
            )
            for row in Consent.objects.values("client_id", "recorded_at", "revoked_at")
        ]

    # -- helpers ------------------------------------------------------------------------------------------

    @staticmethod
    def inside(day: dt.date | None, period: Period) -> bool:
        return day is not None and period.start <= day <= period.end

    def level_at(self, case_id: int, day: dt.date) -> int:
        level = 1
        for move in self.moves:
            if move["case_id"] == case_id and move["changed_on"] <= day:
                level = move["to_level"]
        return level

    def first_level3(self, case_id: int) -> dt.date | None:
        return next((m["changed_on"] for m in self.moves if m["case_id"] == case_id and m["to_level"] == 3), None)

    def first_plan(self, case_id: int) -> dt.date | None:
        days = [
            p["agreed_on"]
            for p in self.plans
            if p["case_id"] == case_id and p["status"] in ("agreed", "superseded") and p["agreed_on"]
        ]
        return min(days) if days else None

    def follow_up(self, case_id: int, months: int) -> str | None:
        for row in self.follow_ups:
            if row["case_id"] == case_id and row["months_after"] == months and row["recorded_on"] is not None:
                return row["status"]
        return None

    @staticmethod
    def median_days(pairs: list[tuple[dt.date | None, dt.date | None]]) -> tuple[float | None, int]:
        days = [(b - a).days for a, b in pairs if a is not None and b is not None and b >= a]
        return (float(statistics.median(days)) if days else None), len(days)

    def came_back(self, case: dict) -> bool:
        """A new case, or a new registration of a kind the person was registered with before the closure."""
        closed = case["closed_on"]
        until = closed + relativedelta(months=12)
        own = [r for r in self.registrations if r["client_id"] == case["client_id"]]
        kinds_before = {r["institution__kind"] for r in own if r["registered_on"] <= closed}
        again = [r["registered_on"] for r in own if r["institution__kind"] in kinds_before]
        again += [c["opened_on"] for c in self.cases.values() if c["client_id"] == case["client_id"]]
        return any(closed < day <= until for day in again)

    # -- the KPIs -----------------------------------------------------------------------------------------

    def expected(self, code: str, ids: set[int], period: Period) -> KpiValue:
        """The KPI over the cases ``ids``, worked out from the raw records."""
        cases = [self.cases[i] for i in sorted(ids)]
        end = period.end
        open_at_end = [c for c in cases if c["opened_on"] <= end and (c["closed_on"] is None or c["closed_on"] > end)]
        closed = [c for c in cases if self.inside(c["closed_on"], period)]
        countable = [c for c in closed if c["outcome"] != "moved_away"]

        def share(numerator: int, denominator: int) -> KpiValue:
            if denominator == 0:
                return KpiValue(None, numerator, 0, 0)
            return KpiValue(numerator / denominator, numerator, denominator, denominator)

        def median(pairs: list[tuple[dt.date | None, dt.date | None]]) -> KpiValue:
            value, n = self.median_days(pairs)
            return KpiValue(value, n=n)

        if code == "open_cases":
            return KpiValue(float(len(open_at_end)), n=len(open_at_end))
        if code == "new_cases":
            new = [c for c in cases if self.inside(c["opened_on"], period)]
            return KpiValue(float(len(new)), n=len(new))
        if code == "days_detection_to_opening":
            return median([(c["detected_on"], c["opened_on"]) for c in cases if self.inside(c["opened_on"], period)])
        if code == "days_to_level3":
            return median(
                [
                    (c["opened_on"], self.first_level3(c["id"]))
                    for c in cases
                    if self.inside(self.first_level3(c["id"]), period)
                ]
            )
        if code == "days_to_plan":
            return median(
                [
                    (c["opened_on"], self.first_plan(c["id"]))
                    for c in cases
                    if self.inside(self.first_plan(c["id"]), period)
                ]
            )
        if code == "agreements_on_time":
            due = [
                a
                for a in self.agreements
                if a["case_id"] in ids
                and self.inside(a["due_on"], period)
                and (a["status"] == "done" or a["due_on"] < self.today)
            ]
            on_time = [a for a in due if a["status"] == "done" and a["done_on"] and a["done_on"] <= a["due_on"]]
            return share(len(on_time), len(due))
        if code == "integration_rate":
            integrated = [c for c in countable if c["outcome"] in ("first_labour_market", "job_kept")]
            return share(len(integrated), len(countable))
        if code == "job_retention_rate":
            at_risk = [c for c in countable if any(group == "job_at_risk" for _code, group in c["situations"])]
            return share(sum(1 for c in at_risk if c["outcome"] == "job_kept"), len(at_risk))
        if code in ("confirmed_6m", "confirmed_12m"):
            months = 6 if code == "confirmed_6m" else 12
            asked = [
                c
                for c in closed
                if c["outcome"] in ("first_labour_market", "job_kept")
                and self.follow_up(c["id"], months) is not None
            ]
            still = [c for c in asked if self.follow_up(c["id"], months) == "still_integrated"]
            return share(len(still), len(asked))
        if code == "benefit_duration":
            return median([(c["opened_on"], c["benefits_ended_on"]) for c in closed])
        if code == "revolving_door":
            observable = [
                c
                for c in closed
                if c["outcome"] in ("first_labour_market", "job_kept")
                and c["closed_on"] + relativedelta(months=12) <= self.today
            ]
            return share(sum(1 for c in observable if self.came_back(c)), len(observable))
        if code == "days_to_closure":
            return median([(c["opened_on"], c["closed_on"]) for c in closed])
        if code == "caseload_per_coordinator":
            with_coordinator = sum(1 for c in open_at_end if self.case_coordinators.get(c["id"]))
            if self.active_coordinators == 0:
                return KpiValue(None, with_coordinator, 0, with_coordinator)
            return KpiValue(
                with_coordinator / self.active_coordinators,
                with_coordinator,
                self.active_coordinators,
                with_coordinator,
            )
        if code in ("consents_given", "consents_revoked"):
            clients = {c["client_id"] for c in cases}
            given = code == "consents_given"
            count = sum(
                1
                for client, recorded, revoked in self.consents
                if client in clients and self.inside(recorded if given else revoked, period)
            )
            return KpiValue(float(count), n=count)
        if code == "requests_in_time":
            due = [
                r
                for r in self.requests
                if r["case_id"] in ids
                and self.inside(r["due_on"], period)
                and (r["answered_on"] is not None or r["due_on"] < self.today)
            ]
            in_time = [r for r in due if r["answered_on"] and r["answered_on"] <= r["due_on"]]
            return share(len(in_time), len(due))
        raise AssertionError(f"KPI {code} has no independent computation in this test; add one.")

    def groups(self, dimension: str, period: Period) -> dict[object, set[int]]:
        groups: dict[object, set[int]] = defaultdict(set)
        for case_id, case in self.cases.items():
            if dimension == "level":
                keys: set[object] = {self.level_at(case_id, period.end)}
            elif dimension == "institution":
                keys = {case["serving_institution_id"]}
            elif dimension == "district":
                keys = {case["district"]}
            else:
                keys = {code for code, _group in case["situations"]} or {None}
            for key in keys:
                groups[key].add(case_id)
        return dict(groups)


def assert_same(actual: KpiValue, expected: KpiValue, label: str) -> None:
    if expected.value is None:
        assert actual.value is None, label
    else:
        assert actual.value == pytest.approx(expected.value), label
    assert actual.n == expected.n, label
    if expected.denominator is not None:
        assert (actual.numerator, actual.denominator) == (expected.numerator, expected.denominator), label


# ---------------------------------------------------------------------------------------------------------
# Every KPI, every period, every breakdown
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("label", PERIODS)
def test_it_computes_every_kpi_as_the_raw_records_say(steering_world: SteeringWorld, label: str) -> None:
    # given the hand-built history and the raw records it left
    raw = Raw()
    period = Period.parse(label)
    # when every KPI of the catalogue is computed for the period
    ds = dataset_load(scope=Scope())
    # then each equals the value worked out independently from the raw records
    for kpi in KPIS:
        assert_same(kpi_compute(kpi.code, ds, period), raw.expected(kpi.code, set(raw.cases), period), kpi.code)


@pytest.mark.parametrize("label", ["2025", "2025-Q3", "2025-Q4", "2026-Q1"])
@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_it_breaks_every_kpi_down_by_each_dimension(steering_world: SteeringWorld, label: str, dimension: str) -> None:
    # given the history and its raw records
    raw = Raw()
    period = Period.parse(label)
    ds = dataset_load(scope=Scope())
    groups = raw.groups(dimension, period)
    for kpi in KPIS:
        # when the KPI is broken down by the dimension
        breakdown = kpi_breakdown(kpi.code, ds, period, dimension)
        # then it has one value per group, equal to the KPI over the group's cases
        assert set(breakdown) == set(groups), (kpi.code, dimension)
        for key, ids in groups.items():
            assert_same(breakdown[key], raw.expected(kpi.code, ids, period), f"{kpi.code} {dimension}={key}")


@pytest.mark.parametrize(
    ("scope", "dimension"),
    [
        (lambda w: Scope(district=109), "district"),
        (lambda w: Scope(life_situation="youth-no-qualification"), "life_situation"),
        (lambda w: Scope(institution_id=w.cases["c2"].serving_institution_id), "institution"),
    ],
)
def test_it_computes_every_kpi_within_a_scope(steering_world: SteeringWorld, scope, dimension: str) -> None:
    # given a scope (a district, a life situation, an institution)
    chosen: Scope = scope(steering_world)
    raw = Raw()
    period = Period.parse("2025")
    key = {
        "district": chosen.district,
        "life_situation": chosen.life_situation,
        "institution": chosen.institution_id,
    }[dimension]
    ids = raw.groups(dimension, period)[key]
    # when the dataset is loaded for the scope only
    ds = dataset_load(scope=chosen)
    # then it holds exactly the scope's cases and every KPI equals the independent value over them
    assert {c.id for c in ds.cases} == ids
    for kpi in KPIS:
        assert_same(kpi_compute(kpi.code, ds, period), raw.expected(kpi.code, ids, period), kpi.code)


# ---------------------------------------------------------------------------------------------------------
# The edge cases, one by one, with the numbers worked out by hand
# ---------------------------------------------------------------------------------------------------------


def test_it_counts_a_job_found_and_a_job_kept_as_integration_and_leaves_moves_out(
    steering_world: SteeringWorld,
) -> None:
    # given 2025: seven closures, one by moving away, two into the first labour market, one job kept, one training
    ds = dataset_load(scope=Scope())
    # when the integration rate is computed
    value = kpi_compute("integration_rate", ds, Period.parse("2025"))
    # then job found and job kept are integrations (training is not), and the move counts on neither side
    assert (value.numerator, value.denominator) == (3, 6)


def test_it_counts_a_return_only_to_the_same_benefit_or_a_new_case(steering_world: SteeringWorld) -> None:
    # given 2025-Q3: two integrations whose twelve months are over; Hans (IV before) registered at the RAV
    ds = dataset_load(scope=Scope())
    q3 = Period.parse("2025-Q3")
    # when the revolving door is computed
    before = kpi_compute("revolving_door", ds, q3)
    # then a registration with another kind of institution is no return
    assert (before.numerator, before.denominator) == (0, 2)
    # when Hans registers with the IV again, within the twelve months after his closure
    RegistrationFactory(
        client=steering_world.clients["hans"],
        institution=partner(InstitutionKind.DISABILITY),
        registered_on=D(2026, 2, 1),
    )
    after = kpi_compute("revolving_door", dataset_load(scope=Scope()), q3)
    # then he counts as back
    assert (after.numerator, after.denominator) == (1, 2)


def test_it_leaves_integrations_whose_twelve_months_are_not_over_out_of_the_revolving_door(
    steering_world: SteeringWorld,
) -> None:
    # given an integration closed a month ago whose person already has a new case
    today = timezone.localdate()
    client = steering_world.clients["gina"]
    CaseFactory(
        client=client,
        opened_on=today - dt.timedelta(days=200),
        status=CaseStatus.CLOSED,
        closed_on=today - dt.timedelta(days=30),
        outcome=Outcome.FIRST_LABOUR_MARKET,
    )
    CaseFactory(client=client, opened_on=today - dt.timedelta(days=10))
    period = Period(today - dt.timedelta(days=40), today, "recent")
    # when the revolving door of that time is computed
    value = kpi_compute("revolving_door", dataset_load(scope=Scope()), period)
    # then the closure is not observable yet: no rate rather than 100 %
    assert value.is_empty
    assert value.denominator == 0


def test_it_reports_the_median_time_to_closure_with_its_cases(steering_world: SteeringWorld) -> None:
    # given the seven closures of 2025 after 263, 288, 119, 240, 172, 95 and 31 days
    ds = dataset_load(scope=Scope())
    # when the time to closure is computed
    value = kpi_compute("days_to_closure", ds, Period.parse("2025"))
    # then it is their median, over seven cases
    assert (value.value, value.n) == (172.0, 7)


def test_it_counts_only_recorded_follow_ups(steering_world: SteeringWorld) -> None:
    # given integrated closures of 2025-Q3, one with follow-ups at 6 and 12 months, one whose follow-up was
    # never recorded
    ds = dataset_load(scope=Scope())
    # when the confirmation at 6 months is computed
    value = kpi_compute("confirmed_6m", ds, Period.parse("2025-Q3"))
    # then only the recorded one counts
    assert (value.numerator, value.denominator) == (1, 1)


def test_it_counts_lapsed_agreements_as_not_on_time_and_leaves_undecided_ones_out(
    steering_world: SteeringWorld,
) -> None:
    # given 2025-Q4: one agreement done late, one on time, one open and overdue, one lapsed ("hinfällig")
    ds = dataset_load(scope=Scope())
    # when the agreements done on time are computed
    q4 = kpi_compute("agreements_on_time", ds, Period.parse("2025-Q4"))
    # then the lapsed and the overdue one count as not on time
    assert (q4.numerator, q4.denominator) == (1, 4)
    # and an open agreement whose date has not come yet is not counted at all
    assert kpi_compute("agreements_on_time", ds, Period.parse("2099")).is_empty


def test_it_counts_requests_answered_late_as_not_in_time(steering_world: SteeringWorld) -> None:
    # given 2025-Q4: one request answered late, one in time, one never answered
    ds = dataset_load(scope=Scope())
    # when the requests answered in time are computed
    value = kpi_compute("requests_in_time", ds, Period.parse("2025-Q4"))
    # then one of three was in time
    assert (value.numerator, value.denominator) == (1, 3)


def test_it_dates_a_consent_by_the_day_in_zurich(steering_world: SteeringWorld) -> None:
    # given a consent recorded at 00:30 on 1 April in Zürich (31 March in UTC)
    ds = dataset_load(scope=Scope())
    # when the consents of the first and second quarter are counted
    # then it belongs to the second quarter
    assert kpi_compute("consents_given", ds, Period.parse("2025-Q1")).value == 0
    assert kpi_compute("consents_given", ds, Period.parse("2025-Q2")).value == 1
    assert kpi_compute("consents_revoked", ds, Period.parse("2025-Q2")).value == 1


def test_it_counts_an_open_case_as_open_at_the_end_of_each_period(steering_world: SteeringWorld) -> None:
    # given the case opened in June 2024 and never closed
    ds = dataset_load(scope=Scope())
    c3 = steering_world.cases["c3"].pk
    # when the open cases of 2024 and 2025 are listed by level
    # then it is open at the end of both, at level 1
    for label in ("2024", "2025"):
        assert kpi_breakdown("open_cases", ds, Period.parse(label), "level")[1].n >= 1
    assert any(c.id == c3 and c.open_on(Period.parse("2025").end) for c in ds.cases)


@pytest.mark.parametrize("text", ["2025-Q5", "25", "2025-Q0", "1999", "2101", "Q3-2025", "2025/Q3", "x" * 40])
def test_it_refuses_a_malformed_period_with_a_message(text: str) -> None:
    with pytest.raises(ValueError, match="Ungültige Periode"):
        Period.parse(text)


def test_it_reads_a_quarter_and_a_year() -> None:
    assert Period.parse("2026-q3") == Period(dt.date(2026, 7, 1), dt.date(2026, 9, 30), "2026-Q3")
    assert Period.parse(" 2026 ") == Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31), "2026")
    assert [p.label for p in Period.parse("2026-Q1").previous(3)] == ["2025-Q3", "2025-Q4", "2026-Q1"]


def test_it_loads_the_dataset_in_a_fixed_number_of_queries(iv_specialist: User, coordinator: User) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.steering_world import bulk_cases_build

    # given three cases, then thirty
    bulk_cases_build(count=3, specialist=iv_specialist, coordinator=coordinator)
    with CaptureQueriesContext(connection) as few:
        dataset_load(scope=Scope())
    bulk_cases_build(count=27, specialist=iv_specialist, coordinator=coordinator)
    # when the dataset is loaded again
    with CaptureQueriesContext(connection) as many:
        ds = dataset_load(scope=Scope())
    # then it holds all thirty cases and took as many queries as for three
    assert len(ds.cases) == 30
    assert len(many) == len(few)
