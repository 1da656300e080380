"""Rows for importing clients in batches, as `iiz.clients.services.clients_import_batch` takes them.

A row holds one person with their registrations and the versions of their consent, in plain values and
model instances already looked up (units, institutions, users). Readers of CSV or XLSX files and the demo
generator build these rows; the service validates and stores them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from iiz.organisations.models import Institution, Municipality, OrganisationalUnit, User


@dataclass(frozen=True)
class RegistrationImportRow:
    """A registration with the institution of ``unit``. ``recorded_by`` defaults to the importing user."""

    unit: OrganisationalUnit
    registered_on: dt.date
    deregistered_on: dt.date | None = None
    external_case_number: str = ""
    recorded_by: User | None = None


@dataclass(frozen=True)
class ConsentImportRow:
    """One version of a consent. ``recorded_by`` defaults to the importing user.

    A revocation (``revoked_at``) is allowed on the newest version only, as in `consent_revoke`.
    """

    institutions: tuple[Institution, ...]
    categories: tuple[str, ...]
    purpose: str
    valid_from: dt.date
    valid_until: dt.date | None = None
    recorded_by: User | None = None
    revoked_at: dt.datetime | None = None
    revoked_by: User | None = None
    revocation_reason: str = ""


@dataclass(frozen=True)
class ClientImportRow:
    """One person.

    The institution of the first registration records the person (``Client.recorded_by_institution``).
    ``consents`` are the versions of the person's consent, oldest first: each later version replaces the
    one before it, which counts as superseded from the start of the later version's ``valid_from``.
    """

    ahv_number: str
    first_name: str
    last_name: str
    date_of_birth: dt.date
    sex: str
    municipality: Municipality | None
    registrations: tuple[RegistrationImportRow, ...]
    street: str = ""
    house_number: str = ""
    postal_code: str = ""
    town: str = ""
    phone: str = ""
    email: str = ""
    languages: tuple[str, ...] = ()
    consents: tuple[ConsentImportRow, ...] = ()
