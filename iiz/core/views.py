"""The start page: the user's own cases and tasks."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from iiz import access
from iiz.cases.selectors import (
    cases_of_participant,
    notifications_unread,
    override_requests_pending,
    tasks_for_user,
)
from iiz.organisations.models import Role


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    works_with_clients = access.may_work_with_clients(user)  # type: ignore[arg-type]
    cases = list(cases_of_participant(user=user)) if works_with_clients else []  # type: ignore[arg-type]
    tasks = tasks_for_user(user=user) if works_with_clients else []  # type: ignore[arg-type]
    notifications = list(notifications_unread(user=user)) if works_with_clients else []  # type: ignore[arg-type]
    is_coordinator = user.has_role(Role.COORDINATOR)  # type: ignore[union-attr]
    override_requests = override_requests_pending().count() if is_coordinator else 0
    return render(
        request,
        "core/home.html",
        {
            "cases": cases,
            "tasks": tasks,
            "notifications": notifications,
            "works_with_clients": works_with_clients,
            "is_coordinator": is_coordinator,
            "override_requests": override_requests,
        },
    )
