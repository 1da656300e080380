"""The form with which a coordinator records a person's request for access to their data."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from iiz.audit.models import DisclosureScope, all_disclosure_kinds
from iiz.clients.forms import DateInput


class AccessRequestForm(forms.Form):
    ahv_number = forms.CharField(
        label=_("AHV-Nummer der Person"),
        max_length=20,
        help_text=_("Die Person wird nur über die genaue AHV-Nummer gefunden. Die Nummer wird nicht gespeichert."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    received_on = forms.DateField(label=_("Eingegangen am"), widget=DateInput())
    identity_check = forms.CharField(
        label=_("Identität geprüft durch"),
        max_length=300,
        help_text=_("Zum Beispiel: Kopie der Identitätskarte, persönliche Vorsprache am Schalter."),
    )
    reference = forms.CharField(label=_("Geschäftsnummer"), max_length=100, required=False)
    scope = forms.MultipleChoiceField(
        label=_("Die Person verlangt Auskunft über"),
        choices=DisclosureScope.choices,
        initial=all_disclosure_kinds,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("In der Regel alles. Die Auskunft enthält nie mehr, als die Person verlangt hat."),
    )
