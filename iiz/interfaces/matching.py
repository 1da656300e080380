"""Finding the records that may be the same person, and merging two records that are.

Before a client is created we look for the person: the AHV number first (exact), otherwise the name
compared fuzzily (rapidfuzz's token_sort_ratio on names without accents, case and umlaut spellings),
the date of birth (exact, day and month swapped, or only the same year) and the municipality. The score
runs from 0 to 100: name similarity counts 60, the date of birth up to 30, the municipality 10, so a
person with a different year of birth never reaches the threshold of a likely duplicate (85). That lets
us look only at clients born in the same year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.clients.identity import name_normalise
from iiz.clients.models import Client, Registration
from iiz.interfaces.models_imports import MatchRejection, MergeRecord
from iiz.lib.ahv import ahv_normalise
from iiz.organisations.models import Role

if TYPE_CHECKING:
    from django.db.models import Model
    from django.http import HttpRequest

    from iiz.organisations.models import User

LIKELY_DUPLICATE = 85

@dataclass(frozen=True)
class Candidate:
    client_id: int
    score: int
    reasons: tuple[str, ...] = field(default_factory=tuple)


def _birth_points(born: dt.date, other: dt.date) -> tuple[int, str]:
    if born == other:
        return 30, "date_of_birth"
    if born.year == other.year and born.day == other.month and born.month == other.day:
        return 25, "date_of_birth_swapped"
    if born.year == other.year:
        return 10, "year_of_birth"
    return 0, ""


@dataclass(frozen=True)
class _Known:
    client_id: int
    name: str
    date_of_birth: dt.date
    bfs_number: int | None


def score_pair(*, name: str, date_of_birth: dt.date, bfs_number: int | None, known: _Known) -> Candidate:
    similarity = fuzz.token_sort_ratio(name, known.name)
    reasons = [f"name:{round(similarity)}"]
    points, reason = _birth_points(date_of_birth, known.date_of_birth)
    if reason:
        reasons.append(reason)
    same_place = bfs_number is not None and bfs_number == known.bfs_number
    if same_place:
        reasons.append("municipality")
    score = round(0.6 * similarity) + points + (10 if same_place else 0)
    return Candidate(client_id=known.client_id, score=min(100, score), reasons=tuple(reasons))


# The most a client born in the same year but on another day can score: name 60, year 10, municipality 10.
# Above it, only clients born on the same day (or with day and month swapped) can be candidates.
YEAR_ONLY_MAX = 80


def _swapped(day: dt.date) -> dt.date | None:
    try:
        return day.replace(month=day.day, day=day.month)
    except ValueError:
        return None


class CandidateIndex:
    """The existing clients born in the given years, loaded once for many look-ups (the import preview).

    ``CandidateIndex.born_on(days)`` loads only the clients born on those days or with day and month
    swapped: enough to find candidates scoring above ``YEAR_ONLY_MAX`` (likely duplicates), and far less
    than whole years of births when a file of thousands of people is checked.
    """

    def __init__(self, years: Iterable[int], *, _days: set[dt.date] | None = None) -> None:
        self.by_year: dict[int, list[_Known]] = {}
        self.by_date: dict[dt.date, list[_Known]] = {}
        self.partial = _days is not None
        clients = (
            Client.objects.filter(date_of_birth__in=sorted(_days))
            if _days is not None
            else Client.objects.filter(date_of_birth__year__in=sorted(set(years)))
        )
        rows = clients.values_list("pk", "first_name", "last_name", "date_of_birth", "municipality__bfs_number")
        for pk, first, last, born, bfs in rows.iterator(chunk_size=2000):
            known = _Known(pk, name_normalise(f"{first} {last}"), born, bfs)
            self.by_year.setdefault(born.year, []).append(known)
            self.by_date.setdefault(born, []).append(known)

    @classmethod
    def born_on(cls, days: Iterable[dt.date]) -> CandidateIndex:
        wanted: set[dt.date] = set()
        for day in days:
            wanted.add(day)
            if (swapped := _swapped(day)) is not None:
                wanted.add(swapped)
        return cls((), _days=wanted)

    def candidates(
        self, *, last_name: str, first_name: str, date_of_birth: dt.date, municipality_bfs: int | None, minimum: int = 0
    ) -> list[Candidate]:
        name = name_normalise(f"{first_name} {last_name}")
        if minimum > YEAR_ONLY_MAX:
            swapped = _swapped(date_of_birth)
            pool = self.by_date.get(date_of_birth, [])
            if swapped is not None and swapped != date_of_birth:
                pool = pool + self.by_date.get(swapped, [])
        elif self.partial:
            raise ValueError("An index of some days of birth finds only candidates above YEAR_ONLY_MAX.")
        else:
            pool = self.by_year.get(date_of_birth.year, [])
        found = [
            score_pair(name=name, date_of_birth=date_of_birth, bfs_number=municipality_bfs, known=known)
            for known in pool
        ]
        return sorted((c for c in found if c.score >= minimum), key=lambda c: (-c.score, c.client_id))


def candidates_for(
    *, ahv_number: str, last_name: str, first_name: str, date_of_birth: dt.date, municipality_bfs: int | None
) -> list[Candidate]:
    """The existing clients that may be this person, best first. An exact AHV number is certain (100)."""
    try:
        compact = ahv_normalise(ahv_number) if ahv_number else ""
    except ValidationError:
        compact = ""
    if compact:
        exact = Client.objects.filter(ahv_number=compact).values_list("pk", flat=True).first()
        if exact is not None:
            return [Candidate(client_id=exact, score=100, reasons=("ahv_number",))]
    index = CandidateIndex([date_of_birth.year])
    return index.candidates(
        last_name=last_name,
        first_name=first_name,
        date_of_birth=date_of_birth,
        municipality_bfs=municipality_bfs,
        minimum=1,
    )


def _likely_same_and_visible(
    *, user: User, last_name: str, first_name: str, date_of_birth: dt.date, municipality_bfs: int | None
) -> list[tuple[Client, Candidate]]:
    """Clients the user may see, born on the same (or swapped) day, whose name is close enough to be the same
    person; best first, without records merged into another."""
    found = CandidateIndex.born_on([date_of_birth]).candidates(
        last_name=last_name,
        first_name=first_name,
        date_of_birth=date_of_birth,
        municipality_bfs=municipality_bfs,
        minimum=LIKELY_DUPLICATE,
    )
    if not found:
        return []
    ids = [f.client_id for f in found]
    visible = {c.pk: c for c in access.clients_visible_to(user=user).filter(pk__in=ids).select_related("municipality")}
    merged = set(
        MergeRecord.objects.filter(undone_at__isnull=True, merged_id__in=ids).values_list("merged_id", flat=True)
    )
    return [(visible[f.client_id], f) for f in found if f.client_id in visible and f.client_id not in merged]


def similar_persons_for(
    *,
    user: User,
    last_name: str,
    first_name: str,
    date_of_birth: dt.date,
    municipality_bfs: int | None,
    request: HttpRequest | None = None,
) -> list[tuple[Client, Candidate]]:
    """Before a person is created with a new AHV number: the likely existing records the user may see. Records
    the user may not see are never hinted at: a name and a birth date must not tell whether someone is known to
    the IV or a social service."""
    shown = _likely_same_and_visible(
        user=user,
        last_name=last_name,
        first_name=first_name,
        date_of_birth=date_of_birth,
        municipality_bfs=municipality_bfs,
    )
    if shown:
        # Showing the records is a search of the user's: audited like one, with what it found.
        audit_record(
            actor=user,
            action=AuditAction.SEARCH,
            object_type="client_duplicate_check",
            details={"results": [client.pk for client, _found in shown]},
            request=request,
        )
    return shown


def _pair(first: Client, second: Client) -> tuple[int, int]:
    return (first.pk, second.pk) if first.pk < second.pk else (second.pk, first.pk)


def merge_candidates_for(*, user: User, client: Client) -> list[tuple[Client, Candidate]]:
    """Other visible clients that may be the same person, without pairs a user already rejected or merged."""
    found = _likely_same_and_visible(
        user=user,
        last_name=client.last_name,
        first_name=client.first_name,
        date_of_birth=client.date_of_birth,
        municipality_bfs=client.municipality.bfs_number if client.municipality else None,
    )
    rejected = set(
        MatchRejection.objects.filter(Q(first=client) | Q(second=client)).values_list("first_id", "second_id")
    )
    return [
        (other, candidate)
        for other, candidate in found
        if other.pk != client.pk and _pair(client, other) not in rejected
    ]


def _require_both_visible(actor: User, *clients: Client) -> None:
    visible = set(
        access.clients_visible_to(user=actor).filter(pk__in=[c.pk for c in clients]).values_list("pk", flat=True)
    )
    if not access.may_create_clients(actor) or any(c.pk not in visible for c in clients):
        raise PermissionDenied(_("Sie brauchen Zugang zu beiden Personen, um sie zusammenzuführen."))


def _require_merge_right(actor: User, *clients: Client) -> None:
    """A merge rewrites a person's records for every institution, so seeing both through a case is not enough.

    The user's institution must hold a registration of each record, or the user coordinates for the
    Geschäftsstelle, the neutral party between institutions, and sees both.
    """
    _require_both_visible(actor, *clients)
    if actor.has_role(Role.COORDINATOR):
        return
    registered = set(
        Registration.objects.filter(
            client_id__in=[c.pk for c in clients], institution_id=access.own_institution(actor).pk
        ).values_list("client_id", flat=True)
    )
    if any(c.pk not in registered for c in clients):
        raise PermissionDenied(
            _(
                "Zusammenführen darf eine Institution, bei der beide Personen angemeldet sind, oder die "
                "Koordination der Geschäftsstelle."
            )
        )


@transaction.atomic
def match_reject(*, actor: User, first: Client, second: Client) -> MatchRejection:
    """Record that two records are different persons, so they are not proposed again."""
    _require_both_visible(actor, first, second)
    low, high = _pair(first, second)
    rejection, _created = MatchRejection.objects.get_or_create(
        first_id=low, second_id=high, defaults={"rejected_by": actor}
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        client_id=first.pk,
        object_type="match_rejection",
        object_id=rejection.pk,
        basis=AuditBasis.REGISTRATION,
        details={"other_client": second.pk},
    )
    return rejection


def _client_relations() -> list[tuple[type[Model], str]]:
    """Every model with a foreign key to Client, except our own records of merges and rejections."""
    relations = []
    for relation in Client._meta.related_objects:
        model = relation.related_model
        if relation.many_to_many or model in (MergeRecord, MatchRejection) or not relation.field.concrete:
            continue
        relations.append((model, relation.field.name))
    return relations


@transaction.atomic
def clients_merge(*, actor: User, keep: Client, merge: Client, reason: str) -> MergeRecord:
    """Move everything of ``merge`` (registrations, consents, cases, ...) to ``keep`` and record what moved.

    The merged record stays in the database (so the merge can be undone) but has nothing left, so no
    institution sees it any more.
    """
    if keep.pk == merge.pk:
        raise ValidationError(_("Eine Person kann nicht mit sich selbst zusammengeführt werden."))
    if not reason.strip():
        raise ValidationError({"reason": _("Bitte begründen Sie die Zusammenführung.")})
    _require_merge_right(actor, keep, merge)
    moved: dict[str, list[int]] = {}
    for model, field_name in _client_relations():
        rows = model._base_manager.filter(**{field_name: merge})
        ids = list(rows.values_list("pk", flat=True))
        if ids:
            moved[f"{model._meta.label_lower}:{field_name}"] = ids
            model._base_manager.filter(pk__in=ids).update(**{field_name: keep})
    record = MergeRecord.objects.create(kept=keep, merged=merge, reason=reason.strip(), moved=moved, merged_by=actor)
    for client in (keep, merge):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            client_id=client.pk,
            object_type="client_merge",
            object_id=record.pk,
            basis=AuditBasis.REGISTRATION,
            details={"kept": keep.pk, "merged": merge.pk, "moved": {k: len(v) for k, v in moved.items()}},
        )
    return record


@transaction.atomic
def clients_merge_undo(*, actor: User, record: MergeRecord) -> MergeRecord:
    """Give the merged client back exactly what was moved from it."""
    if record.undone_at is not None:
        raise ValidationError(_("Diese Zusammenführung wurde bereits rückgängig gemacht."))
    _require_merge_right(actor, record.kept)
    models = {f"{model._meta.label_lower}:{name}": (model, name) for model, name in _client_relations()}
    for key, ids in record.moved.items():
        model, field_name = models[key]
        model._base_manager.filter(pk__in=ids).update(**{field_name: record.merged_id})
    record.undone_at = timezone.now()
    record.undone_by = actor
    record.save(update_fields=["undone_at", "undone_by"])
    for client_id in (record.kept_id, record.merged_id):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            client_id=client_id,
            object_type="client_merge_undo",
            object_id=record.pk,
            basis=AuditBasis.REGISTRATION,
        )
    return record
