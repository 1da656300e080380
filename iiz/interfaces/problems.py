"""Every API error as RFC 9457 problem details (``application/problem+json``).

``type`` names the kind of problem (a URN of this platform), ``title`` says it in the request's language,
``detail`` explains this occurrence, ``instance`` is the path that was asked for. Validation problems list
each field with its message in ``errors``; ``field`` is null for a problem of the input as a whole.
Services raise Django's ValidationError and PermissionDenied; they are answered here like the
serializers' own errors, so the API never answers a user's mistake with a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from iiz.lib.outage import RETRY_AFTER_SECONDS, database_outage_record, is_database_outage

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:iiz:problem:"
# Service errors with these codes concern the state of the resource, not the input: 409 Conflict.
CONFLICT_CODES = frozenset({"stale", "already_revoked", "already_done"})


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_code = "precondition_required"

    def __init__(self) -> None:
        super().__init__(_("Für Änderungen ist der Header If-Match mit dem ETag der zuletzt gelesenen Fassung nötig."))


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"

    def __init__(self) -> None:
        super().__init__(
            _(
                "Die Angaben wurden seit dem Lesen geändert (der ETag stimmt nicht überein). Lesen Sie sie neu "
                "und versuchen Sie es erneut."
            )
        )


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _titles() -> dict[int, tuple[str, str]]:
    # (slug for the type URN, title in the request's language)
    return {
        400: ("validation-error", _("Ungültige Eingabe")),
        401: ("not-authenticated", _("Nicht angemeldet")),
        403: ("forbidden", _("Nicht erlaubt")),
        404: ("not-found", _("Nicht gefunden")),
        405: ("method-not-allowed", _("Methode nicht erlaubt")),
        406: ("not-acceptable", _("Format nicht verfügbar")),
        409: ("conflict", _("Konflikt mit dem aktuellen Stand")),
        412: ("precondition-failed", _("Inzwischen geändert")),
        413: ("payload-too-large", _("Anfrage zu gross")),
        415: ("unsupported-media-type", _("Nicht unterstütztes Format")),
        428: ("precondition-required", _("If-Match fehlt")),
        429: ("too-many-requests", _("Zu viele Anfragen")),
        500: ("server-error", _("Interner Fehler")),
        503: ("service-unavailable", _("Vorübergehend nicht verfügbar")),
    }


def _flatten(detail: Any, path: str = "") -> list[dict[str, str | None]]:
    """DRF's nested error details as a flat list of {field, message, code}."""
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            name = "" if key in (api_settings.NON_FIELD_ERRORS_KEY, NON_FIELD_ERRORS) else str(key)
            errors += _flatten(value, f"{path}.{name}" if path and name else (name or path))
        return errors
    if isinstance(detail, list):
        errors = []
        for index, value in enumerate(detail):
            # A list of messages belongs to its field; a list of objects is numbered.
            child = f"{path}.{index}" if isinstance(value, dict | list) else path
            errors += _flatten(value, child)
        return errors
    return [{"field": path or None, "message": str(detail), "code": str(getattr(detail, "code", "invalid"))}]


def _django_validation_errors(error: DjangoValidationError) -> list[dict[str, str | None]]:
    if hasattr(error, "error_dict"):
        return [
            {
                "field": None if name == NON_FIELD_ERRORS else name,
                "message": message,
                "code": item.code or "invalid",
            }
            for name, items in error.error_dict.items()
            for item in items
            for message in item.messages
        ]
    return [
        {"field": None, "message": message, "code": item.code or "invalid"}
        for item in error.error_list
        for message in item.messages
    ]


def problem_response(
    *,
    status_code: int,
    detail: str,
    instance: str,
    errors: list[dict[str, str | None]] | None = None,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> Response:
    default_slug, title = _titles().get(status_code, ("error", _("Fehler")))
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + (slug or default_slug),
        "title": title,
        "status": status_code,
        "detail": detail,
        "instance": instance,
    }
    if errors is not None:
        body["errors"] = errors
    # Extension members of a particular problem type (RFC 9457, section 3.2).
    body.update(extensions or {})
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    request = context.get("request")
    instance = request.path if request is not None else ""
    errors: list[dict[str, str | None]] | None = None
    slug: str | None = None

    if isinstance(exc, DjangoValidationError):
        errors = _django_validation_errors(exc)
        codes = {error["code"] for error in errors}
        if codes & CONFLICT_CODES:
            exc = Conflict(" ".join(str(e["message"]) for e in errors))
            errors = None
        else:
            exc = exceptions.ValidationError(" ".join(str(e["message"]) for e in errors))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Nicht gefunden oder nicht sichtbar."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or _("Sie dürfen das nicht."))

    if not isinstance(exc, exceptions.APIException) and is_database_outage(exc):
        # Logged once per outage, not with a traceback per request (iiz/lib/outage.py).
        database_outage_record(exc)
        set_rollback()
        response = problem_response(
            status_code=503,
            detail=_(
                "Die Datenbank ist vorübergehend nicht erreichbar; nichts wurde gespeichert. Versuchen Sie es in "
                "%(seconds)s Sekunden erneut."
            )
            % {"seconds": RETRY_AFTER_SECONDS},
            instance=instance,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response

    if not isinstance(exc, exceptions.APIException):
        if settings.DEBUG:
            return None
        logger.exception("Unhandled error in the API", exc_info=exc)
        return problem_response(
            status_code=500, detail=_("Ein unerwarteter Fehler ist aufgetreten."), instance=instance
        )

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = str(exc.auth_header)  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]

    if isinstance(exc, exceptions.ValidationError):
        if errors is None:
            errors = _flatten(exc.detail)
        detail = _("Die Eingabe ist ungültig. Die einzelnen Fehler stehen unter «errors».")
    elif isinstance(exc.detail, dict | list):
        errors = _flatten(exc.detail)
        detail = " ".join(str(e["message"]) for e in errors)
    else:
        detail = str(exc.detail)
    if isinstance(exc, exceptions.PermissionDenied) and exc.get_codes() == "scope_missing":
        slug = "scope-missing"
    if isinstance(exc, exceptions.Throttled):
        detail = _("Zu viele Anfragen mit diesem Token. Versuchen Sie es in %(seconds)s Sekunden wieder.") % {
            "seconds": headers.get("Retry-After", "einigen")
        }
    set_rollback()
    return problem_response(
        status_code=exc.status_code, detail=detail, instance=instance, errors=errors, slug=slug, headers=headers
    )
