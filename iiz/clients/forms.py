"""Forms for clients, registrations and consents. They validate input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiz.clients.models import (
    ALV_MAX_DAYS,
    SA_MAX_MONTHLY,
    DataCategory,
    IvPensionStatus,
    Language,
    Sex,
)
from iiz.lib.ahv import ahv_normalise
from iiz.lib.uploads import validate_document_upload
from iiz.organisations.models import Institution, InstitutionKind, Municipality, OrganisationalUnit


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class MunicipalityChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Municipality) -> str:
        return f"{obj.name} ({obj.district.name})"


def current_municipalities() -> Any:
    return Municipality.objects.filter(valid_until__isnull=True).select_related("district").order_by("name")


class ContactFieldsMixin(forms.Form):
    municipality = MunicipalityChoiceField(
        label=_("Wohngemeinde"),
        queryset=Municipality.objects.none(),
        required=False,
        empty_label=_("ausserhalb des Kantons Zürich"),
    )
    street = forms.CharField(label=_("Strasse"), max_length=150, required=False)
    house_number = forms.CharField(label=_("Hausnummer"), max_length=12, required=False)
    postal_code = forms.RegexField(
        label=_("PLZ"),
        regex=r"^\d{4}$",
        required=False,
        error_messages={"invalid": _("Eine Schweizer Postleitzahl hat vier Ziffern.")},
    )
    town = forms.CharField(label=_("Ort"), max_length=100, required=False)
    phone = forms.CharField(label=_("Telefon"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-Mail"), required=False)
    languages = forms.MultipleChoiceField(
        label=_("Sprachen"), choices=Language.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = current_municipalities()  # type: ignore[attr-defined]


class ClientCreateForm(ContactFieldsMixin):
    ahv_number = forms.CharField(
        label=_("AHV-Nummer"),
        max_length=20,
        help_text=_("Format 756.XXXX.XXXX.XX"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    first_name = forms.CharField(label=_("Vorname"), max_length=100)
    last_name = forms.CharField(label=_("Nachname"), max_length=100)
    date_of_birth = forms.DateField(label=_("Geburtsdatum"), widget=DateInput())
    sex = forms.ChoiceField(label=_("Geschlecht"), choices=Sex.choices)
    registration_unit = forms.ModelChoiceField(
        label=_("Angemeldet bei"), queryset=OrganisationalUnit.objects.none(), required=False
    )
    external_case_number = forms.CharField(label=_("Fallnummer Ihrer Institution"), max_length=50, required=False)
    registered_on = forms.DateField(label=_("angemeldet seit"), widget=DateInput(), required=False)
    # Shown only next to the likely existing records found on the first attempt (see client_create_view).
    confirm_new = forms.BooleanField(
        label=_("Ich habe die Vorschläge geprüft: es ist eine andere Person."), required=False
    )

    field_order = [
        "ahv_number",
        "last_name",
        "first_name",
        "date_of_birth",
        "sex",
        "municipality",
        "street",
        "house_number",
        "postal_code",
        "town",
        "phone",
        "email",
        "languages",
        "registration_unit",
        "external_case_number",
        "registered_on",
    ]

    def __init__(self, *args: Any, institution: Institution, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["registration_unit"].queryset = OrganisationalUnit.objects.filter(  # type: ignore[attr-defined]
            institution=institution, is_active=True
        )

    def clean_ahv_number(self) -> str:
        # Only the number's form: whether it is recorded already, and what the user may learn of that, is the
        # service's to decide (client_create), so that the number never reveals a hidden person.
        return ahv_normalise(self.cleaned_data["ahv_number"])

    def clean_date_of_birth(self) -> Any:
        born = self.cleaned_data["date_of_birth"]
        if born > timezone.localdate():
            raise ValidationError(_("Das Geburtsdatum darf nicht in der Zukunft liegen."), code="future")
        return born

    def clean_registered_on(self) -> Any:
        day = self.cleaned_data.get("registered_on")
        if day and day > timezone.localdate():
            raise ValidationError(_("Das Anmeldedatum darf nicht in der Zukunft liegen."), code="future")
        return day


class ClientContactForm(ContactFieldsMixin):
    pass


class BenefitFieldsMixin(forms.Form):
    """What the person draws from the institution: only the field of the user's own kind of institution."""

    alv_remaining_days = forms.IntegerField(
        label=_("ALV-Restanspruch (Anzahl Taggelder)"),
        required=False,
        min_value=0,
        max_value=ALV_MAX_DAYS,
        help_text=_("Taggelder, die der Person noch zustehen. Für die Kosten-Nutzen-Rechnung."),
    )
    sa_monthly_amount = forms.DecimalField(
        label=_("Sozialhilfe pro Monat (CHF)"),
        required=False,
        min_value=0,
        max_value=SA_MAX_MONTHLY,
        max_digits=8,
        decimal_places=2,
        help_text=_("Unterstützungsbetrag im letzten Monat. Für die Kosten-Nutzen-Rechnung."),
    )
    iv_pension_status = forms.ChoiceField(
        label=_("IV-Rente"),
        required=False,
        choices=[("", _("nicht erfasst")), *IvPensionStatus.choices],
        help_text=_("Ob eine IV-Rente in Frage steht. Nur dann zählt eine vermiedene Rente als Einsparung."),
    )

    def _keep_benefit_field_of(self, institution: Institution) -> None:
        keeps: dict[str, str] = {
            InstitutionKind.LABOUR: "alv_remaining_days",
            InstitutionKind.SOCIAL_SERVICE: "sa_monthly_amount",
            InstitutionKind.DISABILITY: "iv_pension_status",
        }
        keep = keeps.get(institution.kind)
        for name in ("alv_remaining_days", "sa_monthly_amount", "iv_pension_status"):
            if name != keep:
                del self.fields[name]

    @property
    def benefit_field_names(self) -> list[str]:
        return [n for n in ("alv_remaining_days", "sa_monthly_amount", "iv_pension_status") if n in self.fields]


class RegistrationBenefitsForm(BenefitFieldsMixin):
    def __init__(self, *args: Any, institution: Institution, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keep_benefit_field_of(institution)


class RegistrationForm(BenefitFieldsMixin):
    unit = forms.ModelChoiceField(
        label=_("Organisationseinheit"), queryset=OrganisationalUnit.objects.none(), required=False
    )
    external_case_number = forms.CharField(label=_("Fallnummer Ihrer Institution"), max_length=50, required=False)
    registered_on = forms.DateField(label=_("angemeldet seit"), widget=DateInput())
    deregistered_on = forms.DateField(label=_("abgemeldet am"), widget=DateInput(), required=False)

    field_order = ["unit", "external_case_number", "registered_on", "deregistered_on"]

    def __init__(self, *args: Any, institution: Institution, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = OrganisationalUnit.objects.filter(  # type: ignore[attr-defined]
            institution=institution, is_active=True
        )
        self._keep_benefit_field_of(institution)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("registered_on"), data.get("deregistered_on")
        if start and end and end < start:
            self.add_error("deregistered_on", _("Die Abmeldung kann nicht vor der Anmeldung liegen."))
        return data


class ConsentForm(forms.Form):
    institutions = forms.ModelMultipleChoiceField(
        label=_("Institutionen, die Daten austauschen dürfen"),
        queryset=Institution.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Wählen Sie mindestens eine Institution.")},
    )
    categories = forms.MultipleChoiceField(
        label=_("Datenkategorien"),
        choices=DataCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Wählen Sie mindestens eine Datenkategorie.")},
    )
    purpose = forms.CharField(label=_("Zweck"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    valid_from = forms.DateField(label=_("gültig ab"), widget=DateInput())
    valid_until = forms.DateField(label=_("gültig bis"), widget=DateInput(), required=False)
    document = forms.FileField(label=_("unterschriebene Einwilligung (PDF oder Bild)"), required=False)
    verbal_statement = forms.CharField(
        label=_("oder: mündliche Einwilligung, bis das Formular vorliegt"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        required=False,
        help_text=_("Wer hat die Einwilligung wann und wie entgegengenommen? Zum Beispiel: am Telefon, R. Meier."),
    )
    form_due_on = forms.DateField(
        label=_("Frist für das unterschriebene Formular"),
        widget=DateInput(),
        required=False,
        help_text=_("Höchstens 30 Tage. Danach öffnet die Einwilligung nichts mehr, bis das Formular vorliegt."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        institutions = self.fields["institutions"]
        assert isinstance(institutions, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows the type
        institutions.queryset = Institution.objects.filter(is_active=True).exclude(kind="external").order_by("name")

    def clean_document(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("document")
        if upload:
            validate_document_upload(upload)
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("Das Ende der Gültigkeit liegt vor ihrem Beginn."))
        return data


class ConsentRevokeForm(forms.Form):
    revocation_reason = forms.CharField(
        label=_("Grund oder Anlass des Widerrufs"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class RegistrationEndForm(forms.Form):
    deregistered_on = forms.DateField(label=_("abgemeldet am"), widget=DateInput())


class AhvConflictResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("Erledigung"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Zum Beispiel: Tippfehler in der AHV-Nummer, die Institution hat korrigiert."),
    )
