"""Every change to a report for early detection: submitted, forwarded, turned into a screening, closed, purged.

The public page and the API call ``report_submit``; the triage page calls the others. Each runs in one
transaction and writes its audit entry. Nothing here looks up whether the reported person is known: the
reporter learns nothing, and the answer takes the same time for everyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.cases.models import LifeSituation, ReportChannel, ReporterType, Screening
from iiz.cases.services import screening_record
from iiz.clients.models import Client
from iiz.clients.services import client_create, registration_create
from iiz.frontdoor.models import (
    OPEN_STATUSES,
    CloseReason,
    EarlyDetectionReport,
    ReportStatus,
    reference_new,
)
from iiz.lib.ahv import ahv_normalise
from iiz.organisations.models import Institution, Municipality

if TYPE_CHECKING:
    from iiz.organisations.models import User

REPORT_OBJECT = "early_detection_report"


@transaction.atomic
def report_submit(
    *,
    channel: str,
    reporter_type: str,
    reporter_name: str,
    reporter_organisation: str = "",
    reporter_phone: str = "",
    reporter_email: str = "",
    person_first_name: str,
    person_last_name: str,
    person_date_of_birth: dt.date | None,
    person_ahv_number: str = "",
    life_situations: Iterable[LifeSituation] = (),
    absent_since: dt.date | None = None,
    absence_days: int | None = None,
    description: str = "",
    person_informed: bool,
    person_agrees: str,
    language: str = "de",
    submitted_by: User | None = None,
    request: HttpRequest | None = None,
) -> EarlyDetectionReport:
    """Take in a report from the public page (``submitted_by`` empty) or a partner system (its service user)."""
    if channel == ReportChannel.API and (submitted_by is None or submitted_by.institution is None):
        raise PermissionDenied(_("Meldungen über die Schnittstelle kommen von einem Partnersystem."))
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    compact_ahv = ""
    if person_ahv_number.strip():
        try:
            compact_ahv = ahv_normalise(person_ahv_number)
        except ValidationError as error:
            errors["person_ahv_number"] = error.messages
    if person_date_of_birth is None:
        errors["person_date_of_birth"] = [_("Geben Sie das Geburtsdatum der Person an.")]
    elif person_date_of_birth > today or person_date_of_birth < today - relativedelta(years=120):
        errors["person_date_of_birth"] = [_("Das Geburtsdatum ist nicht möglich. Bitte prüfen Sie es.")]
    if absent_since is not None and absent_since > today:
        errors["absent_since"] = [_("Das Datum darf nicht in der Zukunft liegen.")]
    if absence_days is not None and not 0 <= absence_days <= 366:
        errors["absence_days"] = [_("Geben Sie eine Zahl zwischen 0 und 366 an.")]
    if not (reporter_phone.strip() or reporter_email.strip()):
        errors["reporter_phone"] = [
            _("Geben Sie eine Telefonnummer oder eine E-Mail-Adresse an, damit wir Sie erreichen.")
        ]
    if reporter_type != ReporterType.PERSON and not person_informed:
        errors["person_informed"] = [
            _(
                "Wer eine andere Person meldet, muss sie vorher darüber informieren (Art. 3b IVG). "
                "Bitte informieren Sie die Person zuerst."
            )
        ]
    if reporter_type != ReporterType.PERSON and not reporter_name.strip():
        errors["reporter_name"] = [_("Geben Sie Ihren Namen an.")]
    situations = list(life_situations)
    if not situations and absent_since is None and not absence_days and not description.strip():
        errors["life_situations"] = [
            _("Beschreiben Sie, was Sie beobachtet haben: eine Situation, Abwesenheiten oder in eigenen Worten.")
        ]
    if errors:
        raise ValidationError(errors)
    report = EarlyDetectionReport(
        received_at=timezone.now(),
        channel=channel,
        language=(language or "de")[:5],
        submitted_by_institution=submitted_by.institution if submitted_by is not None else None,
        reporter_type=reporter_type,
        reporter_name=reporter_name.strip(),
        reporter_organisation=reporter_organisation.strip(),
        reporter_phone=reporter_phone.strip(),
        reporter_email=reporter_email.strip(),
        person_first_name=person_first_name.strip(),
        person_last_name=person_last_name.strip(),
        person_date_of_birth=person_date_of_birth,
        person_ahv_number=compact_ahv,
        absent_since=absent_since,
        absence_days=absence_days,
        description=description.strip(),
        person_informed=person_informed or reporter_type == ReporterType.PERSON,
        person_agrees=person_agrees,
    )
    report.full_clean(exclude=["reference"])
    for _attempt in range(5):
        report.reference = reference_new()
        try:
            with transaction.atomic():
                report.save()
            break
        except IntegrityError:
            report.pk = None
    else:  # pragma: no cover - 40 bits do not collide five times
        raise ValidationError(_("Die Meldung konnte nicht gespeichert werden. Bitte versuchen Sie es erneut."))
    report.life_situations.set(situations)
    # Who reported is not a user of the platform (or a partner system); the report names no client yet.
    audit_record(
        actor=submitted_by,
        action=AuditAction.CREATE,
        object_type=REPORT_OBJECT,
        object_id=report.public_id,
        basis=AuditBasis.ROLE if submitted_by is not None else AuditBasis.NONE,
        actor_username="" if submitted_by is not None else "anonym",
        details={"channel": channel, "reporter_type": reporter_type},
        request=request,
    )
    return report


def _locked_open(report: EarlyDetectionReport, actor: User) -> EarlyDetectionReport:
    if not access.reports_visible_to(user=actor).filter(pk=report.pk).exists():
        raise PermissionDenied
    locked = EarlyDetectionReport.objects.select_for_update().get(pk=report.pk)
    if locked.status not in OPEN_STATUSES:
        raise ValidationError(_("Über diese Meldung wurde bereits entschieden. Laden Sie die Seite neu."), code="stale")
    return locked


def _decided(report: EarlyDetectionReport, actor: User, status: str) -> None:
    report.status = status
    report.decided_at = timezone.now()
    report.decided_by = actor


@transaction.atomic
def report_forward(
    *,
    actor: User,
    report: EarlyDetectionReport,
    institution: Institution,
    note: str = "",
    request: HttpRequest | None = None,
) -> EarlyDetectionReport:
    """The Geschäftsstelle hands the report to a partner institution, whose iiz specialists then decide on it."""
    if not access.may_triage_reports(actor):
        raise PermissionDenied(_("Meldungen leitet die Koordination der Geschäftsstelle weiter."))
    report = _locked_open(report, actor)
    if not institution.is_partner or not institution.is_active:
        raise ValidationError({"institution": _("Wählen Sie eine aktive Partnerinstitution.")})
    if institution.pk == access.own_institution(actor).pk:
        raise ValidationError({"institution": _("Die Meldung liegt bereits bei der Geschäftsstelle.")})
    report.status = ReportStatus.FORWARDED
    report.forwarded_to = institution
    report.forwarded_at = timezone.now()
    report.forward_note = note.strip()
    report.save(update_fields=["status", "forwarded_to", "forwarded_at", "forward_note"])
    audit_record(
        actor=actor,
        action=AuditAction.DISCLOSE,
        object_type=REPORT_OBJECT,
        object_id=report.public_id,
        basis=AuditBasis.ROLE,
        recipient=institution.name,
        details={"forwarded": True},
        request=request,
    )
    return report


@transaction.atomic
def report_close(
    *, actor: User, report: EarlyDetectionReport, reason: str, note: str = "", request: HttpRequest | None = None
) -> EarlyDetectionReport:
    report = _locked_open(report, actor)
    if reason not in CloseReason.values:
        raise ValidationError({"reason": _("Wählen Sie einen Grund.")})
    if reason == CloseReason.OTHER and not note.strip():
        raise ValidationError({"note": _("Beschreiben Sie den Grund.")})
    _decided(report, actor, ReportStatus.CLOSED)
    report.close_reason = reason
    report.close_note = note.strip()
    report.save(update_fields=["status", "decided_at", "decided_by", "close_reason", "close_note"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=REPORT_OBJECT,
        object_id=report.public_id,
        basis=AuditBasis.ROLE,
        details={"closed": reason},
        request=request,
    )
    return report


@transaction.atomic
def report_to_screening(
    *,
    actor: User,
    report: EarlyDetectionReport,
    client: Client | None,
    life_situations: Iterable[LifeSituation],
    screened_on: dt.date,
    note: str = "",
    ahv_number: str = "",
    sex: str = "",
    municipality: Municipality | None = None,
    request: HttpRequest | None = None,
) -> Screening:
    """Turn the report into a screening of the person, with the reporter and the channel recorded.

    ``client`` is the known person the report was matched to, or None for a person new to the platform (then
    the AHV number and sex are needed to record them). Where the actor's institution does not serve the person
    yet, it registers them under the report's reference: the contact point has taken the person on.
    """
    report = _locked_open(report, actor)
    if client is None:
        if report.person_date_of_birth is None:
            raise ValidationError(_("Die Meldung enthält kein Geburtsdatum mehr."))
        client = client_create(
            actor=actor,
            ahv_number=ahv_number or report.person_ahv_number,
            first_name=report.person_first_name,
            last_name=report.person_last_name,
            date_of_birth=report.person_date_of_birth,
            sex=sex,
            municipality=municipality,
            external_case_number=report.reference,
            request=request,
        )
    elif (grant := access.client_access_for(user=actor, client=client)) is None or grant.is_read_only:
        registration_create(
            actor=actor,
            client=client,
            unit=actor.unit,
            external_case_number=report.reference,
            registered_on=timezone.localdate(),
            request=request,
        )
    screening = screening_record(
        actor=actor,
        client=client,
        life_situations=life_situations,
        screened_on=screened_on,
        note=note,
        reporter_type=report.reporter_type,
        report_channel=report.channel,
        reported_on=timezone.localdate(report.received_at),
        request=request,
    )
    _decided(report, actor, ReportStatus.SCREENED)
    report.screening = screening
    report.save(update_fields=["status", "decided_at", "decided_by", "screening"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        client_id=client.pk,
        object_type=REPORT_OBJECT,
        object_id=report.public_id,
        basis=AuditBasis.REGISTRATION,
        details={"screening": screening.pk},
        request=request,
    )
    return screening


def report_read_audit(*, actor: User, report: EarlyDetectionReport, request: HttpRequest | None = None) -> None:
    """Reading a report is reading about a person (and about the reporter)."""
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        client_id=report.screening.client_id if report.screening_id else None,  # type: ignore[union-attr]
        object_type=REPORT_OBJECT,
        object_id=report.public_id,
        basis=AuditBasis.ROLE,
        request=request,
    )


PURGED_FIELDS = {
    "reporter_name": "",
    "reporter_organisation": "",
    "reporter_phone": "",
    "reporter_email": "",
    "person_first_name": "",
    "person_last_name": "",
    "person_date_of_birth": None,
    "person_ahv_number": "",
    "description": "",
    "forward_note": "",
    "close_note": "",
}


def reports_retention_apply(*, today: dt.date | None = None) -> int:
    """Remove the reporter's and the person's data from reports decided longer ago than the retention period.

    What the key figures need stays: reporter type, channel, dates, status and the observed situations. A
    report still in the queue keeps its data until it is decided. Returns how many reports were purged.
    """
    today = today or timezone.localdate()
    years = int(settings.IIZ_RETENTION_YEARS.get("reporter", 1))
    cutoff = today - relativedelta(years=years)
    purged = 0
    due = EarlyDetectionReport.objects.filter(
        personal_data_removed_on__isnull=True, decided_at__isnull=False, decided_at__date__lt=cutoff
    ).exclude(status__in=OPEN_STATUSES)
    for report in due.iterator():
        with transaction.atomic():
            for name, value in PURGED_FIELDS.items():
                setattr(report, name, value)
            report.personal_data_removed_on = today
            report.save(update_fields=[*PURGED_FIELDS, "personal_data_removed_on"])
            audit_record(
                actor=None,
                action=AuditAction.DELETE,
                object_type=REPORT_OBJECT,
                object_id=report.public_id,
                basis=AuditBasis.LEGAL,
                actor_username="retention",
                details={"personal_data_removed": True},
            )
        purged += 1
    return purged
