"""Reads for the API, as the asking user (or partner system) may see them.

The API reuses the web's selectors wherever one fits (a client's record, a case file, a case's exchange),
so that it shows exactly what the pages show and audits the read the same way. What the pages have no
selector for (lists for machines, agreements of a partner's institution, published key figures) is here,
built on ``iiz.access`` like everything else.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.cases.models import Agreement, Case
from iiz.cases.selectors import case_access_get
from iiz.clients.models import Client, Consent, Registration
from iiz.clients.selectors import ClientFile
from iiz.exchange.selectors import ExchangeEntry, case_exchange_read
from iiz.interfaces.models import WebhookDelivery, WebhookSubscription
from iiz.interfaces.models_imports import ImportBatch
from iiz.steering.figures import figures_build
from iiz.steering.kpis import Period, Scope, dataset_load, kpis_for
from iiz.steering.selectors import publisher_for

if TYPE_CHECKING:
    from iiz.organisations.models import User


def list_read_audit(
    *,
    user: User,
    object_type: str,
    ids: Iterable[object],
    request: HttpRequest | None,
    action: str = AuditAction.READ,
    details: dict[str, Any] | None = None,
) -> None:
    """One audit entry for a page of a list: who listed which records (like the web's search)."""
    audit_record(
        actor=user,
        action=action,
        object_type=object_type,
        basis=AuditBasis.REGISTRATION if object_type.startswith("client") else AuditBasis.CASE,
        details={"api": True, "results": [str(pk) if not isinstance(pk, int) else pk for pk in ids], **(details or {})},
        request=request,
    )


# ---------------------------------------------------------------------------------------------------------
# Clients, registrations, consents
# ---------------------------------------------------------------------------------------------------------


def clients_for_api(*, user: User) -> QuerySet[Client]:
    return access.clients_visible_to(user=user).select_related("municipality", "recorded_by_institution")


def registration_in_file(*, file: ClientFile, registration_id: int) -> Registration:
    """One of the registrations the user sees in the client's record, or 404 (others are hidden)."""
    registration = next((r for r in file.registrations if r.pk == registration_id), None)
    if registration is None:
        raise Http404
    return registration


def consent_in_file(*, file: ClientFile, consent_id: int) -> Consent:
    consent = next((c for c in file.consents if c.pk == consent_id), None)
    if consent is None:
        raise Http404
    return consent


# ---------------------------------------------------------------------------------------------------------
# Cases, agreements, messages
# ---------------------------------------------------------------------------------------------------------


def cases_for_api(*, user: User) -> QuerySet[Case]:
    return access.cases_visible_to(user=user).select_related(
        "client", "serving_institution", "bilateral_institution", "case_lead__unit__institution", "case_team"
    )


def agreements_for_api(*, user: User) -> QuerySet[Agreement]:
    """The user's own agreements; for a partner system, those of its institution's people, in visible cases."""
    visible = access.cases_visible_to(user=user).values("pk")
    agreements = Agreement.objects.filter(case_id__in=visible).select_related("case", "owner__unit__institution")
    institution_id = user.institution_id
    if access.acts_for_institution(user):
        if institution_id is None:
            return agreements.none()
        return agreements.filter(owner__unit__institution_id=institution_id)
    return agreements.filter(owner=user)


def agreement_get_for_api(*, user: User, agreement_id: int, request: HttpRequest | None) -> Agreement:
    """One of the user's agreements (read audited), or 404 (the attempt audited) like the web."""
    agreement = agreements_for_api(user=user).filter(pk=agreement_id).first()
    if agreement is None:
        audit_record(
            actor=user,
            action=AuditAction.DENIED,
            object_type="agreement",
            object_id=agreement_id,
            basis=AuditBasis.NONE,
            request=request,
        )
        raise Http404
    audit_record(
        actor=user,
        action=AuditAction.READ,
        client_id=agreement.case.client_id,
        object_type="agreement",
        object_id=agreement.pk,
        basis=AuditBasis.CASE,
        request=request,
        details={"case": agreement.case.reference, "api": True},
    )
    return agreement


def case_messages_for_api(*, user: User, reference: str, request: HttpRequest | None) -> list[ExchangeEntry]:
    """The messages of a case the user's institution may read now (consent or legal basis), as on the page.

    Withheld messages are left out entirely: the API gives metadata only, and even that only where the
    content could be read.
    """
    grant = case_access_get(user=user, reference=reference, request=request)
    exchange = case_exchange_read(grant=grant, request=request)
    visible = [entry for entry in exchange.entries if entry.visible]
    for entry in visible:
        # Every message is of this case: spare one query per message for its reference.
        entry.message.case = grant.case  # type: ignore[assignment]
    return visible


# ---------------------------------------------------------------------------------------------------------
# Key figures
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedFigure:
    code: str
    name: str
    definition: str
    unit: str
    audience: str
    value: float | None
    numerator: int | None
    denominator: int | None
    n: int | None
    suppressed: bool


def kpis_published(
    *, period: Period, scope: Scope, audience: str, threshold: int, user: User | None = None
) -> list[PublishedFigure]:
    """The key figures of the audience for a period and scope, published for the asking user exactly as the
    dashboards publish them (``iiz.steering.publication`` decides; ``threshold`` is the one in the settings)."""
    dataset = dataset_load(scope=scope)
    publisher = publisher_for(user, dataset)
    return [
        PublishedFigure(
            code=figure.code,
            name=figure.name,
            definition=figure.definition,
            unit=figure.unit,
            audience=figure.audience,
            value=figure.value,
            numerator=figure.numerator,
            denominator=figure.denominator,
            n=figure.n_published,
            suppressed=figure.suppressed,
        )
        for figure in figures_build(dataset, period, kpis_for(audience), publisher=publisher)
    ]


# ---------------------------------------------------------------------------------------------------------
# Webhooks
# ---------------------------------------------------------------------------------------------------------


def webhook_subscriptions_for(*, user: User) -> QuerySet[WebhookSubscription]:
    institution_id = user.institution_id
    if institution_id is None:
        return WebhookSubscription.objects.none()
    return WebhookSubscription.objects.filter(institution_id=institution_id).select_related("institution")


def webhook_deliveries_for(*, user: User) -> QuerySet[WebhookDelivery]:
    institution_id = user.institution_id
    if institution_id is None:
        return WebhookDelivery.objects.none()
    return WebhookDelivery.objects.filter(subscription__institution_id=institution_id)


# ---------------------------------------------------------------------------------------------------------
# Bulk imports
# ---------------------------------------------------------------------------------------------------------


def import_batches_for_api(*, user: User) -> QuerySet[ImportBatch]:
    """The import batches of the user's institution. Only those who may record persons import them (as on
    the web, where the same rule guards the pages); a partner system's service user is a case worker."""
    institution_id = user.institution_id
    if not access.may_create_clients(user) or institution_id is None:
        raise PermissionDenied(_("Sie dürfen keine Personen erfassen."))
    return ImportBatch.objects.filter(institution_id=institution_id).order_by("-created_at", "-pk")


def import_batch_get_for_api(*, user: User, public_id: uuid.UUID, request: HttpRequest | None) -> ImportBatch:
    """One batch of the user's institution, or 404 with the attempt audited (another institution's batch
    looks exactly like one that does not exist)."""
    batch = import_batches_for_api(user=user).filter(public_id=public_id).first()
    if batch is None:
        audit_record(
            actor=user,
            action=AuditAction.DENIED,
            object_type="import_batch",
            object_id=str(public_id)[:64],
            basis=AuditBasis.NONE,
            request=request,
        )
        raise Http404
    return batch
