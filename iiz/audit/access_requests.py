"""Requests of persons to learn what the platform holds about them (IDG ZH § 20, DSG Art. 25).

The coordinators of the Geschäftsstelle record a request, which opens the person's file to them for
the right-of-access report (see ``access.client_access_for``), and close it once answered. The person
is identified by the exact AHV number; nothing is searched by name, and the number is not stored.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz import access
from iiz.audit.models import AccessRequest, AuditAction, AuditBasis, DisclosureScope, all_disclosure_kinds
from iiz.audit.services import audit_record
from iiz.lib.ahv import ahv_normalise

if TYPE_CHECKING:
    from iiz.organisations.models import User


def _require_handler(user: User) -> None:
    if not access.may_handle_access_requests(user):
        raise PermissionDenied(_("Auskunftsbegehren bearbeitet die Koordination der Geschäftsstelle."))


@transaction.atomic
def access_request_record(
    *,
    actor: User,
    ahv_number: str,
    received_on: dt.date,
    identity_check: str,
    reference: str = "",
    scope: list[str] | None = None,
    request: HttpRequest | None = None,
) -> AccessRequest:
    """Record a person's request; the person's file opens to the coordinators when the platform knows them."""
    from iiz.clients.models import Client

    _require_handler(actor)
    errors: dict[str, list[str]] = {}
    try:
        normalised = ahv_normalise(ahv_number)
    except ValidationError as error:
        errors["ahv_number"] = error.messages
        normalised = ""
    if received_on > timezone.localdate():
        errors["received_on"] = [_("Das Eingangsdatum darf nicht in der Zukunft liegen.")]
    if not identity_check.strip():
        errors["identity_check"] = [_("Halten Sie fest, wie die Identität der Person geprüft wurde.")]
    kinds = all_disclosure_kinds() if scope is None else [kind for kind in DisclosureScope.values if kind in scope]
    if not kinds or set(scope or kinds) - set(DisclosureScope.values):
        errors["scope"] = [_("Wählen Sie, worüber die Person Auskunft verlangt.")]
    if errors:
        raise ValidationError(errors)
    client = Client.objects.filter(ahv_number=normalised).first()
    access_request = AccessRequest(
        client=client,
        received_on=received_on,
        identity_check=identity_check.strip(),
        reference=reference.strip(),
        scope=kinds,
        recorded_by=actor,
    )
    access_request.full_clean()
    access_request.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        client_id=client.pk if client else None,
        object_type="access_request",
        object_id=access_request.public_id,
        basis=AuditBasis.ACCESS_REQUEST,
        details={"data_held": client is not None, "scope": kinds},
        request=request,
    )
    return access_request


@transaction.atomic
def access_request_close(*, actor: User, access_request: AccessRequest, request: HttpRequest | None = None) -> None:
    """The answer has gone out: the person's file closes again to the coordinators (unless a case opens it)."""
    _require_handler(actor)
    locked = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
    if locked.closed_at is not None:
        raise ValidationError(_("Dieses Auskunftsbegehren ist bereits abgeschlossen."))
    locked.closed_at = timezone.now()
    locked.closed_by = actor
    locked.save(update_fields=["closed_at", "closed_by"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        client_id=locked.client_id,
        object_type="access_request",
        object_id=locked.public_id,
        basis=AuditBasis.ACCESS_REQUEST,
        details={"closed": True},
        request=request,
    )


def access_requests_for(*, user: User) -> QuerySet[AccessRequest]:
    """Every request, newest first, for the coordinators; nothing for anyone else."""
    if not access.may_handle_access_requests(user):
        return AccessRequest.objects.none()
    return AccessRequest.objects.select_related("client", "recorded_by", "closed_by")


def access_request_get(*, user: User, public_id: uuid.UUID | str) -> AccessRequest:
    _require_handler(user)
    found = access_requests_for(user=user).filter(public_id=public_id).first()
    if found is None:
        raise Http404
    return found
