"""Locking for every change of state, so that no change is lost to a second writer without a word.

Content that users edit (a plan, a clarification, minutes) carries a ``lock_version``: the form sends the
version it was loaded with, and ``version_bump`` takes the next one only if nobody took it first
(optimistic). A transition of a status (an agreement done, a request answered, a case closed) reads the row
with ``locked`` (pessimistic) and checks the status it finds: the second writer is told, with
``already_done`` when the same step was taken already (and nothing is recorded twice), or with ``stale``
when somebody else changed it in another way.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db.models import F, Model
from django.utils.translation import gettext as _

M = TypeVar("M", bound=Model)


class StaleEdit(ValidationError):
    """Somebody else changed the record since the form was loaded."""


class AlreadyDone(ValidationError):
    """The step was taken already, by this user or another; nothing was changed or recorded again."""


def stale(message: str | None = None) -> StaleEdit:
    return StaleEdit(
        message
        or _(
            "Jemand anderes hat diese Angaben inzwischen geändert. Ihre Eingaben sind unten erhalten; "
            "laden Sie die aktuelle Fassung in einem neuen Fenster, übertragen Sie Ihre Änderungen und "
            "speichern Sie erneut."
        ),
        code="stale",
    )


def already_done(message: str) -> AlreadyDone:
    return AlreadyDone(message, code="already_done")


def locked(instance: M) -> M:
    """Lock the row until the end of the transaction and read it again into ``instance``, which is returned.

    The caller's object is updated in place, so that whoever passed it sees the state the service acted on.
    """
    instance.refresh_from_db(from_queryset=type(instance)._default_manager.select_for_update())
    return instance


def version_bump(instance: Model, expected_version: int | None) -> None:
    """Optimistic locking: take the next version only if nobody else took it first."""
    model = type(instance)
    current = int(instance.lock_version)  # type: ignore[attr-defined]
    if expected_version is not None and expected_version != current:
        raise stale()
    updated = model._default_manager.filter(pk=instance.pk, lock_version=current).update(
        lock_version=F("lock_version") + 1
    )
    if updated != 1:
        raise stale()
    instance.lock_version = current + 1  # type: ignore[attr-defined]
