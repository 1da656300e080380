"""The steering pages: who sees which cockpit, bad filters, empty periods, suppression, drill-down, query counts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from iiz.organisations.models import User
from tests.steering_world import SteeringWorld, bulk_cases_build, steering_world_build

Http = Callable[[User], HttpClient]

OPERATIONAL = "/steuerung/operativ/"
STRATEGIC = "/steuerung/strategisch/"
DRILL = "/steuerung/faelle/"


@pytest.fixture
def steering_world(iv_specialist: User, coordinator: User) -> SteeringWorld:
    return steering_world_build(specialist=iv_specialist, coordinator=coordinator)


def test_it_mounts_the_pages_under_steuerung() -> None:
    assert reverse("steering:operational") == OPERATIONAL
    assert reverse("steering:strategic") == STRATEGIC
    assert reverse("steering:drilldown") == DRILL
    assert reverse("steering:reports") == "/steuerung/berichte/"


# ---------------------------------------------------------------------------------------------------------
# Who may see what
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "url", "status"),
    [
        ("supervisory", STRATEGIC, 200),
        ("supervisory", OPERATIONAL, 403),
        ("supervisory", f"{DRILL}?kpi=new_cases&period=2025", 403),
        ("committee", STRATEGIC, 200),
        ("committee", OPERATIONAL, 200),
        ("committee", f"{DRILL}?kpi=new_cases&period=2025", 403),
        ("coordinator", OPERATIONAL, 200),
        ("coordinator", STRATEGIC, 200),
        ("coordinator", f"{DRILL}?kpi=new_cases&period=2025", 200),
        ("rav_adviser", OPERATIONAL, 403),
        ("rav_adviser", STRATEGIC, 403),
        ("rav_adviser", f"{DRILL}?kpi=new_cases&period=2025", 403),
        ("rav_adviser", "/steuerung/berichte/", 403),
        ("admin", OPERATIONAL, 403),
    ],
)
def test_it_lets_each_role_see_its_cockpit_only(
    request: pytest.FixtureRequest, http_as: Http, persona: str, url: str, status: int
) -> None:
    # given a user of a role
    user = request.getfixturevalue(persona)
    # when the user opens a steering page
    response = http_as(user).get(url)
    # then the role decides
    assert response.status_code == status


def test_it_sends_an_anonymous_visitor_to_the_login(db: None) -> None:
    response = HttpClient().get(STRATEGIC)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_the_steering_menu_only_to_those_who_steer(http_as: Http, committee: User, rav_adviser: User) -> None:
    assert 'href="/steuerung/"' in http_as(committee).get("/", follow=True).content.decode()
    assert 'href="/steuerung/"' not in http_as(rav_adviser).get("/").content.decode()


def test_it_sends_the_supervisory_body_from_the_index_to_the_strategic_cockpit(
    http_as: Http, supervisory: User
) -> None:
    response = http_as(supervisory).get("/steuerung/")
    assert response.status_code == 302
    assert response["Location"] == STRATEGIC


# ---------------------------------------------------------------------------------------------------------
# Bad input and empty periods
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [OPERATIONAL, STRATEGIC])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=2026-Q9", "Ungültige Periode"),
        ("period=1850", "Das Jahr muss zwischen"),
        ("period=%3Cscript%3E", "Ungültige Periode"),
        ("institution=999999", "Unbekannte Institution"),
        ("institution=abc", "Unbekannte Institution"),
        ("district=99", "Unbekannter Bezirk"),
        ("life_situation=unknown", "Unbekannte Lebenssituation"),
    ],
)
def test_it_answers_a_bad_filter_with_400_and_the_reason(
    http_as: Http, coordinator: User, url: str, query: str, message: str
) -> None:
    # when a filter in the URL is not acceptable
    response = http_as(coordinator).get(f"{url}?{query}")
    # then the page says why, with 400 and never a server error, and echoes nothing unescaped
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "<script>" not in body.lower().replace("<script src", "")


def test_it_refuses_a_bad_number_of_days_for_stuck_cases(http_as: Http, coordinator: User) -> None:
    response = http_as(coordinator).get(f"{OPERATIONAL}?stuck_days=-3")
    assert response.status_code == 400
    assert "mindestens 1" in response.content.decode()


def test_it_refuses_an_unknown_figure_in_the_drill_down(http_as: Http, coordinator: User) -> None:
    response = http_as(coordinator).get(f"{DRILL}?kpi=salaries&period=2025")
    assert response.status_code == 400
    assert "Unbekannte Kennzahl" in response.content.decode()


def test_it_answers_htmx_with_the_message_only(http_as: Http, coordinator: User) -> None:
    response = http_as(coordinator).get(f"{STRATEGIC}?period=2026-Q9", HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ungültige Periode" in body
    assert "<html" not in body


@pytest.mark.parametrize("url", [OPERATIONAL, STRATEGIC])
def test_it_explains_a_period_without_data_instead_of_showing_zeros(
    steering_world: SteeringWorld, http_as: Http, committee: User, url: str
) -> None:
    # given cases from 2024 on only
    # when a period before them is chosen
    response = http_as(committee).get(f"{url}?period=2019")
    # then the page explains that there are too few cases to show anything, and shows no KPI grid
    body = response.content.decode()
    assert response.status_code == 200
    assert "Für 2019 gibt es zu wenige Fälle (&lt; 5)" in body
    assert 'class="kpi-grid"' not in body


def test_it_explains_a_period_that_has_not_begun(http_as: Http, committee: User) -> None:
    body = http_as(committee).get(f"{STRATEGIC}?period=2099").content.decode()
    assert "hat noch nicht begonnen" in body


def test_it_shows_the_running_quarter_by_default(http_as: Http, committee: User) -> None:
    from django.utils import timezone

    from iiz.steering.kpis import Period

    body = http_as(committee).get(STRATEGIC).content.decode()
    assert f"Periode {Period.current_quarter(timezone.localdate()).label}" in body


# ---------------------------------------------------------------------------------------------------------
# What the pages show
# ---------------------------------------------------------------------------------------------------------


def test_it_shows_each_figure_with_its_definition_formula_and_basis(
    steering_world: SteeringWorld, http_as: Http, committee: User, settings
) -> None:
    # given a threshold of 1, so that the small history shows its shares
    settings.IIZ_SUPPRESSION_THRESHOLD = 1
    body = http_as(committee).get(f"{OPERATIONAL}?period=2025").content.decode()
    # then the integration rate is shown with its definition, its formula and what stands behind it
    assert "Integrationsquote erster Arbeitsmarkt" in body
    assert "Definition und Formel" in body
    assert "Abschlüsse «Integration» (Stelle im ersten Arbeitsmarkt oder Arbeitsplatz erhalten)" in body
    assert "Grundlage:" in body
    # and how the figures are protected
    assert "Zellschlüssel-Verfahren" in body


def test_it_shows_small_published_counts_as_the_marker_on_the_strategic_page(
    steering_world: SteeringWorld, http_as: Http, supervisory: User
) -> None:
    http = http_as(supervisory)
    # given 2025 with eight new cases and six countable closures, three of them integrations
    # when the supervisory body reads the strategic cockpit
    body = http.get(f"{STRATEGIC}?period=2025").content.decode()
    # then small published counts read "< 5", and a share whose counts are small is withheld ("X"), on the card,
    # in the tables and in the charts (a hatched block)
    assert '<span class="suppressed" title="aus Datenschutzgründen unterdrückt">&lt; 5</span>' in body
    assert '<span class="suppressed" title="aus Datenschutzgründen unterdrückt">X</span>' in body
    assert "url(#chart-" in body


def test_it_never_shows_a_person_or_case_to_the_supervisory_body(
    steering_world: SteeringWorld, http_as: Http, supervisory: User
) -> None:
    body = http_as(supervisory).get(f"{STRATEGIC}?period=2025").content.decode()
    assert "IIZ-S-" not in body
    assert "Testperson" not in body
    assert "/steuerung/faelle/" not in body


def test_it_filters_by_district_through_htmx(steering_world: SteeringWorld, http_as: Http, committee: User) -> None:
    # when a filter changes and htmx asks for the figures
    response = http_as(committee).get(f"{OPERATIONAL}?period=2025&district=109", HTTP_HX_REQUEST="true")
    # then only the part below the filters comes back, for the chosen district
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="steering-figures"')
    assert "Bezirk Uster" in body


def test_it_draws_accessible_svg_charts_without_inline_styles(
    steering_world: SteeringWorld, http_as: Http, committee: User
) -> None:
    body = http_as(committee).get(f"{OPERATIONAL}?period=2025").content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in body
    assert "<desc id=" in body
    assert "style=" not in body
    assert "<style" not in body


# ---------------------------------------------------------------------------------------------------------
# Drill-down
# ---------------------------------------------------------------------------------------------------------


def test_it_links_figures_to_their_cases_for_those_who_work_with_cases(
    steering_world: SteeringWorld, http_as: Http, coordinator: User, committee: User
) -> None:
    page = http_as(coordinator).get(f"{OPERATIONAL}?period=2025").content.decode()
    assert f"{DRILL}?period=2025&amp;kpi=new_cases" in page
    assert DRILL not in http_as(committee).get(f"{OPERATIONAL}?period=2025").content.decode()


def test_it_lists_the_visible_cases_behind_a_figure_and_keeps_the_others_hidden(
    steering_world: SteeringWorld, http_as: Http, coordinator: User
) -> None:
    # given 2025 with eight new cases, the coordinator taking part in four of them (c1, c2, c8, c9 and none of
    # c4, c5, c10, c11)
    # when the coordinator opens the cases behind "new cases"
    response = http_as(coordinator).get(f"{DRILL}?kpi=new_cases&period=2025")
    body = response.content.decode()
    # then the visible ones are listed; the others, and their exact number, stay hidden
    assert response.status_code == 200
    for name in ("c1", "c2", "c8", "c9"):
        assert steering_world.cases[name].reference in body
    for name in ("c4", "c5", "c10", "c11"):
        assert steering_world.cases[name].reference not in body
    assert "die übrigen und die genaue Zahl bleiben Ihnen verborgen" in body


def test_it_drills_down_into_one_cell_of_a_breakdown(
    steering_world: SteeringWorld, http_as: Http, coordinator: User
) -> None:
    # given the open cases at the end of 2025 by level: the case at level 2 (c9) and the one at level 1 (c3)
    http = http_as(coordinator)
    # when the coordinator opens the cell "level 2"
    body = http.get(f"{DRILL}?kpi=open_cases&period=2025&dimension=level&key=2").content.decode()
    # then the case at level 2 is listed, exactly counted (the coordinator takes part in it), and c3 is not
    assert "Stufe 2" in body
    assert steering_world.cases["c9"].reference in body
    assert steering_world.cases["c3"].reference not in body
    assert "Hinter dieser Zahl steht 1 Fall; Sie sind an ihm beteiligt." in body
    # and the cell "without life situation" works as well (c5, not the coordinator's)
    none = http.get(f"{DRILL}?kpi=new_cases&period=2025&dimension=life_situation&key=none").content.decode()
    assert steering_world.cases["c5"].reference not in none
    assert "bleiben Ihnen verborgen" in none


def test_it_drills_down_into_stuck_cases_and_overdue_items(
    steering_world: SteeringWorld, http_as: Http, coordinator: User
) -> None:
    http = http_as(coordinator)
    stuck = http.get(f"{DRILL}?kpi=stuck&stuck_days=90&level=2").content.decode()
    assert steering_world.cases["c9"].reference in stuck
    overdue = http.get(f"{DRILL}?kpi=overdue_agreements").content.decode()
    assert steering_world.cases["c9"].reference in overdue


# ---------------------------------------------------------------------------------------------------------
# Query counts
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("committee", f"{OPERATIONAL}?period=2025"),
        ("coordinator", f"{OPERATIONAL}?period=2025"),
        ("supervisory", f"{STRATEGIC}?period=2025"),
        ("coordinator", f"{DRILL}?kpi=new_cases&period=2025"),
    ],
)
def test_it_reads_a_dashboard_in_the_same_number_of_queries_for_3_and_30_cases(
    request: pytest.FixtureRequest, http_as: Http, iv_specialist: User, coordinator: User, persona: str, url: str
) -> None:
    http = http_as(request.getfixturevalue(persona))
    # given three cases
    bulk_cases_build(count=3, specialist=iv_specialist, coordinator=coordinator)
    http.get(url)  # the session and the caches settle
    with CaptureQueriesContext(connection) as few:
        assert http.get(url).status_code == 200
    # when there are thirty
    bulk_cases_build(count=27, specialist=iv_specialist, coordinator=coordinator)
    with CaptureQueriesContext(connection) as many:
        assert http.get(url).status_code == 200
    # then the page needs as many queries as before
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


# ---------------------------------------------------------------------------------------------------------
# Charts and trends
# ---------------------------------------------------------------------------------------------------------


def test_it_escapes_every_label_in_a_chart() -> None:
    from iiz.steering import charts

    # given labels that look like markup
    evil = '<script>alert("x")</script>'
    svg = charts.bar_chart(
        title=evil,
        description=evil,
        categories=[evil, "B & C"],
        series=[charts.Series(evil, [charts.Point(3, evil), charts.Point(None, "X", suppressed=True)])],
        value_axis_label=evil,
        category_axis_label=evil,
    ) + charts.line_chart(
        title=evil,
        description=evil,
        x_labels=[evil, "2026-Q1"],
        series=[charts.Series(evil, [charts.Point(0.5, evil), charts.Point(None, "X", suppressed=True)])],
        value_axis_label=evil,
        x_axis_label=evil,
        percent=True,
        caption=evil,
    )
    # then no markup gets through, and the suppressed value is drawn as a hatched block
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "B &amp; C" in svg
    assert 'fill="url(#chart-' in svg
    assert "style" not in svg


def test_it_shows_a_quarter_of_the_trend_as_the_quarter_itself_shows_it(
    steering_world: SteeringWorld, iv_specialist: User, coordinator: User
) -> None:
    from iiz.steering.figures import figures_build, trend_build
    from iiz.steering.kpis import KPI_BY_CODE, Period, Scope, dataset_load
    from iiz.steering.publication import Publisher

    # given many closures in 2025-Q3
    bulk_cases_build(count=30, specialist=iv_specialist, coordinator=coordinator)
    ds = dataset_load(scope=Scope())
    # when the trend up to 2025 is built, and each quarter on its own
    trend = trend_build(ds, Period.parse("2025"), publisher=Publisher())
    # then every cell of the trend is the quarter's published figure: the same records, the same value
    for line in trend.lines:
        for quarter, cell in zip(trend.quarters, line.cells, strict=True):
            (figure,) = figures_build(ds, quarter, [KPI_BY_CODE[line.kpi.code]], publisher=Publisher())
            assert (cell.display, cell.suppressed) == (figure.display, figure.suppressed), (line.kpi.code, quarter)


def test_it_takes_the_threshold_from_the_settings(
    steering_world: SteeringWorld, http_as: Http, supervisory: User, settings
) -> None:
    # given a threshold of 2 instead of 5
    settings.IIZ_SUPPRESSION_THRESHOLD = 2
    # when 2025 is shown
    body = http_as(supervisory).get(f"{STRATEGIC}?period=2025").content.decode()
    # then the marker and the explanation read "< 2"
    assert "erscheinen als «&lt; 2»" in body
