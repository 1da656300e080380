"""Checks of free text typed by users."""

from __future__ import annotations

from django.utils.translation import gettext as _

# Unicode's bidirectional controls (embeddings, overrides, isolates, marks): in a name they can make it
# read differently from what is stored ("Trojan Source"), so names and addresses refuse them.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_bidi_controls(value: str) -> bool:
    return any(char in BIDI_CONTROLS for char in value)


def bidi_errors(**fields: str) -> dict[str, list[str]]:
    """The fields whose text holds a bidirectional control character, with the message for each."""
    message = _("Steuerzeichen für die Schreibrichtung sind hier nicht erlaubt.")
    return {name: [message] for name, value in fields.items() if value and has_bidi_controls(value)}
