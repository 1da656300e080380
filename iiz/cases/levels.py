"""The level model (Stufenmodell) as an explicit state machine.

Level 1 is specialist advice inside the institution, level 2 the support of a coordinator of the
Geschäftsstelle, level 3 the regional case team. A case escalates one level at a time, only as far as
needed, and steps back down one level at a time. Nothing else is a move.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from iiz.cases.models import Level
from iiz.organisations.models import Role

# Who may make each move: asking the Geschäftsstelle for help is the specialist's decision (a coordinator
# may also take a case up); forming a case team and stepping down are the coordinator's.
MOVES: dict[tuple[int, int], frozenset[str]] = {
    (Level.SPECIALIST, Level.COORDINATOR): frozenset({Role.SPECIALIST, Role.COORDINATOR}),
    (Level.COORDINATOR, Level.CASE_TEAM): frozenset({Role.COORDINATOR}),
    (Level.CASE_TEAM, Level.COORDINATOR): frozenset({Role.COORDINATOR}),
    (Level.COORDINATOR, Level.SPECIALIST): frozenset({Role.COORDINATOR}),
}


class MoveNotAllowed(Exception):
    """A move the level model does not allow; the message is for the user."""


def level_move_check(*, source: int, target: int, roles: frozenset[str], case_open: bool) -> None:
    """Raise MoveNotAllowed with the reason when the move is not allowed."""
    if not case_open:
        raise MoveNotAllowed(_("Der Fall ist abgeschlossen; die Stufe kann nicht mehr geändert werden."))
    if source == target:
        raise MoveNotAllowed(_("Der Fall ist bereits auf dieser Stufe."))
    allowed_roles = MOVES.get((source, target))
    if allowed_roles is None:
        raise MoveNotAllowed(
            _(
                "Von Stufe %(source)s nach Stufe %(target)s gibt es keinen direkten Wechsel; die Stufen werden "
                "einzeln durchlaufen."
            )
            % {"source": source, "target": target}
        )
    if not roles & allowed_roles:
        raise MoveNotAllowed(_("Ihre Rolle darf diesen Stufenwechsel nicht vornehmen."))


def level_moves_available(*, source: int, roles: frozenset[str], case_open: bool) -> list[int]:
    """The levels this user may move the case to now."""
    if not case_open:
        return []
    return sorted(target for (start, target), allowed in MOVES.items() if start == source and roles & allowed)
