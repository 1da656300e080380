"""Web pages of the bulk import: upload, preview with progress, confirm, and the report of rejected rows."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from iiz import access
from iiz.interfaces.imports import import_batch_confirm, import_batch_create, rejected_rows_csv
from iiz.interfaces.models_imports import ImportBatch
from iiz.lib.forms import form_add_service_errors


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV-, XLSX- oder XML-Datei (eCH)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,.xml,text/csv,application/xml,text/xml"}),
    )


def _require_importer(request: HttpRequest) -> None:
    if not access.may_create_clients(request.user):  # type: ignore[arg-type]
        raise PermissionDenied


def _batch_for_user(request: HttpRequest, public_id: uuid.UUID) -> ImportBatch:
    _require_importer(request)
    batch = ImportBatch.objects.filter(public_id=public_id, institution_id=request.user.institution_id).first()  # type: ignore[union-attr,misc]
    if batch is None:
        raise Http404
    return batch


def import_start(request: HttpRequest) -> HttpResponse:
    _require_importer(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = import_batch_create(actor=request.user, upload=form.cleaned_data["file"])  # type: ignore[arg-type]
        except ValidationError as error:
            form_add_service_errors(form, error)
        else:
            return redirect("imports:detail", public_id=batch.public_id)
    batches = ImportBatch.objects.filter(institution_id=request.user.institution_id)[:20]  # type: ignore[union-attr,misc]
    return render(request, "interfaces/imports_start.html", {"form": form, "batches": batches})


def import_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The preview page; with htmx only its progress fragment, which polls while the job runs."""
    batch = _batch_for_user(request, public_id)
    template = "interfaces/imports_detail.html"
    if request.headers.get("HX-Request"):
        template += "#progress"
    return render(request, template, {"batch": batch})


@require_POST
def import_confirm(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    batch = _batch_for_user(request, public_id)
    try:
        import_batch_confirm(actor=request.user, batch=batch)  # type: ignore[arg-type]
    except ValidationError:
        pass  # The page shows the batch's status, which says why it cannot be taken.
    return redirect("imports:detail", public_id=batch.public_id)


def import_errors(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    batch = _batch_for_user(request, public_id)
    response = HttpResponse(rejected_rows_csv(batch).encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="abgelehnte-zeilen-{batch.public_id}.csv"'
    return response
