"""Encryption at rest for particularly sensitive data (health, social assistance) with key rotation.

Free text is stored as a Fernet token (AES-128-CBC with HMAC-SHA256) and uploaded documents are stored
encrypted in the file storage, so that a copy of the database or of the file storage alone reveals none
of them. Keys come from ``IIZ_ENCRYPTION_KEYS`` (comma-separated, newest first): new data is encrypted
with the first key, every listed key still decrypts, and ``manage.py encryption_rotate`` re-encrypts
everything with the first key so that old keys can be retired.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "enc1:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("IIZ_ENCRYPTION_KEYS must name at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured("IIZ_ENCRYPTION_KEYS holds a key that is not a valid Fernet key.") from error


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.IIZ_ENCRYPTION_KEYS))


def encrypt_bytes(data: bytes) -> bytes:
    return fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    return fernet().decrypt(token)


def rotate_bytes(token: bytes) -> bytes:
    return fernet().rotate(token)


def encrypt_text(value: str) -> str:
    return PREFIX + fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_text(stored: str) -> str:
    if not stored.startswith(PREFIX):
        # Written before the field was encrypted (or by a migration); returned as it is and encrypted on save.
        return stored
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "An encrypted value cannot be decrypted with any key in IIZ_ENCRYPTION_KEYS."
        ) from error


class EncryptedTextField(models.TextField):
    """A text field whose value is encrypted in the database and plain in Python.

    It cannot be searched or ordered by in SQL, which is the point.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(str(value))


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every model with encrypted fields, and the names of those fields (for key rotation)."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found
