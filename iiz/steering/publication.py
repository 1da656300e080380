"""What a published steering figure shows: the one module that decides it.

The dashboards, the reports (PDF, XLSX), the API's key figures, the cost-benefit page and the case analyses
publish counts of persons only through this module.

Method: the cell key method, as statistical offices use it for table builders with free filters (the
Australian Bureau of Statistics' TableBuilder, the European 2021 census). Complementary suppression inside
one table cannot protect a reader who can ask for every filter combination: each combination is another
table, and the difference of two of them reveals what each one hides. Perturbation can:

- Every case carries a random **record key**, drawn once when it is created and stored with it
  (``Case.record_key``, a whole number from 0 to 2^31 − 1, that is a fraction of 2^31).
- The **cell key** of a published count is the sum of the record keys of the records it counts, modulo
  2^31 (a record counted twice, such as a case in two life situations, counts twice). The same records give
  the same cell key, on every page, in every report and in the API, whatever the filter that led to them;
  an aggregate table can carry the sum of record keys beside each count and derive the cell key the same way.
- The cell key picks the **deviation** from a fixed table (``perturbation``): 0 with probability 0.40,
  ±1 with 0.20 each, ±2 with 0.08 each and ±3 with 0.02 each, so never more than ``MAX_DEVIATION`` = 3 and
  on average about 0.84. Counts of 1 to 3 never become negative and their table is tilted so that the
  deviation still averages zero.
- A perturbed value below the threshold t (``IIZ_SUPPRESSION_THRESHOLD``, 5) is shown as "< t", and so is a
  zero: the blocking of small values of the European census tables. A reader who sees "< 5" knows only that
  the true count lies between 0 and t − 1 + 3; one who sees a number p knows only that it lies within p ± 3.

So the same figure always shows the same value, a difference of two published counts carries the
deviations of both and gives no small count away, and the published value of a count is within 3 of the
true one. Shares are computed from the published counts and shown only where numerator and denominator
are published as numbers; medians only where the published number of cases behind them is at least the
threshold plus the largest deviation (so that at least t persons stand behind them).

Figures about records that the reader may see anyway (the cases a coordinator or case worker takes part in)
stay exact: a count all of whose cases the reader may open tells the reader nothing new.

Nothing here solves optimisation problems or queries more than the record keys it lacks: it runs on the
request path and on aggregated counts alike.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from iiz.cases.models import RECORD_KEY_SPACE as KEY_SPACE

if TYPE_CHECKING:
    from iiz.organisations.models import User

MAX_DEVIATION = 3
# The probability of each deviation for counts of at least MAX_DEVIATION + 1 (symmetric, mean zero).
DEVIATIONS: dict[int, float] = {-3: 0.02, -2: 0.08, -1: 0.20, 0: 0.40, 1: 0.20, 2: 0.08, 3: 0.02}
# The mark of a share or median that is withheld.
HIDDEN = "X"


def threshold() -> int:
    return int(settings.IIZ_SUPPRESSION_THRESHOLD)


def cell_key(keys: Iterable[int]) -> int:
    return sum(keys) % KEY_SPACE


@lru_cache(maxsize=64)
def perturbation(count: int) -> tuple[tuple[int, float], ...]:
    """The table row of a true count: (deviation, cumulative probability) in order of the deviation.

    For counts of at least MAX_DEVIATION + 1 it is ``DEVIATIONS``. For smaller counts the deviations that
    would make the count negative are left out and the rest tilted (p ∝ base · e^(λ·d)) until the mean
    deviation is zero again.
    """
    allowed = {d: p for d, p in DEVIATIONS.items() if count + d >= 0}
    tilt = 0.0
    if count < MAX_DEVIATION:
        low, high = 0.0, 10.0
        for _step in range(100):
            tilt = (low + high) / 2
            weights = {d: p * math.exp(-tilt * d) for d, p in allowed.items()}
            mean = sum(d * w for d, w in weights.items()) / sum(weights.values())
            if mean > 0:
                low = tilt
            else:
                high = tilt
    weights = {d: p * math.exp(-tilt * d) for d, p in allowed.items()}
    total = sum(weights.values())
    rows, cumulative = [], 0.0
    for d in sorted(weights):
        cumulative += weights[d] / total
        rows.append((d, cumulative))
    return tuple(rows)


def perturb(count: int, key: int) -> int:
    """The published value of a true count with the given cell key."""
    if count <= 0:
        return 0
    row = perturbation(count)
    position = min(bisect.bisect_right([c for _d, c in row], key / KEY_SPACE), len(row) - 1)
    return count + row[position][0]


def count_preimage(published: int) -> tuple[int, int]:
    """The true counts that can be published as ``published`` (what a reader of the rules can infer)."""
    if published <= 0:
        return (0, MAX_DEVIATION)
    return (max(1, published - MAX_DEVIATION), published + MAX_DEVIATION)


def marker_preimage(t: int | None = None) -> tuple[int, int]:
    """The true counts behind the marker "< t": every published value below t, zero included."""
    return (0, (t or threshold()) - 1 + MAX_DEVIATION)


def marker(t: int | None = None) -> str:
    return f"< {t or threshold()}"


# ---------------------------------------------------------------------------------------------------------
# Readers and published values
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """Whose eyes a figure is published for: the cases they may see anyway (exact where a figure has only those)."""

    visible: frozenset[int] = frozenset()

    @classmethod
    def anyone(cls) -> Reader:
        """A reader who sees no case: the supervisory body, the committee, a shared report."""
        return cls()

    @classmethod
    def for_user(cls, user: User | None) -> Reader:
        from iiz import access

        if user is None or not access.may_work_with_clients(user):
            return cls()
        return cls(frozenset(access.cases_visible_to(user=user).values_list("id", flat=True)))


@dataclass(frozen=True)
class Count:
    """A published count: its perturbed value (or the true one where ``exact``), and the threshold.

    A perturbed value below the threshold is shown only as "< t", zero included: a reader learns neither
    that a small group is empty nor that it is not.
    """

    value: int
    exact: bool = False
    t: int = 5

    @property
    def small(self) -> bool:
        return not self.exact and self.value < self.t

    @property
    def shown(self) -> int | None:
        """The number shown, or None where the marker stands."""
        return None if self.small else self.value

    @property
    def display(self) -> str:
        return marker(self.t) if self.small else number_format(self.value, 0, force_grouping=True)


@dataclass(frozen=True)
class Share:
    numerator: Count
    denominator: Count
    value: float | None  # None when there is no denominator or the share is withheld
    withheld: bool = False


@dataclass
class Publisher:
    """Publishes counts for one reader. ``keys`` maps case ids to record keys; missing keys are read once."""

    reader: Reader = field(default_factory=Reader.anyone)
    keys: dict[int, int] = field(default_factory=dict)
    t: int = field(default_factory=threshold)

    def _keys_for(self, records: Iterable[int]) -> list[int]:
        records = list(records)
        missing = {r for r in records if r not in self.keys}
        if missing:
            from iiz.cases.models import Case

            self.keys.update(Case.objects.filter(id__in=missing).values_list("id", "record_key"))
        return [self.keys.get(r, 0) for r in records]

    def count(self, records: Sequence[int]) -> Count:
        """The published count of the records (case ids, repeated where a case counts more than once)."""
        if records and self.reader.visible and set(records) <= self.reader.visible:
            return Count(len(records), exact=True, t=self.t)
        if not records:
            return Count(0, t=self.t)
        return Count(perturb(len(records), cell_key(self._keys_for(records))), t=self.t)

    def counts(self, groups: Mapping[object, Sequence[int]]) -> dict[object, Count]:
        self._keys_for(r for records in groups.values() for r in records)
        return {key: self.count(records) for key, records in groups.items()}

    def share(self, numerator: Sequence[int], denominator: Sequence[int]) -> Share:
        """A share of published counts, withheld unless both are published as numbers (not "< t")."""
        below, above = self.count(numerator), self.count(denominator)
        if below.value > above.value:
            # The numerator is a part of the denominator; a perturbed part is capped at the whole.
            below = Count(above.value, below.exact and above.exact, self.t)
        if not denominator and above.exact:
            return Share(below, above, None)
        if below.small or above.small or above.value == 0:
            return Share(below, above, None, withheld=True)
        return Share(below, above, below.value / above.value)

    def median_allowed(self, behind: Count) -> bool:
        """A median describes the persons behind it: shown where at least the threshold of them stand behind it."""
        if behind.exact:
            return behind.value > 0
        return behind.value >= self.t + MAX_DEVIATION


def method_note(t: int | None = None) -> str:
    """The explanation shown wherever perturbed figures are published."""
    t = t or threshold()
    return _(
        "Zahlen sind zum Schutz der Personen leicht verändert (Zellschlüssel-Verfahren der statistischen Ämter): "
        "jede Anzahl weicht um höchstens %(max)s vom wahren Wert ab, im Mittel um etwa 0,8. Dieselben Fälle "
        "ergeben überall dieselbe Zahl, darum lassen sich kleine Zahlen auch aus Differenzen verschiedener Filter "
        "nicht errechnen; Zeilen ergeben deshalb nicht immer genau das Total. Veränderte Zahlen unter %(t)s "
        "erscheinen als «< %(t)s», auch eine Null. Anteile werden aus den veränderten Zahlen berechnet und nur "
        "gezeigt, wo Zähler und Nenner mindestens %(t)s sind, Mediane ab %(median)s Fällen (sonst «%(hidden)s»). "
        "Zahlen über Fälle, an denen Sie selbst beteiligt sind, sind genau."
    ) % {"max": MAX_DEVIATION, "t": t, "median": t + MAX_DEVIATION, "hidden": HIDDEN}
