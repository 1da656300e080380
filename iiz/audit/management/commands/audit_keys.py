"""Generate keys for the audit trail: an HMAC key, an Ed25519 signing key and its public half."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django.core.management.base import BaseCommand

from iiz.audit.chain import public_key_of


class Command(BaseCommand):
    help = "Print a new IIZ_AUDIT_KEYS entry, a new IIZ_AUDIT_SIGNING_KEYS entry and its IIZ_AUDIT_VERIFY_KEYS entry."

    def handle(self, *args: Any, **options: Any) -> None:
        mac = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        seed = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        self.stdout.write(f"IIZ_AUDIT_KEYS entry (put it first):          {mac}")
        self.stdout.write(f"IIZ_AUDIT_SIGNING_KEYS entry (the sealer's):  {seed}")
        self.stdout.write(f"IIZ_AUDIT_VERIFY_KEYS entry (public, shareable): {public_key_of(seed)}")
