"""Side effects of case work, run after commit: by Celery workers in production, inline in the demo.

Each task is idempotent: running it twice sends nothing twice that matters (each invitation is marked sent
with the meeting's SEQUENCE, and carries a stable UID, so calendars update the same event; reminders are
deduplicated per item and day).
"""

from __future__ import annotations

from collections import defaultdict

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from iiz.cases.ical import meeting_ical
from iiz.cases.models import Meeting, MeetingParticipant, Notification


@shared_task
def meeting_send_invitations(meeting_id: int) -> int:
    """E-mail the iCalendar invitation to every participant with an address, each in their language.

    Sent through the outbox: a failed send raises and the outbox runs the task again later. Each participant
    is marked with the SEQUENCE their invitation carried, so a second run sends only what is still missing.
    """
    meeting = Meeting.objects.select_related("case", "organised_by").filter(pk=meeting_id).first()
    if meeting is None:
        return 0
    by_language: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for participant in meeting.participants.select_related("user", "contact"):
        if participant.invited_sequence == meeting.sequence:
            continue
        if participant.user is not None and participant.user.email:
            by_language[participant.user.language][participant.user.email].append(participant.pk)
        elif participant.contact is not None and participant.contact.email:
            by_language[settings.LANGUAGE_CODE][participant.contact.email].append(participant.pk)
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
        message.send()
        MeetingParticipant.objects.filter(pk__in=[pk for pks in recipients.values() for pk in pks]).update(
            invited_sequence=meeting.sequence
        )
        sent += len(recipients)
    return sent


@shared_task
def meeting_invitations_failed(meeting_id: int) -> None:
    """The invitations could not be sent even after several attempts: the organiser is told on the start page."""
    meeting = Meeting.objects.select_related("case", "organised_by").filter(pk=meeting_id).first()
    if meeting is None:
        return
    organiser = meeting.organised_by
    start = timezone.localtime(meeting.starts_at)
    with translation.override(organiser.language):
        text = _(
            "Die Einladungen zur Fallteam-Sitzung %(case)s vom %(date)s konnten nicht versandt werden. "
            "Bitte informieren Sie die Teilnehmenden direkt."
        ) % {"case": meeting.case.reference, "date": f"{start:%d.%m.%Y %H:%M}"}
    Notification.objects.get_or_create(
        dedupe_key=f"invitation_failed:{meeting.pk}:{meeting.sequence}",
        defaults={
            "user": organiser,
            "case": meeting.case,
            "kind": "invitation_failed",
            "text": text[:300],
            "link": reverse("cases:detail", args=[meeting.case.reference]) + "#sitzungen",
        },
    )


@shared_task
def reminders_daily() -> dict[str, int]:
    from iiz.cases.reminders import reminders_send

    return reminders_send(today=timezone.localdate())
