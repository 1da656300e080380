"""Forms of the case page: level, level-2 work, clarification, plan, meetings, closure; the list filter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from iiz.cases.forms.fields import (
    DateTimeLocalInput,
    RouteFieldsMixin,
    ServiceChoiceField,
    UserChoiceField,
    UserModelChoiceField,
    UserModelMultipleChoiceField,
    UserMultipleChoiceField,
    VersionedForm,
    meeting_invitable_users,
    meeting_label,
    partner_institutions,
    textarea,
)
from iiz.cases.models import (
    AgreementStatus,
    Case,
    CaseStatus,
    CaseTeam,
    FollowUpStatus,
    Level,
    MeasureStatus,
    Meeting,
    Outcome,
    Route,
)
from iiz.clients.forms import DateInput
from iiz.clients.models import DataCategory
from iiz.organisations.models import Contact, Institution, InstitutionKind, Role, User

if TYPE_CHECKING:
    pass


# ---------------------------------------------------------------------------------------------------------
# The level model
# ---------------------------------------------------------------------------------------------------------


class LevelChangeForm(VersionedForm):
    to_level = forms.TypedChoiceField(
        label=_("Neue Stufe"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Wählen Sie die neue Stufe.")},
    )
    coordinator = UserModelChoiceField(
        label=_("Koordinatorin oder Koordinator der Geschäftsstelle"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("bitte wählen"),
    )
    case_team = forms.ModelChoiceField(
        label=_("Regionales iiz-Fallteam"),
        queryset=CaseTeam.objects.none(),
        required=False,
        empty_label=_("bitte wählen"),
    )
    changed_on = forms.DateField(label=_("Datum"), widget=DateInput())
    reason = forms.CharField(label=_("Begründung"), widget=textarea(3), max_length=2000)
    field_order = ["to_level", "coordinator", "case_team", "changed_on", "reason"]

    def __init__(self, *args: Any, case: Case, targets: Sequence[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        to_level = self.fields["to_level"]
        assert isinstance(to_level, forms.TypedChoiceField)  # noqa: S101 - narrows the type
        to_level.choices = [(target, self.target_label(case.level, target)) for target in targets]
        if len(targets) == 1 and not self.is_bound:
            self.initial.setdefault("to_level", targets[0])
        if case.level == 1 and 2 in targets:
            coordinator = self.fields["coordinator"]
            assert isinstance(coordinator, forms.ModelChoiceField)  # noqa: S101 - narrows the type
            coordinator.queryset = User.objects.filter(is_active=True, roles__role=Role.COORDINATOR).distinct()
        else:
            del self.fields["coordinator"]
        if 3 in targets:
            team = self.fields["case_team"]
            assert isinstance(team, forms.ModelChoiceField)  # noqa: S101 - narrows the type
            team.queryset = CaseTeam.objects.filter(is_active=True)
        else:
            del self.fields["case_team"]

    @staticmethod
    def target_label(source: int, target: int) -> str:
        label = Level(target).label
        if target > source:
            return str(_("Eskalieren auf %(level)s") % {"level": label})
        return str(_("Zurück auf %(level)s") % {"level": label})


class RouteForm(RouteFieldsMixin, VersionedForm):
    route = forms.ChoiceField(label=_("Vorgehen"), choices=Route.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Begründung"), widget=textarea(2), max_length=2000)
    field_order = ["route", "bilateral_institution", "reason"]

    def __init__(self, *args: Any, own_institution: Institution | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._route_setup(own_institution)


# ---------------------------------------------------------------------------------------------------------
# Level 2 and clarification
# ---------------------------------------------------------------------------------------------------------


class InformationRequestForm(forms.Form):
    to_institution = forms.ModelChoiceField(
        label=_("An Institution"), queryset=Institution.objects.none(), empty_label=_("bitte wählen")
    )
    category = forms.ChoiceField(
        label=_("Datenkategorie der Antwort"),
        choices=DataCategory.choices,
        help_text=_("Die Antwort sehen andere Institutionen nur mit einer Einwilligung für diese Kategorie."),
    )
    question = forms.CharField(label=_("Frage"), widget=textarea(3), max_length=4000)
    due_on = forms.DateField(label=_("Antwort bis"), widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_institution"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        field.queryset = partner_institutions().exclude(kind=InstitutionKind.COORDINATION).order_by("name")


class InformationAnswerForm(forms.Form):
    answer = forms.CharField(label=_("Antwort"), widget=textarea(3), max_length=8000)


class JointInterviewForm(forms.Form):
    held_on = forms.DateField(label=_("Datum des Gesprächs"), widget=DateInput())
    participants = UserMultipleChoiceField(label=_("Teilnehmende"), widget=forms.CheckboxSelectMultiple, required=False)
    summary = forms.CharField(label=_("Ergebnis und Zweitmeinung"), widget=textarea(4), max_length=8000)

    def __init__(self, *args: Any, users: Sequence[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["participants"] = UserMultipleChoiceField(
            label=_("Teilnehmende"), users=users, widget=forms.CheckboxSelectMultiple, required=False
        )
        self.order_fields(["held_on", "participants", "summary"])


class ClarificationForm(VersionedForm):
    situation = forms.CharField(label=_("Situation"), widget=textarea(4), max_length=8000)
    resources = forms.CharField(label=_("Ressourcen"), widget=textarea(2), required=False, max_length=4000)
    obstacles = forms.CharField(label=_("Hindernisse"), widget=textarea(2), required=False, max_length=4000)
    work_capacity_percent = forms.IntegerField(
        label=_("Arbeitsfähigkeit in %"), min_value=0, max_value=100, required=False
    )


# ---------------------------------------------------------------------------------------------------------
# The integration plan
# ---------------------------------------------------------------------------------------------------------


class PlanForm(VersionedForm):
    goals = forms.CharField(label=_("Ziele"), widget=textarea(4), max_length=8000)

    def __init__(self, *args: Any, lead_candidates: Sequence[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["case_lead"] = UserChoiceField(
            label=_("Fallführung"),
            users=lead_candidates,
            required=False,
            blank=_("noch offen"),
            help_text=_("Eine beteiligte Person des RAV, des Sozialdienstes oder der IV-Stelle."),
        )
        self.order_fields(["goals", "case_lead"])


class MeasureForm(VersionedForm):
    service = ServiceChoiceField(label=_("Leistung"), required=False)
    description = forms.CharField(label=_("Beschreibung"), widget=textarea(2), max_length=4000)
    responsible_institution = forms.ModelChoiceField(
        label=_("Verantwortliche Institution"),
        queryset=Institution.objects.none(),
        empty_label=_("bitte wählen"),
        error_messages={"required": _("Jede Massnahme braucht eine verantwortliche Institution.")},
    )
    start_on = forms.DateField(label=_("Beginn"), widget=DateInput())
    due_on = forms.DateField(label=_("Termin"), widget=DateInput())

    def __init__(self, *args: Any, users: Sequence[User], service_kind: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service = self.fields["service"]
        assert isinstance(service, ServiceChoiceField)  # noqa: S101 - narrows the type
        service.load(service_kind)
        institution = self.fields["responsible_institution"]
        assert isinstance(institution, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        institution.queryset = partner_institutions().exclude(kind=InstitutionKind.COORDINATION).order_by("name")
        self.fields["responsible_user"] = UserChoiceField(
            label=_("Verantwortliche Person"), users=users, required=False, blank=_("noch offen")
        )
        self.order_fields(["service", "description", "responsible_institution", "responsible_user", "start_on"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        service, institution = data.get("service"), data.get("responsible_institution")
        if service is not None and institution is not None and service.institution_kind != institution.kind:
            self.add_error("service", _("Diese Leistung gehört nicht zur verantwortlichen Institution."))
        start, due = data.get("start_on"), data.get("due_on")
        if start and due and due < start:
            self.add_error("due_on", _("Der Termin liegt vor dem Beginn."))
        return data


class MeasureStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Stand"), choices=MeasureStatus.choices)
    # The state the page showed: a change made meanwhile by somebody else is not overwritten.
    expected_status = forms.ChoiceField(choices=MeasureStatus.choices, widget=forms.HiddenInput, required=False)


class PlanAgreeForm(VersionedForm):
    agreed_on = forms.DateField(label=_("Vereinbart am"), widget=DateInput())
    client_agreed_on = forms.DateField(
        label=_("Zustimmung der Person am"),
        widget=DateInput(),
        error_messages={"required": _("Halten Sie fest, wann die Person dem Plan zugestimmt hat.")},
    )

    def __init__(self, *args: Any, meetings: Sequence[Meeting], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meetings = {str(m.pk): m for m in meetings}
        self.fields["meeting"] = forms.ChoiceField(
            label=_("An der Sitzung"),
            choices=[("", _("ohne Sitzung")), *[(key, meeting_label(m)) for key, m in self.meetings.items()]],
            required=False,
        )

    def clean_meeting(self) -> Meeting | None:
        key = self.cleaned_data.get("meeting")
        return self.meetings.get(key) if key else None


# ---------------------------------------------------------------------------------------------------------
# Meetings and agreements
# ---------------------------------------------------------------------------------------------------------


class MeetingForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("Beginn"), widget=DateTimeLocalInput())
    ends_at = forms.DateTimeField(label=_("Ende"), widget=DateTimeLocalInput())
    place = forms.CharField(label=_("Ort"), max_length=200)
    agenda = forms.CharField(label=_("Traktanden"), widget=textarea(4), max_length=8000)
    users = UserModelMultipleChoiceField(
        label=_("Teilnehmende der Partnerinstitutionen"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Mehrfachauswahl mit Ctrl- oder Cmd-Taste."),
    )
    contacts = forms.ModelMultipleChoiceField(
        label=_("Externe Fachpersonen"),
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("z. B. Ärztin, Arbeitgeber oder Gemeinde."),
    )
    with_client = forms.BooleanField(label=_("Die Person selbst nimmt teil"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = self.fields["users"]
        assert isinstance(users, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows the type
        users.queryset = meeting_invitable_users()
        contacts = self.fields["contacts"]
        assert isinstance(contacts, forms.ModelMultipleChoiceField)  # noqa: S101 - narrows the type
        contacts.queryset = Contact.objects.all()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("starts_at"), data.get("ends_at")
        if start and end and end <= start:
            self.add_error("ends_at", _("Das Ende muss nach dem Beginn liegen."))
        return data


class MinutesForm(VersionedForm):
    minutes = forms.CharField(label=_("Protokoll"), widget=textarea(5), max_length=20000)


class AgreementForm(forms.Form):
    text = forms.CharField(label=_("Wer macht was?"), widget=textarea(2), max_length=4000)
    due_on = forms.DateField(label=_("Bis"), widget=DateInput())

    def __init__(self, *args: Any, users: Sequence[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"] = UserChoiceField(
            label=_("Zuständig"),
            users=users,
            error_messages={"required": _("Wer ist für die Vereinbarung zuständig?")},
        )
        self.order_fields(["text", "owner", "due_on"])


class AgreementStatusForm(forms.Form):
    status = forms.ChoiceField(choices=AgreementStatus.choices)
    # The state the page showed (see MeasureStatusForm).
    expected_status = forms.ChoiceField(choices=AgreementStatus.choices, widget=forms.HiddenInput, required=False)


# ---------------------------------------------------------------------------------------------------------
# Closure and follow-up
# ---------------------------------------------------------------------------------------------------------


class CaseCloseForm(VersionedForm):
    outcome = forms.ChoiceField(
        label=_("Ergebnis"),
        choices=[("", _("bitte wählen")), *Outcome.choices],
        error_messages={"required": _("Wählen Sie das Ergebnis des Falls.")},
    )
    closed_on = forms.DateField(label=_("Abgeschlossen am"), widget=DateInput())
    outcome_on = forms.DateField(label=_("Ergebnis erreicht am"), widget=DateInput(), required=False)
    benefits_ended_on = forms.DateField(label=_("Leistungsbezug beendet am"), widget=DateInput(), required=False)
    note = forms.CharField(label=_("Bemerkung"), widget=textarea(3), required=False, max_length=4000)


class FollowUpForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Ergebnis der Nachbefragung"),
        choices=[("", _("bitte wählen")), *FollowUpStatus.choices],
        error_messages={"required": _("Wählen Sie das Ergebnis der Nachbefragung.")},
    )
    back_with = forms.ModelChoiceField(
        label=_("Wieder angemeldet bei"),
        queryset=Institution.objects.none(),
        required=False,
        help_text=_("Nur wenn die Person wieder bei einer Partnerinstitution ist."),
    )
    recorded_on = forms.DateField(label=_("Datum"), widget=DateInput())
    note = forms.CharField(label=_("Bemerkung"), widget=textarea(2), required=False, max_length=4000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["back_with"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        field.queryset = partner_institutions().exclude(kind=InstitutionKind.COORDINATION).order_by("name")


CASE_SORTS = {
    "-eroeffnet": ("-opened_on", "-id"),
    "eroeffnet": ("opened_on", "id"),
    "fallnummer": ("reference",),
    "-fallnummer": ("-reference",),
    "person": ("client__last_name", "client__first_name", "reference"),
    "-person": ("-client__last_name", "-client__first_name", "-reference"),
    "stufe": ("level", "-opened_on", "-id"),
    "-stufe": ("-level", "-opened_on", "-id"),
}


class CaseFilterForm(forms.Form):
    """The search, filters and sorting of the case list (GET). The choices of case leads and institutions are
    those of the cases the user sees (``case_leads`` and ``institutions``, given by the view)."""

    q = forms.CharField(
        label=_("Suche"),
        required=False,
        max_length=200,
        help_text=_("Fallnummer, Name der Person oder AHV-Nummer"),
    )
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("alle")), *CaseStatus.choices], required=False)
    level = forms.TypedChoiceField(
        label=_("Stufe"), choices=[("", _("alle")), *Level.choices], coerce=int, empty_value=None, required=False
    )
    case_lead = forms.ModelChoiceField(
        label=_("Fallführung"), queryset=User.objects.none(), required=False, empty_label=_("alle")
    )
    institution = forms.ModelChoiceField(
        label=_("Eröffnet von"), queryset=Institution.objects.none(), required=False, empty_label=_("alle")
    )
    overdue = forms.BooleanField(label=_("nur Fälle mit Überfälligem"), required=False)
    sort = forms.ChoiceField(
        label=_("Sortierung"),
        required=False,
        choices=[
            ("-eroeffnet", _("neueste zuerst")),
            ("eroeffnet", _("älteste zuerst")),
            ("fallnummer", _("Fallnummer aufsteigend")),
            ("-fallnummer", _("Fallnummer absteigend")),
            ("person", _("Person A–Z")),
            ("-person", _("Person Z–A")),
            ("stufe", _("Stufe aufsteigend")),
            ("-stufe", _("Stufe absteigend")),
        ],
    )

    def __init__(self, *args: Any, case_leads: Any = None, institutions: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lead = self.fields["case_lead"]
        institution = self.fields["institution"]
        assert isinstance(lead, forms.ModelChoiceField) and isinstance(institution, forms.ModelChoiceField)  # noqa: S101
        if case_leads is not None:
            lead.queryset = case_leads
        if institutions is not None:
            institution.queryset = institutions
