"""The cost-benefit model: benefits avoided by integrations against the network's running costs.

Savings per integration depend on which benefits the person drew: for each integrated case, the benefits
of the institutions the person was registered with when the case closed (ALV through the RAV, social
assistance through a social service, an IV pension through the IV-Stelle) are counted as avoided for the
assumed duration. Running costs are the partners' staff, the Geschäftsstelle (paid by AFA) and the shared
budget (split equally between the partners). Break-even is the number of integrations per year whose
savings equal the running costs: the Solothurn reasoning, where five to six integrations a year paid for
a case-management unit with about 600 clients.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from iiz.cases.models import Case, CaseStatus
from iiz.clients.models import Registration
from iiz.organisations.models import InstitutionKind
from iiz.steering.kpis import INTEGRATION, Period
from iiz.steering.models import CostBenefitParameter
from iiz.steering.publication import Count, Publisher

PARTNER_KINDS = ("labour", "disability", "cantonal_social", "youth", "social_service")


def parameters() -> dict[str, Decimal]:
    return {p.key: Decimal(p.value) for p in CostBenefitParameter.objects.all()}


@dataclass(frozen=True)
class CostBenefit:
    period: Period
    years: Decimal  # length of the period in years
    integrations: int
    with_alv: int
    with_sa: int
    with_iv: int
    # The cases behind each count (for publication).
    records: dict[str, tuple[int, ...]]
    savings: Decimal
    staff_costs: Decimal
    office_costs: Decimal
    shared_budget: Decimal
    shared_budget_per_partner: Decimal
    costs_by_partner: dict[str, Decimal]
    savings_per_integration: Decimal
    break_even_per_year: Decimal | None

    @property
    def running_costs(self) -> Decimal:
        return self.staff_costs + self.office_costs + self.shared_budget

    @property
    def net(self) -> Decimal:
        return self.savings - self.running_costs


def savings_per_benefit(p: dict[str, Decimal]) -> dict[str, Decimal]:
    return {
        "alv": p["alv_daily_allowance"] * p["alv_days_per_month"] * p["alv_months_avoided"],
        "sa": p["sa_cost_per_year"] * p["sa_years_avoided"],
        "iv": p["iv_pension_per_month"] * 12 * p["iv_years_avoided"],
    }


def cost_benefit_compute(*, period: Period, p: dict[str, Decimal] | None = None) -> CostBenefit:
    p = p if p is not None else parameters()
    years = Decimal((period.end - period.start).days + 1) / Decimal(365)
    integrated = list(
        Case.objects.filter(
            status=CaseStatus.CLOSED,
            closed_on__gte=period.start,
            closed_on__lte=period.end,
            outcome__in=sorted(INTEGRATION),
        ).values_list("id", "client_id", "closed_on")
    )
    registrations: dict[int, list[tuple[str, dt.date, dt.date | None]]] = defaultdict(list)
    for client_id, kind, registered_on, deregistered_on in Registration.objects.filter(
        client_id__in={c for _id, c, _closed in integrated}
    ).values_list("client_id", "institution__kind", "registered_on", "deregistered_on"):
        registrations[client_id].append((kind, registered_on, deregistered_on))
    benefit = savings_per_benefit(p)
    with_alv = with_sa = with_iv = 0
    records: dict[str, list[int]] = {"integrations": [i for i, _c, _d in integrated], "alv": [], "sa": [], "iv": []}
    savings = Decimal(0)
    for case_id, client_id, closed_on in integrated:
        if closed_on is None:  # a closed case always has its date; the type does not know that
            continue
        # A benefit counts when its registration was running at closure (or ended with the integration).
        kinds = {
            kind
            for kind, registered_on, deregistered_on in registrations[client_id]
            if registered_on <= closed_on and (deregistered_on is None or deregistered_on >= closed_on)
        }
        if InstitutionKind.LABOUR in kinds:
            with_alv += 1
            records["alv"].append(case_id)
            savings += benefit["alv"]
        if InstitutionKind.SOCIAL_SERVICE in kinds:
            with_sa += 1
            records["sa"].append(case_id)
            savings += benefit["sa"]
        if InstitutionKind.DISABILITY in kinds:
            with_iv += 1
            records["iv"].append(case_id)
            savings += benefit["iv"]
    costs_by_partner = {
        kind: p.get(f"fte_{kind}", Decimal(0)) * p["fte_cost_per_year"] * years for kind in PARTNER_KINDS
    }
    shared = p["shared_budget_per_year"] * years
    shared_each = shared / len(PARTNER_KINDS)
    for kind in PARTNER_KINDS:
        costs_by_partner[kind] += shared_each
    office = p["office_cost_per_year"] * years
    costs_by_partner["labour"] += office  # the Geschäftsstelle is paid by AFA
    staff = sum(
        (p.get(f"fte_{kind}", Decimal(0)) * p["fte_cost_per_year"] * years for kind in PARTNER_KINDS), Decimal(0)
    )
    per_integration = savings / len(integrated) if integrated else _default_savings(benefit)
    running_per_year = (staff + office + shared) / years if years else Decimal(0)
    break_even = (
        (running_per_year / per_integration).quantize(Decimal("0.1"), rounding=ROUND_CEILING)
        if per_integration > 0
        else None
    )
    return CostBenefit(
        period=period,
        years=years,
        integrations=len(integrated),
        with_alv=with_alv,
        with_sa=with_sa,
        with_iv=with_iv,
        records={key: tuple(ids) for key, ids in records.items()},
        savings=savings,
        staff_costs=staff,
        office_costs=office,
        shared_budget=shared,
        shared_budget_per_partner=shared_each,
        costs_by_partner=costs_by_partner,
        savings_per_integration=per_integration,
        break_even_per_year=break_even,
    )


def _default_savings(benefit: dict[str, Decimal]) -> Decimal:
    """Without integrations in the period, a person is assumed to draw one of the three benefits at random."""
    return (benefit["alv"] + benefit["sa"] + benefit["iv"]) / 3


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
class PublishedCostBenefit:
    """What the cost-benefit page and the reports show: every count published (``iiz.steering.publication``),
    every amount worked out from published counts. An amount that would show a count published only as
    "< t" is withheld, and the break-even then rests on the model's assumption per integration."""

    model: CostBenefit
    integrations: Count
    with_alv: Count
    with_sa: Count
    with_iv: Count
    per_benefit: dict[str, Decimal]
    savings_by_benefit: dict[str, Decimal | None]
    savings: Decimal | None
    net: Decimal | None
    savings_per_integration: Decimal | None
    break_even: Decimal | None
    break_even_from_assumption: bool
    running_per_year: Decimal
    integrations_per_year: Decimal | None
    partners: list[PartnerCost]

    @property
    def suppressed(self) -> bool:
        return self.savings is None


def cost_benefit_published(
    *, period: Period, publisher: Publisher, p: dict[str, Decimal] | None = None
) -> PublishedCostBenefit:
    p = p if p is not None else parameters()
    cb = cost_benefit_compute(period=period, p=p)
    per_benefit = savings_per_benefit(p)
    counts = {key: publisher.count(cb.records[key]) for key in ("integrations", "alv", "sa", "iv")}
    savings_by_benefit: dict[str, Decimal | None] = {
        key: None if counts[key].small else per_benefit[key] * counts[key].value for key in ("alv", "sa", "iv")
    }
    hidden = any(count.small for count in counts.values())
    savings = None if hidden else sum((v for v in savings_by_benefit.values() if v is not None), Decimal(0))
    running_per_year = cb.running_costs / cb.years if cb.years else Decimal(0)
    integrations = counts["integrations"]
    per_integration = savings / integrations.value if savings is not None and integrations.value else None
    assumed = per_integration is None or per_integration <= 0
    basis = _default_savings(per_benefit) if assumed else per_integration
    break_even = (
        (running_per_year / basis).quantize(Decimal("0.1"), rounding=ROUND_CEILING)
        if basis is not None and basis > 0
        else None
    )
    partners = []
    for kind in PARTNER_KINDS:
        office = cb.office_costs if kind == InstitutionKind.LABOUR else Decimal(0)
        staff = cb.costs_by_partner[kind] - cb.shared_budget_per_partner - office
        partners.append(PartnerCost(str(InstitutionKind(kind).label), staff, cb.shared_budget_per_partner, office))
    return PublishedCostBenefit(
        model=cb,
        integrations=integrations,
        with_alv=counts["alv"],
        with_sa=counts["sa"],
        with_iv=counts["iv"],
        per_benefit=per_benefit,
        savings_by_benefit=savings_by_benefit,
        savings=savings,
        net=None if savings is None else savings - cb.running_costs,
        savings_per_integration=per_integration,
        break_even=break_even,
        break_even_from_assumption=assumed,
        running_per_year=running_per_year,
        integrations_per_year=None if integrations.small or not cb.years else Decimal(integrations.value) / cb.years,
        partners=partners,
    )
