"""iCalendar invitations for case-team meetings (RFC 5545, METHOD:REQUEST).

The invitation carries the case reference, never the client's name: it travels by e-mail and lands in
calendars that are not covered by the platform's access rules.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from iiz.cases.models import Meeting


def _address(email: str, name: str, role: str = "REQ-PARTICIPANT") -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    address.params["role"] = vText(role)
    address.params["partstat"] = vText("NEEDS-ACTION")
    address.params["rsvp"] = vText("TRUE")
    return address


def meeting_ical(meeting: Meeting) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Kanton Zürich//iiz//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", meeting.ical_uid)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("sequence", meeting.sequence)
    event.add("summary", _("iiz-Fallteam %(case)s") % {"case": meeting.case.reference})
    event.add("location", meeting.place)
    event.add(
        "description",
        _("iiz-Fallteam-Sitzung zum Fall %(case)s. Traktanden und Unterlagen auf der iiz-Plattform.")
        % {"case": meeting.case.reference},
    )
    organiser = meeting.organised_by
    event["organizer"] = _address(organiser.email or settings.DEFAULT_FROM_EMAIL, str(organiser), "CHAIR")
    for participant in meeting.participants.select_related("user", "contact"):
        person = participant.user or participant.contact
        if person is not None and person.email:
            event.add("attendee", _address(person.email, str(person)), encode=False)
    calendar.add_component(event)
    return bytes(calendar.to_ical())
