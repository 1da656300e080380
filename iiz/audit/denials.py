"""Which refusals of the current request are already in the audit trail.

Views and selectors that refuse access write their own denial entry with what they know (the client, the
object). ``iiz.core.middleware.DenialAuditMiddleware`` writes one for every other 403 or 404 answer, so
that no refusal goes unrecorded; this module tells it which denials the request has written already.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

_written: ContextVar[tuple[int, ...]] = ContextVar("iiz_denials_written", default=())


def denials_begin() -> Token[tuple[int, ...]]:
    return _written.set(())


def denials_end(token: Token[tuple[int, ...]]) -> None:
    _written.reset(token)


def denial_written(event_id: int) -> None:
    _written.set((*_written.get(), event_id))


def denials_written() -> tuple[int, ...]:
    return _written.get()
