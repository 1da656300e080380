"""Request middleware of the platform: the interface language, the second factor, the end of an outage, and
logged refusals."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

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


# Routes whose 404 is not a refusal of anything: the API's answer for a path that does not exist.
_NOT_A_REFUSAL = frozenset({"api:not_found"})


def _client_of(kwargs: dict[str, Any], namespace: str) -> int | None:
    """The person a refused URL is about, so that the denial shows in the person's access log."""
    from iiz.cases.models import Case
    from iiz.clients.models import Client

    try:
        if namespace in {"cases", "exchange"} and "reference" in kwargs:
            return (
                Case.objects.filter(reference=str(kwargs["reference"])[:40]).values_list("client_id", flat=True).first()
            )
        if namespace in {"clients", "cases", "imports", "api"} and "public_id" in kwargs:
            public_id = uuid.UUID(str(kwargs["public_id"]))
            return Client.objects.filter(public_id=public_id).values_list("pk", flat=True).first()
    except ValueError:
        return None
    return None


class DenialAuditMiddleware:
    """Every refused request of a signed-in user or a partner system leaves a denial in the audit trail.

    Views that refuse with more context (the person, the object) write their own entry; for every other 403
    or 404 answer of a routed URL this middleware writes one naming the route and its arguments. It checks
    that a denial written by the view survived the view's transaction before it counts it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from iiz.audit.denials import denials_begin, denials_end

        token = denials_begin()
        try:
            response = self.get_response(request)
            if response.status_code in (403, 404):
                self._record(request, response)
            return response
        finally:
            denials_end(token)

    @staticmethod
    def _record(request: HttpRequest, response: HttpResponse) -> None:
        from iiz.audit.denials import denials_written
        from iiz.audit.models import AuditAction, AuditBasis, AuditEvent
        from iiz.audit.services import audit_record

        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        if match is None or user is None or not user.is_authenticated:
            return
        route = match.view_name if match.url_name else match.route
        if route in _NOT_A_REFUSAL:
            return
        written = denials_written()
        if written and AuditEvent.objects.filter(pk__in=written).exists():
            return
        audit_record(
            actor=user,
            action=AuditAction.DENIED,
            client_id=_client_of(match.kwargs, match.namespace),
            object_type="route",
            object_id=route[:64],
            basis=AuditBasis.NONE,
            details={
                "status": response.status_code,
                "method": request.method,
                "arguments": {name: str(value)[:64] for name, value in match.kwargs.items()},
            },
            request=request,
        )


class NoStoreMiddleware:
    """Nothing the application answers may be kept by a browser or a proxy: pages and API answers carry
    personal data. Static files are served before this middleware (WhiteNoise) and keep their caching."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        return response


SESSION_STARTED = "iiz_session_started"


class AbsoluteSessionLifetimeMiddleware:
    """A session ends IIZ_SESSION_MAX_HOURS after sign-in, however active it is (the idle timeout is
    SESSION_COOKIE_AGE); the user signs in again, with the second factor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        import time

        from django.contrib.auth import logout

        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            started = request.session.get(SESSION_STARTED)
            now = int(time.time())
            if started is None:
                request.session[SESSION_STARTED] = now
            elif now - int(started) > settings.IIZ_SESSION_MAX_HOURS * 3600:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.get_full_path()}")
        return self.get_response(request)
