"""Reading the organisation: the directory of iiz specialists (Informations- und Kontaktvermittlung)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from iiz.organisations.models import District, Institution, Role, User


def directory_specialists(
    *, institution_id: int | None = None, district_number: int | None = None, query: str = ""
) -> QuerySet[User]:
    """The active iiz specialists with their unit, institution and the unit's municipality and district.

    Filtered by institution, by the district (Bezirk) of the unit's site and by a text that may name the
    person, the unit, the institution or the municipality. One query, whatever the number of rows.
    """
    specialists = (
        User.objects.filter(
            is_active=True,
            roles__role=Role.SPECIALIST,
            unit__isnull=False,
            unit__is_active=True,
            unit__institution__is_active=True,
        )
        .select_related("unit__institution", "unit__municipality__district")
        .distinct()
    )
    if institution_id is not None:
        specialists = specialists.filter(unit__institution_id=institution_id)
    if district_number is not None:
        specialists = specialists.filter(unit__municipality__district__number=district_number)
    for term in query.split()[:5]:
        specialists = specialists.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(unit__name__icontains=term)
            | Q(unit__institution__name__icontains=term)
            | Q(unit__institution__short_name__icontains=term)
            | Q(unit__municipality__name__icontains=term)
        )
    return specialists.order_by("unit__institution__name", "unit__name", "last_name", "first_name")


def directory_institutions() -> QuerySet[Institution]:
    """The active partner institutions that have at least one iiz specialist, for the directory's filter."""
    return (
        Institution.objects.filter(
            is_active=True,
            units__users__roles__role=Role.SPECIALIST,
            units__users__is_active=True,
        )
        .distinct()
        .order_by("name")
    )


def directory_districts() -> QuerySet[District]:
    return District.objects.order_by("number")
