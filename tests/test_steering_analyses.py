"""Case analyses (Wirkungsfaktoren): Kaplan–Meier curves, the Cox model, small numbers, the export.

The data set is built by hand so that the answer is known: cases with IV job coaching in their agreed plan
(and the IV-Stelle taking part) integrate within weeks, the others within months or not at all. A handful
of persons over 55 form a group below the suppression threshold; the 40–54 year olds form a group that is
shown but too small to trust.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from dataclasses import dataclass

import pytest
from django.utils import timezone

from iiz.audit.models import AuditAction, AuditEvent
from iiz.cases.models import (
    Case,
    CaseParticipant,
    CaseStatus,
    FollowUp,
    FollowUpStatus,
    IntegrationPlan,
    LevelChange,
    LifeSituation,
    Measure,
    Outcome,
    PlanStatus,
    Screening,
    ServiceOffering,
)
from iiz.organisations.models import Municipality, User
from iiz.steering import analyses
from iiz.steering.analyses import AnalysisFilter, Labels, case_analysis
from iiz.steering.kpis import CaseRow
from iiz.steering.publication import Publisher
from tests.factories import CaseFactory, ClientFactory

TODAY = timezone.localdate()
OPENED = TODAY - dt.timedelta(days=700)
FAST_MEASURE = "iv-job-coaching"
LIFE_SITUATION = "dismissed-risk-illness"
_names = itertools.count(1)


@dataclass
class Built:
    cases: list[Case]


def _case(
    *,
    users: dict[str, User],
    days: int,
    integrated: bool,
    birth_year: int,
    fast: bool,
    closed: bool = True,
    level: int = 2,
    lasting: bool | None = None,
    with_iv: bool = False,
) -> Case:
    number = next(_names)
    client = ClientFactory(
        registered=False,
        first_name=f"Vorname{number:03d}x",
        last_name=f"Nachname{number:03d}x",
        date_of_birth=dt.date(birth_year, 3, 17),
        municipality=Municipality.objects.get(bfs_number=198, valid_until__isnull=True),
    )
    screening = Screening.objects.create(
        client=client,
        institution=users["rav"].institution,
        screened_by=users["rav"],
        screened_on=OPENED,
        note="vertraulicher Freitext",
    )
    screening.life_situations.set([LifeSituation.objects.get(code=LIFE_SITUATION)])
    end = OPENED + dt.timedelta(days=days)
    case = CaseFactory(
        client=client,
        opened_on=OPENED,
        opened_by=users["rav"],
        serving_institution=users["rav"].institution,
        screening=screening,
        status=CaseStatus.CLOSED if closed else CaseStatus.OPEN,
        closed_on=end if closed else None,
        outcome=(Outcome.FIRST_LABOUR_MARKET if integrated else Outcome.OTHER) if closed else "",
        outcome_on=end if closed and integrated else None,
        closure_note="vertraulicher Freitext zum Abschluss",
    )
    members = [users["rav"], users["coordinator"]] + ([users["iv"]] if with_iv else [])
    for user in members:
        CaseParticipant.objects.create(case=case, user=user, institution=user.institution, joined_on=OPENED)
    LevelChange.objects.create(
        case=case, from_level=1, to_level=level, changed_by=users["coordinator"], changed_on=OPENED, reason="Test"
    )
    if fast:
        plan = IntegrationPlan.objects.create(
            case=case,
            version=1,
            status=PlanStatus.AGREED,
            goals="Ziele",
            created_by=users["coordinator"],
            agreed_on=OPENED,
        )
        Measure.objects.create(
            plan=plan,
            service=ServiceOffering.objects.get(code=FAST_MEASURE),
            description="Job-Coaching",
            responsible_institution=users["iv"].institution,
            start_on=OPENED,
            due_on=OPENED + dt.timedelta(days=30),
        )
    if lasting is not None:
        FollowUp.objects.create(
            case=case,
            months_after=12,
            due_on=end + dt.timedelta(days=365),
            recorded_on=end + dt.timedelta(days=365),
            status=FollowUpStatus.STILL_INTEGRATED if lasting else FollowUpStatus.NOT_INTEGRATED,
        )
    return case


@pytest.fixture
def users(rav_adviser, iv_specialist, coordinator) -> dict[str, User]:
    return {"rav": rav_adviser, "iv": iv_specialist, "coordinator": coordinator}


@pytest.fixture
def built(users) -> Built:
    """40 fast cases and 40 slow ones, in four age bands: 26–39 (50), 40–54 (21, shown with a warning),
    up to 25 (6, hidden to protect the next one) and over 55 (3, below the threshold)."""
    cases = []
    for i in range(40):
        # Fast: integrated after 20 to 98 days; job coaching, IV-Stelle involved.
        birth = 1990 if i < 24 else 1975 if i < 34 else 2004
        cases.append(
            _case(
                users=users,
                days=20 + 2 * i,
                integrated=True,
                birth_year=birth,
                fast=True,
                with_iv=True,
                level=2 + i % 2,
                lasting=i % 2 == 0,
            )
        )
    for i in range(40):
        # Slow: integrated after 200 to 540 days, every fourth closed otherwise, five still open; the IV-Stelle
        # takes part in every third.
        birth = 1980 if i < 11 else 1955 if i >= 37 else 1990
        cases.append(
            _case(
                users=users,
                days=200 + 10 * i,
                integrated=i % 4 != 0,
                birth_year=birth,
                fast=False,
                with_iv=i % 3 == 0,
                closed=i < 35,
                level=2 + i % 2,
            )
        )
    return Built(cases)


def published(ids) -> int:
    """The published count of cases (``iiz.steering.publication``): what the page may show of them."""
    return Publisher().count(sorted(ids)).value


def _group(analysis, dimension_key: str, group_key: str):
    dimension = next(d for d in analysis.dimensions if d.key == dimension_key)
    return next((g for g in dimension.groups if g.key == group_key), None), dimension


# --- the analysis ----------------------------------------------------------------------------------------


def test_it_finds_the_faster_group_by_kaplan_meier_and_cox(built):
    # given the hand-built cases / when
    analysis = case_analysis(filters=AnalysisFilter())

    # then the group with job coaching reaches half of its integrations much earlier
    fast, measures = _group(analysis, "measures", FAST_MEASURE)
    slow, _dimension = _group(analysis, "measures", "")
    assert fast is not None and slow is not None
    assert fast.median is not None and slow.median is not None
    assert fast.median < slow.median
    assert fast.median == 58  # the 20th of 40 integrations: 20 + 2 * 19 days
    fast_ids = [case.pk for case in built.cases[:40]]
    slow_cases = built.cases[40:]
    # the 35 closed less the 9 with i % 4 == 0 are integrated; none of the open: counts as published
    slow_events = [case.pk for i, case in enumerate(slow_cases) if i < 35 and i % 4 != 0]
    assert (fast.n, fast.events) == (published(fast_ids), published(fast_ids))
    assert (slow.n, slow.events) == (published(c.pk for c in slow_cases), published(slow_events))
    # and the Cox model does not pretend: every case with job coaching integrated before any without it, a
    # separation, so the flag gets the reason instead of an artefact of a hazard ratio
    cox = analysis.cox
    assert cox.message is None
    assert any(label.endswith("Job-Coaching der IV") for label, _why in cox.separated)
    assert not any(r.column == f"measure:{FAST_MEASURE}" for r in cox.rows)
    for row in cox.rows:
        assert 1e-3 < row.hazard_ratio < 1e3
    assert (cox.n, cox.events) == (80, 66)
    assert (analysis.n, analysis.events) == (80, 66)


def test_it_warns_where_a_group_is_too_small_to_trust(built):
    # given 21 persons aged 40–54 (10 fast, 11 slow) / when
    analysis = case_analysis(filters=AnalysisFilter())

    # then their curve is shown, with the warning on the number of cases
    middle, _dimension = _group(analysis, "age_band", "40-54")
    assert middle is not None
    assert middle.n == published(_aged(built, 40, 54))
    assert any(f"{middle.n} Fälle" in warning for warning in middle.warnings)
    big, _dimension = _group(analysis, "age_band", "26-39")
    assert big is not None and big.n == published(_aged(built, 26, 39)) and not big.warnings


def _aged(built, low: int, high: int) -> list[int]:
    return [c.pk for c in built.cases if low <= c.opened_on.year - c.client.date_of_birth.year <= high]


def test_it_leaves_out_groups_with_too_few_integrations(built):
    # given six persons up to 25 (six integrations) and three over 55 (none): fewer than ten integrations each,
    # and fewer than ten together
    # when
    analysis = case_analysis(filters=AnalysisFilter())

    # then neither is shown, nor merged, and the page says why
    young, dimension = _group(analysis, "age_band", "-25")
    old, _dimension = _group(analysis, "age_band", "55-")
    assert young is None and old is None
    assert dimension.hidden == 2
    assert any("weniger als 10 Integrationen" in note for note in dimension.notes)
    assert sum(group.n for group in dimension.groups) == published(_aged(built, 26, 39)) + published(
        _aged(built, 40, 54)
    )


def test_it_reports_separation_instead_of_a_hazard_ratio_of_zero(users):
    # given a measure whose cases never integrate (like the "Arbeitsversuch" of the issue) beside enough others
    for i in range(30):
        _case(users=users, days=40 + 3 * i, integrated=True, birth_year=1990, fast=False, closed=True)
    for i in range(12):
        _case(users=users, days=300 + i, integrated=False, birth_year=1990, fast=True, closed=True)

    # when
    cox = case_analysis(filters=AnalysisFilter()).cox

    # then the measure gets no hazard ratio but the reason, and no row of the model shows 0.00
    assert any(label.endswith("Job-Coaching der IV") and "keine Integration" in why for label, why in cox.separated)
    assert all(row.hazard_ratio > 1e-3 for row in cox.rows)
    assert not any(row.column == f"measure:{FAST_MEASURE}" for row in cox.rows)


def test_it_takes_at_most_one_feature_per_ten_integrations(built):
    # given 66 integrations / when
    cox = case_analysis(filters=AnalysisFilter()).cox

    # then the model has at most six features, the rest are named with the reason
    assert 0 < len(cox.rows) <= 66 // 10
    assert all(
        "weniger als 10 Integrationen je Merkmal" in why
        for _label, why in cox.dropped
        if "je Merkmal" in why
    )
    # and the categories are compared with a named reference, the flags with the cases without them
    assert any(reference.startswith("Altersgruppe: ") for reference in cox.references)


def test_it_reports_no_model_and_no_curves_without_integrations(users):
    # given cases that are all still open
    for i in range(12):
        _case(users=users, days=100 + i, integrated=False, birth_year=1990, fast=i % 2 == 0, closed=False)

    # when
    analysis = case_analysis(filters=AnalysisFilter())

    # then no curve is drawn (no group has ten integrations) and the model says why it is missing
    assert analysis.events == 0
    assert analysis.cox.message is not None and "Keine Integration" in analysis.cox.message
    assert all(not dimension.groups for dimension in analysis.dimensions)


def test_it_survives_degenerate_frames():
    # given one group only, a constant column, and no cases at all
    labels = Labels(life_situations={"a": "A"}, services={}, institution_kinds={1: "labour"})
    rows = [
        CaseRow(
            id=i,
            client_id=i,
            opened_on=dt.date(2025, 1, 1),
            closed_on=dt.date(2025, 3, 1),
            detected_on=None,
            level=1,
            serving_institution_id=1,
            district=101,
            birth_year=1990,
            outcome=Outcome.FIRST_LABOUR_MARKET,
            outcome_on=dt.date(2025, 3, 1),
            benefits_ended_on=None,
            previous_case_id=None,
            life_situations={"a"},
            institutions={1},
        )
        for i in range(8)
    ]
    frame = analyses.analysis_frame(rows, labels=labels, today=TODAY)

    # when / then nothing raises: every case integrated, every column constant
    cox = analyses.cox_model(frame, labels, threshold=5)
    assert cox.message is not None and not cox.rows
    dimension = analyses.km_by_dimension(frame, "age_band", labels, threshold=5)
    assert dimension.groups == []  # eight integrations: fewer than ten, no reliable curve
    empty = analyses.analysis_frame([], labels=labels, today=TODAY)
    assert analyses.cox_model(empty, labels, threshold=5).message is not None
    assert analyses.km_by_dimension(empty, "level", labels, threshold=5).groups == []


def test_it_explains_a_model_that_does_not_converge(monkeypatch):
    # given a fitter that fails the way lifelines does on separated data
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    def fail(*args, **kwargs):
        raise ConvergenceError("delta contains nan value(s)")

    monkeypatch.setattr(CoxPHFitter, "fit", fail)
    labels = Labels(life_situations={}, services={}, institution_kinds={})
    rows = [
        CaseRow(
            id=i,
            client_id=i,
            opened_on=dt.date(2025, 1, 1),
            closed_on=dt.date(2025, 1, 1) + dt.timedelta(days=10 + i),
            detected_on=None,
            level=1,
            serving_institution_id=1,
            district=101,
            birth_year=1990 if i % 2 else 1960,
            outcome=Outcome.FIRST_LABOUR_MARKET if i % 3 else Outcome.OTHER,
            outcome_on=dt.date(2025, 1, 1) + dt.timedelta(days=10 + i),
            benefits_ended_on=None,
            previous_case_id=None,
        )
        for i in range(40)
    ]

    # when
    cox = analyses.cox_model(analyses.analysis_frame(rows, labels=labels, today=TODAY), labels, threshold=5)

    # then
    assert cox.message is not None and "konvergiert nicht" in cox.message


def test_it_keeps_names_and_ids_out_of_the_frame(built):
    # given / when
    frame = analyses.analysis_frame(
        analyses.analysis_cases(filters=AnalysisFilter()), labels=Labels.load(), today=TODAY
    )

    # then only pseudonyms identify a case
    ids = {str(case.pk) for case in built.cases} | {str(case.client_id) for case in built.cases}
    assert not ids & set(frame["case"]) and not ids & set(frame["person"])
    assert not {"id", "client_id", "birth_year", "date_of_birth"} & set(frame.columns)
    assert frame["case"].is_unique


# --- the page --------------------------------------------------------------------------------------------


def test_it_shows_the_curves_the_cox_table_and_the_warnings(built, supervisory, http_as):
    # given / when
    response = http_as(supervisory).get("/steuerung/analysen/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('role="img"') >= 4
    assert "<title id=" in html and "<desc id=" in html
    assert "style=" not in html.split("<main", 1)[1] and "<style" not in html
    assert "Hazard Ratio" in html and "Job-Coaching der IV" in html
    assert f"{published(_aged(built, 40, 54))} Fälle" in html  # the warning of the 40–54 year olds
    assert "55+" not in html  # the hidden group


def test_it_renders_the_page_without_integrations(users, committee, http_as):
    # given open cases only
    for i in range(8):
        _case(users=users, days=100 + i, integrated=False, birth_year=1990, fast=False, closed=False)

    # when
    response = http_as(committee).get("/steuerung/analysen/")

    # then a message, not an error
    assert response.status_code == 200
    assert "Keine Integration in den ausgewählten Fällen" in response.content.decode()


def test_it_renders_an_empty_period_with_an_explanation(built, coordinator, http_as):
    # given / when
    response = http_as(coordinator).get("/steuerung/analysen/", {"von": "2001", "bis": "2001-Q2"})

    # then
    assert response.status_code == 200
    assert "Zu wenige Fälle oder Integrationen" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [{"von": "2026-Q5"}, {"bis": "letztes Jahr"}, {"von": "2026", "bis": "2025"}, {"lebenssituation": "gibt-es-nicht"}],
)
def test_it_refuses_an_invalid_filter_with_a_clear_400(query, supervisory, http_as):
    # given / when
    response = http_as(supervisory).get("/steuerung/analysen/", query)

    # then
    assert response.status_code == 400
    assert 'class="error-summary"' in response.content.decode()


def test_it_refuses_the_analyses_to_a_case_worker(rav_adviser, admin, http_as):
    # given roles without steering / when / then
    assert http_as(rav_adviser).get("/steuerung/analysen/").status_code == 403
    assert http_as(admin).get("/steuerung/analysen/").status_code == 403
    assert http_as(rav_adviser).get("/steuerung/analysen/export.csv").status_code == 403


# --- the export ------------------------------------------------------------------------------------------


def test_it_exports_pseudonymised_histories_and_audits_the_export(built, coordinator, http_as):
    # given
    before = AuditEvent.objects.count()

    # when
    response = http_as(coordinator).get("/steuerung/analysen/export.csv")

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 80
    clients = [case.client for case in built.cases]
    for row in rows:
        text = ";".join(row.values())
        for client in clients:
            assert client.first_name not in text and client.last_name not in text
            assert client.ahv_number not in text
            assert client.date_of_birth.isoformat() not in text
            assert client.date_of_birth.strftime("%d.%m.%Y") not in text
            assert str(client.public_id) not in text
        assert "vertraulich" not in text
        assert row["age_band"] in {"-25", "26-39", "40-54", "55-"}
        assert row["district"] and row["duration"].isdigit()
    assert not {str(case.client_id) for case in built.cases} & {row["person"] for row in rows}
    event = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == before + 1
    assert (event.action, event.object_type, event.actor) == (AuditAction.EXPORT, "analysis_export", coordinator)
    assert event.details["rows"] == 80


def test_it_lets_only_the_coordinators_export(built, supervisory, committee, http_as):
    # given strategic roles without case work / when / then
    assert http_as(supervisory).get("/steuerung/analysen/export.csv").status_code == 403
    assert http_as(committee).get("/steuerung/analysen/export.csv").status_code == 403
    assert AuditEvent.objects.filter(object_type="analysis_export").count() == 0


def test_it_filters_the_export_by_period(built, coordinator, http_as):
    # given / when
    response = http_as(coordinator).get("/steuerung/analysen/export.csv", {"von": str(OPENED.year + 5)})

    # then
    assert response.status_code == 200
    assert response.content.decode().strip().count("\n") == 0  # the header only


def test_it_draws_the_chart_with_escaped_labels_and_no_styles():
    # given a group whose label an administrator wrote with markup
    from iiz.steering.views_analyses import km_chart_svg

    labels = Labels(life_situations={"x": '<script>alert("x")</script> & Co'}, services={}, institution_kinds={})
    rows = [
        CaseRow(
            id=i,
            client_id=i,
            opened_on=dt.date(2025, 1, 1),
            closed_on=dt.date(2025, 1, 1) + dt.timedelta(days=30 + 5 * i),
            detected_on=None,
            level=1,
            serving_institution_id=1,
            district=101,
            birth_year=1990,
            outcome=Outcome.FIRST_LABOUR_MARKET if i % 2 else Outcome.OTHER,
            outcome_on=dt.date(2025, 1, 1) + dt.timedelta(days=30 + 5 * i),
            benefits_ended_on=None,
            previous_case_id=None,
            life_situations={"x"},
        )
        for i in range(30)
    ]
    dimension = analyses.km_by_dimension(
        analyses.analysis_frame(rows, labels=labels, today=TODAY), "life_situation", labels, threshold=5
    )

    # when
    svg = str(km_chart_svg(dimension))

    # then
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp; Co" in svg
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert "style" not in svg
    assert 'fill-opacity="0.15"' in svg
