"""The keys of the audit trail and the signed checkpoints of its chain, kept outside the database.

Why: the audit trail must stay trustworthy against whoever owns the database. Triggers refuse changes,
but the owner can drop them. So every value that proves an entry is computed with keys that live in the
environment of the application and of the sealer, never in the database, and the chain's head is
published as a signed checkpoint to a second store (a directory the operators mount from an append-only
object store, beside the daily audit export):

* each entry carries ``entry_mac``, an HMAC-SHA256 of its content under the newest key of
  ``IIZ_AUDIT_KEYS``, computed by the process that writes it (no read, no lock);
* the sealer (``audit_seal``) appends the entries in batches to the chain: seal ``n`` holds
  HMAC(key, chain value of seal n-1, n, entry id, entry MAC), so removing, reordering or recomputing any
  part of it needs the key;
* every N entries or M seconds the sealer writes a checkpoint (sequence number, entry, chain value, time)
  signed with an Ed25519 key of ``IIZ_AUDIT_SIGNING_KEYS`` to ``IIZ_AUDIT_CHECKPOINT_DIR``; cutting the
  tail of the chain is detected against the newest checkpoint. The public keys verify without the secret.

Keys rotate like the encryption keys: the new key goes first, the older ones stay listed so that what they
sealed can still be verified (``IIZ_AUDIT_VERIFY_KEYS`` holds the public halves of retired signing keys).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

CHECKPOINT_FORMAT = "iiz-audit-checkpoint-1"


def _decode(value: str, name: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except (binascii.Error, ValueError) as error:
        raise ImproperlyConfigured(f"{name} holds a value that is not base64.") from error


def key_id(material: bytes) -> str:
    """A short name of a key that reveals nothing of it: the start of its SHA-256."""
    return hashlib.sha256(b"iiz-audit-key-id\0" + material).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------------------
# The MAC keys (HMAC-SHA256)
# ---------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _mac_keys(values: tuple[str, ...]) -> tuple[tuple[str, bytes], ...]:
    if not values:
        raise ImproperlyConfigured("IIZ_AUDIT_KEYS must name at least one key (base64, 32 bytes or more).")
    keys = []
    for value in values:
        secret = _decode(value, "IIZ_AUDIT_KEYS")
        if len(secret) < 32:
            raise ImproperlyConfigured("Each key in IIZ_AUDIT_KEYS must be at least 32 random bytes.")
        keys.append((key_id(secret), secret))
    return tuple(keys)


def mac_keys() -> dict[str, bytes]:
    return dict(_mac_keys(tuple(settings.IIZ_AUDIT_KEYS)))


def current_mac_key() -> tuple[str, bytes]:
    return _mac_keys(tuple(settings.IIZ_AUDIT_KEYS))[0]


class UnknownKey(Exception):
    pass


def _mac(key: bytes, *parts: str) -> str:
    return hmac.new(key, "\n".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()


def entry_mac(payload: str, *, kid: str | None = None) -> tuple[str, str]:
    """(key id, MAC) of an entry's canonical content, under the named key or the newest one."""
    if kid is None:
        kid, key = current_mac_key()
    else:
        found = mac_keys().get(kid)
        if found is None:
            raise UnknownKey(kid)
        key = found
    return kid, _mac(key, "iiz-audit-entry-1", payload)


def chain_value(*, kid: str, previous: str, seq: int, event_id: int, mac: str) -> str:
    """The chain value of seal ``seq``: it binds the previous value, the position, the entry and its MAC."""
    key = mac_keys().get(kid)
    if key is None:
        raise UnknownKey(kid)
    return _mac(key, "iiz-audit-chain-1", previous, str(seq), str(event_id), mac)


# ---------------------------------------------------------------------------------------------------------
# The signing keys (Ed25519) and the checkpoints
# ---------------------------------------------------------------------------------------------------------


def _public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@lru_cache(maxsize=4)
def _signing_keys(values: tuple[str, ...]) -> tuple[tuple[str, Ed25519PrivateKey], ...]:
    keys = []
    for value in values:
        seed = _decode(value, "IIZ_AUDIT_SIGNING_KEYS")
        if len(seed) != 32:
            raise ImproperlyConfigured("Each key in IIZ_AUDIT_SIGNING_KEYS must be an Ed25519 seed of 32 bytes.")
        private = Ed25519PrivateKey.from_private_bytes(seed)
        keys.append((key_id(_public_raw(private.public_key())), private))
    return tuple(keys)


def signing_key() -> tuple[str, Ed25519PrivateKey]:
    keys = _signing_keys(tuple(settings.IIZ_AUDIT_SIGNING_KEYS))
    if not keys:
        raise ImproperlyConfigured("The audit sealer needs IIZ_AUDIT_SIGNING_KEYS to sign checkpoints.")
    return keys[0]


@lru_cache(maxsize=4)
def _verify_keys(signing: tuple[str, ...], public: tuple[str, ...]) -> dict[str, Ed25519PublicKey]:
    keys = {kid: private.public_key() for kid, private in _signing_keys(signing)}
    for value in public:
        raw = _decode(value, "IIZ_AUDIT_VERIFY_KEYS")
        if len(raw) != 32:
            raise ImproperlyConfigured("Each key in IIZ_AUDIT_VERIFY_KEYS must be an Ed25519 public key of 32 bytes.")
        keys[key_id(raw)] = Ed25519PublicKey.from_public_bytes(raw)
    return keys


def verify_keys() -> dict[str, Ed25519PublicKey]:
    return _verify_keys(tuple(settings.IIZ_AUDIT_SIGNING_KEYS), tuple(settings.IIZ_AUDIT_VERIFY_KEYS))


def public_key_of(seed_b64: str) -> str:
    """The public half of a signing key, for IIZ_AUDIT_VERIFY_KEYS (``manage.py audit_keys``)."""
    private = Ed25519PrivateKey.from_private_bytes(_decode(seed_b64, "IIZ_AUDIT_SIGNING_KEYS"))
    return base64.urlsafe_b64encode(_public_raw(private.public_key())).decode().rstrip("=")


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the chain had ``seq`` seals, the last one sealing ``event_id`` with ``chain_value``."""

    seq: int
    event_id: int
    chain_value: str
    chain_key: str
    sealed_at: str
    signing_key: str
    signature: str
    path: str = ""

    def signed_fields(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "seq": self.seq,
            "event_id": self.event_id,
            "chain_value": self.chain_value,
            "chain_key": self.chain_key,
            "sealed_at": self.sealed_at,
            "signing_key": self.signing_key,
        }

    def signature_valid(self) -> bool:
        public = verify_keys().get(self.signing_key)
        if public is None:
            return False
        try:
            public.verify(base64.b64decode(self.signature), _canonical(self.signed_fields()))
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def checkpoint_dir() -> Path:
    return Path(settings.IIZ_AUDIT_CHECKPOINT_DIR)


def checkpoint_write(*, seq: int, event_id: int, chain: str, chain_key: str, sealed_at: dt.datetime) -> Checkpoint:
    """Sign the chain's head and write it as a new file; an existing checkpoint is never overwritten."""
    kid, private = signing_key()
    unsigned = Checkpoint(
        seq=seq,
        event_id=event_id,
        chain_value=chain,
        chain_key=chain_key,
        sealed_at=sealed_at.astimezone(dt.UTC).isoformat(),
        signing_key=kid,
        signature="",
    )
    signature = base64.b64encode(private.sign(_canonical(unsigned.signed_fields()))).decode()
    record = {**unsigned.signed_fields(), "signature": signature}
    day = sealed_at.astimezone(dt.UTC)
    folder = checkpoint_dir() / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"checkpoint-{seq:015d}.json"
    partial = folder / f".checkpoint-{seq:015d}.{os.getpid()}.partial"
    partial.write_text(json.dumps(record, sort_keys=True) + "\n", encoding="utf-8")
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    try:
        # A hard link fails when the target exists: a checkpoint, once written, is never replaced.
        os.link(partial, target)
    except FileExistsError:
        pass
    finally:
        partial.unlink(missing_ok=True)
    return Checkpoint(**{**unsigned.__dict__, "signature": signature, "path": str(target)})


def _read(path: Path) -> Checkpoint | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("format") != CHECKPOINT_FORMAT:
            return None
        return Checkpoint(
            seq=int(record["seq"]),
            event_id=int(record["event_id"]),
            chain_value=str(record["chain_value"]),
            chain_key=str(record["chain_key"]),
            sealed_at=str(record["sealed_at"]),
            signing_key=str(record["signing_key"]),
            signature=str(record["signature"]),
            path=str(path),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def checkpoint_files() -> list[Path]:
    """Every checkpoint file, oldest first (the names sort by sequence number within a day)."""
    root = checkpoint_dir()
    if not root.is_dir():
        return []
    return sorted(root.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/checkpoint-*.json"))


def checkpoints_all() -> tuple[list[Checkpoint], list[str]]:
    """(readable checkpoints, names of files that are unreadable), oldest first."""
    found, unreadable = [], []
    for path in checkpoint_files():
        checkpoint = _read(path)
        if checkpoint is None:
            unreadable.append(str(path))
        else:
            found.append(checkpoint)
    return sorted(found, key=lambda c: c.seq), unreadable


def checkpoint_latest() -> Checkpoint | None:
    """The newest readable checkpoint whose signature holds (the days are walked from the newest)."""
    best: Checkpoint | None = None
    root = checkpoint_dir()
    if not root.is_dir():
        return None
    days = sorted(root.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]"), reverse=True)
    for day in days:
        for path in sorted(day.glob("checkpoint-*.json"), reverse=True):
            checkpoint = _read(path)
            if checkpoint is not None and checkpoint.signature_valid():
                if best is None or checkpoint.seq > best.seq:
                    best = checkpoint
                break
        if best is not None:
            return best
    return best
