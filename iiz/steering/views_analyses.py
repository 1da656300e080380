"""Pages of the case analyses (Wirkungsfaktoren) and of the cost-benefit model, for the strategic audience.

The views translate between HTTP and ``iiz.steering.analyses`` / ``iiz.steering.costbenefit``; what a
strategic page may publish (small numbers suppressed) is decided in the presenters below, and the
Kaplan–Meier charts are drawn here as plain SVG: presentation attributes only, because the
Content-Security-Policy forbids inline styles and scripts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from iiz import access
from iiz.cases.models import LifeSituation
from iiz.organisations.models import User
from iiz.steering import analyses
from iiz.steering.analyses import AnalysisFilter, DimensionResult
from iiz.steering.costbenefit import PublishedCostBenefit, cost_benefit_published, parameters
from iiz.steering.kpis import Period
from iiz.steering.models import CostBenefitParameter
from iiz.steering.publication import Publisher, Reader, method_note, threshold


def _nav(user: User) -> dict[str, object]:
    """What the steering area's navigation (steering/_nav.html) needs."""
    return {
        "may_see_operational": access.may_see_operational_dashboard(user),
        "may_see_strategic": access.may_see_strategic_dashboard(user),
        "cost_benefit_url": reverse("steering:costbenefit"),
    }


def _strategic_user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not access.may_see_strategic_dashboard(user):
        raise PermissionDenied(
            _("Diese Auswertung ist der Trägerschaft, dem Ausschuss und der Geschäftsstelle vorbehalten.")
        )
    return user


# ---------------------------------------------------------------------------------------------------------
# Kaplan–Meier chart as SVG
# ---------------------------------------------------------------------------------------------------------

# Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), and dash patterns so that
# the lines differ without colour too.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8A6100", "#56B4E9", "#000000"]
DASHES = ["", "8 4", "3 3", "10 3 3 3", "1 3", "12 6", "6 2 2 2"]
_WIDTH, _LEFT, _RIGHT, _TOP, _BOTTOM, _LEGEND_ROW = 720, 60, 700, 20, 260, 22


def _tick_step(days: float) -> int:
    return 90 if days <= 730 else 180 if days <= 1460 else 365


def _f(value: float) -> str:
    return f"{value:.1f}"


def _step_points(times: list[float], values: list[float], end: float) -> list[tuple[float, float]]:
    """The corners of a step function that holds each value until the next time, up to ``end``."""
    points: list[tuple[float, float]] = []
    for position, (time, value) in enumerate(zip(times, values, strict=True)):
        following = times[position + 1] if position + 1 < len(times) else end
        points += [(time, value), (following, value)]
    return points


def km_chart_svg(dimension: DimensionResult) -> SafeString:
    """The share integrated over time (1 − Kaplan–Meier), one step line with its 95 % band per group."""
    groups = dimension.groups
    horizon = max([g.observed_until for g in groups] + [90.0])
    step = _tick_step(horizon)
    x_max = math.ceil(horizon / step) * step
    height = _BOTTOM + 70 + _LEGEND_ROW * len(groups)

    def x(day: float) -> float:
        return _LEFT + (_RIGHT - _LEFT) * min(day, x_max) / x_max

    def y(share: float) -> float:
        return _BOTTOM - (_BOTTOM - _TOP) * share

    ident = f"km-{escape(dimension.key)}"
    title = _("Anteil integriert nach Tagen seit Fall-Eröffnung: %(dim)s") % {"dim": dimension.label}
    described = "; ".join(
        _("%(label)s: %(n)d Fälle, %(e)d Integrationen, Median %(median)s")
        % {
            "label": g.label,
            "n": g.n,
            "e": g.events,
            "median": _("%d Tage") % g.median if g.median is not None else _("nicht erreicht"),
        }
        for g in groups
    )
    desc = _("Kaplan–Meier-Schätzung mit 95-%%-Konfidenzband. %(groups)s.") % {"groups": described}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="Helvetica, Arial, sans-serif" font-size="12">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{_WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(
            f'<line x1="{_LEFT}" x2="{_RIGHT}" y1="{_f(y(tick))}" y2="{_f(y(tick))}" stroke="#d6d6d6" '
            f'stroke-width="1"/><text x="{_LEFT - 8}" y="{_f(y(tick) + 4)}" text-anchor="end" '
            f'fill="#333333">{int(tick * 100)} %</text>'
        )
    for day in range(0, x_max + 1, step):
        parts.append(
            f'<line x1="{_f(x(day))}" x2="{_f(x(day))}" y1="{_BOTTOM}" y2="{_BOTTOM + 5}" stroke="#333333"/>'
            f'<text x="{_f(x(day))}" y="{_BOTTOM + 20}" text-anchor="middle" fill="#333333">{day}</text>'
        )
    # Outside the f-string, so that makemessages finds the axis label.
    axis_label = _("Tage seit Fall-Eröffnung")
    parts.append(
        f'<line x1="{_LEFT}" x2="{_RIGHT}" y1="{_BOTTOM}" y2="{_BOTTOM}" stroke="#333333" stroke-width="1.5"/>'
        f'<line x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{_BOTTOM}" stroke="#333333" stroke-width="1.5"/>'
        f'<text x="{(_LEFT + _RIGHT) // 2}" y="{_BOTTOM + 40}" text-anchor="middle" fill="#000000">'
        f"{escape(axis_label)}</text>"
    )
    for number, group in enumerate(groups):
        colour, dash = COLOURS[number % len(COLOURS)], DASHES[number % len(DASHES)]
        times = [t for t, *_rest in group.steps]
        end = group.observed_until
        integrated = [1 - s for _t, s, _lo, _hi in group.steps]
        # A missing bound (no one left at risk) is drawn as the estimate itself.
        upper = [1 - (lo if math.isfinite(lo) else s) for _t, s, lo, _hi in group.steps]
        lower = [1 - (hi if math.isfinite(hi) else s) for _t, s, _lo, hi in group.steps]
        band = _step_points(times, upper, end) + list(reversed(_step_points(times, lower, end)))
        line = _step_points(times, integrated, end)
        parts.append(
            '<path d="M'
            + " L".join(f"{_f(x(t))},{_f(y(v))}" for t, v in band)
            + f' Z" fill="{colour}" fill-opacity="0.15" stroke="none"/>'
        )
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            '<path d="M'
            + " L".join(f"{_f(x(t))},{_f(y(v))}" for t, v in line)
            + f'" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
        )
        row = _BOTTOM + 62 + _LEGEND_ROW * number
        parts.append(
            f'<line x1="{_LEFT}" x2="{_LEFT + 36}" y1="{row - 4}" y2="{row - 4}" stroke="{colour}" '
            f'stroke-width="3"{dash_attr}/><text x="{_LEFT + 44}" y="{row}" fill="#000000">'
            f"{escape(group.label)} (n = {group.n})</text>"
        )
    parts.append("</svg>")
    return SafeString("".join(parts))


# ---------------------------------------------------------------------------------------------------------
# Case analyses
# ---------------------------------------------------------------------------------------------------------


def _life_situation_choices() -> list[tuple[str, str]]:
    return list(LifeSituation.objects.order_by("position", "name").values_list("code", "name"))


@require_GET
def analyses_view(request: HttpRequest) -> HttpResponse:
    user = _strategic_user(request)
    context: dict[str, object] = {
        **_nav(user),
        "values": {key: request.GET.get(key, "")[:60] for key in ("von", "bis", "lebenssituation")},
        "life_situations": _life_situation_choices(),
        "may_export": access.may_export_case_analysis(user),
        "min_cases": analyses.MIN_CASES,
        "min_events": analyses.MIN_EVENTS,
        "survival_days": analyses.SURVIVAL_DAYS,
    }
    try:
        filters = AnalysisFilter.parse(request.GET)
    except ValueError as error:
        context["error"] = str(error)
        return render(request, "steering/analyses.html", context, status=400)
    analysis = analyses.case_analysis(filters=filters)
    context.update(
        {
            "filters": filters,
            "analysis": analysis,
            "n_shown": analysis.n_shown,
            "events_shown": analysis.events_shown,
            "charts": [(dimension, km_chart_svg(dimension)) for dimension in analysis.dimensions if dimension.groups],
            "empty_dimensions": [dimension for dimension in analysis.dimensions if not dimension.groups],
            "export_query": urlencode(filters.query()),
        }
    )
    return render(request, "steering/analyses.html", context)


@require_GET
def analyses_export_view(request: HttpRequest) -> HttpResponse:
    user = _strategic_user(request)
    if not access.may_export_case_analysis(user):
        raise PermissionDenied(_("Den Export der pseudonymisierten Fallverläufe erstellt die Geschäftsstelle."))
    try:
        filters = AnalysisFilter.parse(request.GET)
    except ValueError as error:
        return render(
            request,
            "steering/analyses.html",
            {**_nav(user), "error": str(error), "values": {}, "life_situations": _life_situation_choices()},
            status=400,
        )
    content = analyses.analysis_export(actor=user, filters=filters, request=request)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="iiz-fallverlaeufe-pseudonymisiert-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------------------
# Cost-benefit
# ---------------------------------------------------------------------------------------------------------


def _admin_change_url(parameter: CostBenefitParameter) -> str:
    try:
        return reverse("admin:steering_costbenefitparameter_change", args=[parameter.pk])
    except NoReverseMatch:  # the model's admin is registered by the steering admin module
        return f"/admin/steering/costbenefitparameter/{parameter.pk}/change/"


@dataclass(frozen=True)
class _BenefitRow:
    label: str
    assumption: str
    persons: object
    per_person: Decimal
    from_records: bool
    saving: Decimal | None


def _benefit_lines(cb: PublishedCostBenefit) -> list[_BenefitRow]:
    labels = {
        "alv": (_("ALV-Taggelder"), _("Annahme: Taggeld × Taggelder pro Monat × vermiedene Monate")),
        "sa": (_("Sozialhilfe"), _("Annahme: Sozialhilfe pro Person und Jahr × vermiedene Jahre")),
        "iv": (
            _("IV-Rente (Rentenprüfung hängig oder Rente auf dem Spiel)"),
            _("durchschnittliche IV-Rente × 12 × vermiedene Rentenjahre"),
        ),
    }
    return [
        _BenefitRow(labels[code][0], labels[code][1], line.persons, line.per_person, line.from_records, line.saving)
        for code, line in cb.lines.items()
    ]


@require_GET
def costbenefit_view(request: HttpRequest) -> HttpResponse:
    user = _strategic_user(request)
    # "periode" was the parameter's name before the pages agreed on "period"; old links keep working.
    text = (request.GET.get("period") or request.GET.get("periode") or "").strip() or str(timezone.localdate().year)
    context: dict[str, object] = {**_nav(user), "period_text": text[:20]}
    try:
        period = Period.parse(text)
    except ValueError as error:
        context["error"] = str(error)
        return render(request, "steering/costbenefit.html", context, status=400)
    p = parameters()
    may_edit = access.may_administer(user)
    try:
        published = cost_benefit_published(period=period, publisher=Publisher(Reader.for_user(user)), p=p)
    except KeyError as missing:
        # An administrator removed an assumption the model needs: say which, instead of failing.
        context["error"] = _("Die Annahme «%(key)s» fehlt. Bitte in der Administration wieder erfassen.") % {
            "key": missing.args[0]
        }
        return render(request, "steering/costbenefit.html", context, status=503)
    context.update(
        {
            "period": period,
            "cb": published,
            "parameters": [
                (parameter, _admin_change_url(parameter) if may_edit else None)
                for parameter in CostBenefitParameter.objects.all()
            ],
            "benefit_lines": _benefit_lines(published),
            "method_note": method_note(),
            "t": threshold(),
        }
    )
    return render(request, "steering/costbenefit.html", context)
