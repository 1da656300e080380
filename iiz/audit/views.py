"""The register of access requests (Auskunftsbegehren) for the coordinators of the Geschäftsstelle."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from iiz import access
from iiz.audit import access_requests
from iiz.audit.forms import AccessRequestForm
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.lib.forms import form_add_service_errors
from iiz.organisations.models import User


def _handler(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not access.may_handle_access_requests(user):
        raise PermissionDenied(_("Auskunftsbegehren bearbeitet die Koordination der Geschäftsstelle."))
    return user


@require_http_methods(["GET", "POST"])
def access_request_list_view(request: HttpRequest) -> HttpResponse:
    """The requests, newest first, and the form for a new one."""
    user = _handler(request)
    form = AccessRequestForm(request.POST or None, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            recorded = access_requests.access_request_record(actor=user, request=request, **form.cleaned_data)
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            if recorded.client is None:
                messages.info(
                    request,
                    _(
                        "Die Plattform bearbeitet keine Daten zu dieser AHV-Nummer. Das Begehren ist erfasst; "
                        "teilen Sie der Person mit, dass keine Daten über sie vorhanden sind."
                    ),
                )
                return redirect("audit:access_requests")
            messages.success(request, _("Das Auskunftsbegehren ist erfasst. Erstellen Sie jetzt die Auskunft."))
            return redirect("clients:disclosure", public_id=recorded.client.public_id)
    page = Paginator(access_requests.access_requests_for(user=user), 25).get_page(request.GET.get("seite"))
    shown = [item.client_id for item in page.object_list if item.client_id is not None]
    if shown:
        # That a person asked is itself personal data: who looked at the register, and whom it showed.
        audit_record(
            actor=user,
            action=AuditAction.READ,
            object_type="access_request_register",
            basis=AuditBasis.ACCESS_REQUEST,
            details={"results": shown},
            request=request,
        )
    return render(
        request,
        "audit/access_requests.html",
        {"form": form, "page": page, "today": timezone.localdate()},
        status=400 if form.errors else 200,
    )


@require_POST
def access_request_close_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    user = _handler(request)
    found = access_requests.access_request_get(user=user, public_id=public_id)
    try:
        access_requests.access_request_close(actor=user, access_request=found, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Das Auskunftsbegehren ist abgeschlossen."))
    return redirect("audit:access_requests")
