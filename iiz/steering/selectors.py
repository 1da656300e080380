"""Reads for the steering pages and reports: the two dashboards, work lists, drill-down and the report list.

The figures, tables and trends themselves are built in ``iiz.steering.figures``. Everything here starts from
one ``dataset_load`` of the KPI catalogue plus a fixed handful of grouped queries,
so a dashboard costs the same number of queries whatever the number of cases. Who may see what is decided in
``iiz.access``; this module only applies small-number suppression where the caller asks for it (strategic
pages and reports) and restricts drill-down lists to the cases the user may see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from iiz import access
from iiz.cases.models import (
    INTEGRATED_OUTCOMES,
    Agreement,
    AgreementStatus,
    Case,
    CaseParticipant,
    CaseStatus,
    FollowUpStatus,
    InformationRequest,
    Level,
    LifeSituationGroup,
    Measure,
    MeasureStatus,
    Outcome,
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
    count_format,
    dimension_keys,
    dimension_title,
    empty_state,
    figures_align,
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
    CaseRow,
    Dataset,
    Period,
    Scope,
    closed_in,
    dataset_load,
    kpis_for,
)
from iiz.steering.models import SteeringReport

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
    open_cases: int
    open_agreements: int
    overdue_agreements: int
    overdue_measures: int


def coordinator_workloads(scope: Scope, today: dt.date) -> list[Workload]:
    """Per active coordinator: open cases taken part in, open and overdue agreements, overdue measures (today)."""
    in_scope = scoped_cases(scope).values("id")
    people = list(
        User.objects.filter(is_active=True, roles__role=Role.COORDINATOR)
        .distinct()
        .order_by("last_name", "first_name", "id")
        .values_list("id", "first_name", "last_name", "username")
    )
    ids = [p[0] for p in people]
    cases = dict(
        CaseParticipant.objects.filter(
            user_id__in=ids, left_on__isnull=True, case__status=CaseStatus.OPEN, case_id__in=in_scope
        )
        .order_by()
        .values("user_id")
        .annotate(n=Count("case_id", distinct=True))
        .values_list("user_id", "n")
    )
    agreements = {
        owner: (total, overdue)
        for owner, total, overdue in Agreement.objects.filter(
            owner_id__in=ids, status=AgreementStatus.OPEN, case__status=CaseStatus.OPEN, case_id__in=in_scope
        )
        .order_by()
        .values("owner_id")
        .annotate(total=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
        .values_list("owner_id", "total", "overdue")
    }
    measures = dict(
        _overdue_measures(in_scope, today)
        .filter(responsible_user_id__in=ids)
        .order_by()
        .values("responsible_user_id")
        .annotate(n=Count("id"))
        .values_list("responsible_user_id", "n")
    )
    return [
        Workload(
            user_id=pk,
            name=f"{first} {last}".strip() or username,
            open_cases=cases.get(pk, 0),
            open_agreements=agreements.get(pk, (0, 0))[0],
            overdue_agreements=agreements.get(pk, (0, 0))[1],
            overdue_measures=measures.get(pk, 0),
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
    scope: Scope, today: dt.date, labels: Labels, *, drill: Callable[[str, str, object], str] | None = None
) -> BreakdownTable:
    """Overdue agreements (by the owner's institution), measures and information requests (by the institution
    responsible), in open cases, today."""
    in_scope = scoped_cases(scope).values("id")
    columns: list[dict[object, int]] = [
        dict(
            _overdue_agreements(in_scope, today)
            .order_by()
            .values("owner__unit__institution_id")
            .annotate(n=Count("id"))
            .values_list("owner__unit__institution_id", "n")
        ),
        dict(
            _overdue_measures(in_scope, today)
            .order_by()
            .values("responsible_institution_id")
            .annotate(n=Count("id"))
            .values_list("responsible_institution_id", "n")
        ),
        dict(
            _overdue_requests(in_scope, today)
            .order_by()
            .values("to_institution_id")
            .annotate(n=Count("id"))
            .values_list("to_institution_id", "n")
        ),
    ]
    keys = sorted({k for column in columns for k in column}, key=sort_key("institution", labels))
    rows = []
    for key in keys:
        cells = []
        for index, column in enumerate(columns):
            value = column.get(key, 0)
            url = drill(OVERDUE_KINDS[index], "institution", key) if drill and value and key is not None else ""
            cells.append(Cell(float(value), count_format(value), drill_url=url))
        rows.append(TableRow(labels.of("institution", key), cells, key=key))
    totals = [sum(column.values()) for column in columns]
    table = BreakdownTable(
        key="ueberfaellig",
        title=_("Überfällige Aufgaben in offenen Fällen (Stand heute)"),
        dimension="institution",
        dimension_label=_("Institution"),
        columns=[_("Vereinbarungen"), _("Massnahmen"), _("Informationsanfragen")],
        rows=rows,
        total=TableRow(
            _("Total"),
            [
                Cell(float(v), count_format(v), drill_url=drill(OVERDUE_KINDS[i], "", None) if drill and v else "")
                for i, v in enumerate(totals)
            ],
        ),
        note=_(
            "Vereinbarungen nach der Institution der zuständigen Person, Massnahmen nach der verantwortlichen "
            "Institution, Informationsanfragen nach der angefragten Institution."
        ),
    )
    if rows:
        table.chart = charts.bar_chart(
            title=table.title,
            description=str(table.note),
            categories=[r.label for r in rows],
            series=[
                charts.Series(name, [charts.Point(r.cells[i].value, r.cells[i].display) for r in rows])
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
    """The cases that stand behind a KPI's figure, selected by the same rules as the KPI itself.

    For agreements and information requests these are the cases the items belong to; for consents, the
    cases of the persons who gave or revoked them.
    """
    cases = ds.cases
    if code == "open_cases":
        return {c.id for c in cases if c.open_on(period.end)}
    if code == "new_cases":
        return {c.id for c in cases if period.contains(c.opened_on)}
    if code == "days_detection_to_opening":
        return {
            c.id
            for c in cases
            if period.contains(c.opened_on) and c.detected_on is not None and c.opened_on >= c.detected_on
        }
    if code == "days_to_level3":
        return {c.id for c in cases if period.contains(c.first_level3_on)}
    if code == "days_to_plan":
        return {c.id for c in cases if period.contains(c.first_plan_agreed_on)}
    if code == "agreements_on_time":
        return {
            case_id
            for case_id, due_on, _done, status in ds.agreements
            if period.contains(due_on)
            and status != AgreementStatus.DROPPED
            and (status == AgreementStatus.DONE or due_on < today)
        }
    if code == "requests_in_time":
        return {
            case_id
            for case_id, _asked, due_on, answered_on in ds.requests
            if period.contains(due_on) and (answered_on is not None or due_on < today)
        }
    closed = [c for c in closed_in(ds, period) if c.outcome != Outcome.MOVED_AWAY]
    if code == "integration_rate":
        return {c.id for c in closed}
    if code == "job_retention_rate":
        return {c.id for c in closed if LifeSituationGroup.JOB_AT_RISK in c.life_situation_groups}
    if code in ("confirmed_6m", "confirmed_12m"):
        months = 6 if code == "confirmed_6m" else 12
        return {c.id for c in closed_in(ds, period) if c.outcome in INTEGRATED_OUTCOMES and months in c.follow_ups}
    if code == "benefit_duration":
        return {
            c.id
            for c in closed_in(ds, period)
            if c.benefits_ended_on is not None and c.benefits_ended_on >= c.opened_on
        }
    if code == "revolving_door":
        return {c.id for c in closed_in(ds, period) if _observable(ds, c, today)}
    if code == "caseload_per_coordinator":
        return {c.id for c in cases if c.open_on(period.end) and c.coordinator_ids}
    if code in ("consents_given", "consents_revoked"):
        given = code == "consents_given"
        clients = {
            client for client, recorded, revoked in ds.consents if period.contains(recorded if given else revoked)
        }
        return {c.id for c in cases if c.client_id in clients}
    raise ValueError(code)


def _observable(ds: Dataset, case: CaseRow, today: dt.date) -> bool:
    from dateutil.relativedelta import relativedelta

    assert case.closed_on is not None  # noqa: S101 - only closed cases are asked
    until = case.closed_on + relativedelta(months=12)
    back = any(
        status == FollowUpStatus.BACK_WITH_PARTNER for months, status in case.follow_ups.items() if months <= 12
    ) or any(case.closed_on < day <= until for day in ds.returning_clients.get(case.client_id, []))
    return back or until <= today


@dataclass
class DrillDown:
    title: str
    behind: int
    cases: list[Case]
    hidden: int
    description: str = ""


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
    return DrillDown(title=title, behind=len(behind), cases=visible, hidden=len(behind) - len(visible))


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
    count: int
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


def operational_dashboard(*, filters: Filters, today: dt.date, drill: bool) -> OperationalDashboard:
    """Work in progress and the operational KPIs for the operating committee and the coordinators."""
    ds = dataset_load(scope=filters.scope)
    labels = Labels.load()
    scope_label = labels.scope_label(filters.scope)
    for_kpi, for_cell = _drill_urls(filters, drill)
    period = filters.period
    figures = figures_build(ds, period, kpis_for(OPERATIONAL), protect=False, t=threshold(), drill=for_kpi)
    tables = [
        cases_table(ds, period, dimension, labels, protect=False, t=threshold(), drill=for_cell)
        for dimension in DIMENSIONS
    ]
    workloads = coordinator_workloads(filters.scope, today)
    workload_chart = (
        charts.bar_chart(
            title=_("Arbeitslast je Koordinator/in (Stand heute)"),
            description=_("Offene Fälle mit Beteiligung und offene Vereinbarungen je Koordinatorin oder Koordinator."),
            categories=[w.name for w in workloads],
            series=[
                charts.Series(
                    _("offene Fälle"), [charts.Point(w.open_cases, count_format(w.open_cases)) for w in workloads]
                ),
                charts.Series(
                    _("offene Vereinbarungen"),
                    [charts.Point(w.open_agreements, count_format(w.open_agreements)) for w in workloads],
                ),
            ],
            value_axis_label=_("Anzahl"),
            category_axis_label=_("Koordinator/in"),
            width=560,
        )
        if workloads
        else ""
    )
    stuck_ids = stuck_case_ids(ds, today, filters.stuck_days)
    stuck = [
        StuckRow(
            level,
            str(Level(level).label),
            len(stuck_ids.get(level, set())),
            drill_url=for_cell("stuck", "", None) + f"&level={level}" if for_cell and stuck_ids.get(level) else "",
        )
        for level in (1, 2, 3)
    ]
    stuck_chart = charts.bar_chart(
        title=_("Offene Fälle seit mehr als %(days)s Tagen auf derselben Stufe") % {"days": filters.stuck_days},
        description=_("Gezählt ab dem letzten Stufenwechsel oder der Eröffnung."),
        categories=[row.label for row in stuck],
        series=[charts.Series(_("Fälle"), [charts.Point(row.count, count_format(row.count)) for row in stuck])],
        value_axis_label=_("Fälle"),
        category_axis_label=_("Stufe"),
        width=560,
    )
    return OperationalDashboard(
        filters=filters,
        scope_label=scope_label,
        empty=empty_state(ds, period, today, scope_label),
        figures=figures,
        tables=tables,
        workloads=workloads,
        workload_chart=workload_chart,
        overdue=overdue_table(filters.scope, today, labels, drill=for_cell),
        stuck=stuck,
        stuck_chart=stuck_chart,
        today=today,
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


def cost_benefit_url() -> str:
    """The cost-benefit page of the steering area (its own module); the path is fixed by the issue."""
    try:
        return reverse("steering:costbenefit")
    except NoReverseMatch:
        return "/steuerung/kosten-nutzen/"


def strategic_dashboard(*, filters: Filters, today: dt.date) -> StrategicDashboard:
    """Outcomes, trends and regions for the supervisory body: aggregates only, small numbers suppressed."""
    t = threshold()
    ds = dataset_load(scope=filters.scope)
    labels = Labels.load()
    scope_label = labels.scope_label(filters.scope)
    period = filters.period
    regions_new = cases_table(ds, period, "district", labels, protect=True, t=t)
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
    regions = outcomes_table(ds, period, "district", labels, protect=True, t=t)
    figures = figures_align(figures_build(ds, period, kpis_for(STRATEGIC), protect=True, t=t), [regions, regions_new])
    return StrategicDashboard(
        filters=filters,
        scope_label=scope_label,
        threshold=t,
        empty=empty_state(ds, period, today, scope_label),
        figures=figures,
        trend=trend_build(ds, period, protect=True, t=t),
        regions=regions,
        regions_new=regions_new,
        regions_chart=chart,
        cost_benefit_url=cost_benefit_url(),
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
