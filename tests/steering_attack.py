"""The differencing attack on the published steering figures, as a reader with free filters would run it.

The attacker requests every published figure for every filter combination (period: years and quarters;
serving institution; district; life situation) from every channel a steering reader has: the strategic and
operational dashboards, the API's key figures and the XLSX reports of both audiences, and the cost-benefit
page. Each published count says something about the true count of a set of cases: exactly its value when it
is exact, the interval that the published rules allow otherwise ("< 5" is 1 to 4, a hidden cell is at least
1, a perturbed count lies within the documented deviation of its true value). The attacker knows the
definitions of the figures, which are public, but not the cases.

The unknowns are the number of cases in each atom: cases that no published figure tells apart. Every
published count is a sum over atoms; the attacker's linear programme minimises and maximises, for each
protected cell (a published count whose true value lies between 1 and the threshold minus one), its sum
subject to all published intervals. A cell is recovered when the programme pins it to its true value.

Definitions are taken from the code under attack (a case's contribution to a figure is the figure computed
on that case alone), so the same harness attacks today's figures and tomorrow's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import io
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iiz.organisations.models import User
from iiz.steering import kpis as kpi_module
from iiz.steering.kpis import Dataset, Period, Scope

INF = math.inf
Weights = tuple[tuple[int, int], ...]  # (case id, how often the case counts), sorted


def _call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call with the keyword arguments the function takes (the harness serves two versions of the code)."""
    accepted = inspect.signature(fn).parameters
    return fn(**{k: v for k, v in kwargs.items() if k in accepted})


# ---------------------------------------------------------------------------------------------------------
# What a published count tells the attacker
# ---------------------------------------------------------------------------------------------------------


def _publication() -> Any:
    try:
        from iiz.steering import publication
    except ImportError:  # today's code: counts are exact or suppressed
        return None
    return publication


def count_interval(value: float | None, display: str, suppressed: bool, threshold: int) -> tuple[float, float] | None:
    """The true counts that a published count allows, by the published rules; None when it says nothing."""
    text = (display or "").strip()
    if suppressed or value is None:
        if text.startswith("<"):
            module = _publication()
            return module.marker_preimage(threshold) if module is not None else (1, threshold - 1)
        if text in ("X", "x"):
            return (1, INF)  # suppression hides non-zero cells only
        return None
    published = int(round(value))
    module = _publication()
    if module is None:
        return (published, published)
    low, high = module.count_preimage(published)
    return (low, high)


def numerator_interval(numerator: int, denominator: int | None) -> tuple[float, float]:
    module = _publication()
    if module is None:
        return (numerator, numerator)
    low, high = module.count_preimage(numerator)
    if denominator is not None and numerator >= denominator:
        high = INF  # the numerator is capped at the denominator: at least this many
    return (low, high)


# ---------------------------------------------------------------------------------------------------------
# Which cases stand behind a published count
# ---------------------------------------------------------------------------------------------------------


def _subset(ds: Dataset, ids: set[int]) -> Dataset:
    subset = getattr(kpi_module, "dataset_subset", None)
    if subset is not None:
        return subset(ds, ids)
    cases = [c for c in ds.cases if c.id in ids]
    clients = {c.client_id for c in cases}
    return dataclasses.replace(
        ds,
        cases=cases,
        agreements=[a for a in ds.agreements if a[0] in ids],
        requests=[r for r in ds.requests if r[0] in ids],
        consents=[c for c in ds.consents if c[0] in clients],
    )


def in_scope(case: Any, scope: Scope) -> bool:
    return (
        (scope.institution_id is None or case.serving_institution_id == scope.institution_id)
        and (scope.district is None or case.district == scope.district)
        and (scope.life_situation is None or scope.life_situation in case.life_situations)
    )


CONSENT_CODES = ("consents_given", "consents_revoked")


@dataclass
class Truth:
    """The true data and each case's contribution to each figure of a period (what the definitions say)."""

    ds: Dataset
    contributions: dict[tuple[str, str], dict[int, tuple[int, int, int]]] = field(default_factory=dict)

    def contribution(self, code: str, period: Period) -> dict[int, tuple[int, int, int]]:
        """case id -> (numerator, denominator, n) of the figure computed on that case alone."""
        key = (code, period.label)
        if key not in self.contributions:
            result = {}
            for case in self.ds.cases:
                value = kpi_module.kpi_compute(code, _subset(self.ds, {case.id}), period)
                result[case.id] = (
                    int(value.numerator or 0),
                    int(value.denominator or 0),
                    int(value.n or 0),
                )
            self.contributions[key] = result
        return self.contributions[key]

    def weights(
        self, code: str, part: int, period: Period, scope: Scope, keep: Callable[[Any], bool] = lambda c: True
    ) -> Weights:
        contribution = self.contribution(code, period)
        chosen = [c for c in self.ds.cases if in_scope(c, scope) and keep(c)]
        if code in CONSENT_CODES:
            # Consents belong to the person: counted once per person, whichever of their cases is in scope.
            first: dict[int, int] = {}
            for case in sorted(chosen, key=lambda c: c.id):
                first.setdefault(case.client_id, case.id)
            chosen = [c for c in chosen if first[c.client_id] == c.id]
        return tuple(sorted((c.id, contribution[c.id][part]) for c in chosen if contribution[c.id][part]))


# ---------------------------------------------------------------------------------------------------------
# The published counts, collected
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Published:
    where: str
    weights: Weights
    low: float
    high: float

    @property
    def true(self) -> int:
        return sum(w for _c, w in self.weights)


@dataclass
class Collection:
    threshold: int
    items: list[Published] = field(default_factory=list)

    def add(self, where: str, weights: Weights, interval: tuple[float, float] | None) -> None:
        if interval is None:
            return
        self.items.append(Published(where, weights, interval[0], interval[1]))


NUM, DEN, N = 0, 1, 2


def _figure_counts(collection: Collection, truth: Truth, where: str, figure: Any, period: Period, scope: Scope) -> None:
    """A KPI figure: its count, or the numerator and denominator of a share, or the n behind a median."""
    t = collection.threshold
    code, unit = figure.code, figure.unit
    if code == "caseload_per_coordinator":
        return  # a ratio to the number of coordinators, who are no clients
    if unit == "count":
        collection.add(
            f"{where} {code}",
            truth.weights(code, N, period, scope),
            count_interval(figure.value, figure.display, figure.suppressed, t),
        )
        return
    if unit == "share":
        numerator, denominator = figure.numerator, figure.denominator
        value = figure.value
        if denominator is not None:
            collection.add(
                f"{where} {code} denominator",
                truth.weights(code, DEN, period, scope),
                count_interval(denominator, str(denominator), False, t),
            )
        if numerator is None and value is not None and denominator:
            numerator = int(round(value * denominator))
        if numerator is not None:
            collection.add(
                f"{where} {code} numerator",
                truth.weights(code, NUM, period, scope),
                numerator_interval(numerator, denominator),
            )
        elif figure.suppressed and denominator is not None and _publication() is not None:
            # Withheld beside a published denominator: the numerator was published below the threshold.
            collection.add(
                f"{where} {code} numerator",
                truth.weights(code, NUM, period, scope),
                count_interval(None, "<", True, t),
            )
        if figure.suppressed and denominator is None:
            n_display = getattr(figure, "n_display", "")
            if n_display:
                collection.add(
                    f"{where} {code} denominator",
                    truth.weights(code, DEN, period, scope),
                    count_interval(getattr(figure, "n", None) or None, n_display, n_display.startswith("<"), t),
                )
        return
    # A median or a ratio: the number of cases behind it.
    n_display = getattr(figure, "n_display", None)
    n = getattr(figure, "n", None)
    if n_display is not None:
        small = n_display.startswith("<")
        collection.add(
            f"{where} {code} n",
            truth.weights(code, N, period, scope),
            count_interval(None if small else n, n_display, small, t),
        )
    elif n is not None:
        collection.add(f"{where} {code} n", truth.weights(code, N, period, scope), count_interval(n, str(n), False, t))


def _cell_interval(cell: Any, t: int) -> tuple[float, float] | None:
    return count_interval(cell.value, cell.display, cell.suppressed, t)


def _table_counts(collection: Collection, truth: Truth, where: str, table: Any, period: Period, scope: Scope) -> None:
    from iiz.steering import figures

    t = collection.threshold
    dimension = table.dimension
    ds = truth.ds

    def keyed(key: object) -> Callable[[Any], bool]:
        return lambda c: key in figures.dimension_keys(c, dimension, ds, period)

    if table.key.startswith("faelle-"):
        codes = ("open_cases", "new_cases")
        for row in table.rows:
            for index, code in enumerate(codes):
                collection.add(
                    f"{where} {table.key}[{row.key}] {code}",
                    truth.weights(code, N, period, scope, keyed(row.key)),
                    _cell_interval(row.cells[index], t),
                )
        if table.total is not None and not table.multi_valued:
            for index, code in enumerate(codes):
                collection.add(
                    f"{where} {table.key}[total] {code}",
                    truth.weights(code, N, period, scope),
                    _cell_interval(table.total.cells[index], t),
                )
        return
    if table.key.startswith("abschluesse-"):
        columns = figures.OUTCOME_COLUMNS
        width = len(table.columns) - 2  # outcome columns, then total and rate

        def closed(column: int | None) -> Callable[[Any], bool]:
            def keep(c: Any) -> bool:
                if not period.contains(c.closed_on):
                    return False
                index = figures._outcome_index(c.outcome)
                return index < width if column is None else index == column

            return keep

        def closures(key: object, column: int | None) -> Weights:
            keep = closed(column)
            chosen = [
                c
                for c in ds.cases
                if in_scope(c, scope)
                and keep(c)
                and (key is _ALL or key in figures.dimension_keys(c, dimension, ds, period))
            ]
            return tuple(sorted((c.id, 1) for c in chosen))

        rows = [(row.key, row) for row in table.rows]
        if table.total is not None and not table.multi_valued:
            rows.append((_ALL, table.total))
        for key, row in rows:
            for column in range(width + 1):
                collection.add(
                    f"{where} {table.key}[{key}] {columns[column][0] if column < width else 'total'}",
                    closures(key, None if column == width else column),
                    _cell_interval(row.cells[column], t),
                )
        return


_ALL = object()


def _trend_counts(collection: Collection, truth: Truth, where: str, trend: Any, scope: Scope) -> None:
    for line in trend.lines:
        for quarter, cell in zip(trend.quarters, line.cells, strict=True):
            shim = _CellFigure(line.kpi.code, line.kpi.unit, cell)
            _figure_counts(collection, truth, f"{where} trend {quarter.label}", shim, quarter, scope)


@dataclass
class _CellFigure:
    """A trend cell read like a figure: a count, or a share with its numerator and denominator if given."""

    code: str
    unit: str
    cell: Any

    def __getattr__(self, name: str) -> Any:
        if name in ("value", "display", "suppressed"):
            return getattr(self.cell, name)
        if name in ("numerator", "denominator", "n", "n_display"):
            return getattr(self.cell, name, None)
        raise AttributeError(name)


def _api_counts(
    collection: Collection, truth: Truth, where: str, figures: Iterable[Any], period: Period, scope: Scope
) -> None:
    t = collection.threshold
    for figure in figures:
        if figure.code == "caseload_per_coordinator":
            continue
        marker = lambda: count_interval(None, "<", True, t)  # noqa: E731 - a count given as "< t"
        if figure.unit == "count":
            if figure.n is not None:
                interval = count_interval(figure.n, str(figure.n), False, t)
            else:
                interval = marker() if figure.suppressed else None
            collection.add(f"{where} {figure.code}", truth.weights(figure.code, N, period, scope), interval)
        elif figure.unit == "share":
            denominator_interval = (
                count_interval(figure.denominator, str(figure.denominator), False, t)
                if figure.denominator is not None
                else (marker() if figure.n is None else None)
            )
            collection.add(
                f"{where} {figure.code} denominator",
                truth.weights(figure.code, DEN, period, scope),
                denominator_interval,
            )
            numerator = figure.numerator
            if numerator is None and figure.value is not None and figure.denominator:
                numerator = int(round(figure.value * figure.denominator))
            if numerator is not None:
                collection.add(
                    f"{where} {figure.code} numerator",
                    truth.weights(figure.code, NUM, period, scope),
                    numerator_interval(numerator, figure.denominator),
                )
            elif figure.suppressed and figure.denominator is not None and _publication() is not None:
                collection.add(
                    f"{where} {figure.code} numerator", truth.weights(figure.code, NUM, period, scope), marker()
                )
        elif figure.n is not None:
            collection.add(
                f"{where} {figure.code} n",
                truth.weights(figure.code, N, period, scope),
                count_interval(figure.n, str(figure.n), False, t),
            )


# ---------------------------------------------------------------------------------------------------------
# XLSX: the workbook is read back cell by cell; positions are matched with the report's own structure
# ---------------------------------------------------------------------------------------------------------


def _xlsx_cell(value: Any) -> tuple[float | None, str, bool]:
    if isinstance(value, int | float):
        return float(value), str(value), False
    text = str(value or "").strip()
    if text.startswith("<") or text in ("X", "x"):
        return None, text, True
    return None, text, False


def _xlsx_counts(
    collection: Collection, truth: Truth, where: str, data: Any, content: bytes, period: Period, scope: Scope
) -> None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    sheets = book.worksheets
    # Key figures: code, name, value, unit, n, numerator, denominator.
    for row in list(sheets[0].iter_rows(min_row=2, values_only=True)):
        code = row[0]
        figure = next((f for f in data.figures if f.code == code), None)
        if figure is None:
            continue
        value, display, suppressed = _xlsx_cell(row[2])
        n_value, n_display, n_small = _xlsx_cell(row[4])
        numerator = row[5] if isinstance(row[5], int | float) else None
        denominator = row[6] if isinstance(row[6], int | float) else None
        shim = _XlsxFigure(
            code=code,
            unit=figure.unit,
            value=(value if figure.unit == "count" else value),
            display=display,
            suppressed=suppressed,
            numerator=int(numerator) if numerator is not None else None,
            denominator=int(denominator) if denominator is not None else None,
            n=int(n_value) if n_value is not None else 0,
            n_display=n_display if not n_small else n_display,
        )
        _figure_counts(collection, truth, f"{where} xlsx", shim, period, scope)
    for table, sheet in zip(data.tables, sheets[1 : 1 + len(data.tables)], strict=True):
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        published = [*table.rows, *([table.total] if table.total else [])]
        shim_rows = []
        for source, row in zip(published, rows, strict=False):
            cells = []
            for position in range(len(source.cells)):
                value, display, suppressed = _xlsx_cell(row[1 + position])
                cells.append(_XlsxCell(value, display, suppressed))
            shim_rows.append(dataclasses.replace(source, cells=cells))
        shim_table = dataclasses.replace(
            table,
            rows=shim_rows[: len(table.rows)],
            total=shim_rows[len(table.rows)] if table.total else None,
        )
        _table_counts(collection, truth, f"{where} xlsx", shim_table, period, scope)
    trend_sheet = sheets[1 + len(data.tables)]
    for line, row in zip(data.trend.lines, list(trend_sheet.iter_rows(min_row=2, values_only=True)), strict=False):
        cells = [_XlsxCell(*_xlsx_cell(v)) for v in row[2 : 2 + len(data.trend.quarters)]]
        shim_line = dataclasses.replace(line, cells=cells)
        _trend_counts(collection, truth, f"{where} xlsx", dataclasses.replace(data.trend, lines=[shim_line]), scope)


@dataclass
class _XlsxCell:
    value: float | None
    display: str
    suppressed: bool


@dataclass
class _XlsxFigure:
    code: str
    unit: str
    value: float | None
    display: str
    suppressed: bool
    numerator: int | None
    denominator: int | None
    n: int
    n_display: str


# ---------------------------------------------------------------------------------------------------------
# The sweep over every filter combination
# ---------------------------------------------------------------------------------------------------------


@contextmanager
def datasets_from_memory(full: Dataset) -> Iterator[None]:
    """Serve ``dataset_load`` from one loaded dataset: the same rows as the database gives for each scope,
    without a dozen queries per filter combination (the attack requests thousands)."""
    import importlib

    def load(*, scope: Scope = Scope()) -> Dataset:  # noqa: B008
        ids = {c.id for c in full.cases if in_scope(c, scope) and (not scope.level or c.level == scope.level)}
        return _subset(full, ids)

    patched = []
    for name in (
        "iiz.steering.kpis",
        "iiz.steering.selectors",
        "iiz.steering.reports",
        "iiz.steering.analyses",
        "iiz.steering.figures",
        "iiz.steering.publication",
        "iiz.steering.costbenefit",
        "iiz.interfaces.selectors",
    ):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "dataset_load"):
            patched.append((module, module.dataset_load))
            module.dataset_load = load
    try:
        yield
    finally:
        for module, original in patched:
            module.dataset_load = original


def scopes(ds: Dataset) -> list[Scope]:
    """Every combination of institution, district and life situation (each also "all") that holds a case."""
    institutions = sorted({c.serving_institution_id for c in ds.cases})
    districts = sorted({c.district for c in ds.cases if c.district is not None})
    situations = sorted({s for c in ds.cases for s in c.life_situations})
    result = []
    for institution in [None, *institutions]:
        for district in [None, *districts]:
            for situation in [None, *situations]:
                scope = Scope(institution_id=institution, district=district, life_situation=situation)
                if any(in_scope(c, scope) for c in ds.cases):
                    result.append(scope)
    return result


def periods(years: Iterable[int]) -> list[Period]:
    result = []
    for year in years:
        result.append(Period.parse(str(year)))
        result += [Period.parse(f"{year}-Q{q}") for q in range(1, 5)]
    return result


def collect(
    *,
    years: Iterable[int],
    today: dt.date,
    trustee: User,
    committee: User,
    threshold: int,
    channels: Iterable[str] = ("strategic", "operational", "api", "xlsx", "costbenefit"),
    xlsx_files: Callable[[Scope], bool] = lambda scope: True,
) -> tuple[Collection, dict[str, int]]:
    """Every published count of every filter combination, with what it tells; and how many were requested.

    ``xlsx_files`` chooses the scopes whose reports are rendered to a workbook and read back cell by cell; for
    the others the report's data (what the workbook is written from) is read.
    """
    from iiz.interfaces import selectors as api_selectors
    from iiz.steering import reports, selectors
    from iiz.steering.kpis import OPERATIONAL, STRATEGIC, dataset_load

    channels = set(channels)
    full = dataset_load()
    truth = Truth(full)
    collection = Collection(threshold)
    requested: dict[str, int] = defaultdict(int)
    with datasets_from_memory(full), _fast_pages():
        for scope in scopes(full):
            for period in periods(years):
                filters = selectors.Filters(period=period, scope=scope)
                label = f"{period.label} {scope}"
                if "strategic" in channels:
                    board = _call(selectors.strategic_dashboard, filters=filters, today=today, user=trustee)
                    _empty_counts(collection, truth, f"strategic {label}", board.empty, period, scope)
                    for figure in board.figures:
                        _figure_counts(collection, truth, f"strategic {label}", figure, period, scope)
                    _trend_counts(collection, truth, f"strategic {label}", board.trend, scope)
                    for table in (board.regions, board.regions_new):
                        _table_counts(collection, truth, f"strategic {label}", table, period, scope)
                    requested["strategic"] += 1
                if "operational" in channels:
                    board = _call(
                        selectors.operational_dashboard, filters=filters, today=today, drill=False, user=committee
                    )
                    _empty_counts(collection, truth, f"operational {label}", board.empty, period, scope)
                    for figure in board.figures:
                        _figure_counts(collection, truth, f"operational {label}", figure, period, scope)
                    for table in board.tables:
                        _table_counts(collection, truth, f"operational {label}", table, period, scope)
                    requested["operational"] += 1
                if "api" in channels:
                    for audience, user in ((STRATEGIC, trustee), (OPERATIONAL, committee)):
                        published = _call(
                            api_selectors.kpis_published,
                            period=period,
                            scope=scope,
                            audience=audience,
                            threshold=threshold,
                            user=user,
                        )
                        _api_counts(collection, truth, f"api {audience} {label}", published, period, scope)
                        requested["api"] += 1
                if "xlsx" in channels:
                    for audience in (OPERATIONAL, STRATEGIC):
                        if audience == STRATEGIC and not xlsx_files(scope) and _publication() is not None:
                            # The strategic report's tables and trend are the operational report's (the same
                            # records give the same published values) and its figures a part of them: read once.
                            continue
                        data = _call(
                            reports.report_data_build, period=period, scope=scope, audience=audience, today=today
                        )
                        if xlsx_files(scope):
                            content = reports.report_render_xlsx(data)
                            _xlsx_counts(collection, truth, f"xlsx {audience} {label}", data, content, period, scope)
                            requested["xlsx"] += 1
                        else:
                            _report_counts(collection, truth, f"report {audience} {label}", data, period, scope)
                            requested["report data"] += 1
        if "costbenefit" in channels:
            for period in periods(years):
                _costbenefit_counts(collection, truth, period, trustee)
                requested["costbenefit"] += 1
    return collection, dict(requested)


def _empty_counts(collection: Collection, truth: Truth, where: str, empty: Any, period: Period, scope: Scope) -> None:
    """A page that says "too few cases" has published that the cases active in the period are below t."""
    if empty is None or _publication() is None or empty.title.startswith("Die Periode"):
        return
    active = tuple(
        sorted(
            (c.id, 1)
            for c in truth.ds.cases
            if in_scope(c, scope) and c.opened_on <= period.end and (c.closed_on is None or c.closed_on >= period.start)
        )
    )
    collection.add(f"{where} active (empty page)", active, count_interval(None, "<", True, collection.threshold))


def _report_counts(collection: Collection, truth: Truth, where: str, data: Any, period: Period, scope: Scope) -> None:
    for figure in data.figures:
        _figure_counts(collection, truth, where, figure, period, scope)
    for table in data.tables:
        _table_counts(collection, truth, where, table, period, scope)
    _trend_counts(collection, truth, where, data.trend, scope)


@contextmanager
def _fast_pages() -> Iterator[None]:
    """Leave out what costs time and publishes no count of its own: the SVG charts (drawn from the cells the
    attack reads), the names of the dimensions (read once), and the figures of today's work (the same for
    every period: computed once per scope)."""
    from iiz.steering import charts, figures, reports, selectors

    saved = [
        (reports, "cost_benefit_summary", reports.cost_benefit_summary),
        (charts, "bar_chart", charts.bar_chart),
        (charts, "line_chart", charts.line_chart),
        (figures.Labels, "load", figures.Labels.load),
        (selectors, "coordinator_workloads", selectors.coordinator_workloads),
        (selectors, "overdue_table", selectors.overdue_table),
    ]
    labels = figures.Labels.load()
    charts.bar_chart = lambda **kwargs: ""  # type: ignore[assignment]
    charts.line_chart = lambda **kwargs: ""  # type: ignore[assignment]
    figures.Labels.load = classmethod(lambda cls: labels)  # type: ignore[method-assign,assignment]
    summaries: dict[Any, Any] = {}

    def summary(period: Period, **kwargs: Any) -> Any:
        # The report's cost-benefit lines are the whole canton's, the same for every scope of a period.
        if period not in summaries:
            summaries[period] = saved[0][2](period, **kwargs)
        return summaries[period]

    reports.cost_benefit_summary = summary  # type: ignore[assignment]
    for name in ("coordinator_workloads", "overdue_table"):
        original = getattr(selectors, name)
        cache: dict[Any, Any] = {}

        def cached(scope: Scope, *args: Any, _original: Any = original, _cache: Any = cache, **kwargs: Any) -> Any:
            if scope not in _cache:
                _cache[scope] = _original(scope, *args, **kwargs)
            return _cache[scope]

        setattr(selectors, name, cached)
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def _costbenefit_counts(collection: Collection, truth: Truth, period: Period, user: User) -> None:
    """The integrations and the persons by benefit on the cost-benefit page (whole canton)."""
    from iiz.steering import costbenefit

    published = (
        _new_costbenefit(period, user) if hasattr(costbenefit, "cost_benefit_published") else _old_costbenefit(period)
    )
    for name, (value, display, suppressed, ids) in published.items():
        weights = tuple(sorted((case_id, 1) for case_id in ids))
        collection.add(
            f"costbenefit {period.label} {name}",
            weights,
            count_interval(value, display, suppressed, collection.threshold),
        )


def _new_costbenefit(period: Period, user: User) -> dict[str, tuple[float | None, str, bool, set[int]]]:
    from iiz.steering.costbenefit import cost_benefit_published
    from iiz.steering.publication import Publisher, Reader

    cb = cost_benefit_published(period=period, publisher=Publisher(Reader.for_user(user)))
    result = {}
    for name, count in (
        ("integrations", cb.integrations),
        ("alv", cb.with_alv),
        ("sa", cb.with_sa),
        ("iv", cb.with_iv),
    ):
        value = None if count.small else float(count.value)
        result[name] = (value, count.display, count.small, set(cb.model.records[name]))
    return result


def _old_costbenefit(period: Period) -> dict[str, tuple[float | None, str, bool, set[int]]]:
    """Today's page: the counts as ``cost_benefit_publish`` shows them, with the cases behind each."""
    from iiz.cases.models import Case, CaseStatus, Outcome
    from iiz.clients.models import Registration
    from iiz.organisations.models import InstitutionKind
    from iiz.steering.costbenefit import cost_benefit_compute, parameters
    from iiz.steering.views_analyses import cost_benefit_publish

    p = parameters()
    cb = cost_benefit_publish(cost_benefit_compute(period=period, p=p), p, threshold=collection_threshold())
    integrated = list(
        Case.objects.filter(
            status=CaseStatus.CLOSED,
            closed_on__gte=period.start,
            closed_on__lte=period.end,
            outcome__in=[Outcome.FIRST_LABOUR_MARKET, Outcome.JOB_KEPT],
        ).values_list("id", "client_id", "closed_on")
    )
    by_kind: dict[str, set[int]] = defaultdict(set)
    for case_id, client_id, closed_on in integrated:
        kinds = {
            kind
            for kind, registered_on, deregistered_on in Registration.objects.filter(client_id=client_id).values_list(
                "institution__kind", "registered_on", "deregistered_on"
            )
            if registered_on <= closed_on and (deregistered_on is None or deregistered_on >= closed_on)
        }
        for kind, name in (
            (InstitutionKind.LABOUR, "alv"),
            (InstitutionKind.SOCIAL_SERVICE, "sa"),
            (InstitutionKind.DISABILITY, "iv"),
        ):
            if kind in kinds:
                by_kind[name].add(case_id)
    t = collection_threshold()
    result = {}
    for name, value, ids in (
        ("integrations", cb.integrations, {i for i, _c, _d in integrated}),
        ("alv", cb.with_alv, by_kind["alv"]),
        ("sa", cb.with_sa, by_kind["sa"]),
        ("iv", cb.with_iv, by_kind["iv"]),
    ):
        result[name] = (
            None if value is None else float(value),
            f"< {t}" if value is None else str(value),
            value is None,
            ids,
        )
    return result


def collection_threshold() -> int:
    from django.conf import settings

    return int(settings.IIZ_SUPPRESSION_THRESHOLD)


# ---------------------------------------------------------------------------------------------------------
# The linear programme
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Recovery:
    where: str
    true: int
    low: float
    high: float


@dataclass
class AttackResult:
    protected: int
    recovered: list[Recovery]
    published: int
    constraints: int
    atoms: int

    @property
    def line(self) -> str:
        return f"differencing attack: recovered {len(self.recovered)} of {self.protected} protected cells"


def attack(collection: Collection) -> AttackResult:
    """Pin down what the published intervals allow, for every protected cell, by linear programming."""
    from scipy.optimize import linprog

    t = collection.threshold
    items = [i for i in collection.items if i.weights or i.low > 0]
    # Atoms: cases that every published count weighs alike are indistinguishable to the attacker.
    signature: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for index, item in enumerate(items):
        for case_id, weight in item.weights:
            signature[case_id].append((index, weight))
    atoms: dict[tuple[tuple[int, int], ...], list[int]] = defaultdict(list)
    for case_id, sig in signature.items():
        atoms[tuple(sig)].append(case_id)
    atom_of = {case_id: a for a, members in enumerate(atoms.values()) for case_id in members}
    size = len(atoms)
    # One constraint per distinct set of cases, with the tightest interval any channel gives.
    bounds: dict[tuple[tuple[int, int], ...], list[float]] = {}
    names: dict[tuple[tuple[int, int], ...], str] = {}
    for item in items:
        vector: dict[int, int] = defaultdict(int)
        for case_id, weight in item.weights:
            vector[atom_of[case_id]] += weight
        key = tuple(sorted(vector.items()))
        low, high = bounds.get(key, [-INF, INF])
        bounds[key] = [max(low, item.low), min(high, item.high)]
        names.setdefault(key, item.where)
    # Atoms with a single case each would be unknowns of 0 or 1; the attacker does not know how many cases an
    # atom holds, so every atom is a non-negative count.
    rows, lows, highs = [], [], []
    for key, (low, high) in bounds.items():
        row = np.zeros(size)
        for atom, weight in key:
            row[atom] = weight
        rows.append(row)
        lows.append(low)
        highs.append(high)
    matrix = np.array(rows) if rows else np.zeros((0, size))
    a_ub = np.vstack(
        [matrix[[i for i, h in enumerate(highs) if h < INF]], -matrix[[i for i, lo in enumerate(lows) if lo > 0]]]
    )
    b_ub = np.concatenate([[h for h in highs if h < INF], [-lo for lo in lows if lo > 0]])
    protected = [(key, names[key]) for key in bounds if 0 < _true(key, atoms) < t]
    # A quick proof first: the true counts satisfy every published interval. Where one more (or one fewer)
    # case in a single atom still satisfies all of them, the attacker cannot tell that count from the true one,
    # and every protected cell holding that atom is not pinned. Only the rest needs the linear programmes.
    truth_vector = np.array([len(members) for members in atoms.values()], dtype=float)
    values = matrix @ truth_vector
    high_slack = np.array(highs) - values
    low_slack = values - np.array(lows)
    movable = np.zeros(size, dtype=bool)
    for atom in range(size):
        column = matrix[:, atom]
        rows_with = column > 0
        up = bool(np.all(high_slack[rows_with] >= column[rows_with] - 1e-9))
        down = truth_vector[atom] >= 1 and bool(np.all(low_slack[rows_with] >= column[rows_with] - 1e-9))
        movable[atom] = up or down
    recovered = []
    for key, where in protected:
        true = _true(key, atoms)
        if any(movable[atom] for atom, _weight in key):
            continue
        objective = np.zeros(size)
        for atom, weight in key:
            objective[atom] = weight
        low = linprog(objective, A_ub=a_ub, b_ub=b_ub, bounds=[(0, None)] * size, method="highs")
        high = linprog(-objective, A_ub=a_ub, b_ub=b_ub, bounds=[(0, None)] * size, method="highs")
        if low.status != 0:
            continue
        lo_value = low.fun
        hi_value = INF if high.status == 3 else -high.fun
        # Counts are whole numbers: the cell is pinned when no other whole number fits between the bounds.
        if math.ceil(lo_value - 1e-6) == true and math.floor(hi_value + 1e-6) == true:
            recovered.append(Recovery(where, true, lo_value, hi_value))
    return AttackResult(
        protected=len(protected), recovered=recovered, published=len(items), constraints=len(bounds), atoms=size
    )


def _true(key: tuple[tuple[int, int], ...], atoms: dict[Any, list[int]]) -> int:
    members = list(atoms.values())
    return sum(weight * len(members[atom]) for atom, weight in key)
