"""Every change to a case, from screening to follow-up.

Each service checks access through ``iiz.access``, validates, runs in one transaction, writes its audit
entry with the acting user and schedules side effects (e-mail) after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.cases import levels
from iiz.cases.models import (
    Agreement,
    AgreementStatus,
    Case,
    CaseParticipant,
    CaseStatus,
    CaseTeam,
    Clarification,
    FollowUp,
    FollowUpStatus,
    InformationRequest,
    IntegrationPlan,
    JointInterview,
    LevelChange,
    LifeSituation,
    Measure,
    MeasureStatus,
    Meeting,
    MeetingParticipant,
    Outcome,
    PlanStatus,
    ProblemTopic,
    Route,
    Screening,
    ServiceOffering,
    TargetGroupCheck,
)
from iiz.clients.models import Client
from iiz.interfaces.models import WebhookEvent
from iiz.interfaces.webhooks import webhook_emit
from iiz.lib.locking import StaleEdit as StaleEdit  # re-exported: callers catch services.StaleEdit
from iiz.lib.locking import already_done, locked, stale, version_bump
from iiz.organisations.models import Contact, Institution, Role
from iiz.outbox.services import outbox_enqueue

if TYPE_CHECKING:
    from iiz.organisations.models import User

FOLLOW_UP_MONTHS = (6, 12)


# Optimistic locking of edited content and row locks for transitions: iiz/lib/locking.py.
_bump_version = version_bump
_stale = stale


def _audit(
    actor: User,
    case: Case,
    action: str,
    object_type: str,
    object_id: object,
    request: HttpRequest | None,
    **details: Any,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        client_id=case.client_id,
        object_type=object_type,
        object_id=object_id,
        basis=AuditBasis.CASE,
        details={"case": case.reference, **details},
        request=request,
    )


def _participant_add(case: Case, user: User, on: dt.date) -> None:
    institution = user.institution
    if institution is None:
        raise ValidationError(_("%(user)s ist keiner Institution zugeordnet.") % {"user": user})
    participant, created = CaseParticipant.objects.get_or_create(
        case=case, user=user, defaults={"institution": institution, "joined_on": on}
    )
    if not created and participant.left_on is not None:
        participant.left_on = None
        participant.save(update_fields=["left_on"])


# ---------------------------------------------------------------------------------------------------------
# Early detection and the target-group check
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def screening_record(
    *,
    actor: User,
    client: Client,
    life_situations: Iterable[LifeSituation],
    screened_on: dt.date,
    note: str = "",
    reporter_type: str = "",
    report_channel: str = "",
    reported_on: dt.date | None = None,
    request: HttpRequest | None = None,
) -> Screening:
    """Record an early detection; ``reporter_type`` and ``report_channel`` say who reported the person and how."""
    grant = access.client_access_required(user=actor, client=client)
    errors: dict[str, list[str]] = {}
    if screened_on > timezone.localdate():
        errors["screened_on"] = [_("Das Datum darf nicht in der Zukunft liegen.")]
    if reported_on is not None and reported_on > screened_on:
        errors["reported_on"] = [_("Die Meldung kann nicht nach der Früherkennung eingegangen sein.")]
    if (reporter_type or report_channel) and not (reporter_type and report_channel):
        errors["reporter_type" if not reporter_type else "report_channel"] = [
            _("Geben Sie an, wer die Person gemeldet hat und auf welchem Weg.")
        ]
    if errors:
        raise ValidationError(errors)
    situations = list(life_situations)
    screening = Screening(
        client=client,
        institution=access.own_institution(actor),
        screened_by=actor,
        screened_on=screened_on,
        note=note.strip(),
        reporter_type=reporter_type,
        report_channel=report_channel,
        reported_on=reported_on if reporter_type else None,
    )
    screening.full_clean()
    screening.save()
    screening.life_situations.set(situations)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        client_id=client.pk,
        object_type="screening",
        object_id=screening.pk,
        basis=grant.basis,
        request=request,
        details={
            "life_situations": sorted(s.code for s in situations),
            **({"reporter_type": reporter_type, "report_channel": report_channel} if reporter_type else {}),
        },
    )
    return screening


def _resident_on(client: Client, on: dt.date) -> bool:
    municipality = client.municipality
    return municipality is not None and (municipality.valid_until is None or municipality.valid_until >= on)


def _registered_on(client: Client, on: dt.date) -> bool:
    return (
        client.registrations.filter(institution__is_partner=True, registered_on__lte=on)
        .exclude(deregistered_on__lt=on)
        .exists()
    )


def target_group_evaluate(
    *,
    client: Client,
    employable: bool,
    topics: Iterable[ProblemTopic],
    topics_block_integration: bool,
    on: dt.date,
) -> list[str]:
    """The criteria of the target group that fail, each with the reason in the user's language."""
    failures: list[str] = []
    if not employable:
        failures.append(_("Erwerbsfähigkeit: Die Person gilt als nicht erwerbsfähig."))
    if not _resident_on(client, on):
        failures.append(_("Wohnsitz: Die Person wohnt nicht in einer Gemeinde des Kantons Zürich."))
    if not _registered_on(client, on):
        failures.append(_("Anmeldung: Die Person ist bei keiner Partnerinstitution angemeldet."))
    topic_list = list(topics)
    if not topic_list:
        failures.append(
            _(
                "Mehrfachproblematik: Es ist kein Thema erfasst, das über den Auftrag der betreuenden Institution "
                "hinausgeht."
            )
        )
    elif not topics_block_integration:
        failures.append(
            _("Mehrfachproblematik: Die erfassten Themen behindern die Integration in den ersten Arbeitsmarkt nicht.")
        )
    return failures


@transaction.atomic
def target_group_check_record(
    *,
    actor: User,
    client: Client,
    employable: bool,
    topics: Iterable[ProblemTopic],
    topics_block_integration: bool,
    checked_on: dt.date,
    screening: Screening | None = None,
    request: HttpRequest | None = None,
) -> TargetGroupCheck:
    grant = access.client_access_required(user=actor, client=client)
    topic_list = list(topics)
    failures = target_group_evaluate(
        client=client,
        employable=employable,
        topics=topic_list,
        topics_block_integration=topics_block_integration,
        on=checked_on,
    )
    check = TargetGroupCheck(
        client=client,
        screening=screening,
        serving_institution=access.own_institution(actor),
        checked_by=actor,
        checked_on=checked_on,
        employable=employable,
        # The stored criteria follow the same rules as the evaluation, on the day of the check.
        resident_in_canton=_resident_on(client, checked_on),
        registered_with_partner=_registered_on(client, checked_on),
        topics_block_integration=topics_block_integration,
        passed=not failures,
        failures=failures,
    )
    check.full_clean()
    check.save()
    check.topics.set(topic_list)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        client_id=client.pk,
        object_type="target_group_check",
        object_id=check.pk,
        basis=grant.basis,
        request=request,
        details={"passed": check.passed},
    )
    return check


@transaction.atomic
def target_group_override_request(
    *, actor: User, check: TargetGroupCheck, note: str, request: HttpRequest | None = None
) -> TargetGroupCheck:
    """A specialist asks the Geschäftsstelle to override a failed check, with the reason."""
    grant = access.client_access_required(user=actor, client=check.client)
    if not actor.has_role(Role.SPECIALIST):
        raise PermissionDenied(_("Eine Übersteuerung beantragen iiz-Spezialistinnen und -Spezialisten."))
    locked(check)
    if check.passed or check.override_by_id:
        raise already_done(_("Die Prüfung ist erfüllt oder bereits übersteuert."))
    if check.override_requested_at is not None:
        raise already_done(_("Die Übersteuerung ist bereits beantragt."))
    if len(note.strip()) < 10:
        raise ValidationError({"note": _("Begründen Sie den Antrag in einigen Worten.")})
    check.override_requested_at = timezone.now()
    check.override_requested_by = actor
    check.override_request_note = note.strip()
    check.save(update_fields=["override_requested_at", "override_requested_by", "override_request_note"])
    audit_record(
        actor=actor,
        action=AuditAction.DISCLOSE,
        client_id=check.client_id,
        object_type="target_group_check",
        object_id=check.pk,
        basis=grant.basis,
        recipient=_("Geschäftsstelle iiz"),
        request=request,
        details={"override_requested": True},
    )
    return check


@transaction.atomic
def target_group_override(
    *, actor: User, check: TargetGroupCheck, reason: str, request: HttpRequest | None = None
) -> TargetGroupCheck:
    """A coordinator lets a case open although a criterion fails, with a written reason."""
    if not actor.has_role(Role.COORDINATOR):
        raise PermissionDenied(_("Nur eine Koordinatorin oder ein Koordinator kann die Prüfung übersteuern."))
    locked(check)
    if check.passed:
        raise ValidationError(_("Die Prüfung ist erfüllt; eine Übersteuerung ist nicht nötig."))
    if check.override_by_id is not None:
        raise already_done(_("Die Prüfung ist bereits übersteuert."))
    if len(reason.strip()) < 10:
        raise ValidationError({"override_reason": _("Begründen Sie die Übersteuerung in einigen Worten.")})
    check.override_by = actor
    check.override_reason = reason.strip()
    check.save(update_fields=["override_by", "override_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        client_id=check.client_id,
        object_type="target_group_check",
        object_id=check.pk,
        basis=AuditBasis.ROLE,
        request=request,
        details={"override": True},
    )
    return check


# ---------------------------------------------------------------------------------------------------------
# Opening a case, the level model
# ---------------------------------------------------------------------------------------------------------


def _next_reference(year: int) -> str:
    prefix = f"IIZ-{year}-"
    last = Case.objects.filter(reference__startswith=prefix).aggregate(last=Max("reference"))["last"]
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:05d}"


def case_open(
    *,
    actor: User,
    client: Client,
    target_group_check: TargetGroupCheck,
    opened_on: dt.date,
    route: str = "",
    bilateral_institution: Institution | None = None,
    reason: str = "",
    previous_case: Case | None = None,
    request: HttpRequest | None = None,
) -> Case:
    """Open an IIZ case at level 1. The target-group check must pass or be overridden by a coordinator."""
    for _attempt in range(3):
        try:
            return _case_open(
                actor=actor,
                client=client,
                check=target_group_check,
                opened_on=opened_on,
                route=route,
                bilateral_institution=bilateral_institution,
                reason=reason,
                previous_case=previous_case,
                request=request,
            )
        except IntegrityError:
            # Two cases opened at the same moment took the same reference; take the next one.
            continue
    raise ValidationError(_("Der Fall konnte nicht eröffnet werden. Bitte versuchen Sie es erneut."))


@transaction.atomic
def _case_open(
    *,
    actor: User,
    client: Client,
    check: TargetGroupCheck,
    opened_on: dt.date,
    route: str,
    bilateral_institution: Institution | None,
    reason: str,
    previous_case: Case | None,
    request: HttpRequest | None,
) -> Case:
    grant = access.client_access_required(user=actor, client=client)
    if not actor.has_role(Role.SPECIALIST, Role.COORDINATOR):
        raise PermissionDenied(_("Einen iiz-Fall eröffnen iiz-Spezialistinnen und -Spezialisten."))
    if check.client_id != client.pk:
        raise ValidationError(_("Die Zielgruppenprüfung gehört zu einer anderen Person."))
    if not check.allows_case:
        raise ValidationError(
            _(
                "Die Zielgruppenprüfung ist nicht erfüllt. Ein Fall kann erst eröffnet werden, wenn eine "
                "Koordinatorin oder ein Koordinator sie mit Begründung übersteuert."
            )
        )
    # The person's row is locked, so that two openings at the same moment cannot both find no open case.
    Client.objects.select_for_update().filter(pk=client.pk).first()
    if Case.objects.filter(client=client, status=CaseStatus.OPEN).exists():
        raise already_done(_("Für diese Person ist bereits ein iiz-Fall offen."))
    if previous_case is None:
        # A person who comes back starts a new case linked to the last closed one.
        previous_case = client.cases.filter(status=CaseStatus.CLOSED).order_by("-closed_on", "-id").first()
    elif previous_case.client_id != client.pk or previous_case.is_open:
        raise ValidationError(
            {"previous_case": _("Der frühere Fall muss ein abgeschlossener Fall derselben Person sein.")}
        )
    if opened_on > timezone.localdate():
        raise ValidationError({"opened_on": _("Das Datum darf nicht in der Zukunft liegen.")})
    if opened_on < check.checked_on:
        raise ValidationError({"opened_on": _("Der Fall kann nicht vor der Zielgruppenprüfung eröffnet werden.")})
    _route_validate(route, bilateral_institution, actor)
    case = Case(
        client=client,
        reference=_next_reference(opened_on.year),
        opened_on=opened_on,
        opened_by=actor,
        serving_institution=check.serving_institution,
        screening=check.screening,
        target_group_check=check,
        detected_on=check.screening.screened_on if check.screening else check.checked_on,
        route=route,
        bilateral_institution=bilateral_institution if route == Route.BILATERAL else None,
        previous_case=previous_case,
    )
    case.full_clean(exclude=["reference"])
    with transaction.atomic():
        case.save()
    _participant_add(case, actor, opened_on)
    LevelChange.objects.create(
        case=case,
        from_level=None,
        to_level=1,
        route=route,
        changed_by=actor,
        changed_on=opened_on,
        reason=reason.strip() or _("Fall eröffnet"),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        client_id=client.pk,
        object_type="case",
        object_id=case.pk,
        basis=grant.basis,
        request=request,
        details={"case": case.reference, "previous_case": previous_case.reference if previous_case else None},
    )
    webhook_emit(event=WebhookEvent.CASE_OPENED, case=case)
    return case


def _route_validate(route: str, bilateral_institution: Institution | None, actor: User) -> None:
    if route and route not in Route.values:
        raise ValidationError({"route": _("Unbekanntes Vorgehen.")})
    if route == Route.BILATERAL:
        if bilateral_institution is None:
            raise ValidationError(
                {"bilateral_institution": _("Nennen Sie die Institution der bilateralen Zusammenarbeit.")}
            )
        if bilateral_institution.pk == actor.institution_id:
            raise ValidationError({"bilateral_institution": _("Wählen Sie eine andere als Ihre eigene Institution.")})


@transaction.atomic
def case_set_route(
    *,
    actor: User,
    case: Case,
    route: str,
    bilateral_institution: Institution | None,
    reason: str,
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Case:
    """Record the route decided at level 1: internal, bilateral with a named institution, or Geschäftsstelle."""
    grant = access.case_access_required(user=actor, case=case)
    if not grant.may_change_level() or case.level != 1:
        raise ValidationError(
            _("Das Vorgehen wird auf Stufe 1 von der iiz-Spezialistin oder dem -Spezialisten festgelegt.")
        )
    _route_validate(route, bilateral_institution, actor)
    if not reason.strip():
        raise ValidationError({"reason": _("Begründen Sie das gewählte Vorgehen.")})
    _bump_version(case, expected_version)
    case.route = route
    case.bilateral_institution = bilateral_institution if route == Route.BILATERAL else None
    case.save(update_fields=["route", "bilateral_institution"])
    if bilateral_institution is not None and route == Route.BILATERAL:
        # The bilateral partner's specialists join the case so they can work on it.
        for user in bilateral_institution_specialists(bilateral_institution):
            _participant_add(case, user, timezone.localdate())
    LevelChange.objects.create(
        case=case,
        from_level=case.level,
        to_level=case.level,
        route=route,
        changed_by=actor,
        changed_on=timezone.localdate(),
        reason=reason.strip(),
    )
    _audit(actor, case, AuditAction.UPDATE, "case_route", case.pk, request, route=route)
    return case


def bilateral_institution_specialists(institution: Institution) -> list[User]:
    from iiz.organisations.models import User

    return list(User.objects.filter(unit__institution=institution, is_active=True, roles__role=Role.SPECIALIST))


@transaction.atomic
def case_change_level(
    *,
    actor: User,
    case: Case,
    to_level: int,
    reason: str,
    changed_on: dt.date,
    coordinator: User | None = None,
    case_team: CaseTeam | None = None,
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Case:
    """Move the case one level up or down, as the level model allows; the move is dated and reasoned."""
    access.case_access_required(user=actor, case=case)
    case = Case.objects.select_for_update().get(pk=case.pk)
    try:
        levels.level_move_check(source=case.level, target=to_level, roles=actor.role_set, case_open=case.is_open)
    except levels.MoveNotAllowed as error:
        raise ValidationError(str(error), code="move_not_allowed") from error
    if not reason.strip():
        raise ValidationError({"reason": _("Begründen Sie den Stufenwechsel.")})
    last = case.level_changes.order_by("-changed_on").values_list("changed_on", flat=True).first()
    if changed_on > timezone.localdate():
        raise ValidationError({"changed_on": _("Das Datum darf nicht in der Zukunft liegen.")})
    if last and changed_on < last:
        raise ValidationError({"changed_on": _("Das Datum liegt vor dem letzten Stufenwechsel.")})
    if case.level == 1 and to_level == 2:
        if coordinator is None or not coordinator.has_role(Role.COORDINATOR):
            raise ValidationError(
                {"coordinator": _("Wählen Sie die Koordinatorin oder den Koordinator der Geschäftsstelle.")}
            )
        _participant_add(case, coordinator, changed_on)
        case.route = Route.COORDINATION
    if to_level == 3:
        if case_team is None:
            raise ValidationError({"case_team": _("Wählen Sie das regionale Fallteam.")})
        case.case_team = case_team
    _bump_version(case, expected_version)
    source = case.level
    case.level = to_level
    case.save(update_fields=["level", "route", "case_team"])
    LevelChange.objects.create(
        case=case,
        from_level=source,
        to_level=to_level,
        route=case.route,
        changed_by=actor,
        changed_on=changed_on,
        reason=reason.strip(),
    )
    _audit(actor, case, AuditAction.UPDATE, "case_level", case.pk, request, from_level=source, to_level=to_level)
    webhook_emit(event=WebhookEvent.CASE_LEVEL_CHANGED, case=case, previous_level=source)
    return case


@transaction.atomic
def case_participant_add(*, actor: User, case: Case, user: User, request: HttpRequest | None = None) -> None:
    grant = access.case_access_required(user=actor, case=case)
    if not (grant.may_coordinate() or grant.may_change_level()):
        raise PermissionDenied(_("Beteiligte fügen die Koordination oder die iiz-Spezialistin hinzu."))
    if not access.may_work_with_clients(user):
        raise ValidationError({"user": _("Diese Person arbeitet nicht mit Personendaten.")})
    _participant_add(case, user, timezone.localdate())
    _audit(actor, case, AuditAction.DISCLOSE, "case_participant", user.pk, request, participant=user.username)


# ---------------------------------------------------------------------------------------------------------
# Level 2: information requests and the joint interview; clarification
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def information_request_create(
    *,
    actor: User,
    case: Case,
    to_institution: Institution,
    question: str,
    category: str,
    due_on: dt.date,
    request: HttpRequest | None = None,
) -> InformationRequest:
    grant = access.case_access_required(user=actor, case=case)
    if not grant.is_open:
        raise ValidationError(_("Der Fall ist abgeschlossen."))
    today = timezone.localdate()
    info = InformationRequest(
        case=case,
        to_institution=to_institution,
        question=question.strip(),
        category=category,
        asked_by=actor,
        asked_on=today,
        due_on=due_on,
    )
    if due_on < today:
        raise ValidationError({"due_on": _("Die Antwortfrist liegt in der Vergangenheit.")})
    info.full_clean()
    info.save()
    _audit(actor, case, AuditAction.CREATE, "information_request", info.pk, request, to=to_institution.short_name)
    return info


@transaction.atomic
def information_request_answer(
    *, actor: User, info: InformationRequest, answer: str, request: HttpRequest | None = None
) -> InformationRequest:
    grant = access.case_access_required(user=actor, case=info.case)
    if not grant.is_open:
        raise ValidationError(_("Der Fall ist abgeschlossen."))
    if actor.institution_id != info.to_institution_id:
        raise PermissionDenied(_("Nur die angefragte Institution beantwortet die Anfrage."))
    locked(info)
    if info.answered_on is not None:
        raise already_done(
            _("Die Anfrage ist bereits beantwortet (von %(user)s). Ihre Antwort ist unten erhalten.")
            % {"user": info.answered_by}
        )
    if not answer.strip():
        raise ValidationError({"answer": _("Die Antwort ist leer.")})
    info.answer = answer.strip()
    info.answered_by = actor
    info.answered_on = timezone.localdate()
    info.save(update_fields=["answer", "answered_by", "answered_on"])
    _audit(
        actor,
        info.case,
        AuditAction.DISCLOSE,
        "information_request",
        info.pk,
        request,
        to=info.asked_by.username,
        category=info.category,
    )
    return info


@transaction.atomic
def joint_interview_record(
    *,
    actor: User,
    case: Case,
    held_on: dt.date,
    participants: Iterable[User],
    summary: str,
    request: HttpRequest | None = None,
) -> JointInterview:
    grant = access.case_access_required(user=actor, case=case)
    if not grant.may_coordinate():
        raise PermissionDenied(_("Das gemeinsame Kundengespräch erfasst die Koordination."))
    if held_on > timezone.localdate():
        raise ValidationError({"held_on": _("Das Datum darf nicht in der Zukunft liegen.")})
    if held_on < case.opened_on:
        raise ValidationError({"held_on": _("Das Datum liegt vor der Fall-Eröffnung.")})
    interview = JointInterview(case=case, held_on=held_on, summary=summary.strip(), recorded_by=actor)
    interview.full_clean()
    interview.save()
    interview.participants.set(list(participants))
    _audit(actor, case, AuditAction.CREATE, "joint_interview", interview.pk, request)
    return interview


@transaction.atomic
def clarification_save(
    *,
    actor: User,
    case: Case,
    dimension: str,
    situation: str,
    resources: str = "",
    obstacles: str = "",
    work_capacity_percent: int | None = None,
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Clarification:
    """Write or update one dimension of the situation clarification, as the institution responsible for it."""
    grant = access.case_access_required(user=actor, case=case)
    if not grant.may_write_clarification(dimension):
        raise PermissionDenied(_("Diesen Bereich klärt eine andere Institution."))
    institution = access.own_institution(actor)
    # The case is locked, so that two first versions of one dimension cannot both be written.
    Case.objects.select_for_update().filter(pk=case.pk).first()
    existing = Clarification.objects.filter(case=case, dimension=dimension).first()
    if existing is None:
        clarification = Clarification(
            case=case, dimension=dimension, institution=institution, written_by=actor, situation=situation.strip()
        )
    else:
        if expected_version is None:
            # The form was loaded before anybody had written this dimension.
            raise _stale()
        _bump_version(existing, expected_version)
        clarification = existing
    clarification.situation = situation.strip()
    clarification.resources = resources.strip()
    clarification.obstacles = obstacles.strip()
    clarification.work_capacity_percent = work_capacity_percent
    clarification.institution = institution
    clarification.written_by = actor
    clarification.written_at = timezone.now()
    clarification.full_clean()
    clarification.save()
    _audit(
        actor,
        case,
        AuditAction.UPDATE if existing else AuditAction.CREATE,
        "clarification",
        clarification.pk,
        request,
        dimension=dimension,
    )
    return clarification


# ---------------------------------------------------------------------------------------------------------
# The integration plan
# ---------------------------------------------------------------------------------------------------------


def _case_lead_validate(case_lead: User | None) -> None:
    if case_lead is None:
        return
    institution = case_lead.institution
    if institution is None or institution.kind not in access.CASE_LEAD_KINDS:
        raise ValidationError(
            {"case_lead": _("Die Fallführung liegt beim RAV, beim Sozialdienst oder bei der IV-Stelle.")}
        )


@transaction.atomic
def plan_draft_create(
    *, actor: User, case: Case, goals: str, case_lead: User | None, request: HttpRequest | None = None
) -> IntegrationPlan:
    """Start a new version of the plan. Measures of the current version are carried over to the draft."""
    grant = access.case_access_required(user=actor, case=case)
    if not grant.may_edit_plan():
        raise PermissionDenied(_("Ihre Rolle bearbeitet den Integrationsplan nicht."))
    # Drafting locks the case and so its plan: a second draft started at the same moment waits here and then
    # finds the first one.
    Case.objects.select_for_update().filter(pk=case.pk).first()
    if case.plans.filter(status=PlanStatus.DRAFT).exists():
        raise already_done(_("Es gibt bereits einen Entwurf (inzwischen angelegt). Bearbeiten Sie diesen."))
    _case_lead_validate(case_lead)
    current = case.plans.filter(status=PlanStatus.AGREED).order_by("-version").first()
    version = (case.plans.aggregate(v=Max("version"))["v"] or 0) + 1
    plan = IntegrationPlan(case=case, version=version, goals=goals.strip(), case_lead=case_lead, created_by=actor)
    plan.full_clean()
    plan.save()
    if current is not None:
        Measure.objects.bulk_create(
            [
                Measure(
                    plan=plan,
                    service_id=m.service_id,
                    description=m.description,
                    responsible_institution_id=m.responsible_institution_id,
                    responsible_user_id=m.responsible_user_id,
                    start_on=m.start_on,
                    due_on=m.due_on,
                    status=m.status,
                    done_on=m.done_on,
                )
                for m in current.measures.all()
            ]
        )
    _audit(actor, case, AuditAction.CREATE, "integration_plan", plan.pk, request, version=version)
    return plan


def _draft(plan: IntegrationPlan) -> None:
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError(_("Eine vereinbarte Version wird nicht mehr geändert. Erstellen Sie eine neue Version."))


@transaction.atomic
def plan_update(
    *,
    actor: User,
    plan: IntegrationPlan,
    goals: str,
    case_lead: User | None,
    expected_version: int | None,
    request: HttpRequest | None = None,
) -> IntegrationPlan:
    grant = access.case_access_required(user=actor, case=plan.case)
    if not grant.may_edit_plan():
        raise PermissionDenied(_("Ihre Rolle bearbeitet den Integrationsplan nicht."))
    _draft(plan)
    _case_lead_validate(case_lead)
    _bump_version(plan, expected_version)
    plan.goals = goals.strip()
    plan.case_lead = case_lead
    plan.updated_at = timezone.now()
    plan.full_clean()
    plan.save(update_fields=["goals", "case_lead", "updated_at"])
    _audit(actor, plan.case, AuditAction.UPDATE, "integration_plan", plan.pk, request, version=plan.version)
    return plan


@transaction.atomic
def measure_add(
    *,
    actor: User,
    plan: IntegrationPlan,
    description: str,
    responsible_institution: Institution | None,
    start_on: dt.date,
    due_on: dt.date,
    service: ServiceOffering | None = None,
    responsible_user: User | None = None,
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Measure:
    grant = access.case_access_required(user=actor, case=plan.case)
    if not grant.may_edit_plan():
        raise PermissionDenied(_("Ihre Rolle bearbeitet den Integrationsplan nicht."))
    _draft(plan)
    if responsible_institution is None:
        raise ValidationError(
            {"responsible_institution": _("Jede Massnahme braucht eine verantwortliche Institution.")}
        )
    if due_on < start_on:
        raise ValidationError({"due_on": _("Der Termin liegt vor dem Beginn.")})
    if responsible_user is not None and responsible_user.institution_id != responsible_institution.pk:
        raise ValidationError({"responsible_user": _("Die Person gehört nicht zur verantwortlichen Institution.")})
    if service is not None and service.institution_kind != responsible_institution.kind:
        raise ValidationError({"service": _("Diese Leistung gehört nicht zur verantwortlichen Institution.")})
    _bump_version(plan, expected_version)
    measure = Measure(
        plan=plan,
        service=service,
        description=description.strip(),
        responsible_institution=responsible_institution,
        responsible_user=responsible_user,
        start_on=start_on,
        due_on=due_on,
    )
    measure.full_clean()
    measure.save()
    _audit(actor, plan.case, AuditAction.CREATE, "measure", measure.pk, request, version=plan.version)
    return measure


@transaction.atomic
def measure_set_status(
    *,
    actor: User,
    measure: Measure,
    status: str,
    expected_status: str | None = None,
    request: HttpRequest | None = None,
) -> Measure:
    """Report the state of a measure. ``expected_status`` is the state the user saw: a change made meanwhile is
    not overwritten, and a state reported already is not recorded twice."""
    grant = access.case_access_required(user=actor, case=measure.plan.case)
    if not grant.is_open:
        raise ValidationError(_("Der Fall ist abgeschlossen."))
    responsible = measure.responsible_user_id == actor.pk or measure.responsible_institution_id == actor.institution_id
    if not (responsible or grant.may_coordinate()):
        raise PermissionDenied(_("Den Stand einer Massnahme meldet die verantwortliche Institution."))
    if status not in MeasureStatus.values:
        raise ValidationError({"status": _("Unbekannter Status.")})
    locked(measure)
    if measure.status == status:
        raise already_done(
            _("Die Massnahme hat bereits den Stand «%(status)s».") % {"status": measure.get_status_display()}
        )
    if expected_status is not None and measure.status != expected_status:
        raise _stale(
            _("Der Stand der Massnahme wurde inzwischen auf «%(status)s» geändert. Laden Sie die Seite neu.")
            % {"status": measure.get_status_display()}
        )
    measure.status = status
    measure.done_on = timezone.localdate() if status == MeasureStatus.DONE else None
    measure.save(update_fields=["status", "done_on"])
    _audit(actor, measure.plan.case, AuditAction.UPDATE, "measure", measure.pk, request, status=status)
    return measure


@transaction.atomic
def plan_agree(
    *,
    actor: User,
    plan: IntegrationPlan,
    agreed_on: dt.date,
    client_agreed_on: dt.date | None,
    meeting: Meeting | None = None,
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> IntegrationPlan:
    """Record that the plan version was agreed (in a meeting) and that the client agreed to it."""
    grant = access.case_access_required(user=actor, case=plan.case)
    if not grant.may_edit_plan():
        raise PermissionDenied(_("Ihre Rolle bearbeitet den Integrationsplan nicht."))
    # The case is locked (as for a new draft) and the plan read again under the lock.
    Case.objects.select_for_update().filter(pk=plan.case_id).first()
    seen_version = plan.lock_version
    plan = IntegrationPlan.objects.select_related("case").get(pk=plan.pk)
    if plan.status == PlanStatus.AGREED:
        raise already_done(_("Diese Version des Plans ist bereits vereinbart."))
    _draft(plan)
    if expected_version is None:
        expected_version = seen_version
    if plan.case.plans.filter(status__in=[PlanStatus.AGREED, PlanStatus.SUPERSEDED], version__gt=plan.version).exists():
        raise ValidationError(
            _("Eine neuere Version des Plans ist bereits vereinbart; diese ältere kann nicht mehr vereinbart werden."),
            code="stale",
        )
    errors: dict[str, str] = {}
    if plan.case_lead_id is None:
        errors["case_lead"] = _("Vor der Vereinbarung braucht der Plan eine Fallführung.")
    if not plan.measures.exists():
        errors["measures"] = _("Ein Plan ohne Massnahmen kann nicht vereinbart werden.")
    if client_agreed_on is None:
        errors["client_agreed_on"] = _("Halten Sie fest, wann die Person dem Plan zugestimmt hat.")
    if agreed_on > timezone.localdate():
        errors["agreed_on"] = _("Das Datum darf nicht in der Zukunft liegen.")
    if meeting is not None and meeting.case_id != plan.case_id:
        errors["meeting"] = _("Diese Sitzung gehört zu einem anderen Fall.")
    if errors:
        raise ValidationError(errors)
    _bump_version(plan, expected_version)
    plan.case.plans.filter(status=PlanStatus.AGREED).update(status=PlanStatus.SUPERSEDED)
    plan.status = PlanStatus.AGREED
    plan.agreed_on = agreed_on
    plan.client_agreed_on = client_agreed_on
    plan.agreed_in = meeting
    plan.save(update_fields=["status", "agreed_on", "client_agreed_on", "agreed_in"])
    case = plan.case
    if plan.case_lead_id and case.case_lead_id != plan.case_lead_id:
        case.case_lead_id = plan.case_lead_id
        case.save(update_fields=["case_lead"])
        if plan.case_lead is not None:
            _participant_add(case, plan.case_lead, agreed_on)
    for measure in plan.measures.select_related("responsible_user"):
        if measure.responsible_user is not None:
            _participant_add(case, measure.responsible_user, agreed_on)
    _audit(actor, case, AuditAction.UPDATE, "integration_plan", plan.pk, request, version=plan.version, agreed=True)
    webhook_emit(event=WebhookEvent.CASE_PLAN_AGREED, case=case, plan_version=plan.version)
    return plan


# ---------------------------------------------------------------------------------------------------------
# Case-team meetings and agreements
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def meeting_schedule(
    *,
    actor: User,
    case: Case,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    place: str,
    agenda: str,
    users: Iterable[User],
    contacts: Iterable[Contact] = (),
    with_client: bool = False,
    request: HttpRequest | None = None,
) -> Meeting:
    """A coordinator schedules a case-team meeting; participants receive an iCalendar invitation."""
    grant = access.case_access_required(user=actor, case=case)
    if not grant.may_coordinate():
        raise PermissionDenied(_("Fallteam-Sitzungen plant die Koordination der Geschäftsstelle."))
    user_list, contact_list = list(users), list(contacts)
    errors: dict[str, str] = {}
    if case.level != 3:
        errors["starts_at"] = _("Fallteam-Sitzungen gibt es auf Stufe 3. Eskalieren Sie den Fall zuerst.")
    outsiders = [str(u) for u in user_list if not access.may_work_with_clients(u)]
    if outsiders:
        errors["users"] = _("%(names)s arbeitet nicht mit Personendaten und kann nicht eingeladen werden.") % {
            "names": ", ".join(outsiders)
        }
    if not user_list and not contact_list and not with_client:
        errors["users"] = _("Eine Sitzung braucht Teilnehmende.")
    if ends_at <= starts_at:
        errors["ends_at"] = _("Das Ende muss nach dem Beginn liegen.")
    if not place.strip():
        errors["place"] = _("Geben Sie den Ort an.")
    if not agenda.strip():
        errors["agenda"] = _("Geben Sie die Traktanden an.")
    if errors:
        raise ValidationError(errors)
    meeting = Meeting(
        case=case,
        case_team=case.case_team,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place.strip(),
        agenda=agenda.strip(),
        organised_by=actor,
    )
    meeting.full_clean()
    meeting.save()
    rows = [MeetingParticipant(meeting=meeting, user=u) for u in user_list]
    rows += [MeetingParticipant(meeting=meeting, contact=c) for c in contact_list]
    if with_client:
        rows.append(MeetingParticipant(meeting=meeting, is_client=True))
    MeetingParticipant.objects.bulk_create(rows)
    for user in user_list:
        _participant_add(case, user, timezone.localdate())
    _audit(
        actor,
        case,
        AuditAction.CREATE,
        "meeting",
        meeting.pk,
        request,
        participants=sorted(u.username for u in user_list),
        contacts=len(contact_list),
    )
    outbox_enqueue(
        task="iiz.cases.tasks.meeting_send_invitations",
        args=[meeting.pk],
        on_failure="iiz.cases.tasks.meeting_invitations_failed",
    )
    return meeting


@transaction.atomic
def meeting_record_minutes(
    *,
    actor: User,
    meeting: Meeting,
    minutes: str,
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Meeting:
    grant = access.case_access_required(user=actor, case=meeting.case)
    if not grant.may_coordinate():
        raise PermissionDenied(_("Das Protokoll führt die Koordination."))
    if not minutes.strip():
        raise ValidationError({"minutes": _("Das Protokoll ist leer.")})
    if meeting.starts_at > timezone.now():
        raise ValidationError({"minutes": _("Die Sitzung hat noch nicht stattgefunden.")})
    _bump_version(meeting, expected_version)
    meeting.minutes = minutes.strip()
    meeting.minutes_by = actor
    meeting.held = True
    meeting.save(update_fields=["minutes", "minutes_by", "held"])
    _audit(actor, meeting.case, AuditAction.UPDATE, "meeting_minutes", meeting.pk, request)
    return meeting


@transaction.atomic
def agreement_add(
    *,
    actor: User,
    case: Case,
    text: str,
    owner: User,
    due_on: dt.date,
    meeting: Meeting | None = None,
    request: HttpRequest | None = None,
) -> Agreement:
    grant = access.case_access_required(user=actor, case=case)
    if not grant.may_coordinate():
        raise PermissionDenied(_("Vereinbarungen hält die Koordination fest."))
    if meeting is not None and meeting.case_id != case.pk:
        raise ValidationError({"meeting": _("Diese Sitzung gehört zu einem anderen Fall.")})
    if not access.may_work_with_clients(owner):
        raise ValidationError({"owner": _("Diese Person kann keine Aufgaben in Fällen übernehmen.")})
    # The meeting's day in Zürich, not in UTC: a meeting at 00:30 belongs to that day.
    created_on = timezone.localdate(meeting.starts_at) if meeting else timezone.localdate()
    if due_on < created_on:
        raise ValidationError({"due_on": _("Der Termin liegt vor der Vereinbarung.")})
    agreement = Agreement(
        case=case,
        meeting=meeting,
        text=text.strip(),
        owner=owner,
        due_on=due_on,
        created_by=actor,
        created_on=created_on,
    )
    agreement.full_clean()
    agreement.save()
    _participant_add(case, owner, created_on)
    _audit(actor, case, AuditAction.CREATE, "agreement", agreement.pk, request, owner=owner.username)
    return agreement


@transaction.atomic
def agreement_set_status(
    *,
    actor: User,
    agreement: Agreement,
    status: str,
    done_on: dt.date | None = None,
    expected_status: str | None = None,
    request: HttpRequest | None = None,
) -> Agreement:
    """Mark an agreement done, dropped or open again: a transition, taken under a lock on the agreement.

    ``expected_status`` is the state the user saw: when somebody else has changed it meanwhile, the user is
    told and nothing is overwritten; when the agreement has the asked-for state already, nothing is recorded.
    """
    grant = access.case_access_required(user=actor, case=agreement.case)
    if not grant.is_open:
        raise ValidationError(_("Der Fall ist abgeschlossen."))
    if not grant.may_set_agreement_status(agreement):
        raise PermissionDenied(_("Eine Vereinbarung erledigt die zuständige Person."))
    if status not in AgreementStatus.values:
        raise ValidationError({"status": _("Unbekannter Status.")})
    locked(agreement)
    if agreement.status == status:
        raise already_done(
            _("Die Vereinbarung ist bereits als «%(status)s» vermerkt; es wurde nichts geändert.")
            % {"status": agreement.get_status_display()}
        )
    if expected_status is not None and agreement.status != expected_status:
        raise _stale(
            _(
                "Die Vereinbarung wurde inzwischen als «%(status)s» vermerkt; Ihre Änderung wurde nicht gespeichert. "
                "Laden Sie die Seite neu, wenn Sie den Stand trotzdem ändern wollen."
            )
            % {"status": agreement.get_status_display()}
        )
    if status == AgreementStatus.DONE:
        day = done_on or timezone.localdate()
        if day > timezone.localdate():
            raise ValidationError({"done_on": _("Das Datum darf nicht in der Zukunft liegen.")})
        if day < agreement.created_on:
            raise ValidationError({"done_on": _("Das Datum liegt vor der Vereinbarung.")})
        agreement.done_on = day
    else:
        agreement.done_on = None
    agreement.status = status
    agreement.save(update_fields=["status", "done_on"])
    _audit(actor, agreement.case, AuditAction.UPDATE, "agreement", agreement.pk, request, status=status)
    return agreement


# ---------------------------------------------------------------------------------------------------------
# Closure and follow-up
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def case_close(
    *,
    actor: User,
    case: Case,
    outcome: str,
    closed_on: dt.date,
    outcome_on: dt.date | None = None,
    benefits_ended_on: dt.date | None = None,
    note: str = "",
    expected_version: int | None = None,
    request: HttpRequest | None = None,
) -> Case:
    """Close the case with its outcome; follow-ups at 6 and 12 months are scheduled."""
    grant = access.case_access_required(user=actor, case=case)
    if not grant.may_close():
        raise PermissionDenied(_("Den Fall schliesst die Koordination oder die Fallführung ab."))
    current = Case.objects.select_for_update().get(pk=case.pk)
    if current.status == CaseStatus.CLOSED:
        raise already_done(_("Der Fall ist bereits abgeschlossen."))
    errors: dict[str, str] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = _("Wählen Sie das Ergebnis des Falls.")
    if closed_on < case.opened_on:
        errors["closed_on"] = _("Der Abschluss liegt vor der Eröffnung.")
    if closed_on > timezone.localdate():
        errors["closed_on"] = _("Das Datum darf nicht in der Zukunft liegen.")
    if outcome_on is not None and (outcome_on < case.opened_on or outcome_on > closed_on):
        errors["outcome_on"] = _("Das Ergebnis liegt zwischen Eröffnung und Abschluss.")
    if benefits_ended_on is not None and benefits_ended_on < case.opened_on:
        errors["benefits_ended_on"] = _("Der Leistungsbezug kann nicht vor der Eröffnung enden.")
    if errors:
        raise ValidationError(errors)
    _bump_version(case, expected_version)
    case.status = CaseStatus.CLOSED
    case.outcome = outcome
    case.outcome_on = outcome_on or closed_on
    case.closed_on = closed_on
    case.benefits_ended_on = benefits_ended_on
    case.closure_note = note.strip()
    case.closed_by = actor
    case.save(
        update_fields=["status", "outcome", "outcome_on", "closed_on", "benefits_ended_on", "closure_note", "closed_by"]
    )
    case.agreements.filter(status=AgreementStatus.OPEN).update(status=AgreementStatus.DROPPED)
    owner = case.case_lead or actor
    FollowUp.objects.bulk_create(
        [
            FollowUp(case=case, months_after=months, due_on=closed_on + relativedelta(months=months), owner=owner)
            for months in FOLLOW_UP_MONTHS
        ]
    )
    _audit(actor, case, AuditAction.UPDATE, "case_closure", case.pk, request, outcome=outcome)
    webhook_emit(event=WebhookEvent.CASE_CLOSED, case=case)
    return case


@transaction.atomic
def follow_up_record(
    *,
    actor: User,
    follow_up: FollowUp,
    status: str,
    recorded_on: dt.date,
    back_with: Institution | None = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> FollowUp:
    grant = access.case_access_required(user=actor, case=follow_up.case)
    if not grant.may_record_follow_up():
        raise ValidationError(_("Nachbefragungen gibt es erst nach dem Abschluss."))
    locked(follow_up)
    if follow_up.recorded_on is not None:
        raise already_done(
            _("Diese Nachbefragung ist bereits erfasst (von %(user)s).") % {"user": follow_up.recorded_by}
        )
    errors: dict[str, str] = {}
    if status not in FollowUpStatus.values:
        errors["status"] = _("Wählen Sie das Ergebnis der Nachbefragung.")
    if status == FollowUpStatus.BACK_WITH_PARTNER and back_with is None:
        errors["back_with"] = _("Bei welcher Partnerinstitution ist die Person wieder angemeldet?")
    if recorded_on > timezone.localdate():
        errors["recorded_on"] = _("Das Datum darf nicht in der Zukunft liegen.")
    closed_on = follow_up.case.closed_on
    if closed_on and recorded_on < closed_on:
        errors["recorded_on"] = _("Die Nachbefragung liegt vor dem Abschluss.")
    if errors:
        raise ValidationError(errors)
    follow_up.status = status
    follow_up.recorded_on = recorded_on
    follow_up.recorded_by = actor
    follow_up.back_with = back_with if status == FollowUpStatus.BACK_WITH_PARTNER else None
    follow_up.note = note.strip()
    follow_up.save(update_fields=["status", "recorded_on", "recorded_by", "back_with", "note"])
    _audit(actor, follow_up.case, AuditAction.UPDATE, "follow_up", follow_up.pk, request, status=status)
    return follow_up
