"""Retention and deletion: what has expired after case closure is removed or anonymised.

Periods per data category are settings (``IIZ_RETENTION_YEARS``). For a closed case, the content of a
category (clarification texts, messages and documents, answers to information requests, minutes) is
removed once its period has passed since closure. A person is anonymised once no case is open, no
registration is active and the "personal" period has passed since the last closure or deregistration;
what the KPIs need (municipality, sex, birth year, case dates, levels, outcomes) stays, without identity.
Nothing is removed while any case of the person is open. Every step is recorded (RetentionAction and an
audit entry), so the job is idempotent and its work can be shown to the data protection officer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Max

from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.cases.models import (
    DIMENSION_CATEGORY,
    Case,
    CaseStatus,
    Clarification,
    InformationRequest,
    JointInterview,
    Meeting,
    Screening,
)
from iiz.clients.models import Client, Consent, DataCategory, Registration, RetentionAction
from iiz.exchange.models import Document, Message

# Minutes and interview summaries mix categories; they go with the shortest period of the sensitive ones.
MIXED_CONTENT_CATEGORY = DataCategory.MEDICAL


def _years(category: str) -> int:
    return int(settings.IIZ_RETENTION_YEARS[category])


def _purge_case_category(case: Case, category: str) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    dimensions = [d for d, c in DIMENSION_CATEGORY.items() if c == category]
    counts["clarifications"] = Clarification.objects.filter(case=case, dimension__in=dimensions).delete()[0]
    for document in Document.objects.filter(case=case, category=category):
        document.file.delete(save=False)
        document.delete()
        counts["documents"] += 1
    for message in Message.objects.filter(case=case, category=category):
        for document in message.documents.all():
            document.file.delete(save=False)
        counts["messages"] += 1
        message.delete()
    counts["information_requests"] = (
        InformationRequest.objects.filter(case=case, category=category)
        .exclude(question="", answer="")
        .update(question="", answer="")
    )
    if category == MIXED_CONTENT_CATEGORY:
        counts["minutes"] = Meeting.objects.filter(case=case).exclude(minutes="").update(minutes="", agenda="")
        counts["joint_interviews"] = JointInterview.objects.filter(case=case).exclude(summary="").update(summary="")
    if category == DataCategory.PERSONAL:
        counts["screening_notes"] = Screening.objects.filter(cases=case).exclude(note="").update(note="")
    return {k: v for k, v in counts.items() if v}


def _client_anonymise(client: Client, today: dt.date) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for consent in Consent.objects.filter(client=client):
        if consent.document:
            consent.document.delete(save=False)
            counts["consent_documents"] += 1
    Consent.objects.filter(client=client).update(document="", purpose="", revocation_reason="")
    counts["registrations"] = Registration.objects.filter(client=client).update(external_case_number="")
    born = client.date_of_birth
    Client.objects.filter(pk=client.pk).update(
        ahv_number=f"X{client.pk:012d}",
        first_name="–",
        last_name="–",
        date_of_birth=dt.date(born.year, 7, 1),
        street="",
        house_number="",
        postal_code="",
        town="",
        phone="",
        email="",
        languages=[],
        anonymised_on=today,
    )
    counts["client"] = 1
    return dict(counts)


def _record(client_id: int, case_id: int | None, category: str, today: dt.date, counts: dict[str, int]) -> None:
    RetentionAction.objects.create(
        client_id_ref=client_id, case_id_ref=case_id, category=category, applied_on=today, counts=counts
    )
    audit_record(
        actor=None,
        actor_username="retention-job",
        action=AuditAction.DELETE,
        client_id=client_id,
        object_type="case_content" if case_id else "client",
        object_id=case_id or client_id,
        basis=AuditBasis.LEGAL,
        details={"category": category, "removed": counts},
    )


def retention_apply(*, today: dt.date) -> dict[str, int]:
    """Remove what has expired as of ``today``. Returns how many cases and clients were touched."""
    summary: dict[str, int] = defaultdict(int)
    done = {(a.case_id_ref, a.category) for a in RetentionAction.objects.filter(case_id_ref__isnull=False)}
    clients_with_open_case = set(Case.objects.filter(status=CaseStatus.OPEN).values_list("client_id", flat=True))
    shortest = min(_years(c) for c in DataCategory.values)
    closed = Case.objects.filter(status=CaseStatus.CLOSED, closed_on__lte=today - relativedelta(years=shortest))
    for case in closed.exclude(client_id__in=clients_with_open_case).iterator():
        for category in DataCategory.values:
            if (case.pk, category) in done or case.closed_on is None:
                continue
            if case.closed_on + relativedelta(years=_years(category)) > today:
                continue
            with transaction.atomic():
                counts = _purge_case_category(case, category)
                _record(case.client_id, case.pk, category, today, counts)
            summary[f"case_{category}"] += 1
    summary["clients_anonymised"] = _anonymise_expired_clients(today, clients_with_open_case)
    return dict(summary)


def _anonymise_expired_clients(today: dt.date, clients_with_open_case: set[int]) -> int:
    cutoff = today - relativedelta(years=_years(DataCategory.PERSONAL))
    active = set(
        Registration.objects.filter(deregistered_on__isnull=True).values_list("client_id", flat=True).distinct()
    )
    last_closure = dict(
        Case.objects.values("client_id").annotate(last=Max("closed_on")).values_list("client_id", "last")
    )
    last_deregistration = dict(
        Registration.objects.values("client_id").annotate(last=Max("deregistered_on")).values_list("client_id", "last")
    )
    anonymised = 0
    candidates = Client.objects.filter(anonymised_on__isnull=True).exclude(pk__in=active | clients_with_open_case)
    for client in candidates.iterator():
        ends = [d for d in (last_closure.get(client.pk), last_deregistration.get(client.pk)) if d is not None]
        if not ends or max(ends) > cutoff:
            continue
        with transaction.atomic():
            counts = _client_anonymise(client, today)
            _record(client.pk, None, DataCategory.PERSONAL, today, counts)
        anonymised += 1
    return anonymised
