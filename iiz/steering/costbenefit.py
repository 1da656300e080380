"""The cost-benefit model: benefits avoided by integrations against the network's running costs.

Savings are counted per avoided benefit, by the benefit the person actually drew or was at risk of when the
case closed with an integration (``iiz.steering.kpis.INTEGRATION``: a job in the first labour market found or
kept), as recorded with the person's registration at the institution (``Registration``):

- unemployment insurance (a registration with the RAV): the remaining entitlement in daily allowances times
  the daily allowance; where the RAV recorded no remaining entitlement, the assumed months of benefit;
- social assistance (a registration with a social service): the recorded monthly amount for the assumed
  years of benefit avoided; where none is recorded, the assumed cost per person and year;
- an IV pension (a registration with the IV-Stelle): only where an IV application with a pension claim was
  pending or a pension was at stake, the average pension for the assumed years. A person who kept the job
  after early intervention, with no pension in question, avoids no pension.

Running costs are the partners' staff, the Geschäftsstelle (paid by AFA) and the shared budget (split equally
between the partners). The break-even is the running cost per year divided by the saving per integration.
Every assumption is a parameter that administrators maintain, with its source.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from iiz.cases.models import Case, CaseStatus
from iiz.clients.models import IvPensionStatus, Registration
from iiz.organisations.models import InstitutionKind
from iiz.steering.kpis import INTEGRATION, Period
from iiz.steering.models import CostBenefitParameter
from iiz.steering.publication import Count, Publisher

PARTNER_KINDS = ("labour", "disability", "cantonal_social", "youth", "social_service")
BENEFITS = ("alv", "sa", "iv")
PENSION_IN_QUESTION = frozenset({IvPensionStatus.PENDING, IvPensionStatus.AT_STAKE})


def parameters() -> dict[str, Decimal]:
    return {p.key: Decimal(p.value) for p in CostBenefitParameter.objects.all()}


def assumed_per_person(p: dict[str, Decimal]) -> dict[str, Decimal]:
    """The saving per person of each benefit where nothing is recorded for the person (the assumptions)."""
    return {
        "alv": p["alv_daily_allowance"] * p["alv_days_per_month"] * p["alv_months_avoided"],
        "sa": p["sa_cost_per_year"] * p["sa_years_avoided"],
        "iv": p["iv_pension_per_month"] * 12 * p["iv_years_avoided"],
    }


# Kept for callers of the former name: the savings per benefit where nothing is recorded.
savings_per_benefit = assumed_per_person


@dataclass
class BenefitAvoided:
    """The persons of one benefit among the integrations, with what each would have drawn."""

    records: list[int] = field(default_factory=list)  # case ids
    amounts: list[Decimal] = field(default_factory=list)  # the saving per person, in the same order
    recorded: int = 0  # how many of the amounts come from the person's registration rather than an assumption

    @property
    def total(self) -> Decimal:
        return sum(self.amounts, Decimal(0))


@dataclass(frozen=True)
class CostBenefit:
    period: Period
    years: Decimal  # length of the period in years
    integrations: tuple[int, ...]  # case ids
    benefits: dict[str, BenefitAvoided]
    iv_without_pension: tuple[int, ...]  # integrated persons registered with the IV, no pension in question
    staff_costs: Decimal
    office_costs: Decimal
    shared_budget: Decimal
    shared_budget_per_partner: Decimal
    costs_by_partner: dict[str, Decimal]

    @property
    def savings(self) -> Decimal:
        return sum((b.total for b in self.benefits.values()), Decimal(0))

    @property
    def running_costs(self) -> Decimal:
        return self.staff_costs + self.office_costs + self.shared_budget

    @property
    def running_per_year(self) -> Decimal:
        return self.running_costs / self.years if self.years else Decimal(0)

    @property
    def records(self) -> dict[str, tuple[int, ...]]:
        return {
            "integrations": self.integrations,
            **{key: tuple(b.records) for key, b in self.benefits.items()},
            "iv_without_pension": self.iv_without_pension,
        }


def cost_benefit_compute(*, period: Period, p: dict[str, Decimal] | None = None) -> CostBenefit:
    """The model over the true records (nothing of it is published as it is: see ``cost_benefit_published``)."""
    p = p if p is not None else parameters()
    years = Decimal((period.end - period.start).days + 1) / Decimal(365)
    integrated = list(
        Case.objects.filter(
            status=CaseStatus.CLOSED,
            closed_on__gte=period.start,
            closed_on__lte=period.end,
            outcome__in=sorted(INTEGRATION),
        )
        .order_by("id")
        .values_list("id", "client_id", "closed_on")
    )
    registrations: dict[int, list[tuple[str, dt.date, dt.date | None, int | None, Decimal | None, str]]] = defaultdict(
        list
    )
    for client_id, *row in Registration.objects.filter(client_id__in={c for _i, c, _d in integrated}).values_list(
        "client_id",
        "institution__kind",
        "registered_on",
        "deregistered_on",
        "alv_remaining_days",
        "sa_monthly_amount",
        "iv_pension_status",
    ):
        registrations[client_id].append(tuple(row))  # type: ignore[arg-type]
    assumed = assumed_per_person(p)
    benefits = {key: BenefitAvoided() for key in BENEFITS}
    iv_without: list[int] = []
    for case_id, client_id, closed_on in integrated:
        if closed_on is None:  # a closed case always has its date; the type does not know that
            continue
        # A benefit counts when its registration was running at closure (or ended with the integration).
        running = [r for r in registrations[client_id] if r[1] <= closed_on and (r[2] is None or r[2] >= closed_on)]
        alv = [r for r in running if r[0] == InstitutionKind.LABOUR]
        if alv:
            days = max((r[3] for r in alv if r[3] is not None), default=None)
            _add(
                benefits["alv"],
                case_id,
                assumed["alv"] if days is None else Decimal(days) * p["alv_daily_allowance"],
                days is not None,
            )
        sa = [r for r in running if r[0] == InstitutionKind.SOCIAL_SERVICE]
        if sa:
            monthly = max((r[4] for r in sa if r[4] is not None), default=None)
            amount = assumed["sa"] if monthly is None else Decimal(monthly) * 12 * p["sa_years_avoided"]
            _add(benefits["sa"], case_id, amount, monthly is not None)
        iv = [r for r in running if r[0] == InstitutionKind.DISABILITY]
        if iv:
            if any(r[5] in PENSION_IN_QUESTION for r in iv):
                _add(benefits["iv"], case_id, assumed["iv"], True)
            else:
                iv_without.append(case_id)
    costs_by_partner = {
        kind: p.get(f"fte_{kind}", Decimal(0)) * p["fte_cost_per_year"] * years for kind in PARTNER_KINDS
    }
    staff = sum(costs_by_partner.values(), Decimal(0))
    shared = p["shared_budget_per_year"] * years
    shared_each = shared / len(PARTNER_KINDS)
    for kind in PARTNER_KINDS:
        costs_by_partner[kind] += shared_each
    office = p["office_cost_per_year"] * years
    costs_by_partner["labour"] += office  # the Geschäftsstelle is paid by AFA
    return CostBenefit(
        period=period,
        years=years,
        integrations=tuple(i for i, _c, _d in integrated),
        benefits=benefits,
        iv_without_pension=tuple(iv_without),
        staff_costs=staff,
        office_costs=office,
        shared_budget=shared,
        shared_budget_per_partner=shared_each,
        costs_by_partner=costs_by_partner,
    )


def _add(benefit: BenefitAvoided, case_id: int, amount: Decimal, recorded: bool) -> None:
    benefit.records.append(case_id)
    benefit.amounts.append(amount)
    benefit.recorded += int(recorded)


def break_even(running_per_year: Decimal, per_integration: Decimal | None) -> Decimal | None:
    """Integrations a year whose savings pay the running costs: running cost per year ÷ saving per integration."""
    if per_integration is None or per_integration <= 0:
        return None
    return (running_per_year / per_integration).quantize(Decimal("0.1"), rounding=ROUND_CEILING)


# ---------------------------------------------------------------------------------------------------------
# What the page and the reports publish
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerCost:
    label: str
    staff: Decimal
    shared: Decimal
    office: Decimal

    @property
    def total(self) -> Decimal:
        return self.staff + self.shared + self.office


@dataclass(frozen=True)
class BenefitLine:
    code: str
    persons: Count
    per_person: Decimal  # the mean saving per person of the benefit, or the assumption
    from_records: bool  # the mean of recorded amounts (enough persons behind it), else the assumption
    saving: Decimal | None  # persons × per person; None where the count is published as "< t"


@dataclass(frozen=True)
class PublishedCostBenefit:
    """What the cost-benefit page and the reports show: every count published (``iiz.steering.publication``),
    every amount worked out from published counts and from means over enough persons. An amount that would
    give away a count published only as "< t" is withheld, and the break-even then rests on the assumption."""

    model: CostBenefit
    integrations: Count
    lines: dict[str, BenefitLine]
    iv_without_pension: Count
    assumed: dict[str, Decimal]
    savings: Decimal | None
    net: Decimal | None
    savings_per_integration: Decimal | None  # observed: savings ÷ integrations
    assumed_per_integration: Decimal  # the assumption where nothing can be observed
    break_even: Decimal | None
    break_even_from_assumption: bool
    running_per_year: Decimal
    integrations_per_year: Decimal | None
    partners: list[PartnerCost]

    @property
    def suppressed(self) -> bool:
        return self.savings is None

    @property
    def incomplete(self) -> bool:
        """Whether a benefit shown as "< t" is left out of the total (which is then a lower bound)."""
        return any(line.saving is None for line in self.lines.values())

    @property
    def per_integration_used(self) -> Decimal:
        if self.break_even_from_assumption or self.savings_per_integration is None:
            return self.assumed_per_integration
        return self.savings_per_integration

    # The former names, for templates and reports.
    @property
    def with_alv(self) -> Count:
        return self.lines["alv"].persons

    @property
    def with_sa(self) -> Count:
        return self.lines["sa"].persons

    @property
    def with_iv(self) -> Count:
        return self.lines["iv"].persons


def cost_benefit_published(
    *, period: Period, publisher: Publisher, p: dict[str, Decimal] | None = None
) -> PublishedCostBenefit:
    p = p if p is not None else parameters()
    cb = cost_benefit_compute(period=period, p=p)
    assumed = assumed_per_person(p)
    lines = {}
    for code in BENEFITS:
        benefit = cb.benefits[code]
        persons = publisher.count(benefit.records)
        # A mean over few persons would describe them: below the median rule, the assumption stands in.
        from_records = bool(benefit.records) and publisher.median_allowed(persons)
        per_person = (benefit.total / len(benefit.records)).quantize(Decimal("1")) if from_records else assumed[code]
        saving = None if persons.small else per_person * persons.value
        lines[code] = BenefitLine(code, persons, per_person, from_records, saving)
    integrations = publisher.count(cb.integrations)
    # A benefit whose persons are published only as "< t" stays out of the total (its amount would give the
    # count away): the total is then a lower bound, and the page says so.
    savings = None if integrations.small else sum((line.saving or Decimal(0) for line in lines.values()), Decimal(0))
    per_integration = (
        (savings / integrations.value).quantize(Decimal("1")) if savings is not None and integrations.value else None
    )
    # Without an observed mix, an integration is assumed to avoid one of the three benefits, each as likely.
    assumed_per_integration = (sum(assumed.values(), Decimal(0)) / 3).quantize(Decimal("1"))
    from_assumption = per_integration is None or per_integration <= 0
    partners = []
    for kind in PARTNER_KINDS:
        office = cb.office_costs if kind == InstitutionKind.LABOUR else Decimal(0)
        staff = cb.costs_by_partner[kind] - cb.shared_budget_per_partner - office
        partners.append(PartnerCost(str(InstitutionKind(kind).label), staff, cb.shared_budget_per_partner, office))
    return PublishedCostBenefit(
        model=cb,
        integrations=integrations,
        lines=lines,
        iv_without_pension=publisher.count(cb.iv_without_pension),
        assumed=assumed,
        savings=savings,
        net=None if savings is None else savings - cb.running_costs,
        savings_per_integration=per_integration,
        assumed_per_integration=assumed_per_integration,
        break_even=break_even(cb.running_per_year, assumed_per_integration if from_assumption else per_integration),
        break_even_from_assumption=from_assumption,
        running_per_year=cb.running_per_year,
        integrations_per_year=None if integrations.small or not cb.years else Decimal(integrations.value) / cb.years,
        partners=partners,
    )
