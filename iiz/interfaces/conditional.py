"""ETags and conditional requests.

The ETag is the SHA-256 of the representation the asking user receives (as JSON with sorted keys), so it
changes whenever anything the user sees changes, and two users who see different parts of a record get
different tags. ``If-None-Match`` on a read answers 304 when nothing changed; ``If-Match`` is required on
every change of an existing record (428 without it, 412 when it no longer matches), so that a partner
system never overwrites a change it has not seen.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from iiz.interfaces.problems import PreconditionFailed, PreconditionRequired


def etag_of(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return '"' + hashlib.sha256(canonical.encode("ascii")).hexdigest() + '"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _strip_weak(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def detail_response(request: Request, data: Any, *, status: int = 200) -> Response:
    """A representation with its ETag; 304 without a body when the client's copy is current."""
    etag = etag_of(data)
    header = request.headers.get("If-None-Match", "")
    # If-None-Match uses the weak comparison (RFC 9110, 13.1.2).
    if status == 200 and header and (header.strip() == "*" or etag in {_strip_weak(t) for t in _tags(header)}):
        return Response(status=304, headers={"ETag": etag})
    return Response(data, status=status, headers={"ETag": etag})


def if_match_require(request: Request, current: Any) -> None:
    """Refuse a change unless If-Match names the current representation (strong comparison)."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    if header == "*":
        return
    if etag_of(current) not in _tags(header):
        raise PreconditionFailed()
