"""The demo's organisation: units, contracts and the eight demo users, created through the services.

Everything here is idempotent: running the loader again finds what exists and creates only what is missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import CommandError
from django.db import transaction

from iiz.demo.people import office_phone
from iiz.organisations.models import (
    Institution,
    InstitutionKind,
    Municipality,
    MunicipalityContract,
    OrganisationalUnit,
    Role,
    User,
)
from iiz.organisations.services import user_create

DEMO_PASSWORD = "demo"  # noqa: S105 - accepted only in demo mode, see IizBackend

# The RAV sites of the canton (by municipality BFS number) and the municipalities whose social services
# have joined the network in the demo. Real sites, synthetic staff.
RAV_SITES = {
    "RAV Uster": 198,
    "RAV Wetzikon": 121,
    "RAV Dübendorf": 191,
    "RAV Winterthur": 230,
    "RAV Kloten": 62,
    "RAV Dietikon": 243,
    "RAV Thalwil": 141,
    "RAV Meilen": 156,
    "RAV Affoltern": 2,
    "RAV Zürich Nord": 261,
    "RAV Zürich Süd": 261,
    "RAV Bülach": 53,
}
IV_UNITS = {
    "IV-Stelle Zürich, Eingliederung Oberland": 198,
    "IV-Stelle Zürich, Eingliederung Stadt": 261,
    "IV-Stelle Zürich, Eingliederung Winterthur": 230,
}
BIZ_SITES = {"biz Uster": 198, "biz Winterthur": 230, "biz Oerlikon": 261, "biz Horgen": 295, "biz Kloten": 62}
SOCIAL_SERVICES = {  # municipality BFS number: contract signed
    198: dt.date(2005, 10, 1),
    121: dt.date(2014, 6, 1),
    230: dt.date(2014, 9, 1),
    191: dt.date(2015, 3, 1),
    261: dt.date(2016, 1, 1),
    243: dt.date(2017, 4, 1),
    62: dt.date(2019, 1, 1),
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    unit: str
    roles: tuple[str, ...]
    description: str


DEMO_USERS = [
    DemoUser("admin", "Andrea", "Keller", "Geschäftsstelle iiz", (Role.ADMINISTRATOR,), "Administrator/in"),
    DemoUser(
        "koordinatorin",
        "Claudia",
        "Frei",
        "Geschäftsstelle iiz",
        (Role.COORDINATOR, Role.CASE_TEAM_MEMBER),
        "Koordinatorin, Geschäftsstelle iiz",
    ),
    DemoUser(
        "iv-spezialistin",
        "Ivana",
        "Meier",
        "IV-Stelle Zürich, Eingliederung Oberland",
        (Role.SPECIALIST, Role.CASE_TEAM_MEMBER),
        "iiz-Spezialistin, SVA Zürich IV-Stelle",
    ),
    DemoUser(
        "rav-berater", "Reto", "Brunner", "RAV Uster", (Role.CASE_WORKER, Role.CASE_TEAM_MEMBER), "Berater, RAV Uster"
    ),
    DemoUser(
        "sozialdienst-uster",
        "Sandra",
        "Huber",
        "Sozialdienst Uster",
        (Role.CASE_WORKER, Role.CASE_TEAM_MEMBER),
        "Sozialarbeiterin, Sozialdienst Uster",
    ),
    DemoUser("biz-beraterin", "Bettina", "Graf", "biz Uster", (Role.CASE_WORKER,), "Berufsberaterin, AJB biz Uster"),
    DemoUser(
        "ausschuss", "Oliver", "Steiner", "Geschäftsstelle iiz", (Role.OPERATING_COMMITTEE,), "Operativer Ausschuss"
    ),
    DemoUser("traegerschaft", "Theres", "Widmer", "Geschäftsstelle iiz", (Role.SUPERVISORY_BODY,), "Trägerschaft"),
]


def refuse_outside_demo() -> None:
    if not settings.DEMO_MODE:
        raise CommandError("The demo loader runs only in demo mode (IIZ_MODE=demo); it refuses production settings.")


def _institution(kind: str) -> Institution:
    institution = Institution.objects.filter(kind=kind, municipality__isnull=True).order_by("pk").first()
    if institution is None:
        raise CommandError(f"The partner institution of kind {kind!r} is missing; run the migrations first.")
    return institution


def _unit(institution: Institution, name: str, bfs_number: int | None) -> OrganisationalUnit:
    municipality = (
        Municipality.objects.filter(bfs_number=bfs_number, valid_until__isnull=True).first() if bfs_number else None
    )
    unit, _ = OrganisationalUnit.objects.get_or_create(
        institution=institution, name=name, defaults={"municipality": municipality}
    )
    return unit


@transaction.atomic
def demo_world_build() -> dict[str, OrganisationalUnit]:
    """Create the demo units, social services, contracts and users. Returns the units by name."""
    refuse_outside_demo()
    units: dict[str, OrganisationalUnit] = {}
    labour = _institution(InstitutionKind.LABOUR)
    for name, bfs in RAV_SITES.items():
        units[name] = _unit(labour, name, bfs)
    disability = _institution(InstitutionKind.DISABILITY)
    for name, bfs in IV_UNITS.items():
        units[name] = _unit(disability, name, bfs)
    youth = _institution(InstitutionKind.YOUTH)
    for name, bfs in BIZ_SITES.items():
        units[name] = _unit(youth, name, bfs)
    units["Kantonales Sozialamt"] = _unit(_institution(InstitutionKind.CANTONAL_SOCIAL), "Kantonales Sozialamt", 261)
    units["Geschäftsstelle iiz"] = _unit(_institution(InstitutionKind.COORDINATION), "Geschäftsstelle iiz", 261)
    for bfs, signed in SOCIAL_SERVICES.items():
        municipality = Municipality.objects.get(bfs_number=bfs, valid_until__isnull=True)
        name = f"Sozialdienst {municipality.name}"
        service, _ = Institution.objects.get_or_create(
            name=name,
            defaults={
                "kind": InstitutionKind.SOCIAL_SERVICE,
                "short_name": f"SD {municipality.name}",
                "municipality": municipality,
                "is_partner": True,
            },
        )
        units[name] = _unit(service, name, bfs)
        MunicipalityContract.objects.get_or_create(
            municipality=municipality, institution=service, defaults={"signed_on": signed}
        )
    Institution.objects.get_or_create(
        name="Externe Fachpersonen",
        defaults={"kind": InstitutionKind.EXTERNAL, "short_name": "Extern", "is_partner": False},
    )
    for demo in DEMO_USERS:
        if User.objects.filter(username=demo.username).exists():
            continue
        user_create(
            actor=None,
            username=demo.username,
            first_name=demo.first_name,
            last_name=demo.last_name,
            email=f"{demo.username}@demo.iiz.invalid",
            unit=units[demo.unit],
            roles=demo.roles,
            password=DEMO_PASSWORD,
            phone=office_phone(units[demo.unit], demo.username),
            is_demo_account=True,
            # The administrator maintains catalogues and users in the Django admin.
            is_staff=Role.ADMINISTRATOR in demo.roles,
            is_superuser=Role.ADMINISTRATOR in demo.roles,
            validate=False,
        )
    return units


# Two more iiz specialists for the demo's cases (no login: unusable password, not demo accounts), so that
# the cases are not all opened by one person and the RAV opens some of its own.
EXTRA_SPECIALISTS = [
    DemoUser(
        "iiz-spezialist-iv-oberland",
        "Marco",
        "Bianchi",
        "IV-Stelle Zürich, Eingliederung Oberland",
        (Role.SPECIALIST, Role.CASE_TEAM_MEMBER),
        "iiz-Spezialist, SVA Zürich IV-Stelle",
    ),
    DemoUser(
        "iiz-spezialistin-rav-uster",
        "Nadine",
        "Baumann",
        "RAV Uster",
        (Role.SPECIALIST, Role.CASE_TEAM_MEMBER),
        "iiz-Spezialistin, RAV Uster",
    ),
]


@transaction.atomic
def demo_specialists_ensure() -> dict[str, User]:
    """Create the extra specialists the demo cases need (once); returns them by username."""
    refuse_outside_demo()
    users: dict[str, User] = {}
    for extra in EXTRA_SPECIALISTS:
        user = User.objects.filter(username=extra.username).first()
        if user is None:
            unit = OrganisationalUnit.objects.get(name=extra.unit)
            user = user_create(
                actor=None,
                username=extra.username,
                first_name=extra.first_name,
                last_name=extra.last_name,
                email=f"{extra.username}@demo.iiz.invalid",
                unit=unit,
                roles=extra.roles,
                password=None,
                phone=office_phone(unit, extra.username),
            )
        users[extra.username] = user
    return users
