"""Figures for the steering pages and reports: formatted KPI values, breakdown tables, trends by quarter.

The functions here work on a loaded ``Dataset`` (see ``iiz.steering.kpis``) and need no queries of their own,
except the names of institutions, districts and life situations (``Labels``) and record keys the dataset lacks.
Every count of persons is published through a ``Publisher`` (``iiz.steering.publication``), which decides,
for the reader at hand, what it shows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.utils.formats import number_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from iiz.cases.models import Level, LifeSituation
from iiz.organisations.models import District, Institution
from iiz.steering import charts
from iiz.steering.kpis import (
    KPI_BY_CODE,
    OUTCOME_GROUPS,
    CaseRow,
    Dataset,
    Kpi,
    KpiValue,
    Period,
    Scope,
    closed_in,
    kpi_breakdown,
    kpi_compute,
    kpi_integration_rate,
    outcome_group,
)
from iiz.steering.publication import HIDDEN, Count, Publisher, threshold

__all__ = ["HIDDEN", "threshold"]

TREND_QUARTERS = 8


@dataclass
class Labels:
    """Names for the keys of the breakdown dimensions, read once (three small queries)."""

    institutions: dict[int, str]
    districts: dict[int, str]
    life_situations: dict[str, str]

    @classmethod
    def load(cls) -> Labels:
        return cls(
            institutions=dict(Institution.objects.values_list("id", "short_name")),
            districts=dict(District.objects.values_list("number", "name")),
            life_situations=dict(LifeSituation.objects.values_list("code", "name")),
        )

    def of(self, dimension: str, key: object) -> str:
        if dimension == "level":
            return str(Level(int(str(key))).label) if key in (1, 2, 3) else str(key)
        if key is None:
            return {
                "district": _("ausserhalb des Kantons / unbekannt"),
                "life_situation": _("ohne Lebenssituation"),
            }.get(dimension, _("ohne Angabe"))
        if dimension == "institution":
            return self.institutions.get(int(str(key)), str(key))
        if dimension == "district":
            return self.districts.get(int(str(key)), str(key))
        return self.life_situations.get(str(key), str(key))

    def scope_label(self, scope: Scope) -> str:
        parts = []
        if scope.institution_id:
            parts.append(self.of("institution", scope.institution_id))
        if scope.district:
            parts.append(_("Bezirk %(name)s") % {"name": self.of("district", scope.district)})
        if scope.life_situation:
            parts.append(self.of("life_situation", scope.life_situation))
        return ", ".join(parts) or _("ganzer Kanton, alle Institutionen")


def dimension_title(dimension: str) -> str:
    return {
        "level": _("Stufe"),
        "institution": _("Institution"),
        "district": _("Bezirk"),
        "life_situation": _("Lebenssituation"),
    }[dimension]


def dimension_keys(case: CaseRow, dimension: str, ds: Dataset, period: Period) -> set[object]:
    # The same grouping as ``kpi_breakdown``: level at the end of the period, several life situations count
    # in each of their groups.
    if dimension == "level":
        return {case.level_on(period.end, ds.level_changes.get(case.id, []))}
    if dimension == "institution":
        return {case.serving_institution_id}
    if dimension == "district":
        return {case.district}
    return set(case.life_situations) or {None}


def sort_key(dimension: str, labels: Labels) -> Callable[[object], tuple[int, str]]:
    def key(value: object) -> tuple[int, str]:
        if value is None:
            return (1, "")
        if dimension in ("level", "district"):
            return (0, f"{int(str(value)):06d}")
        return (0, labels.of(dimension, value).lower())

    return key


# ---------------------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------------------


def value_format(value: float | None, unit: str) -> str:
    """A value with its unit for the screen: shares in %, durations in days, counts as whole numbers."""
    if value is None:
        return "–"
    # number_format cuts decimals off; round first so that 2/3 shows as 66,7 %.
    if unit == "share":
        return f"{number_format(round(value * 100, 1), 1, force_grouping=True)} %"
    if unit == "days":
        days = round(value, 1)
        shown = number_format(days, 0 if days == int(days) else 1, force_grouping=True)
        return ngettext("%(days)s Tag", "%(days)s Tage", int(days) if days == int(days) else 2) % {"days": shown}
    if unit == "ratio":
        return number_format(round(value, 1), 1, force_grouping=True)
    return number_format(int(round(value)), 0, force_grouping=True)


def count_format(value: int | None) -> str:
    return "–" if value is None else number_format(value, 0, force_grouping=True)


# ---------------------------------------------------------------------------------------------------------
# Figures: one KPI with its value, the cases behind it, and its definition
# ---------------------------------------------------------------------------------------------------------


def _empty_reason(code: str) -> str:
    reasons = {
        "days_detection_to_opening": _("Kein in der Periode eröffneter Fall hat ein Datum der Früherkennung."),
        "days_to_level3": _("In der Periode ist kein Fall zum ersten Mal auf Stufe 3 gewechselt."),
        "days_to_plan": _("In der Periode wurde kein erster Integrationsplan vereinbart."),
        "agreements_on_time": _("In der Periode war keine Vereinbarung fällig, oder ihr Termin ist noch nicht vorbei."),
        "integration_rate": _("In der Periode wurde kein Fall abgeschlossen (Wegzüge zählen nicht)."),
        "job_retention_rate": _(
            "In der Periode wurde kein Fall der Gruppe «von Arbeitsplatzverlust bedroht» abgeschlossen."
        ),
        "confirmed_6m": _(
            "Für die Abschlüsse mit Integration der Periode ist noch keine Nachbefragung nach 6 Monaten erfasst."
        ),
        "confirmed_12m": _(
            "Für die Abschlüsse mit Integration der Periode ist noch keine Nachbefragung nach 12 Monaten erfasst."
        ),
        "benefit_duration": _("Kein in der Periode abgeschlossener Fall hat ein erfasstes Ende des Leistungsbezugs."),
        "revolving_door": _(
            "Für keinen in der Periode mit Integration abgeschlossenen Fall sind die 12 Monate danach schon vorbei."
        ),
        "days_to_closure": _("In der Periode wurde kein Fall abgeschlossen."),
        "caseload_per_coordinator": _("Es ist keine aktive Koordinatorin und kein aktiver Koordinator erfasst."),
        "requests_in_time": _(
            "In der Periode war keine Informationsanfrage fällig, oder ihre Frist ist noch nicht vorbei."
        ),
    }
    return str(reasons.get(code, _("Für diese Periode gibt es keine Grundlage.")))


def unit_label(unit: str) -> str:
    return {
        "share": _("Anteil in %"),
        "days": _("Tage (Median)"),
        "count": _("Anzahl"),
        "ratio": _("Verhältnis"),
    }.get(unit, unit)


@dataclass
class Figure:
    code: str
    name: str
    definition: str
    formula: str
    unit: str
    audience: str
    value: float | None
    display: str
    n: int
    n_display: str
    numerator: int | None
    denominator: int | None
    suppressed: bool
    empty: bool
    empty_reason: str = ""
    drill_url: str = ""
    exact: bool = False

    @property
    def n_published(self) -> int | None:
        """The number behind the figure as published, or None where it is shown as "< t" or not at all."""
        return self.n if self.n_display and self.n_display[0].isdigit() else None

    @property
    def unit_label(self) -> str:
        return unit_label(self.unit)

    @property
    def basis_text(self) -> str:
        """What stands behind the figure, e.g. "Grundlage: 12 Fälle" (the count may be the marker)."""
        one = self.n == 1
        labels = {
            "agreements_on_time": (_("fällige Vereinbarung"), _("fällige Vereinbarungen")),
            "requests_in_time": (_("fällige Informationsanfrage"), _("fällige Informationsanfragen")),
            "consents_given": (_("Person"), _("Personen")),
            "consents_revoked": (_("Person"), _("Personen")),
        }.get(self.code, (_("Fall"), _("Fälle")))
        if self.n_published is None and not self.n_display.startswith("<"):
            return _("Grundlage: %(label)s, Anzahl nicht ausgewiesen") % {"label": labels[1]}
        return _("Grundlage: %(n)s %(label)s") % {"n": self.n_display, "label": labels[0 if one else 1]}

    @property
    def share_text(self) -> str:
        """Numerator and denominator of a share, e.g. "2 von 6 Fällen"."""
        one = self.denominator == 1
        labels = {
            "agreements_on_time": (_("fälligen Vereinbarung"), _("fälligen Vereinbarungen")),
            "requests_in_time": (_("fälligen Informationsanfrage"), _("fälligen Informationsanfragen")),
        }.get(self.code, (_("Fall"), _("Fällen")))
        return _("%(numerator)s von %(denominator)s %(label)s") % {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "label": labels[0 if one else 1],
        }


def figure_build(kpi: Kpi, value: KpiValue, *, publisher: Publisher, drill_url: str = "") -> Figure:
    """A KPI as published for the publisher's reader (``iiz.steering.publication``): counts perturbed, or
    exact where the reader may see every case behind them; "< t" below the threshold; shares of published
    counts; medians only where enough persons stand behind them. A figure is empty only where the reader
    may know that nothing stands behind it."""
    numerator: int | None = None
    denominator: int | None = None
    if kpi.unit == "count":
        count = publisher.count(value.records)
        behind, hidden, exact = count, count.small, count.exact
        shown: float | None = None if count.small else float(count.value)
        display = count.display
    elif kpi.unit == "share":
        share = publisher.share(value.numerator_records, value.records)
        behind, hidden = share.denominator, share.withheld
        numerator, denominator = share.numerator.shown, share.denominator.shown
        exact = share.denominator.exact and share.numerator.exact
        shown = share.value
        if kpi.counts_items and not exact:
            # Items come in bunches per case: their counts stay unpublished, the share is rounded to whole percent.
            numerator = denominator = None
            shown = None if shown is None else round(shown, 2)
        display = HIDDEN if hidden else value_format(shown, "share")
    elif kpi.unit == "ratio":
        count = publisher.count(value.records)
        behind, exact = count, count.exact
        hidden = count.small and not (count.exact or value.denominator == 0)
        numerator, denominator = count.shown, value.denominator
        shown = None if hidden or not value.denominator else count.value / value.denominator
        display = HIDDEN if hidden else value_format(shown, kpi.unit)
    else:
        behind = publisher.count(value.records)
        exact = behind.exact
        hidden = not (value.value is not None and publisher.median_allowed(behind)) and not (
            exact and value.value is None
        )
        shown = None if hidden else value.value
        display = HIDDEN if hidden else value_format(shown, kpi.unit)
    empty = shown is None and not hidden
    name, definition, formula = _kpi_texts(kpi.code, get_language())
    return Figure(
        code=kpi.code,
        name=name,
        definition=definition,
        formula=formula,
        unit=kpi.unit,
        audience=kpi.audience,
        value=shown,
        display=display,
        n=0 if kpi.counts_items and not exact else (behind.shown or 0),
        n_display=_items_basis() if kpi.counts_items and not exact else behind.display,
        numerator=numerator,
        denominator=denominator,
        suppressed=hidden,
        empty=empty,
        empty_reason=_empty_reason(kpi.code) if empty else "",
        drill_url="" if hidden or empty else drill_url,
        exact=exact,
    )


@lru_cache(maxsize=512)
def _kpi_texts(code: str, language: str | None) -> tuple[str, str, str]:
    """A KPI's name, definition and formula in the active language (translated once per language, not per cell)."""
    kpi = KPI_BY_CODE[code]
    return str(kpi.name), str(kpi.definition), str(kpi.formula)


def _items_basis() -> str:
    return _("nicht ausgewiesen")


def figures_build(
    ds: Dataset,
    period: Period,
    kpis: Iterable[Kpi],
    *,
    publisher: Publisher,
    drill: Callable[[str], str] | None = None,
) -> list[Figure]:
    return [
        figure_build(
            kpi, kpi_compute(kpi.code, ds, period), publisher=publisher, drill_url=drill(kpi.code) if drill else ""
        )
        for kpi in kpis
    ]


def active_in(ds: Dataset, period: Period) -> list[int]:
    """The cases open at some time in the period."""
    return [
        c.id for c in ds.cases if c.opened_on <= period.end and (c.closed_on is None or c.closed_on >= period.start)
    ]


@dataclass
class EmptyState:
    title: str
    text: str


def empty_state(
    ds: Dataset, period: Period, today: dt.date, scope_label: str, publisher: Publisher
) -> EmptyState | None:
    """An explanation instead of a page of zeros or "< 5" marks: when the period has not begun, or when the
    published number of cases active in it is below the threshold (decided on the published count, so that
    the page itself tells no more than "< t")."""
    if period.start > today:
        return EmptyState(
            _("Die Periode %(period)s hat noch nicht begonnen.") % {"period": period.label},
            _("Kennzahlen entstehen aus erfassten Fällen. Wählen Sie die laufende oder eine vergangene Periode."),
        )
    active = publisher.count(active_in(ds, period))
    if not active.small:
        return None
    return EmptyState(
        _("Für %(period)s gibt es zu wenige Fälle (%(count)s) in dieser Auswahl (%(scope)s).")
        % {"period": period.label, "count": active.display, "scope": scope_label},
        _(
            "In dieser Periode waren weniger als %(t)s iiz-Fälle offen. So wenige Fälle würden Personen erkennbar "
            "machen, und eine Null wäre kein Ergebnis: darum werden keine Kennzahlen gezeigt. Wählen Sie eine "
            "längere Periode oder einen weiteren Umfang."
        )
        % {"t": publisher.t},
    )


# ---------------------------------------------------------------------------------------------------------
# Breakdown tables
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Cell:
    value: float | None  # None when suppressed or when there is nothing to show
    display: str
    suppressed: bool = False
    drill_url: str = ""


@dataclass
class TableRow:
    label: str
    cells: list[Cell]
    key: object = None


@dataclass
class BreakdownTable:
    key: str
    title: str
    dimension: str
    dimension_label: str
    columns: list[str]
    rows: list[TableRow]
    total: TableRow | None
    note: str = ""
    chart: str = ""
    multi_valued: bool = False
    # The last column is a rate per row (not a count, not part of the sums).
    rate_column: bool = False
    short_title: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.rows


def _cell(count: Count, *, drill_url: str = "") -> Cell:
    if count.small:
        return Cell(None, count.display, suppressed=True)
    return Cell(float(count.value), count.display, drill_url=drill_url if count.value else "")


def cases_table(
    ds: Dataset,
    period: Period,
    dimension: str,
    labels: Labels,
    *,
    publisher: Publisher,
    drill: Callable[[str, str, object], str] | None = None,
) -> BreakdownTable:
    """Open cases at the end of the period and new cases in it, per value of a dimension."""
    open_by = kpi_breakdown("open_cases", ds, period, dimension)
    new_by = kpi_breakdown("new_cases", ds, period, dimension)
    keys = set(open_by) | set(new_by)
    if dimension == "level":
        keys |= {1, 2, 3}
    empty = KpiValue(0)
    ordered = sorted(
        (k for k in keys if dimension == "level" or (open_by.get(k, empty).n or new_by.get(k, empty).n)),
        key=sort_key(dimension, labels),
    )
    codes = ("open_cases", "new_cases")
    columns = (open_by, new_by)
    rows = []
    for key in ordered:
        cells = []
        for code, by in zip(codes, columns, strict=True):
            count = publisher.count(by.get(key, empty).records)
            cells.append(_cell(count, drill_url=drill(code, dimension, key) if drill else ""))
        rows.append(TableRow(labels.of(dimension, key), cells, key=key))
    multi = dimension == "life_situation"
    # The total counts every case once (mentions, for life situations): the same records as the headline.
    totals = [publisher.count([r for key in ordered for r in by.get(key, empty).records]) for by in columns]
    total = TableRow(_("Total Nennungen") if multi else _("Total"), [_cell(v) for v in totals])
    table = BreakdownTable(
        key=f"faelle-{dimension}",
        title=_("Offene und neue Fälle nach %(dimension)s") % {"dimension": dimension_title(dimension)},
        dimension=dimension,
        dimension_label=dimension_title(dimension),
        columns=[_("Offen am Periodenende"), _("Neu in der Periode")],
        rows=rows,
        total=total,
        multi_valued=multi,
        short_title=_("Fälle nach %(dimension)s") % {"dimension": dimension_title(dimension)},
        note=_("Ein Fall mit mehreren Lebenssituationen zählt in jeder; das Total zählt Nennungen, nicht Fälle.")
        if multi
        else "",
    )
    table.chart = _table_chart(table, _("Fälle"))
    return table


# The columns of the outcome tables: the one vocabulary of outcomes (``iiz.steering.kpis.OUTCOME_GROUPS``).
OUTCOME_COLUMNS: list[tuple[str, tuple[str, ...]]] = [
    (group.code, tuple(sorted(group.outcomes))) for group in OUTCOME_GROUPS
]


def _outcome_index(outcome: str) -> int:
    code = outcome_group(outcome)
    return next(index for index, (column, _outcomes) in enumerate(OUTCOME_COLUMNS) if column == code)


def outcomes_table(
    ds: Dataset, period: Period, dimension: str, labels: Labels, *, publisher: Publisher
) -> BreakdownTable:
    """Cases closed in the period by a dimension and outcome group, with totals and the integration rate per row.

    Each cell is published on its own; the rate is the integration rate of the row (the same figure as the
    headline for the total row): integrations over closures without moving away, from published counts.
    """
    width = len(OUTCOME_COLUMNS)
    records: dict[object, list[list[int]]] = defaultdict(lambda: [[] for _i in range(width)])
    members: dict[object, set[int]] = defaultdict(set)
    closed = closed_in(ds, period)
    for case in closed:
        index = _outcome_index(case.outcome)
        for key in dimension_keys(case, dimension, ds, period):
            records[key][index].append(case.id)
            members[key].add(case.id)
    ordered = sorted(records, key=sort_key(dimension, labels))

    def row_cells(columns: list[list[int]], ids: set[int]) -> list[Cell]:
        cells = [_cell(publisher.count(column)) for column in columns]
        cells.append(_cell(publisher.count([r for column in columns for r in column])))
        rate = kpi_integration_rate(_closed_subset(ds, ids), period)
        share = publisher.share(rate.numerator_records, rate.records)
        if share.withheld:
            cells.append(Cell(None, HIDDEN, suppressed=True))
        elif share.value is None:
            cells.append(Cell(None, "–"))
        else:
            cells.append(Cell(share.value, value_format(share.value, "share")))
        return cells

    rows = [TableRow(labels.of(dimension, key), row_cells(records[key], members[key]), key=key) for key in ordered]
    multi = dimension == "life_situation"
    total_columns = [[r for key in ordered for r in records[key][i]] for i in range(width)]
    note = _("Die Integrationsquote zählt Wegzüge nicht mit.")
    if multi:
        note += " " + _("Ein Fall mit mehreren Lebenssituationen zählt in jeder.")
    return BreakdownTable(
        key=f"abschluesse-{dimension}",
        title=_("Abschlüsse nach %(dimension)s und Ergebnis") % {"dimension": dimension_title(dimension)},
        dimension=dimension,
        dimension_label=dimension_title(dimension),
        columns=[*_outcome_column_labels(), _("Total"), _("Integrationsquote erster Arbeitsmarkt")],
        rows=rows,
        total=TableRow(
            _("Total Nennungen") if multi else _("Total"), row_cells(total_columns, {c.id for c in closed})
        )
        if ordered
        else None,
        multi_valued=multi,
        rate_column=True,
        short_title=_("Abschlüsse nach %(dimension)s") % {"dimension": dimension_title(dimension)},
        note=note,
    )


def _closed_subset(ds: Dataset, ids: set[int]) -> Dataset:
    return Dataset(
        cases=[c for c in ds.cases if c.id in ids],
        level_changes={},
        agreements=[],
        requests=[],
        consents=[],
        registrations={},
        case_openings={},
        coordinators=ds.coordinators,
    )


def _outcome_column_labels() -> list[str]:
    return [str(group.name) for group in OUTCOME_GROUPS]


def _table_chart(table: BreakdownTable, axis: str) -> str:
    if not table.rows:
        return ""
    series = [
        charts.Series(
            name,
            [
                charts.Point(row.cells[index].value, row.cells[index].display, row.cells[index].suppressed)
                for row in table.rows
            ],
        )
        for index, name in enumerate(table.columns)
    ]
    return charts.bar_chart(
        title=table.title,
        description=table.note,
        categories=[row.label for row in table.rows],
        series=series,
        value_axis_label=axis,
        category_axis_label=table.dimension_label,
    )


# ---------------------------------------------------------------------------------------------------------
# Trends by quarter
# ---------------------------------------------------------------------------------------------------------

TREND_CODES = (
    "new_cases",
    "integration_rate",
    "job_retention_rate",
    "confirmed_6m",
    "confirmed_12m",
    "revolving_door",
    "benefit_duration",
)


@dataclass
class TrendLine:
    kpi: Kpi
    cells: list[Cell]
    chart: str = ""


@dataclass
class Trend:
    quarters: list[Period]
    lines: list[TrendLine]

    @property
    def labels(self) -> list[str]:
        return [q.label for q in self.quarters]


def trend_quarters(period: Period) -> list[Period]:
    last = Period.parse(f"{period.end.year}-Q{(period.end.month - 1) // 3 + 1}")
    return last.previous(TREND_QUARTERS)


def trend_build(
    ds: Dataset, period: Period, *, publisher: Publisher, codes: Iterable[str] = TREND_CODES
) -> Trend:
    """The KPIs for the last eight quarters up to the end of the period, published like the headline figures."""
    quarters = trend_quarters(period)
    lines = []
    for code in codes:
        kpi = KPI_BY_CODE[code]
        cells = []
        for quarter in quarters:
            figure = figure_build(kpi, kpi_compute(code, ds, quarter), publisher=publisher)
            cells.append(Cell(figure.value, figure.display, suppressed=figure.suppressed))
        line = TrendLine(kpi, cells)
        line.chart = charts.line_chart(
            title=_("%(name)s, letzte %(count)s Quartale") % {"name": kpi.name, "count": len(quarters)},
            description=str(kpi.definition),
            x_labels=[q.label for q in quarters],
            series=[charts.Series(str(kpi.name), [charts.Point(c.value, c.display, c.suppressed) for c in cells])],
            value_axis_label=unit_label(kpi.unit),
            x_axis_label=_("Quartal"),
            percent=kpi.unit == "share",
            width=540,
            height=250,
            caption=str(kpi.name),
        )
        lines.append(line)
    return Trend(quarters, lines)
