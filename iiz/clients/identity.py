"""Whether a name and a date of birth are those of a recorded person (the matching rules of the duplicate check).

Someone who records or imports a person by AHV number must also know the person's name and date of birth
before the platform links them to a record they cannot see; otherwise an AHV number alone would reveal that
a partner institution knows the person. The rule is the duplicate check's (iiz/interfaces/matching.py):
the same date of birth and a name close enough to reach the likely-duplicate score (85 of 100: 30 for the
date, so the name's similarity must reach 92).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

if TYPE_CHECKING:
    from iiz.clients.models import Client

# The German spellings of umlauts without them, and other letters that do not decompose.
_SPELLINGS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "đ": "d"})
# token_sort_ratio a name must reach beside an equal date of birth: round(0.6 × 92) + 30 = 85.
NAME_SIMILARITY_FOR_IDENTITY = 92


def name_normalise(value: str) -> str:
    """Casefolded, umlauts spelled out (ä → ae), other accents removed, hyphens and spaces as one space."""
    text = value.casefold().translate(_SPELLINGS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(text.replace("-", " ").replace("'", " ").split())


def identity_matches(*, client: Client, first_name: str, last_name: str, date_of_birth: dt.date) -> bool:
    if client.date_of_birth != date_of_birth:
        return False
    typed = name_normalise(f"{first_name} {last_name}")
    stored = name_normalise(f"{client.first_name} {client.last_name}")
    return fuzz.token_sort_ratio(typed, stored) >= NAME_SIMILARITY_FOR_IDENTITY
