"""The daily reminder job: overdue agreements, measures and information requests, and due follow-ups.

Each owner gets one notice per item on the start page and one e-mail per run listing the new notices.
The job is idempotent: an item is announced once; running the job again the same day sends nothing.
E-mails carry case references, never client names.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from iiz.cases.models import (
    Agreement,
    AgreementStatus,
    CaseParticipant,
    CaseStatus,
    FollowUp,
    InformationRequest,
    Measure,
    MeasureStatus,
    Notification,
    PlanStatus,
)
from iiz.organisations.models import User


@dataclass(frozen=True)
class Reminder:
    user_id: int
    case_id: int
    kind: str
    item_id: int
    due_on: dt.date
    reference: str
    link: str
    months: int = 0

    def text(self) -> str:
        """The notice in the active language (the recipient's, see reminders_send)."""
        values = {"due": self.due_on.strftime("%d.%m.%Y"), "case": self.reference, "months": self.months}
        texts = {
            "agreement_overdue": _("Vereinbarung überfällig seit %(due)s (Fall %(case)s)"),
            "measure_overdue": _("Massnahme überfällig seit %(due)s (Fall %(case)s)"),
            "information_request_overdue": _("Informationsanfrage überfällig seit %(due)s (Fall %(case)s)"),
            "follow_up_due": _("Nachbefragung nach %(months)s Monaten fällig (Fall %(case)s)"),
        }
        return texts[self.kind] % values


def _agreements(today: dt.date) -> list[Reminder]:
    rows = Agreement.objects.filter(status=AgreementStatus.OPEN, due_on__lt=today, case__status=CaseStatus.OPEN)
    return [
        Reminder(
            a.owner_id,
            a.case_id,
            "agreement_overdue",
            a.pk,
            a.due_on,
            a.case.reference,
            a.case.get_absolute_url(),
        )
        for a in rows.select_related("case")
    ]


def _measures(today: dt.date) -> list[Reminder]:
    rows = Measure.objects.filter(
        status__in=[MeasureStatus.PLANNED, MeasureStatus.RUNNING],
        due_on__lt=today,
        plan__status=PlanStatus.AGREED,
        plan__case__status=CaseStatus.OPEN,
    ).select_related("plan__case")
    reminders = []
    for m in rows:
        owner_id = m.responsible_user_id or m.plan.case.case_lead_id
        if owner_id:
            reminders.append(
                Reminder(
                    owner_id,
                    m.plan.case_id,
                    "measure_overdue",
                    m.pk,
                    m.due_on,
                    m.plan.case.reference,
                    m.plan.case.get_absolute_url(),
                )
            )
    return reminders


def _information_requests(today: dt.date) -> list[Reminder]:
    rows = list(
        InformationRequest.objects.filter(
            answered_on__isnull=True, due_on__lt=today, case__status=CaseStatus.OPEN
        ).select_related("case")
    )
    answerers: dict[tuple[int, int], list[int]] = defaultdict(list)
    for p in CaseParticipant.objects.filter(case_id__in={r.case_id for r in rows}, left_on__isnull=True):
        answerers[(p.case_id, p.institution_id)].append(p.user_id)
    reminders = []
    for r in rows:
        for user_id in {r.asked_by_id, *answerers[(r.case_id, r.to_institution_id)]}:
            reminders.append(
                Reminder(
                    user_id,
                    r.case_id,
                    "information_request_overdue",
                    r.pk,
                    r.due_on,
                    r.case.reference,
                    r.case.get_absolute_url(),
                )
            )
    return reminders


def _follow_ups(today: dt.date) -> list[Reminder]:
    rows = FollowUp.objects.filter(recorded_on__isnull=True, due_on__lte=today, owner__isnull=False)
    return [
        Reminder(
            int(f.owner_id or 0),
            f.case_id,
            "follow_up_due",
            f.pk,
            f.due_on,
            f.case.reference,
            f.case.get_absolute_url(),
            months=f.months_after,
        )
        for f in rows.select_related("case")
    ]


def reminders_send(*, today: dt.date) -> dict[str, int]:
    """Create the notices of the day and e-mail each owner the new ones, in the owner's language."""
    counts: dict[str, int] = defaultdict(int)
    reminders = _agreements(today) + _measures(today) + _information_requests(today) + _follow_ups(today)
    users = {u.pk: u for u in User.objects.filter(pk__in={r.user_id for r in reminders}, is_active=True)}
    new_by_user: dict[int, list[str]] = defaultdict(list)
    for reminder in reminders:
        user = users.get(reminder.user_id)
        if user is None:
            continue
        with translation.override(user.language):
            text = reminder.text()
        try:
            with transaction.atomic():
                Notification.objects.create(
                    user=user,
                    case_id=reminder.case_id,
                    kind=reminder.kind,
                    text=text,
                    link=reminder.link,
                    dedupe_key=f"{reminder.kind}:{reminder.item_id}:{reminder.user_id}",
                )
        except IntegrityError:
            continue  # announced on an earlier run
        counts[reminder.kind] += 1
        new_by_user[user.pk].append(text)
    for user_id, texts in new_by_user.items():
        user = users[user_id]
        if not user.email:
            continue
        with translation.override(user.language):
            lines = "\n".join(f"- {text}" for text in texts)
            send_mail(
                subject=_("iiz: %(count)s neue Erinnerungen") % {"count": len(texts)},
                message=_(
                    "Guten Tag\n\nFolgende Punkte sind überfällig oder fällig:\n\n%(lines)s\n\n"
                    "Details finden Sie auf Ihrer Startseite der iiz-Plattform.\n"
                )
                % {"lines": lines},
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[user.email],
            )
        counts["emails"] += 1
    return dict(counts)
