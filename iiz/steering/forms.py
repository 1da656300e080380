"""Filters of the steering pages and the form that orders a report.

Filters come from the URL (GET), so a filtered page can be bookmarked and shared; anything the form does
not accept becomes a 400 page that says what was wrong.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiz.cases.models import LifeSituation
from iiz.organisations.models import District, Institution
from iiz.steering.kpis import OPERATIONAL, STRATEGIC, Period, Scope
from iiz.steering.models import ReportFormat
from iiz.steering.selectors import DEFAULT_STUCK_DAYS, Filters


def period_choices(today: dt.date, current: str = "") -> list[tuple[str, str]]:
    """The last twelve quarters and the last four years, newest first (plus the current value if older)."""
    quarter = Period.current_quarter(today)
    choices = [(p.label, p.label) for p in reversed(quarter.previous(12))]
    choices += [(str(year), str(year)) for year in range(today.year, today.year - 4, -1)]
    if current and current not in dict(choices):
        choices.insert(0, (current, current))
    return choices


class SteeringFilterForm(forms.Form):
    period = forms.CharField(label=_("Periode"), required=False, max_length=20)
    institution = forms.ModelChoiceField(
        label=_("Institution"),
        queryset=Institution.objects.filter(is_partner=True).order_by("name"),
        required=False,
        empty_label=_("alle Institutionen"),
        error_messages={"invalid_choice": _("Unbekannte Institution. Wählen Sie eine aus der Liste.")},
    )
    district = forms.ModelChoiceField(
        label=_("Bezirk"),
        queryset=District.objects.order_by("number"),
        to_field_name="number",
        required=False,
        empty_label=_("alle Bezirke"),
        error_messages={"invalid_choice": _("Unbekannter Bezirk. Wählen Sie einen aus der Liste.")},
    )
    life_situation = forms.ModelChoiceField(
        label=_("Lebenssituation"),
        queryset=LifeSituation.objects.order_by("position", "name"),
        to_field_name="code",
        required=False,
        empty_label=_("alle Lebenssituationen"),
        error_messages={"invalid_choice": _("Unbekannte Lebenssituation. Wählen Sie eine aus der Liste.")},
    )

    def __init__(self, data: Any = None, *args: Any, today: dt.date | None = None, **kwargs: Any) -> None:
        self.today = today or timezone.localdate()
        if data is not None:
            # Without a choice the page shows the running quarter (and 90 days for stuck cases); the form shows
            # those values too.
            data = data.copy()
            if not data.get("period"):
                data["period"] = Period.current_quarter(self.today).label
            if "stuck_days" in self.base_fields and not data.get("stuck_days"):
                data["stuck_days"] = str(DEFAULT_STUCK_DAYS)
        super().__init__(data, *args, **kwargs)
        current = str(self.data.get("period", "")).strip().upper()[:20] if self.is_bound else ""
        self.fields["period"].widget = forms.Select(choices=period_choices(self.today, current))
        self.fields["period"].initial = Period.current_quarter(self.today).label

    def clean_period(self) -> Period:
        text = self.cleaned_data.get("period") or ""
        if not text.strip():
            return Period.current_quarter(self.today)
        try:
            return Period.parse(text)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="period") from error

    def scope(self) -> Scope:
        data = self.cleaned_data
        return Scope(
            institution_id=data["institution"].pk if data.get("institution") else None,
            district=data["district"].number if data.get("district") else None,
            life_situation=data["life_situation"].code if data.get("life_situation") else None,
        )

    def filters(self) -> Filters:
        return Filters(period=self.cleaned_data["period"], scope=self.scope())


class OperationalFilterForm(SteeringFilterForm):
    stuck_days = forms.IntegerField(
        label=_("Auf derselben Stufe seit mehr als (Tage)"),
        min_value=1,
        max_value=3650,
        required=False,
        initial=DEFAULT_STUCK_DAYS,
        error_messages={
            "invalid": _("Die Anzahl Tage muss eine ganze Zahl sein."),
            "min_value": _("Die Anzahl Tage muss mindestens %(limit_value)s sein."),
            "max_value": _("Die Anzahl Tage darf höchstens %(limit_value)s sein."),
        },
    )

    def filters(self) -> Filters:
        return Filters(
            period=self.cleaned_data["period"],
            scope=self.scope(),
            stuck_days=self.cleaned_data.get("stuck_days") or DEFAULT_STUCK_DAYS,
        )


class ReportForm(SteeringFilterForm):
    """Order a report: period, scope, audience (as far as the user may read it) and file format."""

    audience = forms.ChoiceField(label=_("Bericht für"))
    format = forms.ChoiceField(label=_("Format"), choices=ReportFormat.choices, initial=ReportFormat.PDF)

    def __init__(self, *args: Any, audiences: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {STRATEGIC: _("Trägerschaft (strategisch)"), OPERATIONAL: _("Operativer Ausschuss (operativ)")}
        audience = self.fields["audience"]
        assert isinstance(audience, forms.ChoiceField)  # noqa: S101 - declared above
        audience.choices = [(a, labels[a]) for a in audiences]
        self.fields["audience"].initial = audiences[0] if audiences else None
