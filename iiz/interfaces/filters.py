"""Filters and ordering of the API's lists (django-filter), strict like the inputs.

An unknown ordering field is an error rather than silently ignored, so that a partner system notices a
typo instead of receiving an order it did not ask for.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request

from iiz.cases.models import Agreement, AgreementStatus, Case, CaseStatus, Level, Route
from iiz.clients.models import Client
from iiz.interfaces.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from iiz.interfaces.serializers import ID_MAX


class IntegerFilter(django_filters.Filter):
    field_class = forms.IntegerField


class StrictOrderingFilter(OrderingFilter):
    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> list[str]:
        params = request.query_params.get(self.ordering_param)
        tiebreaker = getattr(view, "ordering_tiebreaker", "id")
        if not params:
            return list(self.get_default_ordering(view) or [])
        fields = [param.strip() for param in params.split(",") if param.strip()]
        allowed = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
        unknown = [field for field in fields if field.lstrip("-") not in allowed]
        if unknown or not fields:
            raise ValidationError(
                {
                    self.ordering_param: [
                        _("Sortierung nach «%(fields)s» ist nicht möglich. Erlaubt: %(allowed)s.")
                        % {"fields": ", ".join(unknown) or params[:40], "allowed": ", ".join(sorted(allowed))}
                    ]
                }
            )
        # A unique last key keeps the pages stable when several rows share the same values.
        if tiebreaker not in {field.lstrip("-") for field in fields}:
            fields.append(tiebreaker)
        return fields


class ClientFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(
        method="filter_name", max_length=100, label="Every word must occur in the first or last name."
    )
    ahv_number = django_filters.CharFilter(method="filter_ahv_number", max_length=20, label="Exact AHV number.")
    date_of_birth = django_filters.DateFilter()

    class Meta:
        model = Client
        fields: list[str] = []

    def filter_name(self, queryset: QuerySet[Client], name: str, value: str) -> QuerySet[Client]:
        for term in value.split():
            queryset = queryset.filter(Q(first_name__icontains=term) | Q(last_name__icontains=term))
        return queryset

    def filter_ahv_number(self, queryset: QuerySet[Client], name: str, value: str) -> QuerySet[Client]:
        return queryset.filter(ahv_number="".join(ch for ch in value if ch.isdigit()))


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    level = django_filters.TypedChoiceFilter(choices=Level.choices, coerce=int)
    route = django_filters.ChoiceFilter(choices=Route.choices)
    opened_after = django_filters.DateFilter(field_name="opened_on", lookup_expr="gte")
    opened_before = django_filters.DateFilter(field_name="opened_on", lookup_expr="lte")

    class Meta:
        model = Case
        fields: list[str] = []


class AgreementFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AgreementStatus.choices)
    case = django_filters.CharFilter(field_name="case__reference", max_length=20)
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")

    class Meta:
        model = Agreement
        fields: list[str] = []


class WebhookDeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event = django_filters.ChoiceFilter(choices=WebhookEvent.choices)
    subscription = IntegerFilter(field_name="subscription_id", min_value=1, max_value=ID_MAX)

    class Meta:
        model = WebhookDelivery
        fields: list[str] = []
