"""The cost-benefit model and its page.

The expected figures are worked out here by hand, from the parameter values in the database and the
hand-built integrations with what each person drew or risked (recorded with the registrations), and compared
with ``cost_benefit_compute``. The page shows every assumption with its source, publishes counts like every
steering page, leaves the amounts of counts shown as "< 5" out, and shows how the break-even is derived.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal

import pytest
from django.utils.html import escape

from iiz.cases.models import CaseStatus, Outcome
from iiz.clients.models import IvPensionStatus
from iiz.organisations.models import Institution, InstitutionKind, Role
from iiz.steering.costbenefit import cost_benefit_compute, cost_benefit_published
from iiz.steering.kpis import Period
from iiz.steering.models import CostBenefitParameter
from iiz.steering.publication import Publisher
from tests.factories import CaseFactory, ClientFactory, RegistrationFactory, UserFactory, partner

YEAR = 2019  # long before any other data of the test world
CLOSED = dt.date(YEAR, 6, 30)


def value(key: str) -> Decimal:
    return CostBenefitParameter.objects.get(key=key).value


def _integration(
    *kinds: str,
    outcome: str = Outcome.FIRST_LABOUR_MARKET,
    closed_on: dt.date = CLOSED,
    alv_days: int | None = None,
    sa_monthly: Decimal | None = None,
    iv: str = "",
) -> int:
    client = ClientFactory(registered=False)
    for kind in kinds:
        institution = (
            Institution.objects.get(name="Sozialdienst Uster")
            if kind == InstitutionKind.SOCIAL_SERVICE
            else partner(kind)
        )
        RegistrationFactory(
            client=client,
            institution=institution,
            registered_on=dt.date(YEAR - 2, 1, 1),
            alv_remaining_days=alv_days if kind == InstitutionKind.LABOUR else None,
            sa_monthly_amount=sa_monthly if kind == InstitutionKind.SOCIAL_SERVICE else None,
            iv_pension_status=iv if kind == InstitutionKind.DISABILITY else "",
        )
    case = CaseFactory(
        client=client,
        opened_on=dt.date(YEAR - 1, 3, 1),
        status=CaseStatus.CLOSED,
        closed_on=closed_on,
        outcome=outcome,
        outcome_on=closed_on,
    )
    return case.pk


@pytest.fixture
def integrations(world) -> dict[str, list[int]]:
    """Ten integrations in the year, and cases that must not count."""
    cases: dict[str, list[int]] = {"alv_recorded": [], "alv_assumed": [], "sa": [], "iv": [], "uster": []}
    for _ in range(3):
        cases["alv_recorded"].append(_integration(InstitutionKind.LABOUR, alv_days=200))
    for _ in range(2):
        case = _integration(
            InstitutionKind.LABOUR, InstitutionKind.SOCIAL_SERVICE, outcome=Outcome.JOB_KEPT, sa_monthly=Decimal(2100)
        )
        cases["alv_assumed"].append(case)
        cases["sa"].append(case)
    cases["iv"].append(_integration(InstitutionKind.DISABILITY, iv=IvPensionStatus.PENDING))
    # The Uster case: the job kept after early intervention, registered with the IV, no pension in question.
    cases["uster"].append(_integration(InstitutionKind.DISABILITY, outcome=Outcome.JOB_KEPT, iv=IvPensionStatus.NONE))
    cases["uster"].append(_integration(InstitutionKind.DISABILITY, outcome=Outcome.JOB_KEPT))  # nothing recorded
    _integration()  # integrated, but registered with none of the three benefits
    # Not counted: another outcome, training (not an integration), a closure in another year.
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
        iv_pension_status=IvPensionStatus.AT_STAKE,
    )
    CaseFactory(
        client=client,
        opened_on=dt.date(YEAR - 1, 3, 1),
        status=CaseStatus.CLOSED,
        closed_on=CLOSED,
        outcome=Outcome.FIRST_LABOUR_MARKET,
        outcome_on=CLOSED,
    )
    return cases


def _costs(years: Decimal) -> dict[str, Decimal]:
    fte = sum(value(f"fte_{kind}") for kind in ("labour", "disability", "cantonal_social", "youth", "social_service"))
    staff = fte * value("fte_cost_per_year") * years
    office = value("office_cost_per_year") * years
    shared = value("shared_budget_per_year") * years
    return {
        "staff": staff,
        "office": office,
        "shared": shared,
        "running": staff + office + shared,
        "labour_total": value("fte_labour") * value("fte_cost_per_year") * years + shared / 5 + office,
    }


# --- the model -------------------------------------------------------------------------------------------


def test_it_counts_each_avoided_benefit_by_what_the_person_drew_or_risked(integrations):
    # given the integrations of the year / when
    result = cost_benefit_compute(period=Period.parse(str(YEAR)))

    # then ten integrations (job found or job kept; not training nor another outcome or year)
    assert len(result.integrations) == 10
    # and ALV by the recorded remaining entitlement, or by the assumption where the RAV recorded none
    assumed_alv = value("alv_daily_allowance") * value("alv_days_per_month") * value("alv_months_avoided")
    alv = result.benefits["alv"]
    assert sorted(alv.records) == sorted(integrations["alv_recorded"] + integrations["alv_assumed"])
    assert alv.total == 3 * 200 * value("alv_daily_allowance") + 2 * assumed_alv
    assert alv.recorded == 3
    # and social assistance by the recorded monthly amount for the assumed years
    assert result.benefits["sa"].total == 2 * Decimal(2100) * 12 * value("sa_years_avoided")
    # and an IV pension only where a pension claim was pending
    assert result.benefits["iv"].records == integrations["iv"]
    assert result.benefits["iv"].total == value("iv_pension_per_month") * 12 * value("iv_years_avoided")
    assert sorted(result.iv_without_pension) == sorted(integrations["uster"])


def test_it_counts_no_avoided_iv_pension_for_the_uster_case(world, supervisory, http_as):
    # given the Uster case: a job kept after early intervention, registered with the IV, no pending pension;
    # and enough other integrations (with ALV) that the page publishes its figures
    uster = _integration(InstitutionKind.DISABILITY, outcome=Outcome.JOB_KEPT, iv=IvPensionStatus.NONE)
    for _ in range(12):
        _integration(InstitutionKind.LABOUR, alv_days=100)

    # when the model is computed and the supervisory body reads the page
    model = cost_benefit_compute(period=Period.parse(str(YEAR)))
    cb = http_as(supervisory).get("/steuerung/kosten-nutzen/", {"period": str(YEAR)}).context["cb"]

    # then no IV pension is counted as avoided: not in the model, not in the published savings
    assert model.benefits["iv"].records == [] and model.benefits["iv"].total == 0
    assert uster in model.iv_without_pension
    assert cb.lines["iv"].saving is None  # "< 5" persons (here none): no amount at all
    assert cb.savings == cb.lines["alv"].saving
    assert cb.savings == cb.lines["alv"].persons.value * 100 * value("alv_daily_allowance")


def test_it_computes_the_costs_and_scales_them_to_a_quarter(integrations):
    # given / when
    year = cost_benefit_compute(period=Period.parse(str(YEAR)))
    quarter = cost_benefit_compute(period=Period.parse(f"{YEAR}-Q2"))

    # then
    costs = _costs(Decimal(1))
    assert (year.staff_costs, year.office_costs, year.shared_budget) == (
        costs["staff"],
        costs["office"],
        costs["shared"],
    )
    assert year.running_costs == costs["running"]
    assert year.costs_by_partner["labour"] == costs["labour_total"]
    assert year.shared_budget_per_partner == costs["shared"] / 5
    years = Decimal(91) / Decimal(365)  # April to June
    assert quarter.years == years
    assert quarter.running_costs == _costs(years)["running"]
    assert len(quarter.integrations) == 10


def test_it_changes_the_result_when_a_parameter_changes(integrations):
    # given
    period = Period.parse(str(YEAR))
    before = cost_benefit_compute(period=period)

    # when the daily allowance is CHF 10 higher
    CostBenefitParameter.objects.filter(key="alv_daily_allowance").update(value=value("alv_daily_allowance") + 10)
    after = cost_benefit_compute(period=period)

    # then three persons with 200 days recorded and two with the assumed months save that much more
    extra = 3 * 200 * 10 + 2 * 10 * value("alv_days_per_month") * value("alv_months_avoided")
    assert after.savings - before.savings == extra


def test_it_works_out_the_break_even_from_the_published_figures(world, supervisory, http_as):
    # given twelve integrations with all three benefits recorded: nothing is published below five
    for _ in range(12):
        _integration(
            InstitutionKind.LABOUR,
            InstitutionKind.SOCIAL_SERVICE,
            InstitutionKind.DISABILITY,
            alv_days=300,
            sa_monthly=Decimal(1800),
            iv=IvPensionStatus.AT_STAKE,
        )
    model = cost_benefit_compute(period=Period.parse(str(YEAR)))
    published = {key: Publisher().count(model.records[key]).value for key in ("integrations", "alv", "sa", "iv")}

    # when
    response = http_as(supervisory).get("/steuerung/kosten-nutzen/", {"period": str(YEAR)})
    cb = response.context["cb"]

    # then each saving is the published persons times the mean recorded amount
    per_person = {
        "alv": 300 * value("alv_daily_allowance"),
        "sa": Decimal(1800) * 12 * value("sa_years_avoided"),
        "iv": value("iv_pension_per_month") * 12 * value("iv_years_avoided"),
    }
    for key in ("alv", "sa", "iv"):
        assert cb.lines[key].from_records
        assert cb.lines[key].saving == published[key] * per_person[key].quantize(Decimal("1"))
    savings = sum(cb.lines[key].saving for key in ("alv", "sa", "iv"))
    assert cb.savings == savings and not cb.incomplete
    # and the break-even is the running cost per year divided by the saving per integration, all shown
    per_integration = (savings / published["integrations"]).quantize(Decimal("1"))
    running = _costs(Decimal(1))["running"]
    assert cb.savings_per_integration == per_integration
    assert cb.break_even == (running / per_integration).quantize(Decimal("0.1"), rounding=ROUND_CEILING)
    assert cb.net == savings - running
    html = response.content.decode()
    assert "Herleitung des Break-even" in html
    assert "Betriebskosten pro Jahr" in html


def test_it_uses_the_assumed_savings_without_published_integrations(world):
    # given no data at all / when
    cb = cost_benefit_published(period=Period.parse("2001"), publisher=Publisher())

    # then the break-even still answers, from the average of the three benefits
    assumed = (
        value("alv_daily_allowance") * value("alv_days_per_month") * value("alv_months_avoided")
        + value("sa_cost_per_year") * value("sa_years_avoided")
        + value("iv_pension_per_month") * 12 * value("iv_years_avoided")
    ) / 3
    assert cb.savings is None and cb.break_even_from_assumption
    running = _costs(Decimal(1))["running"]
    assert cb.break_even == (running / assumed.quantize(Decimal("1"))).quantize(Decimal("0.1"), rounding=ROUND_CEILING)


# --- the page --------------------------------------------------------------------------------------------


def test_it_shows_every_assumption_with_its_source(integrations, supervisory, http_as):
    # given / when
    response = http_as(supervisory).get("/steuerung/kosten-nutzen/", {"period": str(YEAR)})

    # then
    assert response.status_code == 200
    html = response.content.decode()
    for parameter in CostBenefitParameter.objects.all():
        assert escape(parameter.label) in html
        assert escape(parameter.source) in html
    assert "Solothurn" in html
    assert "/admin/steering/costbenefitparameter/" not in html  # no edit links without the admin role


def test_it_leaves_the_amounts_of_benefits_shown_as_small_out_of_the_total(integrations, supervisory, http_as):
    # given two integrations with social assistance and one with an IV pension: published as "< 5"
    model = cost_benefit_compute(period=Period.parse(str(YEAR)))
    published = {key: Publisher().count(model.records[key]) for key in ("integrations", "alv", "sa", "iv")}

    # when
    response = http_as(supervisory).get("/steuerung/kosten-nutzen/", {"period": str(YEAR)})

    # then every count is the published one, and the amounts of the small ones are left out of the total
    cb = response.context["cb"]
    assert (cb.integrations, cb.with_alv, cb.with_sa, cb.with_iv) == tuple(published.values())
    for key in ("alv", "sa", "iv"):
        assert (cb.lines[key].saving is None) == published[key].small
    assert cb.incomplete == any(published[key].small for key in ("alv", "sa", "iv"))
    if not published["integrations"].small:
        assert cb.savings == sum(line.saving or 0 for line in cb.lines.values())
    html = response.content.decode()
    assert "&lt; 5" in html  # at least the IV pensions avoided by nobody
    assert "Break-even" in html and "Solothurn" in html


def test_it_explains_a_period_with_too_few_integrations(world, committee, http_as):
    # given / when
    response = http_as(committee).get("/steuerung/kosten-nutzen/", {"period": "2001-Q1"})

    # then no amount is shown, and the page says why
    assert response.status_code == 200
    html = response.content.decode()
    assert "Integrationen als «&lt; 5» ausgewiesen" in html
    assert "Modellannahme" in html


def test_it_credits_the_seed_with_nothing_it_does_not_give(world, supervisory, http_as):
    # given / when
    html = http_as(supervisory).get("/steuerung/kosten-nutzen/", {"period": str(YEAR)}).content.decode()

    # then Solothurn is cited with its 600 persons and five to six integrations a year, and no cost figure
    assert "600" in html and "fünf bis sechs" in html
    assert "1 Mio" not in html and "1’000’000" not in html and "1'000'000" not in html
    assert "nennt weder diese Betriebskosten noch die Einsparung je Integration" in html


def test_it_keeps_the_period_when_coming_from_the_strategic_page(world, supervisory, http_as):
    # given the strategic page of 2025-Q3
    page = http_as(supervisory).get("/steuerung/strategisch/", {"period": "2025-Q3"}).context["board"]
    # when its link to the cost-benefit page is followed
    response = http_as(supervisory).get(page.cost_benefit_url)
    # then the same period is shown (and the old parameter name still works)
    assert response.context["period"].label == "2025-Q3"
    assert http_as(supervisory).get("/steuerung/kosten-nutzen/?periode=2024").context["period"].label == "2024"


@pytest.mark.parametrize("text", ["2026-Q5", "letztes Jahr", "26", "2026-Q3'><script>"])
def test_it_refuses_an_invalid_period_with_a_clear_400(text, coordinator, http_as):
    # given / when
    response = http_as(coordinator).get("/steuerung/kosten-nutzen/", {"period": text})

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
