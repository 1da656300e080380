"""Reading cases as the asking user may see them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from iiz.cases.models import Case, CaseStatus

if TYPE_CHECKING:
    from iiz.organisations.models import User


def cases_of_participant(*, user: User) -> QuerySet[Case]:
    """Open cases the user takes part in, newest first."""
    return (
        Case.objects.filter(participants__user=user, participants__left_on__isnull=True, status=CaseStatus.OPEN)
        .select_related("client", "serving_institution")
        .order_by("-opened_on", "-id")
    )
