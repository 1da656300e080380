"""The start page: each role starts where its work is.

Case workers and specialists see their cases, tasks and upcoming meetings; coordinators see the same below
the Geschäftsstelle's queue (override requests, access requests, cases waiting for a meeting); the operating
committee and the supervisory body start on their cockpit, administrators in the administration.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from iiz import access
from iiz.audit.access_requests import access_requests_for
from iiz.cases.selectors import (
    cases_of_participant,
    cases_waiting_for_a_meeting,
    meetings_upcoming_for_user,
    notifications_unread,
    override_requests_pending,
    tasks_for_user,
)
from iiz.clients.models import AhvConflict
from iiz.clients.selectors import consent_notices_for
from iiz.organisations.models import Role, User


def start_url_name(user: User) -> str | None:
    """Where a role that works without persons starts (None: on the start page itself)."""
    if access.may_work_with_clients(user):
        return None
    if access.may_see_operational_dashboard(user):
        return "steering:operational"
    if access.may_see_strategic_dashboard(user):
        return "steering:strategic"
    if access.may_administer(user):
        return "admin:index"
    return None


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    elsewhere = start_url_name(user)
    if elsewhere is not None:
        return redirect(elsewhere)
    works_with_clients = access.may_work_with_clients(user)
    context: dict[str, object] = {"works_with_clients": works_with_clients}
    if works_with_clients:
        context.update(
            cases=list(cases_of_participant(user=user)),
            tasks=tasks_for_user(user=user),
            notifications=list(notifications_unread(user=user)),
            meetings=meetings_upcoming_for_user(user=user),
            consent_notices=consent_notices_for(user=user),
        )
    if user.has_role(Role.COORDINATOR):
        today = timezone.localdate()
        context.update(
            is_coordinator=True,
            override_requests=list(override_requests_pending()[:20]),
            access_requests_open=access_requests_for(user=user).filter(closed_at__isnull=True).count(),
            waiting_cases=cases_waiting_for_a_meeting(user=user, today=today),
            ahv_conflicts=AhvConflict.objects.filter(resolved_at__isnull=True).count(),
        )
    return render(request, "core/home.html", context)
