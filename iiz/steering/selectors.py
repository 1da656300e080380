"""Reads for the steering pages and reports: the two dashboards, work lists, drill-down and the report list.

The figures, tables and trends themselves are built in ``iiz.steering.figures``. Everything here starts from
one ``dataset_load`` of the KPI catalogue plus a fixed handful of grouped queries,
so a dashboard costs the same number of queries whatever the number of cases. Who may see what is decided in
``iiz.access``; what a count shows the reader is decided in ``iiz.steering.publication``; this module
restricts drill-down lists to the cases the user may see.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from iiz import access
from iiz.cases.models import (
    Agreement,
    AgreementStatus,
    Case,
    CaseParticipant,
    CaseStatus,
    InformationRequest,
    Level,
    Measure,
    MeasureStatus,
    PlanStatus,
)
from iiz.organisations.models import Role, User
from iiz.steering import charts
from iiz.steering.figures import (
    BreakdownTable,
    Cell,
    EmptyState,
    Figure,
    Labels,
    TableRow,
    Trend,
    cases_table,
    dimension_keys,
    dimension_title,
    empty_state,
    figures_build,
    outcomes_table,
    sort_key,
    threshold,
    trend_build,
)
from iiz.steering.kpis import (
    DIMENSIONS,
    KPI_BY_CODE,
    OPERATIONAL,
    STRATEGIC,
    Dataset,
    Period,
    Scope,
    dataset_load,
    kpi_compute,
    kpis_for,
)
from iiz.steering.models import SteeringReport
from iiz.steering.publication import Count, Publisher, Reader, method_note

DEFAULT_STUCK_DAYS = 90
# Figures of work in progress (overdue items, stuck cases) that the drill-down also knows, beside the KPIs.
WORK_FIGURES = ("stuck", "overdue_agreements", "overdue_measures", "overdue_requests")


# ---------------------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    period: Period
    scope: Scope = Scope()
    stuck_days: int = DEFAULT_STUCK_DAYS

    def params(self, **extra: object) -> dict[str, str]:
        values: dict[str, object] = {
            "period": self.period.label,
            "institution": self.scope.institution_id,
            "district": self.scope.district,
            "life_situation": self.scope.life_situation,
        }
        values.update(extra)
        return {key: str(value) for key, value in values.items() if value not in (None, "")}

    def query(self, **extra: object) -> str:
        return urlencode(self.params(**extra))


def scope_to_json(scope: Scope) -> dict[str, object]:
    return {
        key: value
        for key, value in {
            "institution": scope.institution_id,
            "district": scope.district,
            "life_situation": scope.life_situation,
        }.items()
        if value not in (None, "")
    }


def scope_from_json(data: dict[str, object]) -> Scope:
    institution, district = data.get("institution"), data.get("district")
    return Scope(
        institution_id=int(str(institution)) if institution else None,
        district=int(str(district)) if district else None,
        life_situation=str(data["life_situation"]) if data.get("life_situation") else None,
    )


def scoped_cases(scope: Scope) -> QuerySet[Case]:
    """The cases of a scope, filtered as ``dataset_load`` filters them (for the grouped work-list queries)."""
    cases = Case.objects.all()
    if scope.institution_id:
        cases = cases.filter(serving_institution_id=scope.institution_id)
    if scope.district:
        cases = cases.filter(client__municipality__district__number=scope.district)
    if scope.life_situation:
        cases = cases.filter(screening__life_situations__code=scope.life_situation)
    return cases


# ---------------------------------------------------------------------------------------------------------
# Work in progress (operational): workloads, overdue items, cases stuck at a level
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Workload:
    user_id: int
    name: str
    open_cases: Count
    open_agreements: Count
    overdue_agreements: Count
    overdue_measures: Count


def coordinator_workloads(scope: Scope, today: dt.date, publisher: Publisher) -> list[Workload]:
    """Per active coordinator: open cases taken part in, open and overdue agreements, overdue measures (today).

    Each figure counts cases (an agreement or a measure counts as a record of its case) and is published like
    every other count: exact only where the reader may see every case behind it.
    """
    in_scope = scoped_cases(scope).values("id")
    people = list(
        User.objects.filter(is_active=True, roles__role=Role.COORDINATOR)
        .distinct()
        .order_by("last_name", "first_name", "id")
        .values_list("id", "first_name", "last_name", "username")
    )
    ids = [p[0] for p in people]
    cases: dict[int, list[int]] = defaultdict(list)
    for user_id, case_id in (
        CaseParticipant.objects.filter(
            user_id__in=ids, left_on__isnull=True, case__status=CaseStatus.OPEN, case_id__in=in_scope
        )
        .order_by()
        .values_list("user_id", "case_id")
        .distinct()
    ):
        cases[user_id].append(case_id)
    agreements: dict[int, list[int]] = defaultdict(list)
    overdue: dict[int, list[int]] = defaultdict(list)
    for owner, case_id, due_on in Agreement.objects.filter(
        owner_id__in=ids, status=AgreementStatus.OPEN, case__status=CaseStatus.OPEN, case_id__in=in_scope
    ).values_list("owner_id", "case_id", "due_on"):
        agreements[owner].append(case_id)
        if due_on < today:
            overdue[owner].append(case_id)
    measures: dict[int, list[int]] = defaultdict(list)
    for user_id, case_id in (
        _overdue_measures(in_scope, today).filter(responsible_user_id__in=ids).values_list(
            "responsible_user_id", "plan__case_id"
        )
    ):
        measures[user_id].append(case_id)
    return [
        Workload(
            user_id=pk,
            name=f"{first} {last}".strip() or username,
            open_cases=publisher.count(sorted(set(cases[pk]))),
            open_agreements=publisher.count(sorted(set(agreements[pk]))),
            overdue_agreements=publisher.count(sorted(set(overdue[pk]))),
            overdue_measures=publisher.count(sorted(set(measures[pk]))),
        )
        for pk, first, last, username in people
    ]


def _overdue_agreements(in_scope: QuerySet[Case, Any], today: dt.date) -> QuerySet[Agreement]:
    return Agreement.objects.filter(
        status=AgreementStatus.OPEN, due_on__lt=today, case__status=CaseStatus.OPEN, case_id__in=in_scope
    )


def _overdue_measures(in_scope: QuerySet[Case, Any], today: dt.date) -> QuerySet[Measure]:
    # Only measures of the agreed plan bind anyone; a draft's dates are proposals.
    return Measure.objects.filter(
        status__in=[MeasureStatus.PLANNED, MeasureStatus.RUNNING],
        due_on__lt=today,
        plan__status=PlanStatus.AGREED,
        plan__case__status=CaseStatus.OPEN,
        plan__case_id__in=in_scope,
    )


def _overdue_requests(in_scope: QuerySet[Case, Any], today: dt.date) -> QuerySet[InformationRequest]:
    return InformationRequest.objects.filter(
        answered_on__isnull=True, due_on__lt=today, case__status=CaseStatus.OPEN, case_id__in=in_scope
    )


OVERDUE_KINDS = ("overdue_agreements", "overdue_measures", "overdue_requests")


def overdue_case_ids(kind: str, scope: Scope, today: dt.date, institution_id: int | None = None) -> set[int]:
    in_scope = scoped_cases(scope).values("id")
    if kind == "overdue_agreements":
        qs = _overdue_agreements(in_scope, today)
        if institution_id:
            qs = qs.filter(owner__unit__institution_id=institution_id)
        return set(qs.values_list("case_id", flat=True))
    if kind == "overdue_measures":
        measures = _overdue_measures(in_scope, today)
        if institution_id:
            measures = measures.filter(responsible_institution_id=institution_id)
        return set(measures.values_list("plan__case_id", flat=True))
    requests = _overdue_requests(in_scope, today)
    if institution_id:
        requests = requests.filter(to_institution_id=institution_id)
    return set(requests.values_list("case_id", flat=True))


def overdue_table(
    scope: Scope,
    today: dt.date,
    labels: Labels,
    *,
    publisher: Publisher,
    drill: Callable[[str, str, object], str] | None = None,
) -> BreakdownTable:
    """Overdue agreements (by the owner's institution), measures and information requests (by the institution
    responsible), in open cases, today; each item counts as a record of its case."""
    in_scope = scoped_cases(scope).values("id")
    columns: list[dict[object, list[int]]] = [defaultdict(list), defaultdict(list), defaultdict(list)]
    for institution, case_id in _overdue_agreements(in_scope, today).values_list(
        "owner__unit__institution_id", "case_id"
    ):
        columns[0][institution].append(case_id)
    for institution, case_id in _overdue_measures(in_scope, today).values_list(
        "responsible_institution_id", "plan__case_id"
    ):
        columns[1][institution].append(case_id)
    for institution, case_id in _overdue_requests(in_scope, today).values_list("to_institution_id", "case_id"):
        columns[2][institution].append(case_id)
    keys = sorted({k for column in columns for k in column}, key=sort_key("institution", labels))
    rows = []
    for key in keys:
        cells = []
        for index, column in enumerate(columns):
            count = publisher.count(sorted(set(column.get(key, []))))
            url = drill(OVERDUE_KINDS[index], "institution", key) if drill and key is not None else ""
            cells.append(_cell(count, drill_url=url))
        rows.append(TableRow(labels.of("institution", key), cells, key=key))
    totals = [publisher.count(sorted({r for records in column.values() for r in records})) for column in columns]
    table = BreakdownTable(
        key="ueberfaellig",
        title=_("Offene Fälle mit überfälligen Aufgaben (Stand heute)"),
        dimension="institution",
        dimension_label=_("Institution"),
        columns=[_("Vereinbarungen"), _("Massnahmen"), _("Informationsanfragen")],
        rows=rows,
        total=TableRow(
            _("Total"),
            [_cell(v, drill_url=drill(OVERDUE_KINDS[i], "", None) if drill else "") for i, v in enumerate(totals)],
        ),
        note=_(
            "Gezählt werden Fälle (nicht Aufgaben): Vereinbarungen nach der Institution der zuständigen Person, "
            "Massnahmen nach der verantwortlichen Institution, Informationsanfragen nach der angefragten Institution."
        ),
    )
    if rows:
        table.chart = charts.bar_chart(
            title=table.title,
            description=str(table.note),
            categories=[r.label for r in rows],
            series=[
                charts.Series(
                    name, [charts.Point(r.cells[i].value, r.cells[i].display, r.cells[i].suppressed) for r in rows]
                )
                for i, name in enumerate(table.columns)
            ],
            value_axis_label=_("überfällige Aufgaben"),
            category_axis_label=_("Institution"),
            stacked=True,
        )
    return table


def stuck_case_ids(ds: Dataset, today: dt.date, days: int) -> dict[int, set[int]]:
    """Open cases at the same level for more than ``days`` days (since the last level change or the opening)."""
    stuck: dict[int, set[int]] = {1: set(), 2: set(), 3: set()}
    for case in ds.cases:
        if case.closed_on is not None:
            continue
        changes = ds.level_changes.get(case.id, [])
        since = max([case.opened_on, *(day for day, _level in changes)])
        if (today - since).days > days:
            stuck.setdefault(case.level, set()).add(case.id)
    return stuck


# ---------------------------------------------------------------------------------------------------------
# The cases behind a figure (drill-down)
# ---------------------------------------------------------------------------------------------------------


def cases_behind(code: str, ds: Dataset, period: Period, today: dt.date) -> set[int]:
    """The cases that stand behind a KPI's figure: the records the KPI itself counts (its denominator and
    numerator for a share). For agreements and information requests these are the cases the items belong
    to; for consents, the cases of the persons who gave or revoked them."""
    if code not in KPI_BY_CODE:
        raise ValueError(code)
    value = kpi_compute(code, ds, period)
    return set(value.records) | set(value.numerator_records)


@dataclass
class DrillDown:
    title: str
    behind: Count  # the published count of the cases behind the figure, as the figure shows it
    cases: list[Case]
    description: str = ""

    @property
    def all_visible(self) -> bool:
        return self.behind.exact


def drilldown_cases(
    *,
    user: User,
    figure: str,
    filters: Filters,
    today: dt.date,
    dimension: str = "",
    key: str = "",
    level: int | None = None,
) -> DrillDown:
    """The cases behind a figure that the user may see, and how many of them stay hidden.

    ``figure`` is a KPI code or one of the work figures; ``dimension`` and ``key`` narrow it to one cell of
    a breakdown. The cases listed are those of ``access.cases_visible_to``: nobody learns of a case through
    the drill-down that they could not open anyway; the rest is only counted.
    """
    scope, period = filters.scope, filters.period
    if figure in OVERDUE_KINDS:
        institution = int(key) if dimension == "institution" and key.isdigit() else None
        behind = overdue_case_ids(figure, scope, today, institution)
        title = {
            "overdue_agreements": _("Fälle mit überfälligen Vereinbarungen"),
            "overdue_measures": _("Fälle mit überfälligen Massnahmen"),
            "overdue_requests": _("Fälle mit überfälligen Informationsanfragen"),
        }[figure]
    else:
        ds = dataset_load(scope=scope)
        if figure == "stuck":
            stuck = stuck_case_ids(ds, today, filters.stuck_days)
            behind = set().union(*stuck.values()) if level is None else stuck.get(level, set())
            title = _("Offene Fälle seit mehr als %(days)s Tagen auf derselben Stufe") % {"days": filters.stuck_days}
            if level is not None:
                title += f" ({Level(level).label})"
        else:
            behind = cases_behind(figure, ds, period, today)
            title = f"{KPI_BY_CODE[figure].name}, {period.label}"
        if dimension in DIMENSIONS and key != "":
            labels = Labels.load()
            wanted = {
                c.id
                for c in ds.cases
                if any(str(k) == key or (k is None and key == "none") for k in dimension_keys(c, dimension, ds, period))
            }
            behind &= wanted
            shown_key: object = None if key == "none" else (int(key) if key.isdigit() else key)
            title += f" – {dimension_title(dimension)}: {labels.of(dimension, shown_key)}"
    visible = (
        list(
            access.cases_visible_to(user=user)
            .filter(id__in=behind)
            .select_related("client", "serving_institution", "case_lead")
            .order_by("-opened_on", "-id")
        )
        if behind
        else []
    )
    return DrillDown(title=title, behind=Publisher(Reader.for_user(user)).count(sorted(behind)), cases=visible)


# ---------------------------------------------------------------------------------------------------------
# The dashboards
# ---------------------------------------------------------------------------------------------------------


def _drill_urls(
    filters: Filters, enabled: bool
) -> tuple[Callable[[str], str] | None, Callable[[str, str, object], str] | None]:
    if not enabled:
        return None, None
    base = reverse("steering:drilldown")

    def for_kpi(code: str) -> str:
        return f"{base}?{filters.query(kpi=code)}"

    def for_cell(code: str, dimension: str, key: object) -> str:
        extra: dict[str, object] = {"kpi": code}
        if dimension:
            extra.update(dimension=dimension, key="none" if key is None else key)
        if code == "stuck":
            extra["stuck_days"] = filters.stuck_days
        return f"{base}?{filters.query(**extra)}"

    return for_kpi, for_cell


@dataclass
class StuckRow:
    level: int
    label: str
    count: Count
    drill_url: str = ""


@dataclass
class OperationalDashboard:
    filters: Filters
    scope_label: str
    empty: EmptyState | None
    figures: list[Figure]
    tables: list[BreakdownTable]
    workloads: list[Workload]
    workload_chart: str
    overdue: BreakdownTable
    stuck: list[StuckRow]
    stuck_chart: str
    today: dt.date
    method_note: str = ""


def _point(count: Count) -> charts.Point:
    return charts.Point(count.shown, count.display, count.small)


def _cell(count: Count, *, drill_url: str = "") -> Cell:
    if count.small:
        return Cell(None, count.display, suppressed=True)
    return Cell(float(count.value), count.display, drill_url=drill_url if count.value else "")


def publisher_for(user: User | None, ds: Dataset | None = None) -> Publisher:
    """The publisher of a page for its reader: exact only on the cases the reader may see anyway."""
    return Publisher(Reader.for_user(user), keys=ds.record_keys if ds is not None else {})


def operational_dashboard(
    *, filters: Filters, today: dt.date, drill: bool, user: User | None = None
) -> OperationalDashboard:
    """Work in progress and the operational KPIs for the operating committee and the coordinators."""
    ds = dataset_load(scope=filters.scope)
    publisher = publisher_for(user, ds)
    labels = Labels.load()
    scope_label = labels.scope_label(filters.scope)
    for_kpi, for_cell = _drill_urls(filters, drill)
    period = filters.period
    figures = figures_build(ds, period, kpis_for(OPERATIONAL), publisher=publisher, drill=for_kpi)
    tables = [
        cases_table(ds, period, dimension, labels, publisher=publisher, drill=for_cell) for dimension in DIMENSIONS
    ]
    workloads = coordinator_workloads(filters.scope, today, publisher)
    workload_chart = (
        charts.bar_chart(
            title=_("Arbeitslast je Koordinator/in (Stand heute)"),
            description=_(
                "Offene Fälle mit Beteiligung und Fälle mit offenen Vereinbarungen je Koordinatorin oder Koordinator."
            ),
            categories=[w.name for w in workloads],
            series=[
                charts.Series(_("offene Fälle"), [_point(w.open_cases) for w in workloads]),
                charts.Series(_("Fälle mit offenen Vereinbarungen"), [_point(w.open_agreements) for w in workloads]),
            ],
            value_axis_label=_("Anzahl"),
            category_axis_label=_("Koordinator/in"),
            width=560,
        )
        if workloads
        else ""
    )
    stuck_ids = stuck_case_ids(ds, today, filters.stuck_days)
    stuck = []
    for level in (1, 2, 3):
        count = publisher.count(sorted(stuck_ids.get(level, set())))
        url = for_cell("stuck", "", None) + f"&level={level}" if for_cell and count.value else ""
        stuck.append(StuckRow(level, str(Level(level).label), count, drill_url=url))
    stuck_chart = charts.bar_chart(
        title=_("Offene Fälle seit mehr als %(days)s Tagen auf derselben Stufe") % {"days": filters.stuck_days},
        description=_("Gezählt ab dem letzten Stufenwechsel oder der Eröffnung."),
        categories=[row.label for row in stuck],
        series=[charts.Series(_("Fälle"), [_point(row.count) for row in stuck])],
        value_axis_label=_("Fälle"),
        category_axis_label=_("Stufe"),
        width=560,
    )
    return OperationalDashboard(
        filters=filters,
        scope_label=scope_label,
        empty=empty_state(ds, period, today, scope_label, publisher),
        figures=figures,
        tables=tables,
        workloads=workloads,
        workload_chart=workload_chart,
        overdue=overdue_table(filters.scope, today, labels, publisher=publisher, drill=for_cell),
        stuck=stuck,
        stuck_chart=stuck_chart,
        today=today,
        method_note=method_note(),
    )


@dataclass
class StrategicDashboard:
    filters: Filters
    scope_label: str
    threshold: int
    empty: EmptyState | None
    figures: list[Figure]
    trend: Trend
    regions: BreakdownTable
    regions_new: BreakdownTable
    regions_chart: str
    cost_benefit_url: str
    method_note: str = ""


def cost_benefit_url() -> str:
    """The cost-benefit page of the steering area (its own module); the path is fixed by the issue."""
    try:
        return reverse("steering:costbenefit")
    except NoReverseMatch:
        return "/steuerung/kosten-nutzen/"


def strategic_dashboard(*, filters: Filters, today: dt.date, user: User | None = None) -> StrategicDashboard:
    """Outcomes, trends and regions for the supervisory body: aggregates only, every count published."""
    t = threshold()
    ds = dataset_load(scope=filters.scope)
    publisher = publisher_for(user, ds)
    labels = Labels.load()
    scope_label = labels.scope_label(filters.scope)
    period = filters.period
    regions_new = cases_table(ds, period, "district", labels, publisher=publisher)
    chart = (
        charts.bar_chart(
            title=_("Neue Fälle nach Bezirk, %(period)s") % {"period": period.label},
            description=_("Bezirk des Wohnorts der Person."),
            categories=[row.label for row in regions_new.rows],
            series=[
                charts.Series(
                    _("Neu in der Periode"),
                    [
                        charts.Point(r.cells[1].value, r.cells[1].display, r.cells[1].suppressed)
                        for r in regions_new.rows
                    ],
                )
            ],
            value_axis_label=_("neue Fälle"),
            category_axis_label=_("Bezirk"),
        )
        if regions_new.rows
        else ""
    )
    regions = outcomes_table(ds, period, "district", labels, publisher=publisher)
    figures = figures_build(ds, period, kpis_for(STRATEGIC), publisher=publisher)
    return StrategicDashboard(
        filters=filters,
        scope_label=scope_label,
        threshold=t,
        empty=empty_state(ds, period, today, scope_label, publisher),
        figures=figures,
        trend=trend_build(ds, period, publisher=publisher),
        regions=regions,
        regions_new=regions_new,
        regions_chart=chart,
        cost_benefit_url=f"{cost_benefit_url()}?{urlencode({'period': period.label})}",
        method_note=method_note(t),
    )


# ---------------------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------------------


def report_audiences_for(user: User) -> list[str]:
    audiences = []
    if access.may_see_strategic_dashboard(user):
        audiences.append(STRATEGIC)
    if access.may_see_operational_dashboard(user):
        audiences.append(OPERATIONAL)
    return audiences


def reports_visible_to(*, user: User) -> QuerySet[SteeringReport]:
    """Reports of the audiences the user may read, with who made them; newest first."""
    return (
        SteeringReport.objects.filter(audience__in=report_audiences_for(user))
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )
