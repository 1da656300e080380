"""Export of person identification and address data as an iiz person delivery with an eCH-0058 header.

A message holds what the exporting user may see of each person, exactly as the client page shows it: the
identification always, the address, phone, e-mail and languages only where the client page shows them
(recorded by the user's institution, or shared under the client's consent). The registration is the
exporting institution's own. Every message is validated against the schema before it leaves, and every
exported person gets an export entry in the audit trail (who, which message, to whom).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.etree import ElementTree  # noqa: S405 - we only build and serialise our own elements

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz import access
from iiz.audit.models import AuditAction
from iiz.audit.services import audit_record
from iiz.clients.models import Client, Registration, Sex
from iiz.clients.selectors import client_access_get, registrations_of_institution
from iiz.interfaces.ech.schema import (
    DELIVERY_VERSION,
    NS_0010,
    NS_0044,
    NS_0058,
    NS_DELIVERY,
    PREFIXES,
    delivery_schema,
    tag,
)

if TYPE_CHECKING:
    from iiz.organisations.models import User

for _prefix, _uri in PREFIXES.items():
    ElementTree.register_namespace(_prefix, _uri)

logger = logging.getLogger(__name__)

SEX_CODES = {Sex.MALE: "1", Sex.FEMALE: "2", Sex.UNKNOWN: "3"}
# eCH-0058 action "1": a new message (not a correction, recall or answer).
ACTION_NEW = "1"
# eCH-0010 limits that are shorter than ours.
_ADDRESS_NAME_MAX = 30
_TOWN_MAX = 40


@dataclass(frozen=True)
class Delivery:
    content: bytes
    message_id: str
    persons: int

    @property
    def file_name(self) -> str:
        return f"personen-{timezone.localdate().isoformat()}-{self.message_id[:8]}.xml"


@dataclass(frozen=True)
class _Person:
    client: Client
    grant: access.ClientAccess
    registration: Registration | None
    show_contact: bool


def _text(parent: ElementTree.Element, namespace: str, name: str, value: object) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag(namespace, name))
    element.text = str(value)
    return element


def _header(parent: ElementTree.Element, *, message_id: str, recipient_id: str, count: int) -> None:
    header = ElementTree.SubElement(parent, tag(NS_DELIVERY, "deliveryHeader"))
    _text(header, NS_0058, "senderId", settings.IIZ_SEDEX_ID)
    if recipient_id:
        _text(header, NS_0058, "recipientId", recipient_id)
    _text(header, NS_0058, "messageId", message_id)
    _text(header, NS_0058, "messageType", settings.IIZ_SEDEX_MESSAGE_TYPE)
    application = ElementTree.SubElement(header, tag(NS_0058, "sendingApplication"))
    _text(application, NS_0058, "manufacturer", "Kanton Zürich")
    _text(application, NS_0058, "product", "iiz")
    _text(application, NS_0058, "productVersion", DELIVERY_VERSION)
    _text(header, NS_0058, "subject", f"Personendaten ({count})")
    _text(header, NS_0058, "messageDate", timezone.now().isoformat(timespec="seconds"))
    _text(header, NS_0058, "action", ACTION_NEW)
    # Anything that does not come from the production system is test data for the receiving adapter.
    _text(header, NS_0058, "testDeliveryFlag", "false" if settings.PRODUCTION else "true")


def _swiss_zip(postal_code: str) -> int | None:
    code = postal_code.strip()
    return int(code) if code.isdigit() and 1000 <= int(code) <= 9999 else None


def _person(parent: ElementTree.Element, person: _Person) -> None:
    client = person.client
    element = ElementTree.SubElement(parent, tag(NS_DELIVERY, "person"))
    identification = ElementTree.SubElement(element, tag(NS_DELIVERY, "personIdentification"))
    _text(identification, NS_0044, "vn", client.ahv_number)
    local = ElementTree.SubElement(identification, tag(NS_0044, "localPersonId"))
    _text(local, NS_0044, "personIdCategory", settings.IIZ_ECH_PERSON_ID_CATEGORY)
    _text(local, NS_0044, "personId", client.public_id)
    _text(identification, NS_0044, "officialName", client.last_name)
    _text(identification, NS_0044, "firstName", client.first_name)
    _text(identification, NS_0044, "sex", SEX_CODES[Sex(client.sex)])
    born = ElementTree.SubElement(identification, tag(NS_0044, "dateOfBirth"))
    _text(born, NS_0044, "yearMonthDay", client.date_of_birth.isoformat())
    if client.municipality is not None:
        residence = ElementTree.SubElement(element, tag(NS_DELIVERY, "residence"))
        _text(residence, NS_DELIVERY, "municipalityId", client.municipality.bfs_number)
        _text(residence, NS_DELIVERY, "municipalityName", client.municipality.name)
        _text(residence, NS_DELIVERY, "cantonAbbreviation", "ZH")
    if person.show_contact:
        if client.town.strip():
            address = ElementTree.SubElement(element, tag(NS_DELIVERY, "mailAddress"))
            name = ElementTree.SubElement(address, tag(NS_0010, "person"))
            _text(name, NS_0010, "firstName", client.first_name[:_ADDRESS_NAME_MAX])
            _text(name, NS_0010, "lastName", client.last_name[:_ADDRESS_NAME_MAX])
            information = ElementTree.SubElement(address, tag(NS_0010, "addressInformation"))
            if client.street.strip():
                _text(information, NS_0010, "street", client.street)
                if client.house_number.strip():
                    _text(information, NS_0010, "houseNumber", client.house_number)
            _text(information, NS_0010, "town", client.town[:_TOWN_MAX])
            zip_code = _swiss_zip(client.postal_code)
            if zip_code is not None:
                _text(information, NS_0010, "swissZipCode", zip_code)
            country = ElementTree.SubElement(information, tag(NS_0010, "country"))
            _text(country, NS_0010, "countryIdISO2", "CH")
            _text(country, NS_0010, "countryNameShort", "Schweiz")
        if client.phone.strip():
            _text(element, NS_DELIVERY, "phone", client.phone)
        if client.email.strip():
            _text(element, NS_DELIVERY, "email", client.email)
        for code in client.languages:
            _text(element, NS_DELIVERY, "language", code)
    registration = person.registration
    if registration is not None:
        entry = ElementTree.SubElement(element, tag(NS_DELIVERY, "registration"))
        _text(entry, NS_DELIVERY, "institution", registration.institution.name)
        if registration.external_case_number.strip():
            _text(entry, NS_DELIVERY, "externalCaseNumber", registration.external_case_number)
        _text(entry, NS_DELIVERY, "registeredOn", registration.registered_on.isoformat())


def _build(persons: list[_Person], *, recipient_id: str) -> Delivery:
    message_id = uuid.uuid4().hex
    root = ElementTree.Element(tag(NS_DELIVERY, "delivery"), {"version": DELIVERY_VERSION})
    _header(root, message_id=message_id, recipient_id=recipient_id, count=len(persons))
    for person in persons:
        _person(root, person)
    # A message that does not match the schema never leaves.
    error = next(delivery_schema().iter_errors(root), None)
    if error is not None:
        logger.error("eCH export does not match the schema at %s: %s", error.path, error.reason)
        raise ValidationError(
            _("Die Daten lassen sich nicht als gültige eCH-Meldung schreiben (%(path)s).") % {"path": error.path}
        )
    content = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return Delivery(content=content, message_id=message_id, persons=len(persons))


def _own_registration(registrations: list[Registration], institution_id: int | None) -> Registration | None:
    """The institution's registration to report: an open one first, then the most recent."""
    own = [r for r in registrations if r.institution_id == institution_id]
    own.sort(key=lambda r: (r.deregistered_on is None, r.registered_on, r.pk), reverse=True)
    return own[0] if own else None


def _audit(
    *, user: User, person: _Person, message_id: str, recipient_id: str, request: HttpRequest | None, count: int
) -> None:
    details = person.grant.audit_details()
    details.update(
        {
            "format": "ech",
            "message_id": message_id,
            "persons_in_message": count,
            "contact_details": person.show_contact,
            "registration": person.registration.pk if person.registration else None,
        }
    )
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        client_id=person.client.pk,
        object_type="ech_delivery",
        object_id=message_id,
        basis=person.grant.basis,
        recipient=recipient_id[:200],
        details=details,
        request=request,
    )


def _validate_recipient(recipient_id: str) -> str:
    recipient_id = recipient_id.strip()
    if len(recipient_id) > 50 or any(c.isspace() for c in recipient_id):
        raise ValidationError({"recipient": _("Ungültige sedex-ID des Empfängers.")})
    return recipient_id


def client_ech_export(
    *, user: User, public_id: object, recipient_id: str = "", request: HttpRequest | None = None
) -> Delivery:
    """One client as a delivery, as the user may see them; 404 (logged) when hidden, like the client page."""
    recipient_id = _validate_recipient(recipient_id)
    grant = client_access_get(user=user, public_id=public_id, request=request)
    access.refuse_if_read_only(grant)
    client = grant.client
    if client.anonymised_on is not None:
        raise ValidationError(_("Die Person ist anonymisiert: es gibt keine Personendaten zu exportieren."))
    registrations = list(client.registrations.select_related("institution"))
    person = _Person(
        client=client,
        grant=grant,
        registration=_own_registration(registrations, user.institution_id),
        show_contact=grant.may_see_contact_details(),
    )
    delivery = _build([person], recipient_id=recipient_id)
    _audit(
        user=user, person=person, message_id=delivery.message_id, recipient_id=recipient_id, request=request, count=1
    )
    return delivery


def institution_ech_export(
    *,
    user: User,
    active_only: bool = True,
    registered_from: dt.date | None = None,
    registered_until: dt.date | None = None,
    recipient_id: str = "",
    limit: int | None = None,
    request: HttpRequest | None = None,
) -> Delivery:
    """The persons registered with the user's institution (optionally only open registrations, or registered
    within a period) as one delivery. Raises ValidationError when nothing or too much is selected."""
    recipient_id = _validate_recipient(recipient_id)
    if not access.may_work_with_clients(user) or user.institution_id is None:
        raise PermissionDenied(_("Ihre Rolle sieht keine Personendaten."))
    # Anonymised persons have no identification left to report (and no valid AHV number).
    registrations = registrations_of_institution(user=user).filter(client__anonymised_on__isnull=True)
    if active_only:
        registrations = registrations.filter(deregistered_on__isnull=True)
    if registered_from is not None:
        registrations = registrations.filter(registered_on__gte=registered_from)
    if registered_until is not None:
        registrations = registrations.filter(registered_on__lte=registered_until)
    by_client: dict[int, list[Registration]] = {}
    for registration in registrations.select_related("institution").order_by("client_id", "pk"):
        by_client.setdefault(registration.client_id, []).append(registration)
    if not by_client:
        raise ValidationError(_("Für diese Auswahl gibt es keine Personen."))
    if limit is not None and len(by_client) > limit:
        raise ValidationError(
            _("Die Auswahl umfasst %(count)s Personen, höchstens %(limit)s sind möglich. Bitte grenzen Sie sie ein.")
            % {"count": len(by_client), "limit": limit}
        )
    clients = Client.objects.filter(pk__in=by_client).select_related("municipality", "recorded_by_institution")
    grants = access.registered_clients_access(user=user, clients=clients.order_by("last_name", "first_name", "pk"))
    persons = [
        _Person(
            client=grant.client,
            grant=grant,
            registration=_own_registration(by_client[grant.client.pk], user.institution_id),
            show_contact=grant.may_see_contact_details(),
        )
        for grant in grants
    ]
    delivery = _build(persons, recipient_id=recipient_id)
    # One transaction: the message is handed out only when every person's export is in the trail.
    with transaction.atomic():
        for person in persons:
            _audit(
                user=user,
                person=person,
                message_id=delivery.message_id,
                recipient_id=recipient_id,
                request=request,
                count=len(persons),
            )
    return delivery
