"""The cost-benefit model and its page.

The expected figures are worked out here by hand, from the parameter values in the database and the
hand-built integrations, and compared with ``cost_benefit_compute``. The page shows every assumption with
its source, suppresses small counts (and the amounts that would give them back) and still shows the
break-even.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal

import pytest
from django.utils.html import escape

from iiz.cases.models import CaseStatus, Outcome
from iiz.organisations.models import Institution, InstitutionKind, Role
from iiz.steering.costbenefit import cost_benefit_compute
from iiz.steering.kpis import Period
from iiz.steering.models import CostBenefitParameter
from iiz.steering.publication import Publisher
from tests.factories import CaseFactory, ClientFactory, RegistrationFactory, UserFactory, partner

YEAR = 2019  # long before any other data of the test world
CLOSED = dt.date(YEAR, 6, 30)


def value(key: str) -> Decimal:
    return CostBenefitParameter.objects.get(key=key).value


def _integration(*kinds: str, outcome: str = Outcome.FIRST_LABOUR_MARKET, closed_on: dt.date = CLOSED) -> None:
    client = ClientFactory(registered=False)
    for kind in kinds:
        institution = (
            Institution.objects.get(name="Sozialdienst Uster")
            if kind == InstitutionKind.SOCIAL_SERVICE
            else partner(kind)
        )
        RegistrationFactory(client=client, institution=institution, registered_on=dt.date(YEAR - 2, 1, 1))
    CaseFactory(
        client=client,
        opened_on=dt.date(YEAR - 1, 3, 1),
        status=CaseStatus.CLOSED,
        closed_on=closed_on,
        outcome=outcome,
        outcome_on=closed_on,
    )


@pytest.fixture
def integrations(world) -> dict[str, int]:
    """Seven integrations in the year: five with ALV, two with social assistance, one with IV; plus cases
    that must not count."""
    for _ in range(3):
        _integration(InstitutionKind.LABOUR)
    for _ in range(2):
        _integration(InstitutionKind.LABOUR, InstitutionKind.SOCIAL_SERVICE, outcome=Outcome.JOB_KEPT)
    _integration(InstitutionKind.DISABILITY)
    _integration()  # integrated, but registered with none of the three benefits
    # Not counted: another outcome, training, a closure in another year.
    _integration(InstitutionKind.LABOUR, outcome=Outcome.DROPPED_OUT)
    _integration(InstitutionKind.LABOUR, outcome=Outcome.TRAINING)
    _integration(InstitutionKind.LABOUR, closed_on=dt.date(YEAR + 1, 1, 2))
    # A registration that ended before the closure does not count as a benefit avoided.
    client = ClientFactory(registered=False)
    RegistrationFactory(
        client=client,
        institution=partner(InstitutionKind.DISABILITY),
        registered_on=dt.date(YEAR - 2, 1, 1),
        deregistered_on=dt.date(YEAR - 1, 12, 31),
    )
    CaseFactory(
        client=client,
        opened_on=dt.date(YEAR - 1, 3, 1),
        status=CaseStatus.CLOSED,
        closed_on=CLOSED,
        outcome=Outcome.FIRST_LABOUR_MARKET,
        outcome_on=CLOSED,
    )
    return {"integrations": 8, "alv": 5, "sa": 2, "iv": 1}


def _expected(counts: dict[str, int], years: Decimal) -> dict[str, Decimal | None]:
    alv = value("alv_daily_allowance") * value("alv_days_per_month") * value("alv_months_avoided")
    sa = value("sa_cost_per_year") * value("sa_years_avoided")
    iv = value("iv_pension_per_month") * 12 * value("iv_years_avoided")
    savings = counts["alv"] * alv + counts["sa"] * sa + counts["iv"] * iv
    fte = sum(value(f"fte_{kind}") for kind in ("labour", "disability", "cantonal_social", "youth", "social_service"))
    staff = fte * value("fte_cost_per_year") * years
    office = value("office_cost_per_year") * years
    shared = value("shared_budget_per_year") * years
    per_integration = savings / counts["integrations"]
    per_year = (staff + office + shared) / years
    return {
        "savings": savings,
        "staff": staff,
        "office": office,
        "shared": shared,
        "running": staff + office + shared,
        "net": savings - (staff + office + shared),
        "per_integration": per_integration,
        "break_even": (per_year / per_integration).quantize(Decimal("0.1"), rounding=ROUND_CEILING)
        if per_integration
        else None,
        "labour_total": value("fte_labour") * value("fte_cost_per_year") * years + shared / 5 + office,
        "assumed_break_even": (per_year / ((alv + sa + iv) / 3)).quantize(Decimal("0.1"), rounding=ROUND_CEILING),
    }


# --- the model -------------------------------------------------------------------------------------------


def test_it_computes_savings_costs_and_break_even_as_worked_out_by_hand(integrations):
    # given the integrations of the year / when
    result = cost_benefit_compute(period=Period.parse(str(YEAR)))

    # then
    expected = _expected(integrations, Decimal(1))
    assert (result.integrations, result.with_alv, result.with_sa, result.with_iv) == (8, 5, 2, 1)
    assert result.savings == expected["savings"]
    assert result.staff_costs == expected["staff"]
    assert result.office_costs == expected["office"]
    assert result.shared_budget == expected["shared"]
    assert result.running_costs == expected["running"]
    assert result.net == expected["net"]
    assert result.savings_per_integration == expected["per_integration"]
    assert result.break_even_per_year == expected["break_even"]
    assert result.costs_by_partner["labour"] == expected["labour_total"]
    assert result.shared_budget_per_partner == expected["shared"] / 5


def test_it_scales_the_running_costs_to_a_quarter(integrations):
    # given the second quarter, in which all integrations closed / when
    result = cost_benefit_compute(period=Period.parse(f"{YEAR}-Q2"))

    # then
    years = Decimal(91) / Decimal(365)  # April to June
    expected = _expected(integrations, years)
    assert result.years == years
    assert result.integrations == 8
    assert result.running_costs == expected["running"]
    assert result.break_even_per_year == expected["break_even"]


def test_it_changes_the_result_when_a_parameter_changes(integrations):
    # given
    period = Period.parse(str(YEAR))
    before = cost_benefit_compute(period=period)

    # when social assistance costs CHF 1,000 more per year
    CostBenefitParameter.objects.filter(key="sa_cost_per_year").update(value=value("sa_cost_per_year") + 1000)
    after = cost_benefit_compute(period=period)

    # then two integrations with social assistance save 2 × 1,000 × the years avoided more
    assert after.savings - before.savings == 2 * 1000 * value("sa_years_avoided")
    assert after.break_even_per_year is not None and before.break_even_per_year is not None
    assert after.break_even_per_year < before.break_even_per_year


def test_it_uses_the_assumed_savings_in_a_period_without_integrations(world):
    # given no data at all / when
    result = cost_benefit_compute(period=Period.parse("2001"))

    # then the break-even still answers, from the average of the three benefits
    expected = _expected({"integrations": 1, "alv": 0, "sa": 0, "iv": 0}, Decimal(1))
    assert result.integrations == 0 and result.savings == 0
    assert result.break_even_per_year == expected["assumed_break_even"]


# --- the page --------------------------------------------------------------------------------------------


def test_it_shows_every_assumption_with_its_source(integrations, supervisory, http_as):
    # given / when
    response = http_as(supervisory).get("/steuerung/kosten-nutzen/", {"periode": str(YEAR)})

    # then
    assert response.status_code == 200
    html = response.content.decode()
    for parameter in CostBenefitParameter.objects.all():
        assert escape(parameter.label) in html
        assert escape(parameter.source) in html
    assert "Solothurn" in html
    assert "/admin/steering/costbenefitparameter/" not in html  # no edit links without the admin role


def test_it_withholds_the_amounts_of_counts_shown_as_small_but_shows_the_break_even(
    integrations, supervisory, http_as
):
    # given two integrations with social assistance and one with IV: published as "< 5"
    expected = _expected(integrations, Decimal(1))
    model = cost_benefit_compute(period=Period.parse(str(YEAR)))
    published = {key: Publisher().count(model.records[key]) for key in ("integrations", "alv", "sa", "iv")}

    # when
    response = http_as(supervisory).get("/steuerung/kosten-nutzen/", {"periode": str(YEAR)})

    # then every count is the published one, and every amount that would give a small one back is withheld
    cb = response.context["cb"]
    assert (cb.integrations, cb.with_alv, cb.with_sa, cb.with_iv) == tuple(published.values())
    assert published["sa"].small and published["iv"].small
    assert cb.savings is None and cb.net is None and cb.savings_per_integration is None
    assert cb.savings_by_benefit["sa"] is None and cb.savings_by_benefit["iv"] is None
    # and the break-even is shown, from the model's assumption rather than the hidden mix
    assert cb.break_even == expected["assumed_break_even"]
    assert cb.break_even_from_assumption
    html = response.content.decode()
    assert "&lt; 5" in html
    assert "Break-even" in html


def test_it_shows_all_figures_when_no_count_is_small(world, supervisory, http_as):
    # given twelve integrations with all three benefits: no published count can fall below five
    for _ in range(12):
        _integration(InstitutionKind.LABOUR, InstitutionKind.SOCIAL_SERVICE, InstitutionKind.DISABILITY)
    model = cost_benefit_compute(period=Period.parse(str(YEAR)))
    published = {key: Publisher().count(model.records[key]).value for key in ("integrations", "alv", "sa", "iv")}
    expected = _expected(published, Decimal(1))

    # when
    cb = http_as(supervisory).get("/steuerung/kosten-nutzen/", {"periode": str(YEAR)}).context["cb"]

    # then the amounts are worked out from the published counts
    assert (cb.integrations.value, cb.with_alv.value, cb.with_sa.value, cb.with_iv.value) == tuple(published.values())
    assert cb.savings == expected["savings"] and cb.net == expected["net"]
    assert cb.break_even == expected["break_even"] and not cb.break_even_from_assumption
    assert [p.total for p in cb.partners][0] == expected["labour_total"]


def test_it_explains_a_period_with_too_few_integrations(world, committee, http_as):
    # given / when
    response = http_as(committee).get("/steuerung/kosten-nutzen/", {"periode": "2001-Q1"})

    # then no amount is shown, and the page says why
    assert response.status_code == 200
    assert "als «&lt; 5» ausgewiesen" in response.content.decode()


@pytest.mark.parametrize("text", ["2026-Q5", "letztes Jahr", "26", "2026-Q3'><script>"])
def test_it_refuses_an_invalid_period_with_a_clear_400(text, coordinator, http_as):
    # given / when
    response = http_as(coordinator).get("/steuerung/kosten-nutzen/", {"periode": text})

    # then
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ungültige Periode" in html
    assert "<script>" not in html.split("<main", 1)[1]


def test_it_links_each_assumption_to_the_admin_for_administrators(world, http_as):
    # given a member of the supervisory body who is also an administrator
    user = UserFactory(unit=world.unit("Geschäftsstelle iiz"), roles=[Role.SUPERVISORY_BODY, Role.ADMINISTRATOR])

    # when
    html = http_as(user).get("/steuerung/kosten-nutzen/").content.decode()

    # then
    for parameter in CostBenefitParameter.objects.all():
        assert f"/admin/steering/costbenefitparameter/{parameter.pk}/change/" in html


@pytest.mark.parametrize("persona", ["supervisory", "committee", "coordinator"])
def test_it_shows_the_page_to_the_strategic_audience(persona, request, http_as):
    # given / when / then
    assert http_as(request.getfixturevalue(persona)).get("/steuerung/kosten-nutzen/").status_code == 200


@pytest.mark.parametrize("persona", ["rav_adviser", "iv_specialist", "social_worker", "admin"])
def test_it_refuses_the_page_to_other_roles(persona, request, http_as):
    # given a case worker, a specialist, a social worker, an administrator / when / then
    assert http_as(request.getfixturevalue(persona)).get("/steuerung/kosten-nutzen/").status_code == 403
