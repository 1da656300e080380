"""Publication of steering figures: the cell key method, and one figure everywhere for the same reader.

The consistency test reads the same period and filter as the same user from the dashboards (the rendered
pages' data), the API (over HTTP) and the XLSX report (written and read back), and compares them cell by cell.
"""

from __future__ import annotations

import io
import math

import pytest
from openpyxl import load_workbook

from iiz.organisations.models import User
from iiz.steering import reports
from iiz.steering.kpis import OPERATIONAL, STRATEGIC, Period, Scope
from iiz.steering.publication import (
    DEVIATIONS,
    KEY_SPACE,
    MAX_DEVIATION,
    Publisher,
    Reader,
    cell_key,
    count_preimage,
    marker_preimage,
    perturb,
    perturbation,
)
from tests.steering_world import SteeringWorld, steering_world_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def steering_world(iv_specialist: User, coordinator: User) -> SteeringWorld:
    return steering_world_build(specialist=iv_specialist, coordinator=coordinator)


# ---------------------------------------------------------------------------------------------------------
# The perturbation table
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 4, 10, 500])
def test_it_perturbs_by_at_most_three_without_bias_and_never_below_zero(count: int) -> None:
    # given the table row of a count
    row = perturbation(count)
    previous = 0.0
    mean = 0.0
    for deviation, cumulative in row:
        mean += deviation * (cumulative - previous)
        previous = cumulative
        # then no deviation is larger than the maximum, and none makes the count negative
        assert abs(deviation) <= MAX_DEVIATION
        assert count + deviation >= 0
    # and the probabilities add up to one and average out to no deviation at all
    assert previous == pytest.approx(1.0)
    assert mean == pytest.approx(0.0, abs=1e-6)


def test_it_uses_the_documented_probabilities_for_larger_counts() -> None:
    cumulative = [c for _d, c in perturbation(50)]
    expected = [sum(p for d, p in DEVIATIONS.items() if d <= limit) for limit in sorted(DEVIATIONS)]
    assert cumulative == pytest.approx(expected)


def test_it_takes_the_cell_key_as_the_sum_of_record_keys_modulo_the_key_space() -> None:
    assert cell_key([KEY_SPACE - 1, 5]) == 4
    # the deviation follows from the cell key alone: the same records, the same published value
    assert perturb(12, cell_key([3, 4])) == perturb(12, cell_key([4, 3]))
    assert perturb(0, 123) == 0


def test_it_tells_what_a_published_value_allows() -> None:
    assert count_preimage(10) == (10 - MAX_DEVIATION, 10 + MAX_DEVIATION)
    assert marker_preimage(5) == (0, 4 + MAX_DEVIATION)


def test_it_publishes_the_same_records_alike_and_exactly_to_a_reader_who_sees_them() -> None:
    # given records with keys
    keys = {i: (i * 7919) % KEY_SPACE for i in range(1, 40)}
    anyone = Publisher(Reader.anyone(), keys=dict(keys), t=5)
    # when the same records are published in another order
    # then the value is the same, within the deviation of the true count
    first, second = anyone.count(list(range(1, 21))), anyone.count(list(range(20, 0, -1)))
    assert first == second
    assert abs(first.value - 20) <= MAX_DEVIATION and not first.exact
    # and nothing below the threshold is shown as a number, zero included
    assert anyone.count([]).display == "< 5"
    assert anyone.count([1]).shown is None or anyone.count([1]).value >= 5
    # and a reader who may see every record behind a count sees it exactly
    own = Publisher(Reader(frozenset(range(1, 4))), keys=dict(keys), t=5).count([1, 2, 3])
    assert (own.value, own.exact, own.display) == (3, True, "3")


def test_it_withholds_a_share_whose_counts_are_shown_as_small() -> None:
    keys = {i: (i * 104729) % KEY_SPACE for i in range(1, 60)}
    publisher = Publisher(keys=keys, t=5)
    withheld = publisher.share([1, 2], list(range(1, 40)))
    shown = publisher.share(list(range(1, 21)), list(range(1, 40)))
    assert withheld.value is None and withheld.withheld
    assert shown.value == pytest.approx(shown.numerator.value / shown.denominator.value)
    assert shown.numerator.value <= shown.denominator.value


# ---------------------------------------------------------------------------------------------------------
# One figure on every page, in every report and in the API
# ---------------------------------------------------------------------------------------------------------


def _xlsx(period: Period, scope: Scope, audience: str) -> dict[str, list[tuple]]:
    data = reports.report_data_build(period=period, scope=scope, audience=audience)
    book = load_workbook(io.BytesIO(reports.report_render_xlsx(data)), data_only=True)
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@pytest.mark.parametrize(
    ("persona", "audience", "page", "query"),
    [
        ("supervisory", STRATEGIC, "/steuerung/strategisch/", {"period": "2025"}),
        ("committee", OPERATIONAL, "/steuerung/operativ/", {"period": "2025"}),
        ("committee", STRATEGIC, "/steuerung/strategisch/", {"period": "2025-Q4", "district": "109"}),
    ],
)
def test_it_shows_the_same_figure_on_the_dashboard_in_the_xlsx_and_in_the_api(
    steering_world: SteeringWorld, http_as, request, persona: str, audience: str, page: str, query: dict
) -> None:
    # given a reader of the steering figures, a period and a filter
    http = http_as(request.getfixturevalue(persona))
    period = Period.parse(query["period"])
    scope = Scope(district=int(query["district"])) if "district" in query else Scope()
    # when the dashboard, the API and the XLSX report are read
    board = http.get(page, query).context["board"]
    api = http.get("/api/v1/kpis/", {**query, "audience": audience}).json()
    sheets = _xlsx(period, scope, audience)
    # then every key figure is the same, cell by cell
    from_api = {f["code"]: f for f in api["figures"]}
    from_xlsx = {row[0]: row for row in sheets["Kennzahlen"][1:]}
    assert [f.code for f in board.figures] == list(from_api) == list(from_xlsx)
    for figure in board.figures:
        in_api, in_xlsx = from_api[figure.code], from_xlsx[figure.code]
        assert in_api["value"] == figure.value, figure.code
        assert (in_api["numerator"], in_api["denominator"], in_api["n"]) == (
            figure.numerator,
            figure.denominator,
            figure.n_published,
        ), figure.code
        assert in_api["suppressed"] == figure.suppressed, figure.code
        shown = _number(in_xlsx[2])
        if figure.value is None:
            assert shown is None, figure.code
        else:
            assert math.isclose(shown or 0, figure.value), figure.code
        assert _number(in_xlsx[4]) == figure.n_published, figure.code
    # and every table of the dashboard is the report's sheet of the same name, row by row
    tables = [board.regions, board.regions_new] if audience == STRATEGIC else board.tables
    for table in tables:
        rows = {row[0]: row[1:] for row in sheets[table.short_title or table.title][1:] if row and row[0]}
        for row in [*table.rows, *([table.total] if table.total else [])]:
            cells = rows[row.label]
            for cell, written in zip(row.cells, cells, strict=False):
                assert (cell.value, cell.display.replace(" ", "")) == (
                    _number(written) if cell.value is not None else None,
                    cell.display.replace(" ", "") if cell.value is not None else str(written),
                ), (table.key, row.label)
    # and the trend on the strategic page is the report's trend sheet
    if audience == STRATEGIC:
        trend = {row[0]: row[2:] for row in sheets["Trend nach Quartal"][1:]}
        for line in board.trend.lines:
            written = trend[str(line.kpi.name)]
            for cell, value in zip(line.cells, written, strict=True):
                assert (cell.value is None) == (_number(value) is None), line.kpi.code
                if cell.value is not None:
                    assert math.isclose(_number(value) or 0, cell.value), line.kpi.code
