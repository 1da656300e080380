"""The likely duplicates of a client, to merge or to reject, and the client's merges, each with its undo."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.clients.models import Client
from iiz.interfaces.matching import clients_merge, clients_merge_undo, match_reject, merge_candidates_for
from iiz.interfaces.models_imports import MergeRecord


def _client(request: HttpRequest, public_id: uuid.UUID) -> Client:
    client = access.clients_visible_to(user=request.user).filter(public_id=public_id).first()  # type: ignore[arg-type]
    if client is None:
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=AuditAction.DENIED,
            client_id=Client.objects.filter(public_id=public_id).values_list("pk", flat=True).first(),
            object_type="client",
            object_id=str(public_id),
            basis=AuditBasis.NONE,
            request=request,
        )
        raise Http404
    return client


@require_GET
def merge_candidates(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    client = _client(request, public_id)
    candidates = merge_candidates_for(user=request.user, client=client)  # type: ignore[arg-type]
    # The merges into this record that can still be undone, each with its button.
    merges = MergeRecord.objects.filter(kept=client, undone_at__isnull=True).select_related("merged", "merged_by")
    if candidates:
        # The candidates' names and AHV numbers are shown: a search of the user's, audited like one.
        audit_record(
            actor=request.user,  # type: ignore[arg-type]
            action=AuditAction.SEARCH,
            client_id=client.pk,
            object_type="client_duplicates",
            details={"results": [other.pk for other, _candidate in candidates]},
            request=request,
        )
    return render(
        request,
        "interfaces/matching_candidates.html",
        {"client": client, "candidates": candidates, "merges": list(merges)},
    )


@require_POST
def merge_decide(request: HttpRequest, public_id: uuid.UUID, other_id: uuid.UUID) -> HttpResponse:
    client = _client(request, public_id)
    other = _client(request, other_id)
    try:
        if request.POST.get("decision") == "merge":
            clients_merge(
                actor=request.user,  # type: ignore[arg-type]
                keep=client,
                merge=other,
                reason=request.POST.get("reason", ""),
            )
            messages.success(
                request,
                _("%(other)s ist mit %(client)s zusammengeführt. Sie können das unten rückgängig machen.")
                % {"other": other.full_name, "client": client.full_name},
            )
        else:
            match_reject(actor=request.user, first=client, second=other)  # type: ignore[arg-type]
            messages.success(
                request,
                _("Vermerkt: %(other)s und %(client)s sind verschiedene Personen.")
                % {"other": other.full_name, "client": client.full_name},
            )
    except ValidationError as error:
        # A missing reason, or the same record twice: said on the page, nothing changed.
        messages.error(request, " ".join(error.messages))
    return redirect("imports:candidates", public_id=client.public_id)


@require_POST
def merge_undo(request: HttpRequest, record_id: int) -> HttpResponse:
    record = MergeRecord.objects.filter(pk=record_id).select_related("kept").first()
    if record is None:
        raise Http404
    _client(request, record.kept.public_id)
    try:
        clients_merge_undo(actor=request.user, record=record)  # type: ignore[arg-type]
    except ValidationError as error:
        # Undone already (a second click, another tab): say so on the page instead of failing.
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Die Zusammenführung ist rückgängig gemacht: %(name)s ist wieder ein eigener Eintrag.")
            % {"name": record.merged.full_name},
        )
    return redirect("imports:candidates", public_id=record.kept.public_id)
