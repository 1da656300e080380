"""Checks for uploaded documents: the content decides the type, not the file name or the browser."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# Leading bytes of the formats we accept for signed forms, certificates and reports.
_SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"II*\x00", "image/tiff", "tif"),
    (b"MM\x00*", "image/tiff", "tif"),
]


def sniff_content_type(head: bytes) -> tuple[str, str] | None:
    for signature, content_type, suffix in _SIGNATURES:
        if head.startswith(signature):
            return content_type, suffix
    return None


def validate_document_upload(upload: UploadedFile) -> str:
    """Return the detected content type, or raise a ValidationError in the user's language."""
    limit = settings.IIZ_UPLOAD_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("Die Datei ist zu gross (%(size)s). Erlaubt sind höchstens %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    detected = sniff_content_type(head)
    if detected is None:
        raise ValidationError(
            _("Nur PDF-Dateien und Bilder (PNG, JPEG, TIFF) sind erlaubt. Diese Datei ist keines davon."),
            code="bad_type",
        )
    return detected[0]
