from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from iiz import access


def platform(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {
        "DEMO_MODE": settings.DEMO_MODE,
        "may_work_with_clients": signed_in and access.may_work_with_clients(user),  # type: ignore[arg-type]
        "may_create_clients": signed_in and access.may_create_clients(user),  # type: ignore[arg-type]
        "may_handle_access_requests": signed_in and access.may_handle_access_requests(user),  # type: ignore[arg-type]
        "may_administer": signed_in and access.may_administer(user),  # type: ignore[arg-type]
        "may_receive_reports": signed_in and access.may_receive_reports(user),  # type: ignore[arg-type]
    }
