"""Side effects of case work, run after commit: by Celery workers in production, inline in the demo.

Each task is idempotent: running it twice sends nothing twice that matters (invitations carry a stable
UID and SEQUENCE, so calendars update the same event; reminders are deduplicated per item and day).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from iiz.cases.ical import meeting_ical
from iiz.cases.models import Meeting


@shared_task(bind=True, max_retries=5, default_retry_delay=300)
def meeting_send_invitations(self: Any, meeting_id: int) -> int:
    """E-mail the iCalendar invitation to every participant with an address, each in their language."""
    meeting = Meeting.objects.select_related("case", "organised_by").filter(pk=meeting_id).first()
    if meeting is None:
        return 0
    by_language: dict[str, set[str]] = defaultdict(set)
    for participant in meeting.participants.select_related("user", "contact"):
        if participant.user is not None and participant.user.email:
            by_language[participant.user.language].add(participant.user.email)
        elif participant.contact is not None and participant.contact.email:
            by_language[settings.LANGUAGE_CODE].add(participant.contact.email)
    start, end = timezone.localtime(meeting.starts_at), timezone.localtime(meeting.ends_at)
    sent = 0
    for language, recipients in sorted(by_language.items()):
        with translation.override(language):
            values = {
                "case": meeting.case.reference,
                "date": f"{start:%d.%m.%Y}",
                "start": f"{start:%H:%M}",
                "end": f"{end:%H:%M}",
                "place": meeting.place,
            }
            message = EmailMessage(
                subject=_("Einladung iiz-Fallteam %(case)s, %(date)s %(start)s") % values,
                body=_(
                    "Sie sind zur iiz-Fallteam-Sitzung zum Fall %(case)s eingeladen.\n\n"
                    "Datum: %(date)s, %(start)s–%(end)s\nOrt: %(place)s\n\n"
                    "Traktanden und Unterlagen finden Sie auf der iiz-Plattform.\n"
                )
                % values,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=sorted(recipients),
            )
            message.attach("invitation.ics", meeting_ical(meeting), "text/calendar; method=REQUEST; charset=utf-8")
        try:
            message.send()
        except OSError as error:
            raise self.retry(exc=error) from error
        sent += len(recipients)
    return sent


@shared_task
def reminders_daily() -> dict[str, int]:
    from iiz.cases.reminders import reminders_send

    return reminders_send(today=timezone.localdate())
