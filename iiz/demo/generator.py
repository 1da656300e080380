"""Synthetic clients for the demo and the benchmark, stored through `clients_import_batch`.

The population looks like the people the partner institutions serve in the canton of Zürich: working
age with the young and the over-55 well represented, names of the communities that live here, homes
weighted by the size of the municipality. Every person is registered with one to three institutions,
at units near their home, and about 60 % have consented to the exchange of data.

The demo centres on the Uster pilot: half of the people live in the Uster region and are registered with
RAV Uster, the IV-Stelle's Oberland unit, the Sozialdienst Uster or the biz Uster, so that every demo
user sees plenty of people.

Everything is drawn from one ``random.Random(seed)``: the same seed, the same reference day and the same
organisation give the same people (only the random ``public_id`` differs). Rows are produced one batch
at a time, so a run of 100,000 clients needs no more memory than a run of one batch.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.text import slugify
from stdnum import ean

from iiz.clients.imports import ClientImportRow, ConsentImportRow, RegistrationImportRow
from iiz.clients.models import REGISTRATION_CATEGORY, Client, Consent, DataCategory, Sex
from iiz.clients.services import clients_import_batch
from iiz.demo import names
from iiz.demo.people import office_phone, staff_name
from iiz.demo.world import refuse_outside_demo
from iiz.organisations.models import InstitutionKind, Municipality, OrganisationalUnit, Role, User
from iiz.organisations.services import user_create

SOURCE = "demo_generate"

# The units that the demo users work in; a share of the population is registered there.
FOCUS_UNITS = {
    InstitutionKind.LABOUR: "RAV Uster",
    InstitutionKind.DISABILITY: "IV-Stelle Zürich, Eingliederung Oberland",
    InstitutionKind.YOUTH: "biz Uster",
    InstitutionKind.SOCIAL_SERVICE: "Sozialdienst Uster",
}
FOCUS_SHARE = 0.5
FOCUS_TOWN_SHARE = 0.65  # of the focus population, living in the focus unit's own municipality

# Districts nearest to each district (BFS district numbers), for people whose own district has no unit.
DISTRICT_NEIGHBOURS: dict[int, tuple[int, ...]] = {
    101: (106, 111, 112), 102: (110, 103), 103: (104, 110, 112), 104: (103, 111, 112), 105: (108, 109, 107),
    106: (101, 112, 107), 107: (109, 112, 105), 108: (105, 109, 110), 109: (112, 108, 105, 107),
    110: (102, 108, 103), 111: (112, 104, 101), 112: (111, 103, 109, 106),
}
# Age bands (first age, last age, weight): working age, with the young and the over-55 well represented.
AGE_BANDS = ((16, 19, 6), (20, 25, 16), (26, 34, 20), (35, 44, 20), (45, 54, 20), (55, 64, 18))
SEXES = ((Sex.FEMALE, 470), (Sex.MALE, 525), (Sex.UNKNOWN, 5))
MOBILE_PREFIXES = (("79", 35), ("78", 25), ("76", 25), ("77", 10), ("75", 5))
EMAIL_DOMAIN = "mail.demo.invalid"
CONSENT_SHARE = 0.6
AHV_BODY_SPACE = 10**9  # the nine digits between the prefix 756 and the check digit
_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss",
                        "ı": "i", "İ": "I", "đ": "d", "Đ": "D", "'": "", " ": ""})


@dataclass(frozen=True)
class _Weighted:
    """Values with weights, drawn by bisecting the cumulative weights."""

    values: tuple[object, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, pairs: Sequence[tuple[object, float]]) -> _Weighted:
        return cls(tuple(value for value, _ in pairs), tuple(itertools.accumulate(weight for _, weight in pairs)))

    @classmethod
    def ranked(cls, values: Sequence[object], offset: int = 10) -> _Weighted:
        # Earlier entries are more common, like real name frequencies, without one name dominating.
        return cls.of([(value, 1 / (rank + offset)) for rank, value in enumerate(values)])

    def draw(self, rng: random.Random) -> object:
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.cumulative[-1])]


@dataclass(frozen=True)
class _Group:
    origin: names.OriginGroup
    female: _Weighted
    male: _Weighted
    last: _Weighted
    languages: _Weighted


@dataclass
class _Organisation:
    """The municipalities, units and staff that the generator draws from, looked up once."""

    municipalities: _Weighted
    focus_municipalities: _Weighted | None
    focus_town: Municipality | None
    units_by_kind: dict[str, list[OrganisationalUnit]]
    focus: dict[str, OrganisationalUnit]
    coordination: OrganisationalUnit | None
    staff: dict[int, User]
    nearest_cache: dict[tuple[str, int], tuple[OrganisationalUnit, ...]] = field(default_factory=dict)

    def nearest(self, kind: str, municipality: Municipality) -> tuple[OrganisationalUnit, ...]:
        """The units of one kind closest to a municipality: same place, same district, then neighbours."""
        key = (kind, municipality.pk)
        if key not in self.nearest_cache:
            units = self.units_by_kind.get(kind, [])
            if kind == InstitutionKind.SOCIAL_SERVICE:
                # A municipal social service serves only the residents of its own municipality.
                found = tuple(u for u in units if u.institution.municipality_id == municipality.pk)
            else:
                found = tuple(u for u in units if u.municipality_id == municipality.pk)
                districts = (municipality.district.number, *DISTRICT_NEIGHBOURS.get(municipality.district.number, ()))
                for number in districts:
                    if found:
                        break
                    found = tuple(u for u in units if u.municipality and u.municipality.district.number == number)
                found = found or tuple(units)
            self.nearest_cache[key] = found
        return self.nearest_cache[key]


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII))
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in ".-")).lower()


def _town(municipality: Municipality) -> str:
    # Register names carry a canton suffix where the name exists elsewhere, e.g. "Wetzikon (ZH)".
    return municipality.name.removesuffix(" (ZH)")


def ahv_from_body(body: int) -> str:
    """The AHV number (13 digits) with the given nine-digit body and its EAN-13 check digit."""
    digits = f"756{body:09d}"
    return digits + str(ean.calc_check_digit(digits))


class AhvSequence:
    """Distinct AHV numbers in an order fixed by the seed, skipping numbers already in the database.

    Body i is ``(a * i + b) mod 10^9`` with ``a`` coprime to 10^9, a permutation of the body space:
    one seed never repeats a number, and different seeds walk the space in different orders.
    """

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"ahv-{seed}")
        multiplier = rng.randrange(10**8, AHV_BODY_SPACE)
        while math.gcd(multiplier, AHV_BODY_SPACE) != 1:
            multiplier += 1
        self._multiplier = multiplier
        self._offset = rng.randrange(AHV_BODY_SPACE)
        self._index = 0

    def _next(self) -> str:
        body = (self._multiplier * self._index + self._offset) % AHV_BODY_SPACE
        self._index += 1
        return ahv_from_body(body)

    def take(self, count: int) -> list[str]:
        """The next ``count`` numbers that no client has yet."""
        fresh: list[str] = []
        while len(fresh) < count:
            candidates = [self._next() for _ in range(count - len(fresh))]
            taken = set(Client.objects.filter(ahv_number__in=candidates).values_list("ahv_number", flat=True))
            fresh.extend(number for number in candidates if number not in taken)
        return fresh


def _staff_user(unit: OrganisationalUnit) -> User:
    """The synthetic case worker who records a unit's registrations and consents, created once."""
    username = f"demo-staff-{slugify(unit.name)}"[:150]
    user = User.objects.filter(username=username).first()
    if user is None:
        first_name, last_name = staff_name(username)
        user = user_create(
            actor=None, username=username, first_name=first_name, last_name=last_name,
            email=f"{username}@demo.iiz.invalid", unit=unit, roles=[Role.CASE_WORKER], password=None,
            phone=office_phone(unit, username), is_demo_account=True,
        )
    return user


def _organisation(units: dict[str, OrganisationalUnit]) -> _Organisation:
    loaded = {
        unit.name: unit
        for unit in OrganisationalUnit.objects.filter(pk__in=[u.pk for u in units.values()]).select_related(
            "institution", "municipality__district"
        )
    }
    ordered = [loaded[name] for name in sorted(loaded)]
    units_by_kind: dict[str, list[OrganisationalUnit]] = {}
    for unit in ordered:
        units_by_kind.setdefault(unit.institution.kind, []).append(unit)
    focus = {str(kind): loaded[name] for kind, name in FOCUS_UNITS.items() if name in loaded}
    current = list(Municipality.objects.filter(valid_until__isnull=True).select_related("district")
                   .order_by("bfs_number"))
    population = [(m, names.POPULATION.get(m.bfs_number, names.SMALL_MUNICIPALITY)) for m in current]
    focus_municipalities = None
    focus_town = None
    focus_labour = focus.get(InstitutionKind.LABOUR)
    if focus_labour is not None and focus_labour.municipality is not None:
        # The focus area: the focus RAV's district, without the places that have an RAV of their own.
        other_sites = {u.municipality_id for u in units_by_kind.get(InstitutionKind.LABOUR, [])
                       if u.pk != focus_labour.pk}
        district_id = focus_labour.municipality.district_id
        focus_town = next(m for m in current if m.pk == focus_labour.municipality_id)
        area = [(m, w) for m, w in population
                if m.district_id == district_id and m.pk not in other_sites and m is not focus_town]
        if area:
            focus_municipalities = _Weighted.of(area)
    coordination = next(iter(units_by_kind.get(InstitutionKind.COORDINATION, [])), None)
    staff = {unit.pk: _staff_user(unit) for unit in ordered}
    return _Organisation(
        municipalities=_Weighted.of(population),
        focus_municipalities=focus_municipalities,
        focus_town=focus_town,
        units_by_kind=units_by_kind,
        focus=focus,
        coordination=coordination,
        staff=staff,
    )


def _groups() -> _Weighted:
    return _Weighted.of([
        (
            _Group(origin=group, female=_Weighted.ranked(group.female), male=_Weighted.ranked(group.male),
                   last=_Weighted.ranked(group.last), languages=_Weighted.of(group.languages)),
            group.weight,
        )
        for group in names.ORIGIN_GROUPS
    ])


class _PersonFactory:
    """Draws one person after another from a seeded random generator."""

    def __init__(self, *, seed: int, organisation: _Organisation, today: dt.date,
                 focus_share: float = FOCUS_SHARE) -> None:
        self.rng = random.Random(seed)
        self.focus_share = focus_share
        self.org = organisation
        self.today = today
        self.groups = _groups()
        self.swiss = next(g for g in self.groups.values if isinstance(g, _Group) and g.origin.key == "swiss_german")
        self.sexes = _Weighted.of(SEXES)
        self.ages = _Weighted.of([((first, last), weight) for first, last, weight in AGE_BANDS])
        self.mobile = _Weighted.of(MOBILE_PREFIXES)
        self.common_streets = _Weighted.ranked(names.COMMON_STREETS, offset=20)
        self.town_streets = {bfs: _Weighted.ranked(streets) for bfs, streets in names.TOWN_STREETS.items()}
        self.purposes = _Weighted.ranked(names.CONSENT_PURPOSES, offset=2)
        self.case_numbers = itertools.count(self.rng.randrange(1000, 9000))

    # People --------------------------------------------------------------------------------------------

    def _birth_date(self) -> tuple[dt.date, int]:
        rng = self.rng
        band: tuple[int, int] = self.ages.draw(rng)  # type: ignore[assignment]
        age = rng.randint(*band)
        try:
            anchor = self.today.replace(year=self.today.year - age)
        except ValueError:  # 29 February
            anchor = self.today.replace(year=self.today.year - age, day=28)
        return anchor - dt.timedelta(days=rng.randint(0, 364)), age

    def _names(self, sex: str, age: int) -> tuple[str, str, tuple[str, ...]]:
        rng = self.rng
        group: _Group = self.groups.draw(rng)  # type: ignore[assignment]
        if sex == Sex.UNKNOWN:
            sex = Sex.FEMALE if rng.random() < 0.5 else Sex.MALE
        first = str((group.female if sex == Sex.FEMALE else group.male).draw(rng))
        last = str(group.last.draw(rng))
        if rng.random() < 0.06:
            # Mixed families: a last name from another community.
            other: _Group = self.groups.draw(rng)  # type: ignore[assignment]
            last = str(other.last.draw(rng))
        elif sex == Sex.FEMALE and age >= 25 and rng.random() < 0.04:
            last = f"{last}-{self.swiss.last.draw(rng)}" if group is not self.swiss else \
                f"{self.swiss.last.draw(rng)}-{last}"
        languages = list(group.languages.draw(rng))  # type: ignore[call-overload]
        if group is not self.swiss and age <= 30:
            # Grown up here: German is often their first language too.
            if "de" not in languages and rng.random() < 0.6:
                languages.append("de")
            elif "de" in languages and rng.random() < 0.4:
                languages.remove("de")
                languages.insert(0, "de")
        return first, last, tuple(languages)

    def _residence(self, focus: bool) -> Municipality:
        rng = self.rng
        org = self.org
        if focus and org.focus_town is not None:
            if rng.random() < FOCUS_TOWN_SHARE or org.focus_municipalities is None:
                return org.focus_town
            return org.focus_municipalities.draw(rng)  # type: ignore[return-value]
        return org.municipalities.draw(rng)  # type: ignore[return-value]

    def _address(self, municipality: Municipality) -> dict[str, str]:
        rng = self.rng
        town_streets = self.town_streets.get(municipality.bfs_number)
        roll = rng.random()
        if town_streets is not None and roll < 0.6:
            street = str(town_streets.draw(rng))
        elif roll < 0.8:
            street = str(self.common_streets.draw(rng))
        else:
            suffix = "strasse" if rng.random() < 0.7 else "weg"
            street = f"{self.swiss.last.draw(rng)}{suffix}"
        number = str(min(1 + int(rng.expovariate(1 / 22)), 180))
        if rng.random() < 0.08:
            number += rng.choice("abc")
        codes = names.POSTAL_CODES.get(municipality.bfs_number)
        if codes:
            postal_code = rng.choice(codes)
        else:
            base = names.DISTRICT_POSTAL_BASE.get(municipality.district.number, 800)
            postal_code = f"{base}{municipality.bfs_number % 10}"
        town = names.POSTAL_TOWNS.get((municipality.bfs_number, postal_code), _town(municipality))
        return {"street": street, "house_number": number, "postal_code": postal_code, "town": town}

    def _contact(self, first: str, last: str, age: int) -> tuple[str, str]:
        rng = self.rng
        phone = ""
        if rng.random() < 0.9:
            phone = (f"+41 {self.mobile.draw(rng)} {rng.randint(100, 999)} {rng.randint(10, 99)} "
                     f"{rng.randint(10, 99)}")
        email = ""
        if rng.random() < (0.65 if age < 35 else 0.4):
            local = f"{_ascii(first)}.{_ascii(last)}"
            if rng.random() < 0.5:
                local += str(rng.randint(1, 99))
            email = f"{local}@{EMAIL_DOMAIN}"
        return phone, email

    # Registrations and consents ------------------------------------------------------------------------

    def _kinds(self, *, age: int, focus: bool, has_social_service: bool) -> list[str]:
        rng = self.rng
        kinds: list[str] = []
        if rng.random() < (0.85 if focus else 0.7) * (0.9 if age >= 60 else 1):
            kinds.append(InstitutionKind.LABOUR)
        # The Uster pilot's population is multi-problem by design: more people at the IV-Stelle, the
        # social service and the biz (which also advises adults on their careers).
        if rng.random() < (0.45 if age >= 45 else 0.3) + (0.2 if focus else 0):
            kinds.append(InstitutionKind.DISABILITY)
        if has_social_service and rng.random() < (0.75 if focus else 0.4):
            kinds.append(InstitutionKind.SOCIAL_SERVICE)
        if rng.random() < (0.7 if age <= 25 else 0.2 if age <= 30 else 0.1 if focus else 0.04):
            kinds.append(InstitutionKind.YOUTH)
        if not kinds:
            kinds.append(InstitutionKind.YOUTH if age <= 20 else InstitutionKind.LABOUR)
        while len(kinds) > 3:
            kinds.pop(rng.randrange(len(kinds)))
        return kinds

    def _unit(self, kind: str, municipality: Municipality, focus: bool) -> OrganisationalUnit | None:
        focus_unit = self.org.focus.get(kind)
        if focus and focus_unit is not None:
            if kind != InstitutionKind.SOCIAL_SERVICE or focus_unit.institution.municipality_id == municipality.pk:
                return focus_unit
        candidates = self.org.nearest(kind, municipality)
        return self.rng.choice(candidates) if candidates else None

    def _case_number(self, unit: OrganisationalUnit, year: int) -> str:
        number = next(self.case_numbers)
        kind = unit.institution.kind
        if kind == InstitutionKind.LABOUR:
            return f"AVAM-{self.rng.randrange(10**6, 10**7)}"
        if kind == InstitutionKind.DISABILITY:
            return f"IV-{year}-{number % 100_000:05d}"
        if kind == InstitutionKind.SOCIAL_SERVICE:
            place = _ascii(unit.institution.short_name.removeprefix("SD ")).upper()[:3] or "SD"
            return f"{place}-SH-{year}-{number % 10_000:04d}"
        if kind == InstitutionKind.YOUTH:
            return f"AJB-{year % 100:02d}-{number % 1_000_000:06d}"
        return ""

    def _registrations(self, *, kinds: list[str], municipality: Municipality, focus: bool,
                       born: dt.date) -> list[RegistrationImportRow]:
        rng = self.rng
        earliest = max(self.today - dt.timedelta(days=4 * 365), born.replace(year=born.year + 16)
                       if not (born.month == 2 and born.day == 29) else dt.date(born.year + 16, 3, 1))
        span = max((self.today - earliest).days, 0)
        rows = []
        for kind in kinds:
            unit = self._unit(kind, municipality, focus)
            if unit is None:
                continue
            registered_on = earliest + dt.timedelta(days=rng.randint(0, span))
            deregistered_on = None
            days_since = (self.today - registered_on).days
            if days_since > 60 and rng.random() < 0.25:
                deregistered_on = registered_on + dt.timedelta(days=rng.randint(30, days_since))
            rows.append(RegistrationImportRow(
                unit=unit, registered_on=registered_on, deregistered_on=deregistered_on,
                external_case_number=self._case_number(unit, registered_on.year),
                recorded_by=self.org.staff[unit.pk],
            ))
        # The institution that met the person first records them.
        rows.sort(key=lambda row: row.registered_on)
        return rows

    def _consents(self, registrations: list[RegistrationImportRow], age: int) -> tuple[ConsentImportRow, ...]:
        rng = self.rng
        if rng.random() >= CONSENT_SHARE:
            return ()
        institutions = {r.unit.institution.pk: r.unit.institution for r in registrations}
        coordination = self.org.coordination
        if coordination is not None and rng.random() < 0.35:
            institutions.setdefault(coordination.institution.pk, coordination.institution)
        categories = {DataCategory.PERSONAL.value}
        categories.update(str(REGISTRATION_CATEGORY.get(r.unit.institution.kind, DataCategory.PERSONAL))
                          for r in registrations)
        if DataCategory.MEDICAL not in categories and rng.random() < 0.4:
            categories.add(DataCategory.MEDICAL)
        if rng.random() < 0.3:
            categories.add(DataCategory.FINANCIAL)
        kinds = {r.unit.institution.kind for r in registrations}
        purpose = (names.YOUTH_PURPOSE if InstitutionKind.YOUTH in kinds and age <= 25 and rng.random() < 0.6
                   else str(self.purposes.draw(rng)))
        # Signed once the person is known to every institution, and while they still are.
        start = max(r.registered_on for r in registrations)
        ends = [r.deregistered_on for r in registrations if r.deregistered_on and r.deregistered_on >= start]
        valid_from = min(start + dt.timedelta(days=rng.randint(0, 45)), self.today, *ends)
        valid_until = None
        if rng.random() < 0.3:
            valid_until = valid_from + dt.timedelta(days=rng.randint(365, 3 * 365))
        recorder = self.org.staff[registrations[0].unit.pk]
        first = ConsentImportRow(
            institutions=tuple(institutions[pk] for pk in sorted(institutions)), categories=tuple(sorted(categories)),
            purpose=purpose, valid_from=valid_from, valid_until=valid_until, recorded_by=recorder,
        )
        versions = [first]
        room = (self.today - valid_from).days
        if room > 60 and rng.random() < 0.1:
            # An amendment: the coordination office joins, or medical or financial data are added.
            if coordination is not None and coordination.institution.pk not in institutions:
                institutions[coordination.institution.pk] = coordination.institution
            else:
                categories.add(rng.choice((DataCategory.MEDICAL.value, DataCategory.FINANCIAL.value)))
            amended_from = valid_from + dt.timedelta(days=rng.randint(30, room))
            versions.append(ConsentImportRow(
                institutions=tuple(institutions[pk] for pk in sorted(institutions)),
                categories=tuple(sorted(categories)), purpose=purpose, valid_from=amended_from,
                valid_until=(amended_from + dt.timedelta(days=rng.randint(365, 3 * 365))
                             if rng.random() < 0.3 else None),
                recorded_by=self.org.staff[rng.choice(registrations).unit.pk],
            ))
        newest = versions[-1]
        since = (self.today - newest.valid_from).days
        if since > 1 and rng.random() < 0.04:
            revoked_on = newest.valid_from + dt.timedelta(days=rng.randint(1, since))
            revoked_at = dt.datetime.combine(revoked_on, dt.time(10, 0), tzinfo=timezone.get_current_timezone())
            versions[-1] = ConsentImportRow(
                institutions=newest.institutions, categories=newest.categories, purpose=newest.purpose,
                valid_from=newest.valid_from, valid_until=newest.valid_until, recorded_by=newest.recorded_by,
                revoked_at=revoked_at, revoked_by=newest.recorded_by,
                revocation_reason=rng.choice(names.REVOCATION_REASONS),
            )
        return tuple(versions)

    def person(self, ahv_number: str) -> ClientImportRow:
        rng = self.rng
        org = self.org
        focus = bool(org.focus) and rng.random() < self.focus_share
        sex = str(self.sexes.draw(rng))
        born, age = self._birth_date()
        first, last, languages = self._names(sex, age)
        municipality = self._residence(focus)
        address = self._address(municipality)
        phone, email = self._contact(first, last, age)
        has_social_service = bool(org.nearest(InstitutionKind.SOCIAL_SERVICE, municipality))
        kinds = self._kinds(age=age, focus=focus, has_social_service=has_social_service)
        registrations = self._registrations(kinds=kinds, municipality=municipality, focus=focus, born=born)
        consents = self._consents(registrations, age) if registrations else ()
        return ClientImportRow(
            ahv_number=ahv_number, first_name=first, last_name=last, date_of_birth=born, sex=sex,
            municipality=municipality, registrations=tuple(registrations), phone=phone, email=email,
            languages=languages, consents=consents, **address,
        )


def demo_client_rows(*, count: int, seed: int, units: dict[str, OrganisationalUnit], batch_size: int = 1000,
                     today: dt.date | None = None, focus_share: float = FOCUS_SHARE,
                     ) -> Iterator[list[ClientImportRow]]:
    """Yield the synthetic people in batches; only the current batch is held in memory.

    ``focus_share`` of them are registered with the demo users' units (FOCUS_UNITS); the others live
    anywhere in the canton, in proportion to the municipalities' population.
    """
    organisation = _organisation(units)
    factory = _PersonFactory(seed=seed, organisation=organisation, today=today or timezone.localdate(),
                             focus_share=focus_share)
    numbers = AhvSequence(seed)
    remaining = count
    while remaining > 0:
        size = min(batch_size, remaining)
        yield [factory.person(number) for number in numbers.take(size)]
        remaining -= size


def demo_clients_generate(
    *,
    count: int,
    seed: int,
    units: dict[str, OrganisationalUnit],
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    today: dt.date | None = None,
    focus_share: float = FOCUS_SHARE,
) -> int:
    """Create ``count`` synthetic clients in batches of ``batch_size``; returns how many were created.

    ``progress`` is called after each batch with the number created so far. Each batch is one
    transaction with one audit entry.
    """
    refuse_outside_demo()
    if count <= 0:
        return 0
    created = 0
    for rows in demo_client_rows(count=count, seed=seed, units=units, batch_size=batch_size, today=today,
                                 focus_share=focus_share):
        created += clients_import_batch(actor=None, rows=rows, source=SOURCE)
        _consents_dated_when_signed(rows)
        if progress is not None:
            progress(created)
    return created


def _consents_dated_when_signed(rows: Sequence[ClientImportRow]) -> None:
    """Date the synthetic consents to the morning they took effect, not to the run that generated them.

    Recording stamps a consent with the current time, which is right for a real import. Synthetic history
    recorded that way would put every consent into the current quarter of the steering figures.
    """
    now = timezone.now()
    zurich = timezone.get_current_timezone()
    consents = list(
        Consent.objects.filter(client__ahv_number__in=[row.ahv_number for row in rows]).only("pk", "valid_from")
    )
    for consent in consents:
        consent.recorded_at = min(dt.datetime.combine(consent.valid_from, dt.time(10), tzinfo=zurich), now)
    Consent.objects.bulk_update(consents, ["recorded_at"], batch_size=1000)
