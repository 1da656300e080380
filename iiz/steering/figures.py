"""Figures for the steering pages and reports: formatted KPI values, breakdown tables, trends by quarter.

The functions here work on a loaded ``Dataset`` (see ``iiz.steering.kpis``) and need no queries of their own,
except the names of institutions, districts and life situations (``Labels``). Small-number suppression is
applied where the caller asks for it (``protect=True``: strategic pages and reports).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from iiz.cases.models import Level, LifeSituation, Outcome
from iiz.organisations.models import District, Institution
from iiz.steering import charts
from iiz.steering.kpis import (
    KPI_BY_CODE,
    CaseRow,
    Dataset,
    Kpi,
    KpiValue,
    Period,
    Scope,
    closed_in,
    kpi_breakdown,
    kpi_compute,
)
from iiz.steering.suppression import Table, suppress

TREND_QUARTERS = 8


def threshold() -> int:
    return int(settings.IIZ_SUPPRESSION_THRESHOLD)


def marker(t: int | None = None) -> str:
    """The text that stands for a single count below the threshold (true as it says)."""
    return f"< {t or threshold()}"


# The mark of every other suppressed value: cells of tables and trends (a complementary cell is not small, and
# telling it apart from the small one would narrow the small one down), shares and medians. One mark for all,
# as the statistical offices do.
HIDDEN = "X"


def _sensitive(value: float | int | None, t: int) -> bool:
    return value is not None and 0 < value < t


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
            "Für die integriert abgeschlossenen Fälle der Periode ist noch keine Nachbefragung nach 6 Monaten erfasst."
        ),
        "confirmed_12m": _(
            "Für die integriert abgeschlossenen Fälle der Periode ist noch keine Nachbefragung nach 12 Monaten erfasst."
        ),
        "benefit_duration": _("Kein in der Periode abgeschlossener Fall hat ein erfasstes Ende des Leistungsbezugs."),
        "revolving_door": _(
            "Für die in der Periode abgeschlossenen Fälle sind die 12 Monate danach noch nicht vorbei."
        ),
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

    @property
    def unit_label(self) -> str:
        return unit_label(self.unit)

    @property
    def basis_text(self) -> str:
        """What stands behind the figure, e.g. "Grundlage: 12 Fälle" (the count may be the marker)."""
        one = self.n == 1 and not self.n_display.startswith("<")
        labels = {
            "agreements_on_time": (_("fällige Vereinbarung"), _("fällige Vereinbarungen")),
            "requests_in_time": (_("fällige Informationsanfrage"), _("fällige Informationsanfragen")),
            "consents_given": (_("Einwilligung"), _("Einwilligungen")),
            "consents_revoked": (_("Widerruf"), _("Widerrufe")),
        }.get(self.code, (_("Fall"), _("Fälle")))
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


def figure_hidden(kpi: Kpi, value: KpiValue, t: int) -> bool:
    """Whether a figure would show a small group of persons.

    Counts below the threshold are hidden; a share is hidden when its denominator is below the threshold or
    its numerator is (with the number of cases shown next to it, the share would give the numerator away);
    a median or ratio over fewer cases than the threshold describes those few persons and is hidden too.
    """
    if value.value is None:
        return False
    if kpi.unit == "count":
        return _sensitive(value.n, t)
    if kpi.unit == "share":
        return (value.denominator or 0) < t or _sensitive(value.numerator, t)
    return _sensitive(value.n, t)


def figure_build(kpi: Kpi, value: KpiValue, *, protect: bool, t: int, drill_url: str = "") -> Figure:
    hidden = protect and figure_hidden(kpi, value, t)
    n_small = protect and _sensitive(value.n, t)
    empty = value.value is None
    return Figure(
        code=kpi.code,
        name=str(kpi.name),
        definition=str(kpi.definition),
        formula=str(kpi.formula),
        unit=kpi.unit,
        audience=kpi.audience,
        value=None if hidden else value.value,
        display=(marker(t) if kpi.unit == "count" else HIDDEN) if hidden else value_format(value.value, kpi.unit),
        n=0 if n_small else value.n,
        n_display=marker(t) if n_small else count_format(value.n),
        numerator=None if hidden or (protect and _sensitive(value.numerator, t)) else value.numerator,
        denominator=None if hidden else value.denominator,
        suppressed=hidden,
        empty=empty,
        empty_reason=_empty_reason(kpi.code) if empty else "",
        drill_url="" if hidden or empty else drill_url,
    )


def figures_build(
    ds: Dataset,
    period: Period,
    kpis: Iterable[Kpi],
    *,
    protect: bool,
    t: int,
    drill: Callable[[str], str] | None = None,
) -> list[Figure]:
    return [
        figure_build(
            kpi, kpi_compute(kpi.code, ds, period), protect=protect, t=t, drill_url=drill(kpi.code) if drill else ""
        )
        for kpi in kpis
    ]


def period_has_data(ds: Dataset, period: Period) -> bool:
    """Whether anything happened in the period: a case active in it, a consent, an agreement or a request."""
    return (
        any(c.opened_on <= period.end and (c.closed_on is None or c.closed_on >= period.start) for c in ds.cases)
        or any(period.contains(recorded) or period.contains(revoked) for _c, recorded, revoked in ds.consents)
        or any(period.contains(due) for _c, due, _d, _s in ds.agreements)
        or any(period.contains(due) for _c, _a, due, _d in ds.requests)
    )


@dataclass
class EmptyState:
    title: str
    text: str


def empty_state(ds: Dataset, period: Period, today: dt.date, scope_label: str) -> EmptyState | None:
    """An explanation instead of a page of zeros when the period holds no data (or has not begun)."""
    if period.start > today:
        return EmptyState(
            _("Die Periode %(period)s hat noch nicht begonnen.") % {"period": period.label},
            _("Kennzahlen entstehen aus erfassten Fällen. Wählen Sie die laufende oder eine vergangene Periode."),
        )
    if period_has_data(ds, period):
        return None
    first = min((c.opened_on for c in ds.cases), default=None)
    since = (
        _("Der erste Fall in dieser Auswahl wurde am %(date)s eröffnet.") % {"date": first.strftime("%d.%m.%Y")}
        if first
        else _("In dieser Auswahl ist noch kein Fall erfasst.")
    )
    return EmptyState(
        _("Für %(period)s liegen keine Daten vor (%(scope)s).") % {"period": period.label, "scope": scope_label},
        _(
            "In dieser Periode war kein iiz-Fall offen und es war nichts fällig. Eine Null wäre hier kein "
            "Ergebnis, darum werden keine Kennzahlen gezeigt. %(since)s Wählen Sie eine andere Periode oder "
            "einen weiteren Umfang."
        )
        % {"since": since},
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


def _cell(value: int | None, *, t: int, drill_url: str = "") -> Cell:
    if value is None:
        return Cell(None, HIDDEN, suppressed=True)
    return Cell(float(value), count_format(value), drill_url=drill_url if value else "")


def _columns_protected(grid: list[list[int]], width: int, t: int, protect: bool) -> list[list[int | None]]:
    """Rows of counts with a totals row appended; columns are independent measures, protected one by one."""
    height = len(grid)
    result: list[list[int | None]] = [[0] * width for _ in range(height + 1)]
    for column in range(width):
        values = [row[column] for row in grid]
        if protect:
            # The column total is a headline figure elsewhere (new cases, open cases): keep it if possible.
            protected = suppress(
                Table(rows=[str(i) for i in range(height)], columns=["x"], cells=[[v] for v in values]),
                t,
                keep=[(height, 0), (height, 1)],
            )
            for r in range(height + 1):
                result[r][column] = protected[r][0]
        else:
            for r in range(height):
                result[r][column] = values[r]
            result[height][column] = sum(values)
    return result


def cases_table(
    ds: Dataset,
    period: Period,
    dimension: str,
    labels: Labels,
    *,
    protect: bool,
    t: int,
    drill: Callable[[str, str, object], str] | None = None,
) -> BreakdownTable:
    """Open cases at the end of the period and new cases in it, per value of a dimension."""
    open_by = kpi_breakdown("open_cases", ds, period, dimension)
    new_by = kpi_breakdown("new_cases", ds, period, dimension)
    keys = set(open_by) | set(new_by)
    if dimension == "level":
        keys |= {1, 2, 3}
    ordered = sorted(
        (k for k in keys if dimension == "level" or (open_by.get(k, KpiValue(0)).n or new_by.get(k, KpiValue(0)).n)),
        key=sort_key(dimension, labels),
    )
    grid = [[open_by[k].n if k in open_by else 0, new_by[k].n if k in new_by else 0] for k in ordered]
    protected = _columns_protected(grid, 2, t, protect)
    codes = ("open_cases", "new_cases")
    rows = [
        TableRow(
            labels.of(dimension, key),
            [_cell(protected[i][c], t=t, drill_url=drill(codes[c], dimension, key) if drill else "") for c in range(2)],
            key=key,
        )
        for i, key in enumerate(ordered)
    ]
    multi = dimension == "life_situation"
    total = TableRow(
        _("Total Nennungen") if multi else _("Total"),
        [_cell(protected[len(ordered)][c], t=t) for c in range(2)],
    )
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
    table.chart = _table_chart(table, _("Fälle"), t=t)
    return table


OUTCOME_COLUMNS: list[tuple[str, tuple[str, ...]]] = [
    ("first_labour_market", (Outcome.FIRST_LABOUR_MARKET,)),
    ("job_kept", (Outcome.JOB_KEPT,)),
    ("training", (Outcome.TRAINING,)),
    ("other", (Outcome.IV_MEASURE, Outcome.OTHER, "")),
    ("dropped_out", (Outcome.DROPPED_OUT,)),
    ("moved_away", (Outcome.MOVED_AWAY,)),
]


def _outcome_column_labels() -> list[str]:
    return [
        str(Outcome.FIRST_LABOUR_MARKET.label),
        str(Outcome.JOB_KEPT.label),
        str(Outcome.TRAINING.label),
        _("Andere Lösung, IV-Massnahme"),
        str(Outcome.DROPPED_OUT.label),
        str(Outcome.MOVED_AWAY.label),
    ]


def _outcome_index(outcome: str) -> int:
    for index, (_code, outcomes) in enumerate(OUTCOME_COLUMNS):
        if outcome in outcomes:
            return index
    return 3


def outcomes_table(
    ds: Dataset, period: Period, dimension: str, labels: Labels, *, protect: bool, t: int
) -> BreakdownTable:
    """Cases closed in the period by a dimension and outcome, with totals and the integration rate per row.

    The counts form one table with margins, so complementary suppression protects them together. The rate is
    shown only where its numerator and denominator are both published: then it tells nothing new.

    Protected, the table leaves closures by moving away out, as the integration rate does: then its totals
    are exactly the rate's numerator and denominator, which the page publishes as a headline figure, and
    suppression keeps them (a hidden total that the headline shows would protect nothing).
    """
    columns = OUTCOME_COLUMNS[:-1] if protect else OUTCOME_COLUMNS
    width = len(columns)
    counts: dict[object, list[int]] = defaultdict(lambda: [0] * width)
    for case in closed_in(ds, period):
        index = _outcome_index(case.outcome)
        if index >= width:
            continue
        for key in dimension_keys(case, dimension, ds, period):
            counts[key][index] += 1
    ordered = sorted(counts, key=sort_key(dimension, labels))
    grid = [counts[k] for k in ordered]
    table_of_counts = Table(rows=[str(k) for k in ordered], columns=[c for c, _o in columns], cells=grid)
    if protect:
        totals = len(ordered)
        protected = suppress(table_of_counts, t, keep=[(totals, 0), (totals, width)])
    else:
        protected = [list(row) for row in table_of_counts.with_totals()]
    moved = width - 1 if not protect else None

    def rate(row: list[int | None]) -> Cell:
        first, total = row[0], row[width]
        moved_away = row[moved] if moved is not None else 0
        if first is None or total is None or moved_away is None:
            return Cell(None, HIDDEN if protect else "–", suppressed=protect)
        denominator = total - moved_away
        if denominator == 0:
            return Cell(None, "–")
        if protect and denominator < t:
            return Cell(None, HIDDEN, suppressed=True)
        return Cell(first / denominator, value_format(first / denominator, "share"))

    rows = [
        TableRow(
            labels.of(dimension, key),
            [_cell(v, t=t) for v in protected[i]] + [rate(protected[i])],
            key=key,
        )
        for i, key in enumerate(ordered)
    ]
    multi = dimension == "life_situation"
    total_row: list[int | None] = protected[len(ordered)] if ordered else [0] * (width + 1)
    note = (
        _("Ohne Abschlüsse durch Wegzug, wie die Integrationsquote.")
        if protect
        else _("Die Integrationsquote zählt Wegzüge nicht mit.")
    )
    note += " " + _("Die Quote erscheint nur, wo Zähler und Nenner gezeigt werden.")
    if multi:
        note += " " + _("Ein Fall mit mehreren Lebenssituationen zählt in jeder.")
    return BreakdownTable(
        key=f"abschluesse-{dimension}",
        title=_("Abschlüsse nach %(dimension)s und Ergebnis") % {"dimension": dimension_title(dimension)},
        dimension=dimension,
        dimension_label=dimension_title(dimension),
        columns=[*_outcome_column_labels()[:width], _("Total"), _("Integrationsquote erster Arbeitsmarkt")],
        rows=rows,
        total=TableRow(
            _("Total Nennungen") if multi else _("Total"),
            [_cell(v, t=t) for v in total_row] + [rate(total_row)],
        )
        if ordered
        else None,
        multi_valued=multi,
        rate_column=True,
        short_title=_("Abschlüsse nach %(dimension)s") % {"dimension": dimension_title(dimension)},
        note=note,
    )


def figures_align(figures: list[Figure], tables: Iterable[BreakdownTable]) -> list[Figure]:
    """Hide a headline figure whose value a protected table had to hide as its total after all.

    Tables keep the totals that the headlines publish wherever they can (``suppress(keep=...)``); where a total
    was needed to protect a small cell, the headline gives way, or it would give the small cell away.
    """
    hide: set[str] = set()
    for table in tables:
        if table.total is None or table.multi_valued:
            continue
        cells = table.total.cells
        if table.rate_column and (cells[0].suppressed or cells[-2].suppressed):
            hide.add("integration_rate")
        if table.key.startswith("faelle-") and cells[1].suppressed:
            hide.add("new_cases")
    for figure in figures:
        if figure.code in hide and not figure.suppressed and not figure.empty:
            figure.value, figure.display, figure.suppressed, figure.drill_url = None, HIDDEN, True, ""
            figure.numerator = figure.denominator = None
    return figures


def _table_chart(table: BreakdownTable, axis: str, *, t: int) -> str:
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


def trend_build(ds: Dataset, period: Period, *, protect: bool, t: int, codes: Iterable[str] = TREND_CODES) -> Trend:
    """The KPIs for the last eight quarters up to the end of the period.

    The quarters of a calendar year add up to the year, whose figures a year page publishes. So counts are
    protected like a table per year, and a share hidden in one quarter is never the only hidden quarter of its
    year: otherwise the year minus the other quarters would give it away.
    """
    quarters = trend_quarters(period)
    by_year: dict[int, list[int]] = defaultdict(list)
    for index, q in enumerate(quarters):
        by_year[q.start.year].append(index)
    lines = []
    for code in codes:
        kpi = KPI_BY_CODE[code]
        values = [kpi_compute(code, ds, q) for q in quarters]
        if kpi.unit == "count" and protect:
            published: list[int | None] = [v.n for v in values]
            for indices in by_year.values():
                row = [values[i].n for i in indices]
                protected = suppress(Table(rows=["y"], columns=[str(i) for i in indices], cells=[row]), t)[0]
                for i, value in zip(indices, protected[:-1], strict=True):
                    published[i] = value
            cells = [_cell(v, t=t) for v in published]
        else:
            cells = []
            for kpi_value in values:
                figure = figure_build(kpi, kpi_value, protect=protect, t=t)
                cells.append(Cell(figure.value, figure.display, suppressed=figure.suppressed))
            if kpi.unit == "share" and protect:
                for indices in by_year.values():
                    if sum(1 for i in indices if cells[i].suppressed) != 1:
                        continue
                    others = [i for i in indices if not cells[i].suppressed and values[i].denominator]
                    if others:
                        partner = min(others, key=lambda i: (values[i].denominator or 0, i))
                        cells[partner] = Cell(None, HIDDEN, suppressed=True)
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
