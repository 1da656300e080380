"""Side effects of case work, run after commit: by Celery workers in production, inline in the demo.

Each task is idempotent: running it twice sends nothing twice that matters (invitations carry a stable
UID and SEQUENCE, so calendars update the same event; reminders are deduplicated per item and day).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from iiz.cases.ical import meeting_ical
from iiz.cases.models import Meeting


@shared_task(bind=True, max_retries=5, default_retry_delay=300)
def meeting_send_invitations(self: Any, meeting_id: int) -> int:
    meeting = Meeting.objects.select_related("case", "organised_by").filter(pk=meeting_id).first()
    if meeting is None:
        return 0
    recipients = sorted(
        {
            p.user.email if p.user else p.contact.email  # type: ignore[union-attr]
            for p in meeting.participants.select_related("user", "contact")
            if (p.user and p.user.email) or (p.contact and p.contact.email)
        }
    )
    if not recipients:
        return 0
    start = timezone.localtime(meeting.starts_at)
    message = EmailMessage(
        subject=f"Einladung iiz-Fallteam {meeting.case.reference}, {start:%d.%m.%Y %H:%M}",
        body=(
            f"Sie sind zur iiz-Fallteam-Sitzung zum Fall {meeting.case.reference} eingeladen.\n\n"
            f"Datum: {start:%d.%m.%Y}, {start:%H:%M}–{timezone.localtime(meeting.ends_at):%H:%M}\n"
            f"Ort: {meeting.place}\n\n"
            "Traktanden und Unterlagen finden Sie auf der iiz-Plattform.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach("einladung.ics", meeting_ical(meeting), "text/calendar; method=REQUEST; charset=utf-8")
    try:
        message.send()
    except OSError as error:
        raise self.retry(exc=error) from error
    return len(recipients)


@shared_task
def reminders_daily() -> dict[str, int]:
    from iiz.cases.reminders import reminders_send

    return reminders_send(today=timezone.localdate())
