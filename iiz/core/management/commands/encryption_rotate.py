"""Re-encrypt every encrypted value and file with the newest key in IIZ_ENCRYPTION_KEYS.

Rotation: put the new key first in IIZ_ENCRYPTION_KEYS (keeping the old ones after it), deploy, run this
command, then remove the old keys. Rows are rewritten in batches, each batch in its own transaction.
"""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import models, transaction

from iiz.clients.models import Consent
from iiz.exchange.models import Document
from iiz.lib.crypto import encrypted_fields, rotate_bytes

BATCH = 500


def _rotate_rows(model: type[models.Model], names: list[str]) -> int:
    # Reading decrypts with any listed key; writing back encrypts with the newest one.
    manager = model._default_manager
    pks = list(manager.values_list("pk", flat=True).order_by("pk"))
    for start in range(0, len(pks), BATCH):
        with transaction.atomic():
            for row in manager.filter(pk__in=pks[start : start + BATCH]).values("pk", *names):
                manager.filter(pk=row["pk"]).update(**{name: row[name] for name in names})
    return len(pks)


def _rotate_file(field_file: Any, name: str) -> None:
    old_name = field_file.name
    with field_file.open("rb") as handle:
        token = handle.read()
    field_file.save(name, ContentFile(rotate_bytes(token)), save=True)
    field_file.storage.delete(old_name)


class Command(BaseCommand):
    help = "Re-encrypt all data encrypted at rest with the newest key."

    def handle(self, *args: Any, **options: Any) -> None:
        for model, names in encrypted_fields():
            count = _rotate_rows(model, names)
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
        files = 0
        for document in Document.objects.iterator():
            _rotate_file(document.file, "document.bin")
            files += 1
        for consent in Consent.objects.exclude(document="").iterator():
            _rotate_file(consent.document, "consent.bin")
            files += 1
        self.stdout.write(f"{files} files re-encrypted")
