"""The public report form, in plain language. It checks the input; ``services.report_submit`` decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from iiz.cases.models import LifeSituation, ReporterType
from iiz.clients.forms import DateInput
from iiz.frontdoor.models import CloseReason, PersonAgrees
from iiz.organisations.models import Institution, Municipality

# The six life situations of early detection (and the long-term one), said so that a neighbour or an employer
# understands them. The catalogue's own names are written for case workers.
PLAIN_SIGNS: dict[str, Any] = {
    "youth-no-qualification": _(
        "Ein junger Mensch (bis 25 Jahre) wird die Schule oder die Lehre wohl nicht abschliessen."
    ),
    "sa-applicant-sick-leave": _("Die Person ist krankgeschrieben und meldet sich bei der Sozialhilfe."),
    "sa-recipient-feels-unable": _("Die Person bekommt Sozialhilfe und fühlt sich nicht fähig zu arbeiten."),
    "dismissed-risk-illness": _(
        "Die Person hat die Stelle verloren, findet allein keine neue und droht krank zu werden."
    ),
    "employee-over-55-limited": _(
        "Die Person ist über 55 und kann wegen Alter oder Gesundheit deutlich weniger arbeiten."
    ),
    "frequent-certified-absences": _("Die Person fehlt oft oder regelmässig mit einem Arztzeugnis."),
    "reintegration-over-two-years": _("Die Rückkehr in die Arbeitswelt dauert wohl länger als zwei Jahre."),
}

TEXT_LIMIT = 2000


class SignChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: LifeSituation) -> str:
        return str(PLAIN_SIGNS.get(obj.code, obj.name))


class ReportForm(forms.Form):
    reporter_type = forms.ChoiceField(
        label=_("Wer meldet?"),
        choices=[("", _("Bitte wählen")), *ReporterType.choices],
        error_messages={"required": _("Sagen Sie uns, wer die Meldung macht.")},
    )
    reporter_name = forms.CharField(label=_("Ihr Name"), max_length=150, required=False)
    reporter_organisation = forms.CharField(
        label=_("Firma oder Stelle"),
        max_length=200,
        required=False,
        help_text=_("Zum Beispiel der Name der Firma oder der Praxis."),
    )
    reporter_phone = forms.CharField(label=_("Ihre Telefonnummer"), max_length=40, required=False)
    reporter_email = forms.EmailField(
        label=_("Ihre E-Mail-Adresse"),
        max_length=254,
        required=False,
        error_messages={"invalid": _("Diese E-Mail-Adresse ist nicht gültig.")},
    )
    person_first_name = forms.CharField(
        label=_("Vorname der Person"), max_length=100, error_messages={"required": _("Geben Sie den Vornamen an.")}
    )
    person_last_name = forms.CharField(
        label=_("Nachname der Person"), max_length=100, error_messages={"required": _("Geben Sie den Nachnamen an.")}
    )
    person_date_of_birth = forms.DateField(
        label=_("Geburtsdatum der Person"),
        widget=DateInput(),
        error_messages={
            "required": _("Geben Sie das Geburtsdatum der Person an."),
            "invalid": _("Geben Sie ein gültiges Datum ein."),
        },
    )
    person_ahv_number = forms.CharField(
        label=_("AHV-Nummer der Person (wenn bekannt)"),
        max_length=20,
        required=False,
        help_text=_("Die 13-stellige Nummer beginnt mit 756. Sie steht auf der Krankenkassenkarte."),
    )
    life_situations = SignChoiceField(
        label=_("Was haben Sie beobachtet?"),
        queryset=LifeSituation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    absent_since = forms.DateField(
        label=_("Die Person ist arbeitsunfähig oder fehlt seit"),
        widget=DateInput(),
        required=False,
        error_messages={"invalid": _("Geben Sie ein gültiges Datum ein.")},
    )
    absence_days = forms.IntegerField(
        label=_("Wie viele Tage hat die Person in den letzten 12 Monaten gefehlt?"),
        min_value=0,
        max_value=366,
        required=False,
        error_messages={"invalid": _("Geben Sie eine ganze Zahl ein.")},
    )
    description = forms.CharField(
        label=_("Beschreiben Sie die Situation in eigenen Worten"),
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": TEXT_LIMIT}),
        max_length=TEXT_LIMIT,
        required=False,
        help_text=_("Höchstens 2000 Zeichen. Schreiben Sie nur, was für die Unterstützung wichtig ist."),
    )
    person_informed = forms.BooleanField(
        label=_("Ich habe die Person informiert, dass ich sie melde."),
        required=False,
        help_text=_("Das Gesetz verlangt das, wenn Sie eine andere Person melden (Art. 3b IVG)."),
    )
    person_agrees = forms.ChoiceField(
        label=_("Ist die Person mit der Meldung einverstanden?"),
        choices=PersonAgrees.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Sagen Sie uns, ob die Person einverstanden ist.")},
    )
    # A field that people never see and bots fill in.
    website = forms.CharField(label=_("Bitte dieses Feld leer lassen"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["life_situations"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows the type
        field.queryset = LifeSituation.objects.filter(is_active=True)
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        self.fields["person_date_of_birth"].widget.attrs.update({"autocomplete": "off"})
        self.fields["reporter_email"].widget.attrs.update({"autocomplete": "email"})
        self.fields["reporter_phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})
        self.fields["reporter_name"].widget.attrs.update({"autocomplete": "name"})


# ---------------------------------------------------------------------------------------------------------
# Triage (Geschäftsstelle and the iiz specialists a report was forwarded to)
# ---------------------------------------------------------------------------------------------------------

NEW_PERSON = "new"


class ToScreeningForm(forms.Form):
    person = forms.ChoiceField(
        label=_("Welche Person ist gemeint?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Wählen Sie die Person oder «neu erfassen».")},
    )
    ahv_number = forms.CharField(label=_("AHV-Nummer (für eine neu erfasste Person)"), max_length=20, required=False)
    sex = forms.ChoiceField(label=_("Geschlecht (für eine neu erfasste Person)"), required=False)
    municipality: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Wohngemeinde (für eine neu erfasste Person)"),
        queryset=Municipality.objects.none(),
        required=False,
        empty_label=_("unbekannt oder ausserhalb des Kantons"),
    )
    life_situations = forms.ModelMultipleChoiceField(
        label=_("Zutreffende Lebenssituationen"),
        queryset=LifeSituation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    screened_on = forms.DateField(label=_("Datum der Früherkennung"), widget=DateInput())
    note = forms.CharField(
        label=_("Bemerkung"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000
    )

    def __init__(self, *args: Any, candidates: list[tuple[str, str]], **kwargs: Any) -> None:
        from iiz.clients.forms import current_municipalities
        from iiz.clients.models import Sex

        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [*candidates, (NEW_PERSON, _("Die Person ist neu: erfassen"))]  # type: ignore[attr-defined]
        self.fields["sex"].choices = [("", "–"), *Sex.choices]  # type: ignore[attr-defined]
        self.fields["municipality"].queryset = current_municipalities()  # type: ignore[attr-defined]
        self.fields["life_situations"].queryset = LifeSituation.objects.filter(is_active=True)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("person") == NEW_PERSON and not data.get("sex"):
            self.add_error("sex", _("Für eine neu erfasste Person braucht es das Geschlecht (oder «unbekannt»)."))
        return data


class ForwardForm(forms.Form):
    institution: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Weiterleiten an"),
        queryset=Institution.objects.none(),
        error_messages={"required": _("Wählen Sie eine Institution.")},
    )
    note = forms.CharField(
        label=_("Hinweis an die Institution"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from iiz.organisations.models import InstitutionKind

        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = Institution.objects.filter(  # type: ignore[attr-defined]
            is_partner=True, is_active=True
        ).exclude(kind__in=[InstitutionKind.COORDINATION, InstitutionKind.EXTERNAL])


class CloseForm(forms.Form):
    reason = forms.ChoiceField(label=_("Grund"), choices=[("", _("Bitte wählen")), *CloseReason.choices])
    note = forms.CharField(
        label=_("Bemerkung"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )
