"""Every change to clients, registrations and consents.

Each service validates, runs in one transaction and writes its audit entry with the acting user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.clients.identity import identity_matches
from iiz.clients.imports import ClientImportRow, ConsentImportRow
from iiz.clients.models import AhvConflict, AhvConflictSource, Client, Consent, ConsentNotice, Registration
from iiz.lib.ahv import DUPLICATE_AHV_MESSAGE, ahv_invalid_message, ahv_normalise
from iiz.lib.crypto import encrypt_bytes
from iiz.lib.locking import already_done, locked
from iiz.lib.text import bidi_errors
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
    source: str = AhvConflictSource.FORM,
    request: HttpRequest | None = None,
) -> Client:
    """Record a new person, registered with the actor's own institution.

    The same AHV number never creates a second client (the unique index guards against two users racing).
    When the number is recorded already, what the actor learns depends on what the actor may see:

    * a person the actor sees: the field says so (search for the person instead);
    * a person hidden from the actor whose name and date of birth match what the actor typed: the actor's
      institution is registered with that person (it knew the person already), and the person is returned;
    * a person hidden from the actor whose name or date of birth differ: the same answer as for an invalid
      number, and a conflict for the coordinators to resolve. The number alone never reveals that a partner
      institution knows the person.
    """
    if not access.may_create_clients(actor):
        raise PermissionDenied(_("Sie dürfen keine Personen erfassen."))
    institution = access.own_institution(actor)
    # Before anything is looked up or recorded (an AHV conflict keeps the names typed).
    if refused := bidi_errors(first_name=first_name, last_name=last_name):
        raise ValidationError(refused)
    compact = ahv_normalise(ahv_number)
    registration: dict[str, Any] = {
        "unit": registration_unit if registration_unit is not None else actor.unit,
        "external_case_number": external_case_number,
        "registered_on": registered_on or timezone.localdate(),
    }
    identity: dict[str, Any] = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "date_of_birth": date_of_birth,
    }
    existing = Client.objects.filter(ahv_number=compact).first()
    if existing is not None:
        return _client_known_by_number(
            actor=actor, client=existing, identity=identity, registration=registration, source=source, request=request
        )
    client = Client(
        ahv_number=compact,
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
        **identity,
    )
    client.full_clean()
    try:
        with transaction.atomic():
            client.save()
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                client_id=client.pk,
                object_type="client",
                object_id=client.pk,
                basis=AuditBasis.REGISTRATION,
                request=request,
            )
            registration_create(actor=actor, client=client, request=request, **registration)
    except IntegrityError:
        # Another user recorded the same number since the check above: decide as if it had been there.
        raced = Client.objects.filter(ahv_number=compact).first()
        if raced is None:
            raise
        return _client_known_by_number(
            actor=actor, client=raced, identity=identity, registration=registration, source=source, request=request
        )
    return client


def _client_known_by_number(
    *,
    actor: User,
    client: Client,
    identity: dict[str, Any],
    registration: dict[str, Any],
    source: str,
    request: HttpRequest | None,
) -> Client:
    if access.client_access_for(user=actor, client=client) is not None:
        raise _duplicate_ahv_error()
    if identity_matches(client=client, **identity):
        with transaction.atomic():
            registration_create(actor=actor, client=client, request=request, **registration)
        return client
    ahv_conflict_record(actor=actor, client=client, source=source, request=request, **identity)
    raise ValidationError({"ahv_number": ahv_invalid_message()}, code="invalid_ahv")


def ahv_conflict_record(
    *,
    actor: User,
    client: Client,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    source: str,
    reference: str = "",
    request: HttpRequest | None = None,
) -> AhvConflict:
    """Record for the coordinators that the actor gave another person's AHV number (see client_create)."""
    with transaction.atomic():
        conflict = AhvConflict.objects.create(
            client=client,
            institution=access.own_institution(actor),
            reported_by=actor,
            source=source,
            typed_first_name=first_name[:100],
            typed_last_name=last_name[:100],
            typed_date_of_birth=date_of_birth,
            reference=reference[:100],
        )
        # The actor may not see the person: the entry is a refusal, kept with the person's trail.
        audit_record(
            actor=actor,
            action=AuditAction.DENIED,
            client_id=client.pk,
            object_type="ahv_conflict",
            object_id=conflict.pk,
            basis=AuditBasis.NONE,
            details={"source": source},
            request=request,
        )
    return conflict


@transaction.atomic
def ahv_conflict_resolve(
    *, actor: User, conflict: AhvConflict, resolution: str, request: HttpRequest | None = None
) -> AhvConflict:
    if not access.may_handle_ahv_conflicts(actor):
        raise PermissionDenied
    conflict = AhvConflict.objects.select_for_update().get(pk=conflict.pk)
    if conflict.resolved_at is not None:
        raise ValidationError(_("Dieser Konflikt ist bereits erledigt."))
    if not resolution.strip():
        raise ValidationError({"resolution": _("Halten Sie fest, wie der Konflikt gelöst wurde.")})
    conflict.resolved_at = timezone.now()
    conflict.resolved_by = actor
    conflict.resolution = resolution.strip()
    conflict.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        client_id=conflict.client_id,
        object_type="ahv_conflict",
        object_id=conflict.pk,
        basis=AuditBasis.ROLE,
        details={"resolved": True},
        request=request,
    )
    return conflict


@transaction.atomic
def client_update_contact(
    *, actor: User, client: Client, request: HttpRequest | None = None, **changes: object
) -> Client:
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
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        client_id=client.pk,
        object_type="client",
        object_id=client.pk,
        basis=grant.basis,
        details={"fields": changed},
        request=request,
    )
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
    alv_remaining_days: int | None = None,
    sa_monthly_amount: Decimal | None = None,
    iv_pension_status: str = "",
    request: HttpRequest | None = None,
) -> Registration:
    """Record that the client is registered with the actor's own institution (with what the person draws from
    it, where the institution records that: see ``Registration``)."""
    institution = access.own_institution(actor)
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
        alv_remaining_days=alv_remaining_days,
        sa_monthly_amount=sa_monthly_amount,
        iv_pension_status=iv_pension_status or "",
    )
    registration.full_clean()
    registration.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        client_id=client.pk,
        object_type="registration",
        object_id=registration.pk,
        basis=AuditBasis.REGISTRATION,
        request=request,
        details={"institution": institution.short_name},
    )
    return registration


BENEFIT_FIELDS = ("alv_remaining_days", "sa_monthly_amount", "iv_pension_status")


@transaction.atomic
def registration_benefits_update(
    *,
    actor: User,
    registration: Registration,
    alv_remaining_days: int | None = None,
    sa_monthly_amount: Decimal | None = None,
    iv_pension_status: str = "",
    request: HttpRequest | None = None,
) -> Registration:
    """Record what the person draws from (or risks at) the actor's institution: the remaining ALV entitlement,
    the monthly social assistance, whether an IV pension is in question. Only the institution itself does."""
    institution = access.own_institution(actor)
    if registration.institution_id != institution.pk or not access.may_work_with_clients(actor):
        raise PermissionDenied(_("Sie können nur Anmeldungen Ihrer eigenen Institution ändern."))
    before = {name: getattr(registration, name) for name in BENEFIT_FIELDS}
    registration.alv_remaining_days = alv_remaining_days
    registration.sa_monthly_amount = sa_monthly_amount
    registration.iv_pension_status = iv_pension_status or ""
    registration.full_clean()
    changed = [name for name in BENEFIT_FIELDS if getattr(registration, name) != before[name]]
    if not changed:
        return registration
    registration.save(update_fields=changed)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        client_id=registration.client_id,
        object_type="registration",
        object_id=registration.pk,
        basis=AuditBasis.REGISTRATION,
        # Which fields changed, not their values: amounts and pension questions are sensitive.
        details={"fields": changed},
        request=request,
    )
    return registration


@transaction.atomic
def registration_end(
    *, actor: User, registration: Registration, deregistered_on: dt.date, request: HttpRequest | None = None
) -> Registration:
    institution = access.own_institution(actor)
    if registration.institution_id != institution.pk:
        raise PermissionDenied(_("Sie können nur Anmeldungen Ihrer eigenen Institution beenden."))
    locked(registration)
    if registration.deregistered_on is not None:
        raise already_done(
            _("Die Anmeldung ist bereits beendet (per %(date)s).")
            % {"date": f"{registration.deregistered_on:%d.%m.%Y}"}
        )
    registration.deregistered_on = deregistered_on
    registration.full_clean()
    registration.save(update_fields=["deregistered_on"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        client_id=registration.client_id,
        object_type="registration",
        object_id=registration.pk,
        basis=AuditBasis.REGISTRATION,
        details={"deregistered_on": deregistered_on.isoformat()},
        request=request,
    )
    return registration


def _attach_document(consent: Consent, document: UploadedFile | None) -> None:
    if document is None:
        return
    try:
        content_type = validate_document_upload(document)
    except ValidationError as error:
        raise ValidationError({"document": error.messages}) from error
    # Only the ciphertext reaches the file storage; the name keeps the real type for the download.
    suffix = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "image/tiff": "tif"}[content_type]
    consent.document = ContentFile(encrypt_bytes(document.read()), name=f"consent.{suffix}")
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
    verbal_statement: str = "",
    form_due_on: dt.date | None = None,
    replaces: Consent | None = None,
    request: HttpRequest | None = None,
) -> Consent:
    """Record a client's consent, or a new version of one; the previous version stays readable.

    A consent that names another institution than the actor's own widens access across institutions: it
    needs the signed form, or a verbal consent stated for the record (who took it, when, how) with a
    deadline for the form of at most VERBAL_FORM_DAYS. A new version that asks no more than the one it
    replaces keeps that version's form. The other institutions that hold data about the person are told.
    """
    grant = access.client_access_required(user=actor, client=client)
    institution_list = list(institutions)
    if not institution_list:
        raise ValidationError({"institutions": _("Wählen Sie mindestens eine Institution.")}, code="required")
    own_institution_id = access.own_institution(actor).pk
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
    if (
        document is None
        and replaces is not None
        and replaces.document
        and set(consent.categories) <= set(replaces.categories)
        and {i.pk for i in institution_list} <= set(replaces.institutions.values_list("pk", flat=True))
    ):
        # A narrower version: the form signed for the wider one covers it.
        consent.document = replaces.document
        consent.document_content_type = replaces.document_content_type
    widens = any(i.pk != own_institution_id for i in institution_list)
    if widens and not consent.document:
        _require_verbal_statement(consent, verbal_statement, form_due_on)
    consent.full_clean(exclude=["replaces"])
    if replaces is not None:
        replaces.superseded_at = timezone.now()
        replaces.save(update_fields=["superseded_at"])
    consent.save()
    consent.institutions.set(institution_list)
    notified = _consent_notify_holders(consent=consent, institutions=institution_list, own_id=own_institution_id)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        client_id=client.pk,
        object_type="consent",
        object_id=consent.pk,
        basis=grant.basis,
        request=request,
        details={
            "version": consent.version,
            "replaces": replaces.pk if replaces else None,
            "institutions": sorted(i.short_name for i in institution_list),
            "categories": consent.categories,
            "signed_form": bool(consent.document),
            "verbal": bool(consent.verbal_statement),
            "form_due_on": consent.form_due_on.isoformat() if consent.form_due_on else None,
            "notified": sorted(notified),
        },
    )
    return consent


# How long a verbal consent may stand in for the signed form.
VERBAL_FORM_DAYS = 30


def _require_verbal_statement(consent: Consent, statement: str, due_on: dt.date | None) -> None:
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    if not statement.strip():
        errors["document"] = [
            _(
                "Eine Einwilligung für andere Institutionen braucht das unterschriebene Formular. Liegt es noch "
                "nicht vor, halten Sie die mündliche Einwilligung fest (wer, wann, wie) und setzen Sie eine Frist."
            )
        ]
    if due_on is None or not today <= due_on <= today + dt.timedelta(days=VERBAL_FORM_DAYS):
        errors["form_due_on"] = [
            _("Setzen Sie eine Frist für das unterschriebene Formular, höchstens %(days)s Tage ab heute.")
            % {"days": VERBAL_FORM_DAYS}
        ]
    if errors:
        raise ValidationError(errors)
    consent.verbal_statement = statement.strip()
    consent.form_due_on = due_on


def _consent_notify_holders(*, consent: Consent, institutions: list[Institution], own_id: int) -> list[str]:
    """Tell the named institutions other than the recorder's that hold data about the person."""
    holders = set(Registration.objects.filter(client=consent.client).values_list("institution_id", flat=True))
    holders.add(consent.client.recorded_by_institution_id)
    told = [i for i in institutions if i.pk != own_id and i.pk in holders]
    ConsentNotice.objects.bulk_create([ConsentNotice(consent=consent, institution=i) for i in told])
    return [i.short_name for i in told]


@transaction.atomic
def consent_revoke(*, actor: User, consent: Consent, reason: str, request: HttpRequest | None = None) -> Consent:
    """Record that the client revoked the consent. Access it granted ends at once, for the future."""
    grant = access.client_access_required(user=actor, client=consent.client)
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
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        client_id=consent.client_id,
        object_type="consent",
        object_id=consent.pk,
        basis=grant.basis,
        details={"revoked": True},
        request=request,
    )
    return consent


# Foreign keys that `clients_import_batch` checks once per batch instead of once per row (full_clean
# would ask the database for every row).
_IMPORT_CLIENT_FKS = ["municipality", "recorded_by_institution"]
_IMPORT_REGISTRATION_FKS = ["client", "institution", "unit", "recorded_by"]
_IMPORT_CONSENT_FKS = ["client", "replaces", "recorded_by", "revoked_by"]


@transaction.atomic
def clients_import_batch(
    *,
    actor: User | None,
    rows: Sequence[ClientImportRow],
    source: str = "",
    first_row_number: int = 1,
    request: HttpRequest | None = None,
) -> int:
    """Record a batch of new persons with their registrations and consents, all or nothing.

    Each row is validated as `client_create`, `registration_create` and `consent_record` would validate
    it (AHV number normalised and unique, full_clean of every instance); the foreign keys are checked
    once for the whole batch. Then everything is inserted in bulk and one audit entry names the batch.
    With an ``actor`` the rows may only register persons with the actor's own institution; without one
    (the demo generator, a system import) ``source`` names the importer in the audit trail. Errors name
    the row, counted from ``first_row_number``. Returns the number of persons created.
    """
    from django.contrib.auth import get_user_model
    from django.core.exceptions import NON_FIELD_ERRORS
    from django.db.models import Model

    if actor is not None:
        if not access.may_create_clients(actor):
            raise PermissionDenied(_("Sie dürfen keine Personen erfassen."))
        own_institution_id: int | None = access.own_institution(actor).pk
    else:
        own_institution_id = None
    row_errors: list[tuple[int, str]] = []
    labels = {
        field.name: str(getattr(field, "verbose_name", field.name))
        for model in (Client, Registration, Consent)
        for field in model._meta.get_fields()
    }

    def add_error(row_number: int, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                for message in messages:
                    label = labels.get(name) if name != NON_FIELD_ERRORS else None
                    row_errors.append((row_number, f"{label}: {message}" if label else message))
        else:
            row_errors.extend((row_number, message) for message in error.messages)

    clients: list[Client] = []
    registrations: list[list[Registration]] = []
    consents: list[list[Consent]] = []
    consent_institutions: list[list[list[int]]] = []
    seen_ahv: dict[str, int] = {}
    user_model = get_user_model()
    referenced: dict[type[Model], set[int]] = {}

    def reference(model: type[Model], pk: int | None) -> None:
        if pk is not None:
            referenced.setdefault(model, set()).add(pk)

    tz = timezone.get_current_timezone()
    for index, row in enumerate(rows):
        row_number = first_row_number + index
        try:
            compact = ahv_normalise(row.ahv_number)
        except ValidationError as error:
            add_error(row_number, ValidationError({"ahv_number": error.messages}))
            compact = ""
        if compact and compact in seen_ahv:
            add_error(row_number, _duplicate_ahv_error())
        elif compact:
            seen_ahv[compact] = row_number
        if not row.registrations:
            add_error(row_number, ValidationError(_("Jede Person braucht mindestens eine Anmeldung.")))
            continue
        client = Client(
            ahv_number=compact,
            first_name=row.first_name.strip(),
            last_name=row.last_name.strip(),
            date_of_birth=row.date_of_birth,
            sex=row.sex,
            municipality=row.municipality,
            street=row.street.strip(),
            house_number=row.house_number.strip(),
            postal_code=row.postal_code.strip(),
            town=row.town.strip(),
            phone=row.phone.strip(),
            email=row.email.strip(),
            languages=list(dict.fromkeys(row.languages)),
            recorded_by_institution_id=row.registrations[0].unit.institution_id,
        )
        try:
            # The AHV number's uniqueness is checked for the whole batch below, with one query.
            client.full_clean(exclude=_IMPORT_CLIENT_FKS + ([] if compact else ["ahv_number"]), validate_unique=False)
        except ValidationError as error:
            add_error(row_number, error)
        reference(Municipality, row.municipality.pk if row.municipality else None)
        reference(Institution, client.recorded_by_institution_id)

        row_registrations: list[Registration] = []
        for registration_row in row.registrations:
            recorded_by = registration_row.recorded_by or actor
            if own_institution_id is not None and registration_row.unit.institution_id != own_institution_id:
                add_error(
                    row_number,
                    ValidationError({"unit": _("Sie können nur Anmeldungen Ihrer eigenen Institution erfassen.")}),
                )
            registration = Registration(
                client=client,
                institution_id=registration_row.unit.institution_id,
                unit=registration_row.unit,
                external_case_number=registration_row.external_case_number.strip(),
                registered_on=registration_row.registered_on,
                deregistered_on=registration_row.deregistered_on,
                recorded_by=recorded_by,
            )
            try:
                # The date-range constraint is the same rule as Registration.clean.
                registration.full_clean(exclude=_IMPORT_REGISTRATION_FKS, validate_constraints=False)
            except ValidationError as error:
                add_error(row_number, error)
            reference(OrganisationalUnit, registration_row.unit.pk)
            reference(Institution, registration_row.unit.institution_id)
            reference(user_model, recorded_by.pk if recorded_by else None)
            row_registrations.append(registration)

        row_consents: list[Consent] = []
        row_consent_institutions: list[list[int]] = []
        previous: ConsentImportRow | None = None
        for version, item in enumerate(row.consents, start=1):
            recorded_by = item.recorded_by or actor
            is_newest = version == len(row.consents)
            if recorded_by is None:
                add_error(row_number, ValidationError({"recorded_by": _("Wer hat die Einwilligung erfasst?")}))
            if not item.institutions:
                add_error(
                    row_number,
                    ValidationError({"institutions": _("Wählen Sie mindestens eine Institution.")}, code="required"),
                )
            if previous is not None and item.valid_from < previous.valid_from:
                add_error(
                    row_number,
                    ValidationError(
                        {"valid_from": _("Die Versionen einer Einwilligung müssen zeitlich aufeinander folgen.")}
                    ),
                )
            if item.revoked_at is not None and not is_newest:
                add_error(
                    row_number,
                    ValidationError(
                        _("Diese Version wurde ersetzt; widerrufen Sie die aktuelle Version."), code="stale"
                    ),
                )
            if item.revoked_at is not None and not item.revocation_reason.strip():
                add_error(
                    row_number,
                    ValidationError(
                        {"revocation_reason": _("Bitte geben Sie den Grund oder Anlass des Widerrufs an.")}
                    ),
                )
            following = row.consents[version] if not is_newest else None
            consent = Consent(
                client=client,
                version=version,
                categories=sorted(set(item.categories)),
                purpose=item.purpose.strip(),
                valid_from=item.valid_from,
                valid_until=item.valid_until,
                recorded_by=recorded_by,
                # A version counts as replaced from the day its successor takes effect.
                superseded_at=(
                    dt.datetime.combine(following.valid_from, dt.time(), tzinfo=tz) if following is not None else None
                ),
                revoked_at=item.revoked_at,
                revoked_by=(item.revoked_by or recorded_by) if item.revoked_at is not None else None,
                revocation_reason=item.revocation_reason.strip() if item.revoked_at is not None else "",
            )
            try:
                # The date-range constraint is the same rule as Consent.clean.
                consent.full_clean(exclude=_IMPORT_CONSENT_FKS, validate_constraints=False)
            except ValidationError as error:
                add_error(row_number, error)
            reference(user_model, recorded_by.pk if recorded_by else None)
            reference(user_model, consent.revoked_by_id)
            institution_ids = sorted({institution.pk for institution in item.institutions})
            for institution_id in institution_ids:
                reference(Institution, institution_id)
            row_consents.append(consent)
            row_consent_institutions.append(institution_ids)
            previous = item

        clients.append(client)
        registrations.append(row_registrations)
        consents.append(row_consents)
        consent_institutions.append(row_consent_institutions)

    for ahv_number in Client.objects.filter(ahv_number__in=list(seen_ahv)).values_list("ahv_number", flat=True):
        add_error(seen_ahv[ahv_number], _duplicate_ahv_error())
    errors = [
        ValidationError(_("Zeile %(row)s: %(message)s"), code="row", params={"row": row, "message": message})
        for row, message in sorted(row_errors, key=lambda item: item[0])
    ]
    for model, keys in referenced.items():
        missing = keys - set(model._base_manager.filter(pk__in=keys).values_list("pk", flat=True))
        if missing:
            errors.append(
                ValidationError(
                    _("Unbekannte %(model)s: %(ids)s"),
                    code="missing",
                    params={"model": model._meta.verbose_name, "ids": ", ".join(str(pk) for pk in sorted(missing))},
                )
            )
    if errors:
        raise ValidationError(errors)
    if not clients:
        return 0

    try:
        with transaction.atomic():
            Client.objects.bulk_create(clients)
    except IntegrityError as error:
        # Another user recorded one of these persons since the check above.
        raise _duplicate_ahv_error() from error
    if any(client.pk is None for client in clients):
        # Databases that cannot return the new keys from a bulk insert.
        new_keys = dict(Client.objects.filter(ahv_number__in=list(seen_ahv)).values_list("ahv_number", "pk"))
        for client in clients:
            client.pk = new_keys[client.ahv_number]
    for client, row_registrations, row_consents in zip(clients, registrations, consents, strict=True):
        for registration in row_registrations:
            registration.client = client
        for consent in row_consents:
            consent.client = client
    Registration.objects.bulk_create([r for row_registrations in registrations for r in row_registrations])
    # Version n replaces version n-1, so each version is inserted after the one it replaces.
    depth = max((len(row_consents) for row_consents in consents), default=0)
    for level in range(depth):
        level_consents = [row_consents[level] for row_consents in consents if len(row_consents) > level]
        for row_consents in consents:
            if 0 < level < len(row_consents):
                row_consents[level].replaces = row_consents[level - 1]
        Consent.objects.bulk_create(level_consents)
    through = Consent.institutions.through
    through.objects.bulk_create(
        [
            through(consent_id=consent.pk, institution_id=institution_id)
            for row_consents, row_institutions in zip(consents, consent_institutions, strict=True)
            for consent, institution_ids in zip(row_consents, row_institutions, strict=True)
            for institution_id in institution_ids
        ]
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="client_batch",
        basis=AuditBasis.REGISTRATION,
        actor_username=source or "system",
        request=request,
        details={
            "count": len(clients),
            "registrations": sum(len(r) for r in registrations),
            "consents": sum(len(c) for c in consents),
            "source": source,
            "client_ids": [client.pk for client in clients],
        },
    )
    return len(clients)
