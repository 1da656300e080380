"""Input and output serializers of the bulk import's API: the upload, and a batch as a list entry and in full.

The batch's figures are those the import service stored (``iiz.interfaces.imports``); nothing is worked out
here. Duplicates are shown by row and score only, as on the web page: the person the row resembles may be
recorded by another institution, and the token must not learn that they exist.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from iiz.interfaces.models_imports import ImportBatch, ImportStatus
from iiz.interfaces.serializers import InputSerializer

# The detail lists at most this many rejected rows; the CSV report has all of them.
ERRORS_SHOWN = 1000


class ImportUploadSerializer(InputSerializer):
    """The file, as multipart/form-data; no other field."""

    file = serializers.FileField(
        max_length=255,
        allow_empty_file=False,
        help_text=(
            "CSV (semicolon or comma; UTF-8, UTF-8 with BOM or Windows-1252), XLSX without formulas and merged "
            "cells, or an eCH-0044/eCH-0010 person delivery (XML). The file name's suffix (.csv, .txt, .xlsx, "
            ".xml) names the format."
        ),
    )


class ImportProgressSerializer(serializers.Serializer):
    processed_rows = serializers.IntegerField()
    total_rows = serializers.IntegerField(help_text="Known once the check has read the file; 0 before.")
    percent = serializers.IntegerField(source="progress_percent", min_value=0, max_value=100)


class ImportCountsSerializer(serializers.Serializer):
    # Declared fields leave the class body (DRF's metaclass), so this does not hide Serializer.create.
    create = serializers.IntegerField(  # type: ignore[assignment]
        help_text="New persons, each with a registration with your institution."
    )
    change = serializers.IntegerField(help_text="New registrations of known persons, changed case numbers.")
    unchanged = serializers.IntegerField(help_text="Rows already imported: nothing to do.")
    rejected = serializers.IntegerField(help_text="Rows with at least one error.")


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row in the file; the header is row 1.")
    column = serializers.CharField(help_text="The column as the file names it.")
    message = serializers.CharField(help_text="Why the row is rejected, in the language of the check.")


class ImportDuplicateSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    score = serializers.IntegerField(min_value=0, max_value=100)
    reasons = serializers.ListField(child=serializers.CharField())


class ImportChangeSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    text = serializers.CharField()


class ImportBatchSummarySerializer(serializers.Serializer):
    """A batch as listed: where it stands and what it found."""

    id = serializers.UUIDField(source="public_id")
    file_name = serializers.CharField()
    file_format = serializers.CharField()
    status = serializers.ChoiceField(
        choices=ImportStatus.choices,
        help_text=(
            "checking → previewed (confirm it) or rejected; after confirming: running → done, or failed when the "
            "data changed since the check (nothing was written)."
        ),
    )
    progress = ImportProgressSerializer(source="*")
    counts = serializers.SerializerMethodField(help_text="Null while the file is being checked.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ImportCountsSerializer(allow_null=True))
    def get_counts(self, batch: ImportBatch) -> dict[str, Any] | None:
        if not batch.counts:
            return None
        return dict(ImportCountsSerializer(batch.counts).data)


class ImportBatchDetailSerializer(ImportBatchSummarySerializer):
    """A batch in full: the rejected rows with row, column and reason, likely duplicates, planned changes."""

    encoding = serializers.CharField(help_text="The encoding detected in a CSV file; empty for XLSX.")
    file_error = serializers.CharField(
        help_text="Why the file as a whole was rejected (or why taking it failed); empty otherwise."
    )
    error_count = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text=f"The rejected rows' errors in row order, at most {ERRORS_SHOWN}: all of them are in rejected.csv."
    )
    duplicates = ImportDuplicateSerializer(
        many=True, help_text="New persons who look like a person already recorded under another AHV number."
    )
    changes = ImportChangeSerializer(many=True, help_text="The first planned changes of known persons.")

    @extend_schema_field(OpenApiTypes.INT)
    def get_error_count(self, batch: ImportBatch) -> int:
        return len(batch.errors)

    @extend_schema_field(ImportRowErrorSerializer(many=True))
    def get_errors(self, batch: ImportBatch) -> list[Any]:
        return list(ImportRowErrorSerializer(batch.errors[:ERRORS_SHOWN], many=True).data)
