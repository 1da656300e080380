"""Forms of the exchange in a case. They validate input; the services decide whether it may be sent."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from iiz.clients.forms import DateInput
from iiz.clients.models import DataCategory
from iiz.exchange.models import DocumentKind, LegalProvision, MessageKind
from iiz.lib.uploads import validate_document_upload
from iiz.organisations.models import Institution

# What a participant writes; an answer is given from the request it answers.
SENDABLE_KINDS = [(k.value, k.label) for k in (MessageKind.REQUEST, MessageKind.NOTICE, MessageKind.TEAM_NOTE)]

FILE_NOT_KEPT = _(
    "Die gewählte Datei «%(name)s» ist nicht gespeichert: ein Browser kann eine Datei nach einem Fehler nicht "
    "behalten. Bitte wählen Sie sie erneut aus."
)


class DocumentFieldsMixin(forms.Form):
    """An optional document: the content decides its type, not its name (see ``iiz.lib.uploads``)."""

    document = forms.FileField(
        label=_("Dokument (PDF oder Bild)"),
        required=False,
        help_text=_("Wird verschlüsselt gespeichert und nur über die Zugriffsprüfung ausgeliefert."),
    )
    document_title = forms.CharField(label=_("Titel des Dokuments"), max_length=200, required=False)
    document_kind = forms.ChoiceField(
        label=_("Art des Dokuments"), choices=DocumentKind.choices, initial=DocumentKind.REPORT, required=False
    )

    def clean_document(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("document")
        if upload:
            validate_document_upload(upload)
        return upload

    def clean_document_kind(self) -> str:
        return str(self.cleaned_data.get("document_kind") or DocumentKind.OTHER)

    def note_file_not_kept(self) -> None:
        """After an error the browser has forgotten the chosen file; say so at the field."""
        upload = self.files.get(self.add_prefix("document"))
        if upload is not None and "document" not in self.errors:
            self.add_error("document", FILE_NOT_KEPT % {"name": upload.name})


class RecipientsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Institution) -> str:
        return obj.name


class MessageForm(DocumentFieldsMixin):
    kind = forms.ChoiceField(label=_("Art"), choices=SENDABLE_KINDS, initial=MessageKind.REQUEST)
    recipients = RecipientsField(
        label=_("An"),
        queryset=Institution.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Die am Fall beteiligten Institutionen. Eine Notiz an das Fallteam geht ohne Auswahl an alle."),
    )
    category = forms.ChoiceField(
        label=_("Datenkategorie"),
        choices=DataCategory.choices,
        help_text=_("Bestimmt, ob eine Einwilligung oder eine Rechtsgrundlage die Weitergabe erlaubt."),
    )
    subject = forms.CharField(label=_("Betreff"), max_length=200)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000, required=False)
    due_on = forms.DateField(
        label=_("Antwort bis"), widget=DateInput(), required=False, help_text=_("Nur für Informationsanfragen.")
    )

    field_order = [
        "kind",
        "recipients",
        "category",
        "subject",
        "body",
        "due_on",
        "document",
        "document_title",
        "document_kind",
    ]

    def __init__(self, *args: Any, recipients: QuerySet[Institution], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipients"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows the type
        field.queryset = recipients

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == MessageKind.TEAM_NOTE and not data.get("recipients"):
            data["recipients"] = list(self.fields["recipients"].queryset)  # type: ignore[attr-defined]
        elif kind and "recipients" in data and not data["recipients"]:
            self.add_error("recipients", _("Wählen Sie mindestens eine Empfängerinstitution."))
        if kind == MessageKind.REQUEST and not data.get("due_on") and "due_on" not in self.errors:
            self.add_error("due_on", _("Eine Anfrage braucht eine Antwortfrist."))
        return data


class AnswerForm(DocumentFieldsMixin):
    body = forms.CharField(
        label=_("Antwort"), widget=forms.Textarea(attrs={"rows": 5}), max_length=20000, required=False
    )

    field_order = ["body", "document", "document_title", "document_kind"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("body", "").strip() and not data.get("document") and "document" not in self.errors:
            self.add_error("body", _("Schreiben Sie eine Antwort oder legen Sie ein Dokument bei."))
        return data


class DocumentShareForm(DocumentFieldsMixin):
    recipients = RecipientsField(
        label=_("Für"),
        queryset=Institution.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Wählen Sie mindestens eine Empfängerinstitution.")},
    )
    category = forms.ChoiceField(label=_("Datenkategorie"), choices=DataCategory.choices)

    field_order = ["document", "document_title", "document_kind", "recipients", "category"]

    def __init__(self, *args: Any, recipients: QuerySet[Institution], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["document"].required = True
        self.fields["document"].error_messages["required"] = _("Wählen Sie die Datei aus, die Sie teilen.")
        field = self.fields["recipients"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows the type
        field.queryset = recipients


class LegalBasisForm(forms.Form):
    provision = forms.ModelChoiceField(label=_("Rechtsgrundlage"), queryset=LegalProvision.objects.none())
    institutions = RecipientsField(
        label=_("Institutionen, die Daten erhalten dürfen"),
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
    justification = forms.CharField(
        label=_("Begründung im Einzelfall"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text=_("Warum benötigt die Institution diese Daten für ihre gesetzliche Aufgabe in diesem Fall?"),
    )
    valid_from = forms.DateField(label=_("gültig ab"), widget=DateInput())
    valid_until = forms.DateField(label=_("gültig bis"), widget=DateInput(), required=False)

    def __init__(self, *args: Any, institutions: QuerySet[Institution], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        provision = self.fields["provision"]
        assert isinstance(provision, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        provision.queryset = LegalProvision.objects.filter(is_active=True).order_by("name")
        field = self.fields["institutions"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows the type
        field.queryset = institutions

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("Das Ende der Gültigkeit liegt vor ihrem Beginn."))
        return data


class DirectoryFilterForm(forms.Form):
    institution = forms.ModelChoiceField(
        label=_("Institution"), queryset=Institution.objects.none(), required=False, empty_label=_("alle")
    )
    district = forms.TypedChoiceField(label=_("Bezirk"), coerce=int, required=False, empty_value=None)
    q = forms.CharField(label=_("Name, Stelle oder Ort"), max_length=100, required=False)

    def __init__(self, *args: Any, institutions: QuerySet[Institution], districts: QuerySet[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        institution = self.fields["institution"]
        assert isinstance(institution, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        institution.queryset = institutions
        district = self.fields["district"]
        assert isinstance(district, forms.TypedChoiceField)  # noqa: S101 - narrows the type
        district.choices = [("", _("alle"))] + [(d.number, d.name) for d in districts]

    def clean_q(self) -> str:
        return str(self.cleaned_data.get("q") or "").strip()
