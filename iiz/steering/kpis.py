"""The KPI catalogue: every key figure, its definition in words, its formula, its unit and audience.

This is the one place where key figures are defined and computed. Dashboards, reports, the API and the
tests read them from here. The data of a scope is loaded once (a fixed number of queries, whatever the
number of cases) into plain rows; each KPI is a small function over those rows, so that its formula can be
read next to its definition.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.db.models import Min
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from iiz.cases.models import (
    Agreement,
    AgreementStatus,
    Case,
    CaseParticipant,
    FollowUp,
    FollowUpStatus,
    InformationRequest,
    LevelChange,
    LifeSituationGroup,
    Outcome,
    PlanStatus,
)
from iiz.clients.models import Consent, Registration
from iiz.organisations.models import Role

OPERATIONAL = "operational"
STRATEGIC = "strategic"

# ---------------------------------------------------------------------------------------------------------
# Periods and scopes
# ---------------------------------------------------------------------------------------------------------

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
# Years outside this range are refused like any other bad input: the trend of a period reaches two years
# back, and dates before year 1 or after 9999 would fail deep inside the date arithmetic.
_FIRST_YEAR, _LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    label: str

    @classmethod
    def parse(cls, text: str) -> Period:
        """'2026-Q3' or '2026'; anything else raises ValueError with a message for the user."""
        text = (text or "").strip().upper()
        year_match = _QUARTER.match(text) or _YEAR.match(text)
        if year_match and not _FIRST_YEAR <= int(year_match.group(1)) <= _LAST_YEAR:
            raise ValueError(
                str(
                    _("Ungültige Periode «%(text)s». Das Jahr muss zwischen %(first)s und %(last)s liegen.")
                    % {"text": text[:20], "first": _FIRST_YEAR, "last": _LAST_YEAR}
                )
            )
        if match := _QUARTER.match(text):
            year, quarter = int(match.group(1)), int(match.group(2))
            start = dt.date(year, 3 * quarter - 2, 1)
            return cls(start, start + relativedelta(months=3, days=-1), f"{year}-Q{quarter}")
        if match := _YEAR.match(text):
            year = int(match.group(1))
            return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))
        raise ValueError(
            str(
                _("Ungültige Periode «%(text)s». Erlaubt sind ein Jahr (2026) oder ein Quartal (2026-Q3).")
                % {"text": text[:20]}
            )
        )

    @classmethod
    def current_quarter(cls, today: dt.date) -> Period:
        return cls.parse(f"{today.year}-Q{(today.month - 1) // 3 + 1}")

    def previous(self, count: int) -> list[Period]:
        """This period and the ``count - 1`` periods of the same length before it, oldest first."""
        months = 12 if len(self.label) == 4 else 3
        periods = []
        for back in range(count - 1, -1, -1):
            start = self.start - relativedelta(months=months * back)
            label = str(start.year) if months == 12 else f"{start.year}-Q{(start.month - 1) // 3 + 1}"
            periods.append(Period.parse(label))
        return periods

    def contains(self, day: dt.date | None) -> bool:
        return day is not None and self.start <= day <= self.end


@dataclass(frozen=True)
class Scope:
    """Which cases count: by serving institution, district (Bezirk) of residence and life situation."""

    institution_id: int | None = None
    district: int | None = None
    life_situation: str | None = None
    level: int | None = None


# ---------------------------------------------------------------------------------------------------------
# The rows the KPIs are computed from
# ---------------------------------------------------------------------------------------------------------


@dataclass
class CaseRow:
    id: int
    client_id: int
    opened_on: dt.date
    closed_on: dt.date | None
    detected_on: dt.date | None
    level: int
    serving_institution_id: int
    district: int | None
    birth_year: int
    outcome: str
    outcome_on: dt.date | None
    benefits_ended_on: dt.date | None
    previous_case_id: int | None
    record_key: int = 0
    life_situations: set[str] = field(default_factory=set)
    life_situation_groups: set[str] = field(default_factory=set)
    first_level3_on: dt.date | None = None
    max_level: int = 1
    first_plan_agreed_on: dt.date | None = None
    follow_ups: dict[int, str] = field(default_factory=dict)  # months after closure -> recorded status
    coordinator_ids: set[int] = field(default_factory=set)
    institutions: set[int] = field(default_factory=set)
    measure_services: set[str] = field(default_factory=set)

    def open_on(self, day: dt.date) -> bool:
        return self.opened_on <= day and (self.closed_on is None or self.closed_on > day)

    def level_on(self, day: dt.date, changes: list[tuple[dt.date, int]]) -> int:
        level = 1
        for changed_on, to_level in changes:
            if changed_on <= day:
                level = to_level
        return level


@dataclass
class Dataset:
    cases: list[CaseRow]
    level_changes: dict[int, list[tuple[dt.date, int]]]
    agreements: list[tuple[int, dt.date, dt.date | None, str]]  # case, due, done, status
    requests: list[tuple[int, dt.date, dt.date, dt.date | None]]  # case, asked, due, answered
    consents: list[tuple[int, dt.date, dt.date | None]]  # client, recorded, revoked
    # client -> (institution kind, registered on, deregistered on) of every registration, in or out of scope
    registrations: dict[int, list[tuple[str, dt.date, dt.date | None]]]
    case_openings: dict[int, list[dt.date]]  # client -> the opening dates of all their cases
    coordinators: int

    @property
    def case_ids(self) -> set[int]:
        return {c.id for c in self.cases}

    @property
    def record_keys(self) -> dict[int, int]:
        return {c.id: c.record_key for c in self.cases}

    def first_case_of(self) -> dict[int, int]:
        """client -> their first case in the dataset: the record a person's consents count as."""
        first: dict[int, int] = {}
        for case in sorted(self.cases, key=lambda c: c.id):
            first.setdefault(case.client_id, case.id)
        return first


def dataset_subset(ds: Dataset, ids: set[int]) -> Dataset:
    """The dataset of some of its cases (with their agreements, requests and persons' consents)."""
    cases = [c for c in ds.cases if c.id in ids]
    clients = {c.client_id for c in cases}
    return Dataset(
        cases=cases,
        level_changes=ds.level_changes,
        agreements=[a for a in ds.agreements if a[0] in ids],
        requests=[r for r in ds.requests if r[0] in ids],
        consents=[c for c in ds.consents if c[0] in clients],
        registrations=ds.registrations,
        case_openings=ds.case_openings,
        coordinators=ds.coordinators,
    )


def dataset_load(*, scope: Scope = Scope()) -> Dataset:  # noqa: B008 - a frozen, empty scope
    """Load everything the KPIs need for a scope, in a fixed number of queries."""
    cases_qs = Case.objects.all()
    if scope.institution_id:
        cases_qs = cases_qs.filter(serving_institution_id=scope.institution_id)
    if scope.district:
        cases_qs = cases_qs.filter(client__municipality__district__number=scope.district)
    if scope.life_situation:
        cases_qs = cases_qs.filter(screening__life_situations__code=scope.life_situation)
    if scope.level:
        cases_qs = cases_qs.filter(level=scope.level)
    # The other tables are read with the scope as a subquery rather than a list of ids: the number of queries
    # stays fixed and no database limit on query parameters is reached with many cases. A case written between
    # two of these queries is skipped where it is not among the rows read first.
    in_scope = cases_qs.values("id")
    clients_in_scope = cases_qs.values("client_id")
    rows: dict[int, CaseRow] = {}
    for values in cases_qs.values(
        "id",
        "client_id",
        "opened_on",
        "closed_on",
        "detected_on",
        "level",
        "serving_institution_id",
        "client__municipality__district__number",
        "client__date_of_birth",
        "outcome",
        "outcome_on",
        "benefits_ended_on",
        "previous_case_id",
        "record_key",
    ).distinct():
        rows[values["id"]] = CaseRow(
            id=values["id"],
            client_id=values["client_id"],
            opened_on=values["opened_on"],
            closed_on=values["closed_on"],
            detected_on=values["detected_on"],
            level=values["level"],
            serving_institution_id=values["serving_institution_id"],
            district=values["client__municipality__district__number"],
            birth_year=values["client__date_of_birth"].year,
            outcome=values["outcome"],
            outcome_on=values["outcome_on"],
            benefits_ended_on=values["benefits_ended_on"],
            previous_case_id=values["previous_case_id"],
            record_key=values["record_key"],
        )
    for case_id, code, group in Case.objects.filter(id__in=in_scope, screening__isnull=False).values_list(
        "id", "screening__life_situations__code", "screening__life_situations__group"
    ):
        if code and case_id in rows:
            rows[case_id].life_situations.add(code)
            rows[case_id].life_situation_groups.add(group)
    changes: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for case_id, changed_on, to_level in (
        LevelChange.objects.filter(case_id__in=in_scope)
        .order_by("changed_on", "changed_at", "id")
        .values_list("case_id", "changed_on", "to_level")
    ):
        if (row := rows.get(case_id)) is None:
            continue
        changes[case_id].append((changed_on, to_level))
        row.max_level = max(row.max_level, to_level)
        if to_level == 3 and row.first_level3_on is None:
            row.first_level3_on = changed_on
    for case_id, first in (
        Case.objects.filter(id__in=in_scope, plans__status__in=[PlanStatus.AGREED, PlanStatus.SUPERSEDED])
        .annotate(first=Min("plans__agreed_on"))
        .values_list("id", "first")
    ):
        if case_id in rows:
            rows[case_id].first_plan_agreed_on = first
    for case_id, months, status in FollowUp.objects.filter(case_id__in=in_scope, recorded_on__isnull=False).values_list(
        "case_id", "months_after", "status"
    ):
        if case_id in rows:
            rows[case_id].follow_ups[months] = status
    for case_id, user_id, institution_id, is_coordinator in CaseParticipant.objects.filter(
        case_id__in=in_scope
    ).values_list("case_id", "user_id", "institution_id", "user__roles__role"):
        if (row := rows.get(case_id)) is None:
            continue
        row.institutions.add(institution_id)
        if is_coordinator == Role.COORDINATOR:
            row.coordinator_ids.add(user_id)
    for case_id, code in Case.objects.filter(id__in=in_scope, plans__status=PlanStatus.AGREED).values_list(
        "id", "plans__measures__service__code"
    ):
        if code and case_id in rows:
            rows[case_id].measure_services.add(code)
    client_ids = {r.client_id for r in rows.values()}
    registrations: dict[int, list[tuple[str, dt.date, dt.date | None]]] = defaultdict(list)
    for client_id, kind, registered_on, deregistered_on in Registration.objects.filter(
        client_id__in=clients_in_scope
    ).values_list("client_id", "institution__kind", "registered_on", "deregistered_on"):
        registrations[client_id].append((kind, registered_on, deregistered_on))
    openings: dict[int, list[dt.date]] = defaultdict(list)
    for client_id, opened_on in Case.objects.filter(client_id__in=clients_in_scope).values_list(
        "client_id", "opened_on"
    ):
        openings[client_id].append(opened_on)
    consents = Consent.objects.filter(client_id__in=clients_in_scope).values_list(
        "client_id", "recorded_at", "revoked_at"
    )
    from iiz.organisations.models import User

    return Dataset(
        cases=list(rows.values()),
        level_changes=dict(changes),
        agreements=[
            a
            for a in Agreement.objects.filter(case_id__in=in_scope).values_list(
                "case_id", "due_on", "done_on", "status"
            )
            if a[0] in rows
        ],
        requests=[
            r
            for r in InformationRequest.objects.filter(case_id__in=in_scope).values_list(
                "case_id", "asked_on", "due_on", "answered_on"
            )
            if r[0] in rows
        ],
        # Consents are stamped in UTC; the day they count for is the day in Zürich.
        consents=[
            (client_id, timezone.localdate(recorded_at), timezone.localdate(revoked_at) if revoked_at else None)
            for client_id, recorded_at, revoked_at in consents
            if client_id in client_ids
        ],
        registrations=dict(registrations),
        case_openings=dict(openings),
        coordinators=User.objects.filter(is_active=True, roles__role=Role.COORDINATOR).distinct().count(),
    )


# Values and definitions
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiValue:
    """A figure with what stands behind it. ``value`` is None when there is nothing to compute it from.

    ``records`` are the cases behind ``n`` (the counted records of a count, the denominator of a share, the
    cases of a median), ``numerator_records`` those behind the numerator of a share. A case appears more than
    once where it counts more than once (two agreements of one case). Publication works on these records.
    """

    value: float | None
    numerator: int | None = None
    denominator: int | None = None
    n: int = 0  # how many cases (or records) stand behind the figure
    records: tuple[int, ...] = ()
    numerator_records: tuple[int, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Kpi:
    code: str
    name: str | Promise
    definition: str | Promise
    formula: str | Promise
    unit: str  # count, share, days, ratio
    audience: str
    compute: Callable[[Dataset, Period], KpiValue]
    counts_persons: bool = True
    # A share over items (agreements, information requests) of which a case has many: its counts would tell
    # the number of cases behind them (items come in bunches per case), so only the share itself is published.
    counts_items: bool = False


# ---------------------------------------------------------------------------------------------------------
# One vocabulary of outcomes, used by the KPIs, the tables, the cost-benefit model and the analyses
# ---------------------------------------------------------------------------------------------------------

# Integration: into the first labour market, by a job found or a job kept. This is the measure of success.
INTEGRATION = frozenset({Outcome.FIRST_LABOUR_MARKET, Outcome.JOB_KEPT})
TRAINING = frozenset({Outcome.TRAINING})
STABILISED = frozenset({Outcome.IV_MEASURE, Outcome.OTHER})
DROPOUT = frozenset({Outcome.DROPPED_OUT})
MOVED_AWAY = frozenset({Outcome.MOVED_AWAY})


@dataclass(frozen=True)
class OutcomeGroup:
    code: str
    name: str | Promise
    outcomes: frozenset[str]
    definition: str | Promise


OUTCOME_GROUPS: list[OutcomeGroup] = [
    OutcomeGroup(
        "integration",
        _("Integration"),
        INTEGRATION,
        _("Abschluss mit einer Stelle im ersten Arbeitsmarkt: Stelle gefunden oder Arbeitsplatz erhalten."),
    ),
    OutcomeGroup("training", _("Ausbildung"), TRAINING, _("Abschluss mit einer begonnenen Lehre oder Ausbildung.")),
    OutcomeGroup(
        "stabilised",
        _("Stabilisiert"),
        STABILISED,
        _("Abschluss mit einer IV-Massnahme oder einer anderen Lösung, ohne Stelle im ersten Arbeitsmarkt."),
    ),
    OutcomeGroup("dropout", _("Abbruch"), DROPOUT, _("Die Person hat die Zusammenarbeit beendet.")),
    OutcomeGroup(
        "moved_away",
        _("Wegzug"),
        MOVED_AWAY,
        _("Wegzug aus dem Kanton: zählt weder für noch gegen die Integration."),
    ),
]


def outcome_group(outcome: str) -> str:
    """The group of an outcome; a closure without a recorded outcome counts as stabilised ("other")."""
    for group in OUTCOME_GROUPS:
        if outcome in group.outcomes:
            return group.code
    return "stabilised"


def _count(records: Iterable[int]) -> KpiValue:
    records = tuple(records)
    return KpiValue(float(len(records)), n=len(records), records=records)


def _share(numerator: Iterable[int], denominator: Iterable[int]) -> KpiValue:
    above, below = tuple(denominator), tuple(numerator)
    if not above:
        return KpiValue(None, len(below), 0, 0, records=(), numerator_records=below)
    return KpiValue(len(below) / len(above), len(below), len(above), len(above), records=above, numerator_records=below)


def _median_days(triples: Iterable[tuple[int, dt.date | None, dt.date | None]]) -> KpiValue:
    pairs = [
        (case_id, (end - start).days)
        for case_id, start, end in triples
        if start is not None and end is not None and end >= start
    ]
    if not pairs:
        return KpiValue(None, n=0)
    return KpiValue(
        float(statistics.median(days for _id, days in pairs)), n=len(pairs), records=tuple(i for i, _d in pairs)
    )


def closed_in(ds: Dataset, period: Period) -> list[CaseRow]:
    return [c for c in ds.cases if period.contains(c.closed_on)]


def kpi_open_cases(ds: Dataset, period: Period) -> KpiValue:
    return _count(c.id for c in ds.cases if c.open_on(period.end))


def kpi_new_cases(ds: Dataset, period: Period) -> KpiValue:
    return _count(c.id for c in ds.cases if period.contains(c.opened_on))


def kpi_days_detection_to_opening(ds: Dataset, period: Period) -> KpiValue:
    return _median_days((c.id, c.detected_on, c.opened_on) for c in ds.cases if period.contains(c.opened_on))


def kpi_days_to_level3(ds: Dataset, period: Period) -> KpiValue:
    return _median_days(
        (c.id, c.opened_on, c.first_level3_on) for c in ds.cases if period.contains(c.first_level3_on)
    )


def kpi_days_to_plan(ds: Dataset, period: Period) -> KpiValue:
    return _median_days(
        (c.id, c.opened_on, c.first_plan_agreed_on) for c in ds.cases if period.contains(c.first_plan_agreed_on)
    )


def kpi_days_to_closure(ds: Dataset, period: Period) -> KpiValue:
    return _median_days((c.id, c.opened_on, c.closed_on) for c in closed_in(ds, period))


def kpi_agreements_on_time(ds: Dataset, period: Period) -> KpiValue:
    # An agreement is decided once it is done or its date has passed: open and lapsed ("hinfällig") agreements
    # whose date has passed count as not on time. An open one whose date is still ahead is undecided (in the
    # running quarter it would otherwise count as late before it is late), and so is one dropped before its date.
    today = timezone.localdate()
    due = [a for a in ds.agreements if period.contains(a[1]) and (a[3] == AgreementStatus.DONE or a[1] < today)]
    on_time = [
        case_id
        for case_id, due_on, done_on, status in due
        if status == AgreementStatus.DONE and done_on and done_on <= due_on
    ]
    return _share(on_time, [a[0] for a in due])


def _countable_closures(ds: Dataset, period: Period) -> list[CaseRow]:
    # Moving away ends the canton's responsibility; such cases count neither for nor against integration.
    return [c for c in closed_in(ds, period) if c.outcome not in MOVED_AWAY]


def kpi_integration_rate(ds: Dataset, period: Period) -> KpiValue:
    closed = _countable_closures(ds, period)
    return _share((c.id for c in closed if c.outcome in INTEGRATION), (c.id for c in closed))


def kpi_job_retention_rate(ds: Dataset, period: Period) -> KpiValue:
    at_risk = [c for c in _countable_closures(ds, period) if LifeSituationGroup.JOB_AT_RISK in c.life_situation_groups]
    return _share((c.id for c in at_risk if c.outcome == Outcome.JOB_KEPT), (c.id for c in at_risk))


def _confirmed(months: int) -> Callable[[Dataset, Period], KpiValue]:
    def compute(ds: Dataset, period: Period) -> KpiValue:
        integrated = [c for c in closed_in(ds, period) if c.outcome in INTEGRATION and months in c.follow_ups]
        still = [c.id for c in integrated if c.follow_ups[months] == FollowUpStatus.STILL_INTEGRATED]
        return _share(still, (c.id for c in integrated))

    return compute


def kpi_benefit_duration(ds: Dataset, period: Period) -> KpiValue:
    return _median_days((c.id, c.opened_on, c.benefits_ended_on) for c in closed_in(ds, period))


REENTRY_MONTHS = 12


def reentered(ds: Dataset, case: CaseRow, months: int = REENTRY_MONTHS) -> bool:
    """Whether the person of a closed case came back within ``months``: a new iiz case, or a new registration
    with an institution of a kind they were registered with before the closure (back on the same benefit)."""
    closed_on = case.closed_on
    if closed_on is None:
        return False
    until = closed_on + relativedelta(months=months)
    if any(closed_on < day <= until for day in ds.case_openings.get(case.client_id, [])):
        return True
    registrations = ds.registrations.get(case.client_id, [])
    before = {kind for kind, registered_on, _end in registrations if registered_on <= closed_on}
    return any(closed_on < registered_on <= until and kind in before for kind, registered_on, _end in registrations)


def revolving_door_observable(case: CaseRow, today: dt.date, months: int = REENTRY_MONTHS) -> bool:
    """An integrated closure whose ``months`` are over: only then can it be told whether the person came back."""
    return (
        case.closed_on is not None
        and case.outcome in INTEGRATION
        and case.closed_on + relativedelta(months=months) <= today
    )


def kpi_revolving_door(ds: Dataset, period: Period) -> KpiValue:
    today = timezone.localdate()
    observable = [c for c in closed_in(ds, period) if revolving_door_observable(c, today)]
    return _share((c.id for c in observable if reentered(ds, c)), (c.id for c in observable))


def kpi_caseload_per_coordinator(ds: Dataset, period: Period) -> KpiValue:
    with_coordinator = tuple(c.id for c in ds.cases if c.open_on(period.end) and c.coordinator_ids)
    n = len(with_coordinator)
    if ds.coordinators == 0:
        return KpiValue(None, n, 0, n, records=with_coordinator, numerator_records=with_coordinator)
    return KpiValue(
        n / ds.coordinators, n, ds.coordinators, n, records=with_coordinator, numerator_records=with_coordinator
    )


def _consents(ds: Dataset, period: Period, *, revoked: bool) -> KpiValue:
    # Persons, not consent versions: a person who amends a consent twice is one person.
    first = ds.first_case_of()
    return _count(
        sorted(
            {
                first[client]
                for client, recorded, revoked_on in ds.consents
                if client in first and period.contains(revoked_on if revoked else recorded)
            }
        )
    )


def kpi_consents_given(ds: Dataset, period: Period) -> KpiValue:
    return _consents(ds, period, revoked=False)


def kpi_consents_revoked(ds: Dataset, period: Period) -> KpiValue:
    return _consents(ds, period, revoked=True)


def kpi_requests_in_time(ds: Dataset, period: Period) -> KpiValue:
    # As with agreements, an unanswered request whose deadline has not passed yet is left out.
    today = timezone.localdate()
    due = [r for r in ds.requests if period.contains(r[2]) and (r[3] is not None or r[2] < today)]
    answered = [case_id for case_id, _asked, due_on, answered_on in due if answered_on and answered_on <= due_on]
    return _share(answered, [r[0] for r in due])


KPIS: list[Kpi] = [
    Kpi(
        "open_cases",
        _("Offene Fälle"),
        _("Fälle, die am letzten Tag der Periode offen sind."),
        _("Anzahl Fälle mit Eröffnung ≤ Periodenende und (kein Abschluss oder Abschluss > Periodenende)"),
        "count",
        OPERATIONAL,
        kpi_open_cases,
    ),
    Kpi(
        "new_cases",
        _("Neue Fälle"),
        _("Fälle, die in der Periode eröffnet wurden."),
        _("Anzahl Fälle mit Eröffnungsdatum in der Periode"),
        "count",
        STRATEGIC,
        kpi_new_cases,
    ),
    Kpi(
        "days_detection_to_opening",
        _("Dauer Früherkennung bis Fall-Eröffnung"),
        _("Wie schnell aus einem erkannten Koordinationsbedarf ein Fall wird (Median)."),
        _("Median der Tage von der Früherkennung bis zur Eröffnung, über die in der Periode eröffneten Fälle"),
        "days",
        OPERATIONAL,
        kpi_days_detection_to_opening,
        counts_persons=False,
    ),
    Kpi(
        "days_to_level3",
        _("Dauer bis Stufe 3"),
        _("Zeit von der Eröffnung bis zum ersten Fallteam (Median)."),
        _("Median der Tage von der Eröffnung bis zum ersten Wechsel auf Stufe 3, über die Wechsel in der Periode"),
        "days",
        OPERATIONAL,
        kpi_days_to_level3,
        counts_persons=False,
    ),
    Kpi(
        "days_to_plan",
        _("Dauer bis vereinbarter Integrationsplan"),
        _("Zeit von der Eröffnung bis zum ersten vereinbarten Integrationsplan (Median)."),
        _("Median der Tage von der Eröffnung bis zur ersten Plan-Vereinbarung, über die Vereinbarungen in der Periode"),
        "days",
        OPERATIONAL,
        kpi_days_to_plan,
        counts_persons=False,
    ),
    Kpi(
        "agreements_on_time",
        _("Vereinbarungen termingerecht erledigt"),
        _("Anteil der in der Periode fälligen Vereinbarungen, die bis zum Termin erledigt wurden."),
        _(
            "erledigt bis Termin / fällig in der Periode; offene und hinfällige Vereinbarungen, deren Termin vorbei "
            "ist, zählen als nicht termingerecht (offene mit Termin in der Zukunft zählen noch nicht)"
        ),
        "share",
        OPERATIONAL,
        kpi_agreements_on_time,
        counts_persons=False,
        counts_items=True,
    ),
    Kpi(
        "integration_rate",
        _("Integrationsquote erster Arbeitsmarkt"),
        _("Anteil der abgeschlossenen Fälle mit Integration: Stelle im ersten Arbeitsmarkt gefunden oder erhalten."),
        _(
            "Abschlüsse «Integration» (Stelle im ersten Arbeitsmarkt oder Arbeitsplatz erhalten) / Abschlüsse in "
            "der Periode (ohne Wegzug)"
        ),
        "share",
        STRATEGIC,
        kpi_integration_rate,
    ),
    Kpi(
        "job_retention_rate",
        _("Quote Arbeitsplatzerhalt"),
        _("Anteil der von Arbeitsplatzverlust bedrohten Personen, die ihre Stelle behalten haben."),
        _(
            "Abschlüsse «Arbeitsplatz erhalten» / Abschlüsse von Fällen der Gruppe «von Arbeitsplatzverlust "
            "bedroht» (ohne Wegzug)"
        ),
        "share",
        STRATEGIC,
        kpi_job_retention_rate,
    ),
    Kpi(
        "confirmed_6m",
        _("Nach 6 Monaten bestätigt"),
        _("Anteil der Abschlüsse mit Integration, die nach 6 Monaten weiterhin integriert sind."),
        _("Nachbefragung 6 Monate «weiterhin integriert» / Abschlüsse «Integration» mit erfasster Nachbefragung"),
        "share",
        STRATEGIC,
        _confirmed(6),
    ),
    Kpi(
        "confirmed_12m",
        _("Nach 12 Monaten bestätigt"),
        _("Anteil der Abschlüsse mit Integration, die nach 12 Monaten weiterhin integriert sind."),
        _("Nachbefragung 12 Monate «weiterhin integriert» / Abschlüsse «Integration» mit erfasster Nachbefragung"),
        "share",
        STRATEGIC,
        _confirmed(12),
    ),
    Kpi(
        "benefit_duration",
        _("Bezugsdauer"),
        _("Dauer von der Fall-Eröffnung bis zum Ende des Leistungsbezugs (Median)."),
        _("Median der Tage von der Eröffnung bis zum Ende des Leistungsbezugs, über die Abschlüsse der Periode"),
        "days",
        STRATEGIC,
        kpi_benefit_duration,
        counts_persons=False,
    ),
    Kpi(
        "days_to_closure",
        _("Dauer bis Abschluss"),
        _("Zeit von der Fall-Eröffnung bis zum Abschluss (Median, mit der Zahl der Fälle)."),
        _("Median der Tage von der Eröffnung bis zum Abschluss, über die in der Periode abgeschlossenen Fälle"),
        "days",
        STRATEGIC,
        kpi_days_to_closure,
        counts_persons=False,
    ),
    Kpi(
        "revolving_door",
        _("Drehtürquote"),
        _(
            "Anteil der Abschlüsse mit Integration, deren Person innert 12 Monaten zurückkommt: mit einem neuen "
            "iiz-Fall oder einer neuen Anmeldung bei einer Institution derselben Art wie vor dem Abschluss (wieder "
            "dieselbe Leistung). Gezählt werden nur Abschlüsse, deren 12 Monate vorbei sind."
        ),
        _(
            "Abschlüsse «Integration» der Periode mit neuem iiz-Fall oder neuer Anmeldung derselben Art innert 12 "
            "Monaten / Abschlüsse «Integration» der Periode, deren 12 Monate vorbei sind"
        ),
        "share",
        STRATEGIC,
        kpi_revolving_door,
    ),
    Kpi(
        "caseload_per_coordinator",
        _("Fälle pro Koordinator/in"),
        _("Offene Fälle mit Beteiligung der Geschäftsstelle je aktive Koordinatorin oder aktiven Koordinator."),
        _("offene Fälle mit Koordinator/in am Periodenende / aktive Koordinatorinnen und Koordinatoren"),
        "ratio",
        OPERATIONAL,
        kpi_caseload_per_coordinator,
        counts_persons=False,
    ),
    Kpi(
        "consents_given",
        _("Erteilte Einwilligungen"),
        _("Personen mit einem iiz-Fall im Umfang, die in der Periode eine Einwilligung erteilt haben."),
        _("Anzahl Personen mit einer in der Periode erfassten Einwilligung (auch Änderungen)"),
        "count",
        OPERATIONAL,
        kpi_consents_given,
    ),
    Kpi(
        "consents_revoked",
        _("Widerrufene Einwilligungen"),
        _("Personen mit einem iiz-Fall im Umfang, die in der Periode eine Einwilligung widerrufen haben."),
        _("Anzahl Personen mit einem Widerruf in der Periode"),
        "count",
        OPERATIONAL,
        kpi_consents_revoked,
    ),
    Kpi(
        "requests_in_time",
        _("Informationsanfragen fristgerecht beantwortet"),
        _("Anteil der in der Periode fälligen Informationsanfragen, die bis zur Frist beantwortet wurden."),
        _("fristgerecht beantwortet / fällig in der Periode (ohne offene, deren Frist noch nicht vorbei ist)"),
        "share",
        OPERATIONAL,
        kpi_requests_in_time,
        counts_persons=False,
        counts_items=True,
    ),
]
KPI_BY_CODE = {kpi.code: kpi for kpi in KPIS}


def kpis_for(audience: str) -> list[Kpi]:
    """Strategic pages show strategic KPIs; operational pages show all."""
    return [k for k in KPIS if audience == OPERATIONAL or k.audience == STRATEGIC]


def kpi_compute(code: str, ds: Dataset, period: Period) -> KpiValue:
    return KPI_BY_CODE[code].compute(ds, period)


# ---------------------------------------------------------------------------------------------------------
# Breakdowns
# ---------------------------------------------------------------------------------------------------------

DIMENSIONS = ("level", "institution", "district", "life_situation")


def _keys(case: CaseRow, dimension: str, ds: Dataset, period: Period) -> set[object]:
    if dimension == "level":
        return {case.level_on(period.end, ds.level_changes.get(case.id, []))}
    if dimension == "institution":
        return {case.serving_institution_id}
    if dimension == "district":
        return {case.district}
    return set(case.life_situations) or {None}


def kpi_breakdown(code: str, ds: Dataset, period: Period, dimension: str) -> dict[object, KpiValue]:
    """The KPI per value of a dimension, computed on the subset of cases of each value."""
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    groups: dict[object, set[int]] = defaultdict(set)
    for case in ds.cases:
        for key in _keys(case, dimension, ds, period):
            groups[key].add(case.id)
    return {key: kpi_compute(code, dataset_subset(ds, ids), period) for key, ids in groups.items()}
