"""Reading clients as the asking user may see them. Every read of a person is audited."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis, AuditEvent
from iiz.audit.selectors import audit_events_for_client
from iiz.audit.services import audit_record
from iiz.clients.models import AhvConflict, Client, Consent, ConsentNotice, Registration

if TYPE_CHECKING:
    from iiz.organisations.models import User

_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_DIGITS = re.compile(r"[\s.\-]")


def _parse_swiss_date(text: str) -> dt.date | None:
    match = _DATE.match(text)
    if not match:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _client_search_queryset(*, user: User, query: str) -> QuerySet[Client]:
    qs = access.clients_visible_to(user=user).select_related("municipality")
    for term in query.split():
        compact = _DIGITS.sub("", term)
        born = _parse_swiss_date(term)
        if born is not None:
            qs = qs.filter(date_of_birth=born)
        elif compact.isdigit() and len(compact) >= 4:
            # Only the whole number finds a person: parts of numbers would let one list persons by ranges.
            qs = qs.filter(ahv_number=compact)
        else:
            qs = qs.filter(Q(last_name__icontains=term) | Q(first_name__icontains=term))
    return qs.order_by("last_name", "first_name", "date_of_birth", "pk")


def client_search_page(
    *, user: User, query: str, page_number: int | str | None = 1, request: HttpRequest | None = None
) -> Page[Client]:
    """One page of the clients the user may see by name, AHV number or birth date (dd.mm.yyyy).

    Every term must match. The hits are paged (``IIZ_SEARCH_RESULT_LIMIT`` a page) and counted, so that the
    user learns how many there are; only the page shown is listed in the audit trail.
    """
    query = query.strip()
    qs = _client_search_queryset(user=user, query=query) if query else Client.objects.none()
    page = Paginator(qs, settings.IIZ_SEARCH_RESULT_LIMIT).get_page(page_number)
    if query:
        audit_record(
            actor=user,
            action=AuditAction.SEARCH,
            object_type="client_search",
            details={
                "query_terms": len(query.split()),
                "results": [c.pk for c in page.object_list],
                "page": page.number,
                "total": page.paginator.count,
            },
            request=request,
        )
    return page


def client_search(*, user: User, query: str, request: HttpRequest | None = None) -> list[Client]:
    """The first page of ``client_search_page`` as a list."""
    if not query.strip():
        return []
    return list(client_search_page(user=user, query=query, request=request).object_list)


@dataclass
class ClientFile:
    """One client as one user may see it: what is shown, and what is withheld and why."""

    client: Client
    grant: access.ClientAccess
    registrations: list[Registration]
    hidden_registrations: int
    consents: list[Consent]
    show_contact_details: bool


def _parse_public_id(public_id: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(public_id))
    except ValueError:
        return None


def client_access_get(*, user: User, public_id: object, request: HttpRequest | None = None) -> access.ClientAccess:
    """The user's access to the client, or 404 when it does not exist or is hidden (the attempt is logged)."""
    parsed = _parse_public_id(public_id)
    client = (
        Client.objects.select_related("municipality__district", "recorded_by_institution")
        .filter(public_id=parsed)
        .first()
        if parsed
        else None
    )
    grant = access.client_access_for(user=user, client=client) if client is not None else None
    if grant is None:
        audit_record(
            actor=user,
            action=AuditAction.DENIED,
            client_id=client.pk if client else None,
            object_type="client",
            object_id=str(public_id)[:64],
            basis=AuditBasis.NONE,
            request=request,
        )
        raise Http404
    return grant


def client_get_for_user(*, user: User, public_id: object, request: HttpRequest | None = None) -> Client:
    """The client, or 404 when it does not exist or is hidden from the user."""
    return client_access_get(user=user, public_id=public_id, request=request).client


def client_file_for_user(*, user: User, public_id: object, request: HttpRequest | None = None) -> ClientFile:
    """Everything the user may see of one client, with one audit entry for the read."""
    grant = client_access_get(user=user, public_id=public_id, request=request)
    client = grant.client
    all_registrations = list(
        client.registrations.select_related("institution", "unit").order_by("-registered_on", "-id")
    )
    shown = [r for r in all_registrations if grant.may_see_registration(r)]
    show_contact = grant.may_see_contact_details()
    consents = list(
        client.consents.select_related("recorded_by__unit__institution", "revoked_by")
        .prefetch_related("institutions")
        .order_by("-recorded_at", "-version")
    )
    details = grant.audit_details()
    details["registrations_shown"] = [r.pk for r in shown]
    details["contact_details"] = show_contact
    audit_record(
        actor=user,
        action=AuditAction.READ,
        client_id=client.pk,
        object_type="client",
        object_id=client.pk,
        basis=grant.basis,
        details=details,
        request=request,
    )
    return ClientFile(
        client=client,
        grant=grant,
        registrations=shown,
        hidden_registrations=len(all_registrations) - len(shown),
        consents=consents,
        show_contact_details=show_contact,
    )


def consent_get_for_user(*, user: User, client: Client, consent_id: int) -> Consent:
    consent = Consent.objects.filter(client=client, pk=consent_id).select_related("recorded_by__unit").first()
    if consent is None:
        raise Http404
    return consent


def registrations_of_institution(*, user: User) -> QuerySet[Registration]:
    if not access.may_work_with_clients(user):
        return Registration.objects.none()
    institution_id = user.institution_id
    if institution_id is None:
        return Registration.objects.none()
    return Registration.objects.filter(institution_id=institution_id)


def client_access_log_for(*, grant: access.ClientAccess) -> QuerySet[AuditEvent]:
    """The file's access log as the viewer may see it: the accesses of the viewer's own institution, of the
    Geschäftsstelle and of the platform itself, and of other institutions only where the person's consent
    lets the viewer learn that they serve the person (see ``ClientAccess.may_see_accesses_of``)."""
    from iiz.organisations.models import Institution

    shown = [i.name for i in Institution.objects.all() if grant.may_see_accesses_of(i)]
    return audit_events_for_client(client_id=grant.client.pk).filter(actor_institution__in=[*shown, ""])


def ahv_conflicts_open() -> list[AhvConflict]:
    """The conflicts not yet resolved, oldest first (for the coordinators; see access.may_handle_ahv_conflicts)."""
    return list(
        AhvConflict.objects.filter(resolved_at__isnull=True)
        .select_related("client", "institution", "reported_by")
        .order_by("reported_at", "id")
    )


def ahv_conflict_get(*, conflict_id: int) -> AhvConflict:
    found = AhvConflict.objects.filter(pk=conflict_id).first()
    if found is None:
        raise Http404
    return found


# How long a consent notice stays on the holding institution's start page.
CONSENT_NOTICE_DAYS = 30


def consent_notices_for(*, user: User) -> list[ConsentNotice]:
    """Consents recorded lately by other institutions that open data held by the user's institution."""
    if not access.may_work_with_clients(user) or user.institution_id is None:
        return []
    since = timezone.now() - dt.timedelta(days=CONSENT_NOTICE_DAYS)
    return list(
        ConsentNotice.objects.filter(institution_id=user.institution_id, created_at__gte=since)
        .select_related("consent__client", "consent__recorded_by__unit__institution")
        .order_by("-created_at")[:20]
    )
