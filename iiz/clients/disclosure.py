"""The right of access (IDG ZH § 20, DSG Art. 25): everything the platform holds about one person.

A coordinator produces it for the client on request, as a PDF for the person and as a machine-readable
JSON file. It contains the person's own data in full (it is theirs), the list of documents, the consents,
the cases with their content, and the audit trail of who read or changed what.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz import access
from iiz.audit.models import AuditAction, AuditEvent
from iiz.audit.services import audit_record
from iiz.cases.models import Case
from iiz.clients.models import Client
from iiz.exchange.models import Document, Message
from iiz.organisations.models import Role

if TYPE_CHECKING:
    from iiz.organisations.models import User


def may_produce_disclosure(*, user: User, client: Client) -> bool:
    return user.has_role(Role.COORDINATOR) and access.client_access_for(user=user, client=client) is not None


def may_read_client_audit(*, user: User, client: Client) -> bool:
    """Who saw the file: coordinators and iiz specialists who may see the client."""
    return (
        user.has_role(Role.COORDINATOR, Role.SPECIALIST)
        and access.client_access_for(user=user, client=client) is not None
    )


def _case_data(case: Case) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "status": case.get_status_display(),
        "level": case.get_level_display(),
        "opened_on": case.opened_on,
        "closed_on": case.closed_on,
        "outcome": case.get_outcome_display() if case.outcome else "",
        "serving_institution": case.serving_institution.name,
        "case_lead": str(case.case_lead) if case.case_lead else "",
        "participants": [
            {"person": str(p.user), "institution": p.institution.name, "since": p.joined_on, "until": p.left_on}
            for p in case.participants.all()
        ],
        "level_changes": [
            {"on": c.changed_on, "from": c.from_level, "to": c.to_level, "by": str(c.changed_by), "reason": c.reason}
            for c in case.level_changes.all()
        ],
        "clarifications": [
            {
                "dimension": c.get_dimension_display(),
                "institution": c.institution.name,
                "situation": c.situation,
                "resources": c.resources,
                "obstacles": c.obstacles,
                "work_capacity_percent": c.work_capacity_percent,
            }
            for c in case.clarifications.all()
        ],
        "plans": [
            {
                "version": p.version,
                "status": p.get_status_display(),
                "goals": p.goals,
                "agreed_on": p.agreed_on,
                "client_agreed_on": p.client_agreed_on,
                "measures": [
                    {
                        "description": m.description,
                        "institution": m.responsible_institution.name,
                        "start_on": m.start_on,
                        "due_on": m.due_on,
                        "status": m.get_status_display(),
                    }
                    for m in p.measures.all()
                ],
            }
            for p in case.plans.all()
        ],
        "meetings": [
            {"starts_at": m.starts_at, "place": m.place, "agenda": m.agenda, "minutes": m.minutes}
            for m in case.meetings.all()
        ],
        "agreements": [
            {"text": a.text, "owner": str(a.owner), "due_on": a.due_on, "status": a.get_status_display()}
            for a in case.agreements.all()
        ],
        "information_requests": [
            {"to": r.to_institution.name, "asked_on": r.asked_on, "question": r.question, "answer": r.answer}
            for r in case.information_requests.all()
        ],
        "follow_ups": [
            {
                "months_after": f.months_after,
                "recorded_on": f.recorded_on,
                "status": f.get_status_display() if f.status else "",
            }
            for f in case.follow_ups.all()
        ],
    }


def client_disclosure_data(*, client: Client) -> dict[str, Any]:
    """Everything held about the client, as plain data (shared by the PDF and the JSON file)."""
    cases = list(
        Case.objects.filter(client=client)
        .select_related("serving_institution", "case_lead")
        .prefetch_related(
            "participants__user",
            "participants__institution",
            "level_changes__changed_by",
            "clarifications__institution",
            "plans__measures__responsible_institution",
            "meetings",
            "agreements__owner",
            "information_requests__to_institution",
            "follow_ups",
        )
    )
    messages = Message.objects.filter(case__client=client).select_related("sender_institution").order_by("sent_at")
    documents = Document.objects.filter(case__client=client).select_related("institution").order_by("uploaded_at")
    audit = AuditEvent.objects.filter(client_id=client.pk).order_by("occurred_at", "id")
    return {
        "generated_at": timezone.now(),
        "person": {
            "ahv_number": client.ahv_display,
            "first_name": client.first_name,
            "last_name": client.last_name,
            "date_of_birth": client.date_of_birth,
            "sex": client.get_sex_display(),
            "municipality": client.municipality.name if client.municipality else "",
            "address": f"{client.street} {client.house_number}, {client.postal_code} {client.town}".strip(" ,"),
            "phone": client.phone,
            "email": client.email,
            "languages": client.language_labels(),
            "recorded_by": client.recorded_by_institution.name,
        },
        "registrations": [
            {
                "institution": r.institution.name,
                "case_number": r.external_case_number,
                "from": r.registered_on,
                "until": r.deregistered_on,
            }
            for r in client.registrations.select_related("institution")
        ],
        "consents": [
            {
                "version": c.version,
                "institutions": [i.name for i in c.institutions.all()],
                "categories": c.category_labels(),
                "purpose": c.purpose,
                "valid_from": c.valid_from,
                "valid_until": c.valid_until,
                "revoked_at": c.revoked_at,
                "superseded_at": c.superseded_at,
                "signed_form": bool(c.document),
            }
            for c in client.consents.prefetch_related("institutions").order_by("recorded_at")
        ],
        "cases": [_case_data(case) for case in cases],
        "messages": [
            {
                "case": m.case_id,
                "kind": m.get_kind_display(),
                "category": m.get_category_display(),
                "subject": m.subject,
                "from": m.sender_institution.name,
                "sent_at": m.sent_at,
            }
            for m in messages
        ],
        "documents": [
            {
                "title": d.title,
                "kind": d.get_kind_display(),
                "category": d.get_category_display(),
                "from": d.institution.name,
                "uploaded_at": d.uploaded_at,
                "size": d.size,
            }
            for d in documents
        ],
        "audit": [
            {
                "at": e.occurred_at,
                "who": e.actor_username,
                "institution": e.actor_institution,
                "action": e.get_action_display(),
                "object": e.object_type,
                "basis": e.get_basis_display(),
                "to": e.recipient,
            }
            for e in audit
        ],
    }


def client_disclosure_export(
    *, actor: User, client: Client, fmt: str, request: HttpRequest | None = None
) -> tuple[bytes, str, str]:
    """The disclosure as (content, content type, file name); the export itself is audited."""
    if not may_produce_disclosure(user=actor, client=client):
        raise PermissionDenied(_("Die Auskunft erstellt die Koordination der Geschäftsstelle."))
    data = client_disclosure_data(client=client)
    stamp = timezone.localdate().isoformat()
    if fmt == "json":
        content = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode("utf-8")
        result = (content, "application/json", f"auskunft-{stamp}.json")
    else:
        from weasyprint import HTML

        html = render_to_string("clients/disclosure_pdf.html", {"data": data, "client": client})
        result = (HTML(string=html).write_pdf(), "application/pdf", f"auskunft-{stamp}.pdf")
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        client_id=client.pk,
        object_type="disclosure",
        basis=access.client_access_for(user=actor, client=client).basis,  # type: ignore[union-attr]
        recipient=_("betroffene Person"),
        details={"format": fmt},
        request=request,
    )
    return result
