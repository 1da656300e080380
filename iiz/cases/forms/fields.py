"""Widgets, choice fields and helpers shared by the case forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from iiz import access
from iiz.cases.models import (
    Meeting,
    ServiceOffering,
)
from iiz.organisations.models import Institution, InstitutionKind, User

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def textarea(rows: int = 3, **attrs: Any) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


def user_label(user: User) -> str:
    unit = user.unit
    return f"{user} ({unit.name})" if unit is not None else str(user)


def partner_institutions() -> QuerySet[Institution]:
    return Institution.objects.filter(is_active=True, is_partner=True).exclude(kind=InstitutionKind.EXTERNAL)


class UserModelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return user_label(obj)


class UserModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return user_label(obj)


class ScreeningChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(_("Früherkennung vom %(date)s") % {"date": f"{obj.screened_on:%d.%m.%Y}"})


class PreviousCaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        closed = f"{obj.closed_on:%d.%m.%Y}" if obj.closed_on else "–"
        return str(_("%(ref)s, abgeschlossen am %(date)s") % {"ref": obj.reference, "date": closed})


class UserChoiceField(forms.ChoiceField):
    """A choice among users the page already holds (case participants); cleans to the ``User``."""

    def __init__(self, *, users: Sequence[User] = (), blank: str | _StrPromise = "", **kwargs: Any) -> None:
        self.users = {str(user.pk): user for user in users}
        choices: list[tuple[str, str]] = [("", str(blank or "–"))] if not kwargs.get("required", True) else []
        choices += [(key, user_label(user)) for key, user in self.users.items()]
        super().__init__(choices=choices, **kwargs)

    def clean(self, value: Any) -> User | None:
        key = super().clean(value)
        return self.users.get(key) if key else None


class UserMultipleChoiceField(forms.MultipleChoiceField):
    def __init__(self, *, users: Sequence[User] = (), **kwargs: Any) -> None:
        self.users = {str(user.pk): user for user in users}
        super().__init__(choices=[(key, user_label(user)) for key, user in self.users.items()], **kwargs)

    def clean(self, value: Any) -> list[User]:
        return [self.users[key] for key in super().clean(value)]


class VersionedForm(forms.Form):
    """Optimistic locking: the form carries the version it was loaded with."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


def not_in_future(day: dt.date | None) -> dt.date | None:
    if day and day > timezone.localdate():
        raise ValidationError(_("Das Datum darf nicht in der Zukunft liegen."), code="future")
    return day


class ServiceChoiceField(forms.ChoiceField):
    """The service catalogue, grouped by the kind of institution that offers each service."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services: dict[str, ServiceOffering] = {}

    def load(self, kind: str | None = None) -> None:
        """All active services grouped by kind, or only those of one kind of institution."""
        rows = ServiceOffering.objects.filter(is_active=True)
        if kind is not None:
            rows = rows.filter(institution_kind=kind)
        groups: dict[str, list[tuple[str, str]]] = {}
        for service in rows:
            self.services[str(service.pk)] = service
            groups.setdefault(service.get_institution_kind_display(), []).append((str(service.pk), service.name))
        blank = ("", _("keine Leistung aus dem Katalog"))
        if kind is not None:
            self.choices = [blank, *(choice for choices in groups.values() for choice in choices)]
        else:
            self.choices = [blank, *groups.items()]

    def clean(self, value: Any) -> ServiceOffering | None:
        key = super().clean(value)
        return self.services.get(key) if key else None


def meeting_label(meeting: Meeting) -> str:
    start = timezone.localtime(meeting.starts_at)
    return f"{start:%d.%m.%Y %H:%M}, {meeting.place}"


def meeting_invitable_users() -> QuerySet[User]:
    """Users of active partner institutions who work with clients: who can sit in a case team.

    The service accounts behind API tokens carry the case-worker role but are systems, not people.
    """
    return (
        User.objects.filter(
            is_active=True,
            unit__is_active=True,
            unit__institution__is_active=True,
            unit__institution__is_partner=True,
            roles__role__in=sorted(access.CLIENT_WORK_ROLES),
        )
        .exclude(api_tokens__isnull=False)
        .distinct()
        .order_by("unit__institution__name", "last_name", "first_name")
    )


class RouteFieldsMixin(forms.Form):
    bilateral_institution = forms.ModelChoiceField(
        label=_("Institution der bilateralen Zusammenarbeit"),
        queryset=Institution.objects.none(),
        required=False,
        help_text=_("Nur beim Vorgehen «bilateral» nötig."),
    )

    def _route_setup(self, own_institution: Institution | None) -> None:
        field = self.fields["bilateral_institution"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - narrows the type
        queryset = partner_institutions().exclude(kind=InstitutionKind.COORDINATION)
        if own_institution is not None:
            queryset = queryset.exclude(pk=own_institution.pk)
        field.queryset = queryset.order_by("name")
