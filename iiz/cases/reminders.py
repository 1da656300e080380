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
    text: str
    link: str


def _agreements(today: dt.date) -> list[Reminder]:
    rows = Agreement.objects.filter(status=AgreementStatus.OPEN, due_on__lt=today, case__status=CaseStatus.OPEN)
    return [
        Reminder(
            a.owner_id,
            a.case_id,
            "agreement_overdue",
            a.pk,
            f"Vereinbarung überfällig seit {a.due_on:%d.%m.%Y} (Fall {a.case.reference})",
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
                    f"Massnahme überfällig seit {m.due_on:%d.%m.%Y} (Fall {m.plan.case.reference})",
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
        text = f"Informationsanfrage überfällig seit {r.due_on:%d.%m.%Y} (Fall {r.case.reference})"
        for user_id in {r.asked_by_id, *answerers[(r.case_id, r.to_institution_id)]}:
            reminders.append(
                Reminder(user_id, r.case_id, "information_request_overdue", r.pk, text, r.case.get_absolute_url())
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
            f"Nachbefragung nach {f.months_after} Monaten fällig (Fall {f.case.reference})",
            f.case.get_absolute_url(),
        )
        for f in rows.select_related("case")
    ]


def reminders_send(*, today: dt.date) -> dict[str, int]:
    """Create the notices of the day and e-mail each owner the new ones. Returns counts per kind."""
    counts: dict[str, int] = defaultdict(int)
    new_by_user: dict[int, list[Reminder]] = defaultdict(list)
    for reminder in _agreements(today) + _measures(today) + _information_requests(today) + _follow_ups(today):
        key = f"{reminder.kind}:{reminder.item_id}:{reminder.user_id}"
        try:
            with transaction.atomic():
                Notification.objects.create(
                    user_id=reminder.user_id,
                    case_id=reminder.case_id,
                    kind=reminder.kind,
                    text=reminder.text,
                    link=reminder.link,
                    dedupe_key=key,
                )
        except IntegrityError:
            continue  # announced on an earlier run
        counts[reminder.kind] += 1
        new_by_user[reminder.user_id].append(reminder)
    emails = {u.pk: u.email for u in User.objects.filter(pk__in=new_by_user, is_active=True).exclude(email="")}
    for user_id, items in new_by_user.items():
        if user_id not in emails:
            continue
        lines = "\n".join(f"- {item.text}" for item in items)
        send_mail(
            subject=f"iiz: {len(items)} neue Erinnerung(en)",
            message=f"Guten Tag\n\nFolgende Punkte sind überfällig oder fällig:\n\n{lines}\n\n"
            "Details auf Ihrer Startseite der iiz-Plattform.\n",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[emails[user_id]],
        )
        counts["emails"] += 1
    return dict(counts)
