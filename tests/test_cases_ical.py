"""The iCalendar invitation of a case-team meeting (RFC 5545, METHOD:REQUEST)."""

from __future__ import annotations

import pytest
from icalendar import Calendar, Event

from iiz.cases import services
from iiz.cases.ical import meeting_ical
from iiz.cases.models import Meeting
from iiz.organisations.models import User
from tests import cases_world as cw


@pytest.fixture
def meeting(iv_specialist: User, coordinator: User, rav_adviser: User, social_worker: User) -> Meeting:
    """A meeting of a level-3 case with two users, a doctor with and a coach without e-mail, and the client."""
    case = cw.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    starts_at, ends_at = cw.meeting_at(cw.days_ago(-7), hour=9, minutes=30)
    created = services.meeting_schedule(
        actor=coordinator,
        case=case,
        starts_at=starts_at,
        ends_at=ends_at,
        place="Stadthaus Uster, Sitzungszimmer 2",
        agenda="Integrationsplan",
        users=[rav_adviser, social_worker],
        contacts=[cw.doctor(), cw.doctor(email="")],
        with_client=True,
    )
    # Read back as the task does: the times come from the database.
    return Meeting.objects.select_related("case__client", "organised_by").get(pk=created.pk)


def _event(meeting: Meeting) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(meeting_ical(meeting))
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_it_is_a_calendar_request_with_one_event(meeting: Meeting) -> None:
    # given a scheduled meeting
    # when its invitation is parsed
    calendar = Calendar.from_ical(meeting_ical(meeting))
    # then it is a request of version 2.0 holding exactly one event
    assert (str(calendar["METHOD"]), str(calendar["VERSION"])) == ("REQUEST", "2.0")
    assert len(calendar.walk("VEVENT")) == 1


def test_it_carries_the_meetings_uid_times_sequence_and_place(meeting: Meeting) -> None:
    # given a scheduled meeting at 9:30 Zürich time
    # when its invitation is parsed
    _, event = _event(meeting)
    # then the event has the meeting's stable UID, its start and end, its sequence and its place
    assert str(event["UID"]) == meeting.ical_uid == f"meeting-{meeting.pk}@iiz.zh"
    assert (event.decoded("DTSTART"), event.decoded("DTEND")) == (meeting.starts_at, meeting.ends_at)
    assert event.decoded("DTSTART").utcoffset() is not None
    assert (int(event["SEQUENCE"]), str(event["LOCATION"])) == (0, "Stadthaus Uster, Sitzungszimmer 2")


def test_it_follows_a_change_of_the_meeting_with_a_higher_sequence(meeting: Meeting) -> None:
    # given a meeting whose invitation was sent, then changed (the sequence is bumped on every change)
    Meeting.objects.filter(pk=meeting.pk).update(sequence=2)
    meeting.refresh_from_db()
    # when its invitation is parsed again
    _, event = _event(meeting)
    # then it updates the same event with the higher sequence
    assert (str(event["UID"]), int(event["SEQUENCE"])) == (meeting.ical_uid, 2)


def test_it_invites_every_participant_with_an_e_mail_address(
    meeting: Meeting, rav_adviser: User, social_worker: User, coordinator: User
) -> None:
    # given a meeting with two users, a doctor with e-mail, a coach without, and the client
    # when its invitation is parsed
    _, event = _event(meeting)
    # then the attendees are the two users and the doctor, and the coordinator organises it
    attendees = event["ATTENDEE"]
    assert sorted(str(a) for a in attendees) == sorted(
        [f"mailto:{rav_adviser.email}", f"mailto:{social_worker.email}", "mailto:dr.arzt@praxis.example"]
    )
    assert {a.params["CN"] for a in attendees} == {str(rav_adviser), str(social_worker), "Hans Arzt"}
    assert str(event["ORGANIZER"]) == f"mailto:{coordinator.email}"


def test_it_names_the_case_but_never_the_client(meeting: Meeting) -> None:
    # given a meeting of a case of a named person
    client = meeting.case.client
    # when its invitation is read, whole and event by event
    raw = meeting_ical(meeting).decode()
    _, event = _event(meeting)
    text = str(event["SUMMARY"]) + str(event["DESCRIPTION"])
    # then the summary and description carry the case reference, and the name appears nowhere
    assert meeting.case.reference in str(event["SUMMARY"])
    assert meeting.case.reference in str(event["DESCRIPTION"])
    assert (client.first_name in text, client.last_name in text) == (False, False)
    assert (client.first_name in raw, client.last_name in raw, client.ahv_number in raw) == (False, False, False)


def test_it_is_the_same_event_for_every_rendering(meeting: Meeting) -> None:
    # given a meeting
    # when the invitation is rendered twice (the task may be retried)
    first, second = _event(meeting)[1], _event(meeting)[1]
    # then both describe the same event
    assert (str(first["UID"]), first.decoded("DTSTART"), int(first["SEQUENCE"])) == (
        str(second["UID"]),
        second.decoded("DTSTART"),
        int(second["SEQUENCE"]),
    )
