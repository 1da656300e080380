"""Request middleware of the platform: the interface language, the second factor, the end of an outage."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from iiz.lib import outage

SESSION_FLAG = "iiz_otp_required"

# Paths a half-signed-in user may still reach: the factor pages, logout, language, health and assets.
_OPEN_PREFIXES = ("/konto/", "/i18n/", "/healthz", "/readyz", "/static/")


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and (settings.IIZ_REQUIRE_OTP or request.session.get(SESSION_FLAG))
            and not user.is_verified()
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            return redirect(f"{reverse('otp_verify')}?next={request.get_full_path()}")
        return self.get_response(request)


class DatabaseOutageMiddleware:
    """Notices that the database is back after an outage, so that its end is logged (iiz/lib/outage.py).

    The outage itself is answered by the 500 handler (iiz/core/errors.py), which sees the error. Only while
    an outage is going on does a successful request cost one round trip to make sure the database answers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if outage.episode.started is not None and response.status_code < 500:
            try:
                connection.ensure_connection()
                usable = connection.is_usable()
            except DatabaseError:
                usable = False
            if usable:
                outage.database_recovered()
        return response


class GermanByDefaultMiddleware:
    """The interface speaks German unless the user chose another language with the switch.

    The browser's Accept-Language is ignored on purpose: cantonal workstations are often set to English,
    and users expect the platform in the language of their office until they pick another one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
