"""The REST API of the bulk import: upload, poll, confirm, and the report of rejected rows.

A thin layer over the web's import service (``iiz.interfaces.imports``): the upload keeps the file and
starts the check in the background (Celery after commit, inline in the demo), the partner system polls the
batch until it is ``previewed`` or ``rejected``, and confirms it; the whole file is then taken in one
transaction, or nothing. The token's service user is the importer, so the registrations are its
institution's and the audit trail names it.

One thing happens here that the web page leaves to the background check: the file's first row is read
at once, with the service's own reader, so that a file that cannot be an import at all (unreadable, a
missing column, merged cells) is refused with a problem detail instead of a batch that is rejected later.
Errors further down (each row, a formula in row 5,000) are the background check's, as on the web.
"""

from __future__ import annotations

import csv
import uuid
import zipfile
from collections.abc import Generator
from typing import Any
from xml.etree import ElementTree  # noqa: S405 - only its exception class

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from iiz import access
from iiz.interfaces import imports, selectors
from iiz.interfaces.conditional import detail_response
from iiz.interfaces.imports import ImportFileError, import_batch_confirm, import_batch_create, rejected_rows_csv
from iiz.interfaces.models import Scope
from iiz.interfaces.models_imports import ImportBatch
from iiz.interfaces.problems import Conflict
from iiz.interfaces.serializers_imports import (
    ImportBatchDetailSerializer,
    ImportBatchSummarySerializer,
    ImportUploadSerializer,
)
from iiz.interfaces.views import ApiView, actor, http, validated
from iiz.organisations.models import User

# The multipart envelope around the file: boundaries, headers of the part.
_ENVELOPE_BYTES = 64 * 1024
_UNREADABLE = (UnicodeDecodeError, csv.Error, zipfile.BadZipFile, ElementTree.ParseError, KeyError, OSError, ValueError)

_LOCATION = OpenApiParameter(
    "Location", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[202], description="The batch, to poll."
)


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "payload_too_large"


class CsvRenderer(BaseRenderer):
    """The report's one format, so that content negotiation offers CSV. The report itself is answered as a
    plain response; what reaches this renderer is a problem detail, which stays JSON whatever was asked for."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return JSONRenderer().render(data, accepted_media_type, renderer_context)


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(_("Die Datei ist grösser als 50 MB."))


def _first_row_problem(batch: ImportBatch) -> str | None:
    """Why the stored file cannot be an import at all, as far as its first row shows; None if it may be.

    Read with the service's reader and header rules, so the messages are those of the background check.
    An eCH delivery (XML) is left to the background check, which validates the document as a whole.
    """
    if batch.file_format not in {"csv", "xlsx"}:
        return None
    with imports.import_file_open(batch) as stream:
        _encoding, rows = imports.file_rows(stream, batch.file_format)
        try:
            header = next(rows, None)
            if header is None:
                return _("Die Datei ist leer.")
            if any("\x00" in cell for cell in header):
                # UTF-16 and other encodings read as Windows-1252 put NUL characters between the letters.
                return _(
                    "Die Datei ist weder in UTF-8 noch in Windows-1252 gespeichert. Bitte speichern Sie sie als UTF-8."
                )
            imports.map_header(header)
        except ImportFileError as error:
            return error.message
        except _UNREADABLE as error:
            return _("Die Datei kann nicht gelesen werden: %(error)s") % {"error": error}
        finally:
            if isinstance(rows, Generator):
                rows.close()
    return None


def _batch_create(*, user: User, upload: Any) -> ImportBatch:
    """The service's upload, undone (batch, audit entry, scheduled check and stored file) when the first row
    already shows that the file cannot be imported."""
    with transaction.atomic():
        batch = import_batch_create(actor=user, upload=upload)
        problem = _first_row_problem(batch)
        if problem is not None:
            transaction.set_rollback(True)
    if problem is not None:
        batch.file.delete(save=False)
        raise exceptions.ValidationError({"file": [problem]})
    return batch


def _accepted(request: Request, batch: ImportBatch) -> Response:
    # Read again: where the check ran inline (demo, tests) the batch has moved on since it was created.
    fresh = ImportBatch.objects.get(pk=batch.pk)
    location = reverse("api:import", kwargs={"public_id": fresh.public_id})
    return Response(ImportBatchDetailSerializer(fresh).data, status=202, headers={"Location": location})


class ImportListView(ApiView):
    scopes = {"GET": Scope.IMPORTS_WRITE, "POST": Scope.IMPORTS_WRITE}
    parser_classes = [MultiPartParser]

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator asks without a user
            return ImportBatch.objects.none()
        return selectors.import_batches_for_api(user=actor(self.request))

    @extend_schema(
        operation_id="imports_list",
        summary="Your institution's imports, newest first",
        tags=["imports"],
        responses=ImportBatchSummarySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response(ImportBatchSummarySerializer(page, many=True).data)

    @extend_schema(
        operation_id="imports_create",
        summary="Upload a file of persons and registrations (CSV, XLSX, eCH XML); it is checked in the background",
        description=(
            "Answers 202 with the batch and its `Location`. Poll the batch until its status is `previewed` "
            "(then confirm it) or `rejected` (every rejected row with row, column and reason; nothing is "
            "written). A file whose first row already shows that it cannot be imported (unreadable, wrong "
            "encoding, a missing column, merged cells) is refused at once with a 400 problem."
        ),
        tags=["imports"],
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportBatchDetailSerializer},
        parameters=[_LOCATION],
    )
    def post(self, request: Request) -> Response:
        user = actor(request)
        # Access before the body is read: who may not import learns nothing from the file's errors.
        if not access.may_create_clients(user):
            raise PermissionDenied(_("Sie dürfen keine Personen erfassen."))
        # Refused before the body is read when its announced length is already too much.
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > imports.MAX_UPLOAD_BYTES + _ENVELOPE_BYTES:
            raise _too_large()
        data = validated(ImportUploadSerializer, request)
        if data["file"].size > imports.MAX_UPLOAD_BYTES:
            raise _too_large()
        batch = _batch_create(user=user, upload=data["file"])
        return _accepted(request, batch)


class ImportDetailView(ApiView):
    scopes = {"GET": Scope.IMPORTS_WRITE}
    etag_on_read = True

    @extend_schema(
        operation_id="imports_retrieve",
        summary="An import: status, progress, counts, rejected rows, likely duplicates",
        tags=["imports"],
        responses=ImportBatchDetailSerializer,
    )
    def get(self, request: Request, public_id: uuid.UUID) -> Response:
        batch = selectors.import_batch_get_for_api(user=actor(request), public_id=public_id, request=http(request))
        return detail_response(request, ImportBatchDetailSerializer(batch).data)


class ImportConfirmView(ApiView):
    """Take the checked file: all rows in one transaction in the background, or none.

    Only a batch in the status `previewed` can be confirmed; any other status is a 409. No If-Match is
    needed: a checked batch does not change until it is confirmed, and a second confirmation is a 409.
    """

    scopes = {"POST": Scope.IMPORTS_WRITE}

    @extend_schema(
        operation_id="imports_confirm",
        summary="Confirm a previewed import",
        tags=["imports"],
        request=None,
        responses={202: ImportBatchDetailSerializer},
        parameters=[_LOCATION],
    )
    def post(self, request: Request, public_id: uuid.UUID) -> Response:
        user = actor(request)
        batch = selectors.import_batch_get_for_api(user=user, public_id=public_id, request=http(request))
        with transaction.atomic():
            # Locked, so that two confirmations at the same time cannot both pass the service's status check.
            locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            try:
                import_batch_confirm(actor=user, batch=locked)
            except DjangoValidationError as error:
                status = f"{_('Status')}: {locked.get_status_display()}."
                raise Conflict(" ".join([*error.messages, status])) from error
        return _accepted(request, batch)


class ImportRejectedRowsView(ApiView):
    scopes = {"GET": Scope.IMPORTS_WRITE}
    renderer_classes = [CsvRenderer]

    @extend_schema(
        operation_id="imports_rejected_rows",
        summary="The rejected rows as CSV (row, column, reason), the same file as on the web page",
        tags=["imports"],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="Semicolon-separated, UTF-8.")},
    )
    def get(self, request: Request, public_id: uuid.UUID) -> HttpResponse:
        batch = selectors.import_batch_get_for_api(user=actor(request), public_id=public_id, request=http(request))
        response = HttpResponse(rejected_rows_csv(batch).encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="abgelehnte-zeilen-{batch.public_id}.csv"'
        return response
