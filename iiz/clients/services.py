"""Every change to clients, registrations and consents.

Each service validates, runs in one transaction and writes its audit entry with the acting user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.clients.models import Client, Consent, Registration
from iiz.lib.ahv import DUPLICATE_AHV_MESSAGE, ahv_normalise
from iiz.lib.uploads import validate_document_upload
from iiz.organisations.models import Institution, Municipality, OrganisationalUnit

if TYPE_CHECKING:
    from iiz.organisations.models import User

CONTACT_FIELDS = ("street", "house_number", "postal_code", "town", "phone", "email", "languages")


def _duplicate_ahv_error() -> ValidationError:
    return ValidationError(
        {"ahv_number": DUPLICATE_AHV_MESSAGE},
        code="duplicate",
    )


def _require_institution(user: User) -> Institution:
    institution = user.institution
    if institution is None:
        raise PermissionDenied(_("Ihr Konto ist keiner Institution zugeordnet."))
    return institution


@transaction.atomic
def client_create(
    *,
    actor: User,
    ahv_number: str,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    sex: str,
    municipality: Municipality | None,
    street: str = "",
    house_number: str = "",
    postal_code: str = "",
    town: str = "",
    phone: str = "",
    email: str = "",
    languages: Iterable[str] = (),
    registration_unit: OrganisationalUnit | None = None,
    external_case_number: str = "",
    registered_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> Client:
    """Record a new person, registered with the actor's own institution.

    The same AHV number can never create a second client: the check runs before the insert and the
    unique index guards against two users racing.
    """
    if not access.may_create_clients(actor):
        raise PermissionDenied(_("Sie dürfen keine Personen erfassen."))
    institution = _require_institution(actor)
    compact = ahv_normalise(ahv_number)
    if Client.objects.filter(ahv_number=compact).exists():
        raise _duplicate_ahv_error()
    client = Client(
        ahv_number=compact,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        sex=sex,
        municipality=municipality,
        street=street.strip(),
        house_number=house_number.strip(),
        postal_code=postal_code.strip(),
        town=town.strip(),
        phone=phone.strip(),
        email=email.strip(),
        languages=list(dict.fromkeys(languages)),
        recorded_by_institution=institution,
    )
    client.full_clean()
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError as error:
        raise _duplicate_ahv_error() from error
    audit_record(actor=actor, action=AuditAction.CREATE, client_id=client.pk, object_type="client",
                 object_id=client.pk, basis=AuditBasis.REGISTRATION, request=request)
    registration_create(
        actor=actor,
        client=client,
        unit=registration_unit if registration_unit is not None else actor.unit,
        external_case_number=external_case_number,
        registered_on=registered_on or timezone.localdate(),
        request=request,
    )
    return client


@transaction.atomic
def client_update_contact(*, actor: User, client: Client, request: HttpRequest | None = None,
                          **changes: object) -> Client:
    """Change a client's address, phone, e-mail or languages."""
    grant = access.client_access_for(user=actor, client=client)
    if grant is None:
        raise PermissionDenied
    if not grant.may_edit_contact_details():
        raise PermissionDenied(_("Nur die erfassende Institution ändert die Kontaktdaten."))
    unknown = set(changes) - set(CONTACT_FIELDS) - {"municipality"}
    if unknown:
        raise ValueError(f"Not a contact field: {sorted(unknown)}")
    before = {name: getattr(client, name) for name in changes}
    for name, value in changes.items():
        setattr(client, name, value.strip() if isinstance(value, str) else value)
    client.full_clean()
    client.save()
    changed = sorted(name for name in changes if before[name] != getattr(client, name))
    audit_record(actor=actor, action=AuditAction.UPDATE, client_id=client.pk, object_type="client",
                 object_id=client.pk, basis=grant.basis, details={"fields": changed}, request=request)
    return client


@transaction.atomic
def registration_create(
    *,
    actor: User,
    client: Client,
    unit: OrganisationalUnit | None,
    external_case_number: str = "",
    registered_on: dt.date,
    deregistered_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> Registration:
    """Record that the client is registered with the actor's own institution."""
    institution = _require_institution(actor)
    if not access.may_work_with_clients(actor):
        raise PermissionDenied
    if unit is not None and unit.institution_id != institution.pk:
        raise ValidationError({"unit": _("Sie können nur Anmeldungen Ihrer eigenen Institution erfassen.")})
    registration = Registration(
        client=client,
        institution=institution,
        unit=unit,
        external_case_number=external_case_number.strip(),
        registered_on=registered_on,
        deregistered_on=deregistered_on,
        recorded_by=actor,
    )
    registration.full_clean()
    registration.save()
    audit_record(actor=actor, action=AuditAction.CREATE, client_id=client.pk, object_type="registration",
                 object_id=registration.pk, basis=AuditBasis.REGISTRATION, request=request,
                 details={"institution": institution.short_name})
    return registration


@transaction.atomic
def registration_end(*, actor: User, registration: Registration, deregistered_on: dt.date,
                     request: HttpRequest | None = None) -> Registration:
    institution = _require_institution(actor)
    if registration.institution_id != institution.pk:
        raise PermissionDenied(_("Sie können nur Anmeldungen Ihrer eigenen Institution beenden."))
    registration.deregistered_on = deregistered_on
    registration.full_clean()
    registration.save(update_fields=["deregistered_on"])
    audit_record(actor=actor, action=AuditAction.UPDATE, client_id=registration.client_id,
                 object_type="registration", object_id=registration.pk, basis=AuditBasis.REGISTRATION,
                 details={"deregistered_on": deregistered_on.isoformat()}, request=request)
    return registration


def _attach_document(consent: Consent, document: UploadedFile | None) -> None:
    if document is None:
        return
    try:
        content_type = validate_document_upload(document)
    except ValidationError as error:
        raise ValidationError({"document": error.messages}) from error
    consent.document = document
    consent.document_content_type = content_type


@transaction.atomic
def consent_record(
    *,
    actor: User,
    client: Client,
    institutions: Iterable[Institution],
    categories: Iterable[str],
    purpose: str,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    document: UploadedFile | None = None,
    replaces: Consent | None = None,
    request: HttpRequest | None = None,
) -> Consent:
    """Record a client's consent, or a new version of one; the previous version stays readable."""
    grant = access.client_access_for(user=actor, client=client)
    if grant is None:
        raise PermissionDenied
    institution_list = list(institutions)
    if not institution_list:
        raise ValidationError({"institutions": _("Wählen Sie mindestens eine Institution.")}, code="required")
    if replaces is not None:
        # Lock the version being replaced so that two amendments cannot both succeed.
        replaces = Consent.objects.select_for_update().get(pk=replaces.pk)
        if replaces.client_id != client.pk:
            raise ValidationError(_("Diese Einwilligung gehört zu einer anderen Person."))
        if replaces.superseded_at is not None or replaces.revoked_at is not None:
            raise ValidationError(
                _("Diese Version wurde inzwischen ersetzt oder widerrufen. Laden Sie die Seite neu."), code="stale"
            )
    consent = Consent(
        client=client,
        version=(replaces.version + 1) if replaces else 1,
        replaces=replaces,
        categories=sorted(set(categories)),
        purpose=purpose.strip(),
        valid_from=valid_from,
        valid_until=valid_until,
        recorded_by=actor,
    )
    _attach_document(consent, document)
    consent.full_clean(exclude=["replaces"])
    if replaces is not None:
        replaces.superseded_at = timezone.now()
        replaces.save(update_fields=["superseded_at"])
    consent.save()
    consent.institutions.set(institution_list)
    audit_record(
        actor=actor, action=AuditAction.CREATE, client_id=client.pk, object_type="consent", object_id=consent.pk,
        basis=grant.basis, request=request,
        details={
            "version": consent.version,
            "replaces": replaces.pk if replaces else None,
            "institutions": sorted(i.short_name for i in institution_list),
            "categories": consent.categories,
        },
    )
    return consent


@transaction.atomic
def consent_revoke(*, actor: User, consent: Consent, reason: str, request: HttpRequest | None = None) -> Consent:
    """Record that the client revoked the consent. Access it granted ends at once, for the future."""
    grant = access.client_access_for(user=actor, client=consent.client)
    if grant is None:
        raise PermissionDenied
    consent = Consent.objects.select_for_update().get(pk=consent.pk)
    if consent.revoked_at is not None:
        raise ValidationError(_("Diese Einwilligung ist bereits widerrufen."), code="already_revoked")
    if consent.superseded_at is not None:
        raise ValidationError(_("Diese Version wurde ersetzt; widerrufen Sie die aktuelle Version."), code="stale")
    if not reason.strip():
        raise ValidationError({"revocation_reason": _("Bitte geben Sie den Grund oder Anlass des Widerrufs an.")})
    consent.revoked_at = timezone.now()
    consent.revoked_by = actor
    consent.revocation_reason = reason.strip()
    consent.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
    audit_record(actor=actor, action=AuditAction.UPDATE, client_id=consent.client_id, object_type="consent",
                 object_id=consent.pk, basis=grant.basis, details={"revoked": True}, request=request)
    return consent
