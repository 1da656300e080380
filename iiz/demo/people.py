"""Synthetic staff names, office phone numbers and external contacts for the demo.

A case team in use has names and telephone numbers: the iiz specialists in the directory, the coordinators
who moderate the meetings, and the doctors and employers whom the coordinators invite. Everything here is
invented: the names are drawn from the name lists of ``iiz.demo.names`` with a seed taken from the
username or the unit, so that a second run of the loader gives the same person the same name; the phone
numbers use the area code of the unit's region with made-up subscriber numbers; the practices and firms
do not exist.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from iiz.demo import names
from iiz.organisations.models import Contact, ContactKind, OrganisationalUnit

# Area codes of the canton's regions by the unit's municipality (BFS number); 044 elsewhere.
AREA_CODES = {230: "052", 53: "044", 62: "044", 2: "044", 156: "044", 141: "044", 295: "044"}


def _rng(key: str) -> random.Random:
    # A stable seed from a text: the same username gives the same synthetic name in every run.
    return random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))


def staff_name(key: str) -> tuple[str, str]:
    """A first and last name for a synthetic member of staff, the same for the same ``key``."""
    rng = _rng(key)
    first = rng.choice(names.SWISS_GERMAN.female if rng.random() < 0.6 else names.SWISS_GERMAN.male)
    return first, rng.choice(names.SWISS_GERMAN.last)


def office_phone(unit: OrganisationalUnit | None, key: str) -> str:
    """A made-up direct line in the unit's region, written as Swiss offices write it."""
    rng = _rng(f"phone:{key}")
    area = AREA_CODES.get(unit.municipality.bfs_number, "044") if unit and unit.municipality else "044"
    return f"{area} {rng.randint(200, 989)} {rng.randint(10, 99)} {rng.randint(10, 99)}"


@dataclass(frozen=True)
class _ContactSpec:
    kind: str
    first_name: str
    last_name: str
    organisation: str
    phone: str
    email: str


# Doctors (general practice, psychiatry, rheumatology, occupational medicine), employers of the region,
# and job coaches: the people the coordinators invite to case-team meetings. All invented.
CONTACTS: tuple[_ContactSpec, ...] = (
    _ContactSpec(ContactKind.DOCTOR, "Regula", "Hürlimann", "Hausarztpraxis am Stadtpark, Uster",
                 "044 941 27 35", "praxis@stadtpark-uster.example"),
    _ContactSpec(ContactKind.DOCTOR, "Thomas", "Bodmer", "Gruppenpraxis Oberland, Wetzikon",
                 "044 932 18 60", "sekretariat@gp-oberland.example"),
    _ContactSpec(ContactKind.DOCTOR, "Mirjam", "Schellenberg", "Psychiatrische Praxis Seefeld, Uster",
                 "044 940 55 12", "kontakt@psychiatrie-seefeld.example"),
    _ContactSpec(ContactKind.DOCTOR, "Andreas", "Ochsner", "Rheumatologie Zürich Oberland, Uster",
                 "044 943 71 08", "rheuma@rzo-uster.example"),
    _ContactSpec(ContactKind.DOCTOR, "Claudia", "Wettstein", "Arbeitsmedizin Zürich Ost, Dübendorf",
                 "044 821 64 90", "arbeitsmedizin@zuerich-ost.example"),
    _ContactSpec(ContactKind.DOCTOR, "Peter", "Zollinger", "Hausarztpraxis Töss, Winterthur",
                 "052 212 38 44", "praxis@hausarzt-toess.example"),
    _ContactSpec(ContactKind.EMPLOYER, "Daniel", "Bosshard", "Greifensee Logistik AG, Personalabteilung",
                 "044 944 80 20", "personal@greifensee-logistik.example"),
    _ContactSpec(ContactKind.EMPLOYER, "Sandra", "Rüegg", "Pflegezentrum Im Grüene, Uster",
                 "044 905 61 00", "hr@pflegezentrum-gruene.example"),
    _ContactSpec(ContactKind.EMPLOYER, "Marco", "Isler", "Oberland Metallbau GmbH, Hinwil",
                 "044 937 22 41", "m.isler@oberland-metallbau.example"),
    _ContactSpec(ContactKind.EMPLOYER, "Karin", "Spörri", "Detailhandel Zürichsee AG, Filiale Uster",
                 "044 940 13 77", "filiale.uster@dh-zuerichsee.example"),
    _ContactSpec(ContactKind.EMPLOYER, "Beat", "Honegger", "Gemeindewerke Volketswil, Werkhof",
                 "044 910 45 30", "werkhof@gw-volketswil.example"),
    _ContactSpec(ContactKind.EMPLOYER, "Nicole", "Kägi", "Gastro Kyburg AG, Winterthur",
                 "052 203 90 16", "personal@gastro-kyburg.example"),
    _ContactSpec(ContactKind.COACH, "Silvan", "Meili", "Job-Coaching Zürcher Oberland",
                 "044 941 66 02", "coaching@jc-oberland.example"),
    _ContactSpec(ContactKind.COACH, "Franziska", "Landolt", "Supported Employment Winterthur",
                 "052 269 40 85", "f.landolt@se-winterthur.example"),
)


def demo_contacts_ensure() -> dict[str, list[Contact]]:
    """Create the demo's external contacts once; returns them by kind (doctor, employer, coach)."""
    found: dict[str, list[Contact]] = {}
    for spec in CONTACTS:
        contact, _ = Contact.objects.get_or_create(
            kind=spec.kind,
            last_name=spec.last_name,
            organisation=spec.organisation,
            defaults={"first_name": spec.first_name, "phone": spec.phone, "email": spec.email},
        )
        found.setdefault(spec.kind, []).append(contact)
    return found
