"""The answer to an unexpected error: 503 with Retry-After while the database is unreachable, else 500.

Django calls ``server_error`` (``handler500``) inside the ``except`` block of the failed request, so the
error is still at hand. Nothing here touches the database: the pages are rendered without the request's
context processors, which would read the session and the user.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

from iiz.lib.outage import RETRY_AFTER_SECONDS, database_outage_record, is_database_outage


def _back_url(request: HttpRequest) -> str:
    """Where "back to the form" leads without JavaScript: the page the form was on (same site only)."""
    referer = request.headers.get("Referer", "")
    parts = urlsplit(referer)
    if referer and parts.netloc == request.get_host() and parts.path.startswith("/"):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"


def outage_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the app's page, or a problem document for the API."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "type": "urn:iiz:problem:service-unavailable",
                "title": _("Vorübergehend nicht verfügbar"),
                "status": 503,
                "detail": _(
                    "Die Datenbank ist vorübergehend nicht erreichbar; nichts wurde gespeichert. Versuchen Sie es in "
                    "%(seconds)s Sekunden erneut."
                )
                % {"seconds": RETRY_AFTER_SECONDS},
                "instance": request.path,
            },
            status=503,
            content_type="application/problem+json",
        )
    else:
        submitted = request.method == "POST"
        context = {
            "submitted": submitted,
            "back_url": _back_url(request) if submitted else request.get_full_path(),
            "retry_after": RETRY_AFTER_SECONDS,
        }
        response = HttpResponse(loader.get_template("503.html").render(context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    # The outage is logged once per episode (iiz/lib/outage.py), not with a traceback for every request.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    if is_database_outage(error):
        assert error is not None  # noqa: S101 - narrows the type
        # A request may fail twice (a view, then the session's save on the way out): it counts once.
        if not getattr(request, "_iiz_outage_recorded", False):
            database_outage_record(error)
            request._iiz_outage_recorded = True  # type: ignore[attr-defined]
        return outage_response(request)
    return defaults.server_error(request)
