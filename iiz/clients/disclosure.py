"""The right of access (IDG ZH § 20, DSG Art. 25): what the platform holds about one person.

A coordinator produces it for the person under an open access request (AccessRequest), as a PDF for the
person and as a machine-readable JSON file. It holds what the law gives the person (DSG Art. 25 para. 2):
the data of the kinds the person asked for, from every institution (they are the person's own), where each
came from, why it is processed, how long it is kept, and which institutions accessed it or received it.
It never holds more than the request covers, nor data about other people: the access log names the
institution and the role, not the staff member.
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
from iiz.audit.models import AccessRequest, AuditAction, AuditBasis, AuditEvent, DisclosureScope
from iiz.audit.services import audit_record
from iiz.cases.models import Case
from iiz.clients.models import Client
from iiz.exchange.models import Document, Message
from iiz.organisations.models import Role

if TYPE_CHECKING:
    from iiz.organisations.models import User


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


def _purposes() -> list[str]:
    return [
        _("Koordination der Unterstützung durch die Partnerinstitutionen der interinstitutionellen Zusammenarbeit"),
        _("Austausch zwischen den Institutionen nur mit Ihrer Einwilligung oder auf gesetzlicher Grundlage"),
        _("Protokollierung jedes Zugriffs (DSV Art. 4)"),
    ]


def _retention() -> list[dict[str, Any]]:
    from django.conf import settings

    from iiz.clients.models import DataCategory

    labels = dict(DataCategory.choices)
    return [
        {"category": str(labels.get(category, category)), "years_after_closure": years}
        for category, years in sorted(settings.IIZ_RETENTION_YEARS.items())
    ]


def client_disclosure_data(*, client: Client, scope: list[str] | None = None) -> dict[str, Any]:
    """What the person asked to learn about themselves, as plain data (shared by the PDF and the JSON file).

    ``scope`` lists the kinds of data asked for (DisclosureScope); only those are read and returned.
    Who the report is about, the purposes and the retention periods are always part of it.
    """
    kinds = set(DisclosureScope.values if scope is None else scope)
    data: dict[str, Any] = {
        "generated_at": timezone.now(),
        "scope": [kind for kind in DisclosureScope.values if kind in kinds],
        "subject": {
            "first_name": client.first_name,
            "last_name": client.last_name,
            "date_of_birth": client.date_of_birth,
        },
        "controller": _("Geschäftsstelle iiz, Kanton Zürich, im Auftrag der Partnerinstitutionen"),
        "purposes": _purposes(),
        "retention": _retention(),
    }
    if DisclosureScope.PERSONAL in kinds:
        data["person"] = {
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
        }
    if DisclosureScope.REGISTRATIONS in kinds:
        data["registrations"] = [
            {
                "institution": r.institution.name,
                "case_number": r.external_case_number,
                "from": r.registered_on,
                "until": r.deregistered_on,
            }
            for r in client.registrations.select_related("institution")
        ]
    if DisclosureScope.CONSENTS in kinds:
        data["consents"] = [
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
        ]
    if DisclosureScope.CASES in kinds:
        cases = (
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
        data["cases"] = [_case_data(case) for case in cases]
    if DisclosureScope.EXCHANGE in kinds:
        messages = Message.objects.filter(case__client=client).select_related("sender_institution")
        documents = Document.objects.filter(case__client=client).select_related("institution")
        data["messages"] = [
            {
                "case": m.case_id,
                "kind": m.get_kind_display(),
                "category": m.get_category_display(),
                "subject": m.subject,
                "from": m.sender_institution.name,
                "sent_at": m.sent_at,
            }
            for m in messages.order_by("sent_at")
        ]
        data["documents"] = [
            {
                "title": d.title,
                "kind": d.get_kind_display(),
                "category": d.get_category_display(),
                "from": d.institution.name,
                "uploaded_at": d.uploaded_at,
                "size": d.size,
            }
            for d in documents.order_by("uploaded_at")
        ]
    if DisclosureScope.ACCESS_LOG in kinds:
        # Which body accessed the data, in which role and on which basis, and to whom anything was disclosed.
        # The staff member's name is someone else's personal data, so it is left out.
        data["audit"] = [
            {
                "at": e.occurred_at,
                "institution": e.actor_institution,
                "roles": list(e.actor_roles),
                "action": e.get_action_display(),
                "object": e.object_type,
                "basis": e.get_basis_display(),
                "to": e.recipient,
            }
            for e in AuditEvent.objects.filter(client_id=client.pk).order_by("occurred_at", "id")
        ]
    return data


def client_disclosure_export(
    *, actor: User, client: Client, fmt: str, request: HttpRequest | None = None
) -> tuple[bytes, str, str]:
    """The report for the person's open request as (content, content type, file name); it is audited."""
    answered: AccessRequest | None = access.may_produce_disclosure(user=actor, client=client)
    if answered is None:
        raise PermissionDenied(_("Die Auskunft wird nur für ein offenes Auskunftsbegehren der Person erstellt."))
    data = client_disclosure_data(client=client, scope=answered.scope)
    stamp = timezone.localdate().isoformat()
    if fmt == "json":
        content = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode("utf-8")
        result = (content, "application/json", f"auskunft-{stamp}.json")
    else:
        from weasyprint import HTML

        labels = dict(DisclosureScope.choices)
        html = render_to_string(
            "clients/disclosure_pdf.html",
            {"data": data, "client": client, "scope_labels": [labels[k] for k in data["scope"]]},
        )
        result = (HTML(string=html).write_pdf(), "application/pdf", f"auskunft-{stamp}.pdf")
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        client_id=client.pk,
        object_type="disclosure",
        object_id=answered.public_id,
        basis=AuditBasis.ACCESS_REQUEST,
        recipient=_("betroffene Person"),
        details={"format": fmt, "scope": data["scope"]},
        request=request,
    )
    return result
