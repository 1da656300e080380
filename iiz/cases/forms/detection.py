"""Forms before a case: screening, target-group check and its override, opening a case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from iiz.cases.forms.fields import (
    PreviousCaseChoiceField,
    RouteFieldsMixin,
    ScreeningChoiceField,
    not_in_future,
    textarea,
)
from iiz.cases.models import (
    Case,
    CaseStatus,
    LifeSituation,
    ProblemTopic,
    ReportChannel,
    ReporterType,
    Route,
    Screening,
)
from iiz.clients.forms import DateInput
from iiz.organisations.models import Institution

if TYPE_CHECKING:
    pass


# ---------------------------------------------------------------------------------------------------------
# Before a case: screening, target-group check, override, opening
# ---------------------------------------------------------------------------------------------------------


class ScreeningForm(forms.Form):
    life_situations = forms.ModelMultipleChoiceField(
        label=_("Zutreffende Lebenssituationen"),
        queryset=LifeSituation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Situationen mit Altersgrenze sind nach dem Alter der Person vorausgewählt. Bitte prüfen."),
    )
    screened_on = forms.DateField(label=_("Datum der Früherkennung"), widget=DateInput())
    reporter_type = forms.ChoiceField(
        label=_("Wer hat die Person gemeldet?"),
        choices=[("", _("niemand: unsere Institution hat die Situation selbst erkannt")), *ReporterType.choices],
        required=False,
    )
    report_channel = forms.ChoiceField(
        label=_("Auf welchem Weg kam die Meldung?"), choices=[("", "–"), *ReportChannel.choices], required=False
    )
    reported_on = forms.DateField(label=_("Meldung eingegangen am"), widget=DateInput(), required=False)
    note = forms.CharField(label=_("Bemerkung"), widget=textarea(3), required=False, max_length=4000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["life_situations"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows the type
        field.queryset = LifeSituation.objects.filter(is_active=True)

    @staticmethod
    def situations_for_age(situations: Iterable[LifeSituation], age: int) -> list[int]:
        """The situations with an age bound that the person's age fits: what the data already tells."""
        return [s.pk for s in situations if (s.min_age is not None or s.max_age is not None) and s.fits_age(age)]


class TargetGroupCheckForm(forms.Form):
    employable = forms.TypedChoiceField(
        label=_("Ist die Person erwerbsfähig?"),
        choices=[("yes", _("ja")), ("no", _("nein"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Geben Sie an, ob die Person erwerbsfähig ist.")},
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Themen ausserhalb des Auftrags Ihrer Institution"),
        queryset=ProblemTopic.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    topics_block_integration = forms.BooleanField(
        label=_("Diese Themen behindern die Integration in den ersten Arbeitsmarkt"), required=False
    )
    checked_on = forms.DateField(label=_("Datum der Prüfung"), widget=DateInput())
    screening = ScreeningChoiceField(
        label=_("Zugehörige Früherkennung"), queryset=Screening.objects.none(), required=False, empty_label=_("keine")
    )

    def __init__(self, *args: Any, screenings: Sequence[Screening], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        topics = self.fields["topics"]
        assert isinstance(topics, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows the type
        topics.queryset = ProblemTopic.objects.filter(is_active=True)
        screening = self.fields["screening"]
        assert isinstance(screening, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        screening.queryset = Screening.objects.filter(pk__in=[s.pk for s in screenings])

    def clean_checked_on(self) -> dt.date | None:
        return not_in_future(self.cleaned_data.get("checked_on"))


class OverrideRequestForm(forms.Form):
    note = forms.CharField(
        label=_("Begründung des Antrags"),
        widget=textarea(3),
        max_length=2000,
        help_text=_("Warum braucht diese Person trotz nicht erfüllter Kriterien die Koordination im iiz-Netzwerk?"),
    )


class OverrideForm(forms.Form):
    override_reason = forms.CharField(
        label=_("Begründung der Übersteuerung"),
        widget=textarea(3),
        max_length=2000,
        help_text=_("Warum soll der Fall trotz nicht erfüllter Kriterien eröffnet werden?"),
    )


class CaseOpenForm(RouteFieldsMixin):
    route = forms.ChoiceField(
        label=_("Vorgehen auf Stufe 1"),
        choices=[("", _("noch nicht festgelegt")), *Route.choices],
        widget=forms.RadioSelect,
        required=False,
    )
    opened_on = forms.DateField(label=_("Eröffnet am"), widget=DateInput())
    reason = forms.CharField(label=_("Anlass und Begründung"), widget=textarea(3), required=False, max_length=2000)
    previous_case = PreviousCaseChoiceField(
        label=_("Früherer Fall der Person"),
        queryset=Case.objects.none(),
        required=False,
        empty_label=_("keiner"),
        help_text=_("Kommt die Person wieder (Drehtür), wird der neue Fall mit dem früheren verknüpft."),
    )
    field_order = ["route", "bilateral_institution", "opened_on", "reason", "previous_case"]

    def __init__(self, *args: Any, own_institution: Institution | None, client_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._route_setup(own_institution)
        previous = self.fields["previous_case"]
        assert isinstance(previous, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        previous.queryset = Case.objects.filter(client_id=client_id, status=CaseStatus.CLOSED).order_by("-closed_on")
