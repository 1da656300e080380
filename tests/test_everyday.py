"""Everyday use: each role starts where its work is, every page is linked, work is found and confirmed."""

from __future__ import annotations

import io

import pytest
from django.test.utils import override_settings
from django.urls import reverse

from iiz.cases import services
from iiz.interfaces.matching import clients_merge
from iiz.interfaces.models_imports import MergeRecord
from tests import cases_world
from tests.factories import ClientFactory, RegistrationFactory

# --- the start page --------------------------------------------------------------------------------------


def test_it_shows_the_coordinator_the_queue_of_the_geschaeftsstelle(http_as, coordinator, iv_specialist):
    # given a level-2 case of the coordinator without a meeting ahead
    case = cases_world.case_at_level(2, specialist=iv_specialist, coordinator=coordinator)

    # when the coordinator opens the start page
    response = http_as(coordinator).get(reverse("home"))

    # then the queue lists the case, the override requests and the access requests
    content = response.content.decode()
    assert response.status_code == 200
    assert "Warteschlange der Geschäftsstelle" in content
    assert [c.pk for c in response.context["waiting_cases"]] == [case.pk]
    assert reverse("cases:override_requests") in content
    assert reverse("audit:access_requests") in content


def test_it_lists_the_upcoming_meetings_with_their_invitation_on_the_start_page(http_as, coordinator, iv_specialist):
    # given a case-team meeting in a week that the specialist attends
    case = cases_world.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    meeting = cases_world.meeting_schedule(case=case, coordinator=coordinator, users=[iv_specialist])

    # when the specialist opens the start page
    response = http_as(iv_specialist).get(reverse("home"))

    # then the meeting is listed with its day (dd.mm.yyyy), its case and its .ics invitation
    content = response.content.decode()
    assert response.context["meetings"] == [meeting]
    assert meeting.starts_at.astimezone().strftime("%d.%m.%Y") in content
    assert reverse("cases:meeting_ical", kwargs={"reference": case.reference, "meeting_id": meeting.pk}) in content
    # and the coordinator's waiting list no longer names the case
    assert http_as(coordinator).get(reverse("home")).context["waiting_cases"] == []


# --- links to pages that had none --------------------------------------------------------------------------


def test_it_links_the_access_log_from_the_file_for_those_who_may_read_it(http_as, world, iv_specialist, rav_adviser):
    # given a person registered with the IV-Stelle and the RAV
    client = ClientFactory(registered=False)
    RegistrationFactory(client=client, institution=world.disability)
    RegistrationFactory(client=client, institution=world.labour)
    log = reverse("clients:audit", kwargs={"public_id": client.public_id})

    # when / then the specialist finds the access log on the file, the case worker does not
    assert log in http_as(iv_specialist).get(client.get_absolute_url()).content.decode()
    assert log not in http_as(rav_adviser).get(client.get_absolute_url()).content.decode()


def test_it_links_the_import_from_the_person_search(http_as, rav_adviser):
    content = http_as(rav_adviser).get(reverse("clients:search")).content.decode()
    assert reverse("imports:start") in content


def test_it_confirms_a_merge_and_offers_its_undo_behind_a_confirmation(http_as, world, rav_adviser):
    # given two records of one person at the RAV
    kept, merged = ClientFactory(registered=False), ClientFactory(registered=False)
    for client in (kept, merged):
        RegistrationFactory(client=client, institution=world.labour)
    http = http_as(rav_adviser)

    # when the adviser merges them on the duplicates page
    url = reverse("imports:decide", kwargs={"public_id": kept.public_id, "other_id": merged.public_id})
    response = http.post(url, {"decision": "merge", "reason": "Doppelt erfasst"}, follow=True)

    # then the page confirms it and shows the merge with its undo button behind a confirmation
    content = response.content.decode()
    record = MergeRecord.objects.get(kept=kept, merged=merged)
    assert "ist mit" in content and "zusammengeführt" in content
    assert reverse("imports:merge_undo", kwargs={"record_id": record.pk}) in content
    assert "Ja, Zusammenführung rückgängig machen" in content

    # when the undo is confirmed
    response = http.post(reverse("imports:merge_undo", kwargs={"record_id": record.pk}), follow=True)

    # then the page says so and offers no second undo
    content = response.content.decode()
    record.refresh_from_db()
    assert record.undone_at is not None
    assert "rückgängig gemacht" in content
    assert reverse("imports:merge_undo", kwargs={"record_id": record.pk}) not in content


# --- finding people ----------------------------------------------------------------------------------------


@override_settings(IIZ_SEARCH_RESULT_LIMIT=2)
def test_it_pages_through_all_hits_of_a_person_search_and_says_how_many(http_as, world, rav_adviser):
    # given five persons called Muster at the RAV
    for first_name in ["Anna", "Beat", "Carla", "Dario", "Elena"]:
        RegistrationFactory(client=ClientFactory(last_name="Muster", first_name=first_name, registered=False),
                            institution=world.labour)
    http = http_as(rav_adviser)

    # when the adviser searches and goes to the last page
    first = http.get(reverse("clients:search"), {"q": "Muster"})
    last = http.get(reverse("clients:search"), {"q": "Muster", "seite": 3})

    # then every page says there are five, and the last one lists the fifth
    assert "5 Personen gefunden" in first.content.decode()
    assert "seite=2" in first.content.decode()
    assert [c.first_name for c in last.context["results"]] == ["Elena"]
    assert "5 Personen gefunden" in last.content.decode()


def test_it_keeps_a_merge_out_of_reach_of_an_outsider(http_as, world, rav_adviser, biz_adviser):
    # given a merge at the RAV
    kept, merged = ClientFactory(registered=False), ClientFactory(registered=False)
    for client in (kept, merged):
        RegistrationFactory(client=client, institution=world.labour)
    record = clients_merge(actor=rav_adviser, keep=kept, merge=merged, reason="Doppelt erfasst")

    # when the career adviser (who serves neither) tries to undo it
    response = http_as(biz_adviser).post(reverse("imports:merge_undo", kwargs={"record_id": record.pk}))

    # then the merge does not exist for them, and stays
    assert response.status_code == 404
    record.refresh_from_db()
    assert record.undone_at is None


# --- the case list -------------------------------------------------------------------------------------------


@pytest.fixture
def three_cases(world, iv_specialist, coordinator):
    """Three cases of the coordinator: Amsler at level 1, Bucher at level 2, Caflisch at level 3 with an overdue
    agreement."""
    cases = {}
    for level, name in [(1, "Amsler"), (2, "Bucher"), (3, "Caflisch")]:
        person = cases_world.person_create(actor=iv_specialist, last_name=name)
        case = cases_world.case_at_level(level, specialist=iv_specialist, coordinator=coordinator, client=person)
        if level == 1:
            services.case_participant_add(actor=iv_specialist, case=case, user=coordinator)
        cases[name] = case
    agreement = cases_world.agreement_add(
        case=cases["Caflisch"], coordinator=coordinator, owner=iv_specialist, due_on=cases_world.days_ago(0)
    )
    # Three days later, it is overdue.
    type(agreement).objects.filter(pk=agreement.pk).update(due_on=cases_world.days_ago(3))
    return cases


def _listed(http, **query) -> list[str]:
    response = http.get(reverse("cases:list"), query)
    assert response.status_code == 200
    return [case.client.last_name for case in response.context["cases"]]


def test_it_searches_filters_and_sorts_the_case_list(http_as, coordinator, three_cases):
    http = http_as(coordinator)
    caflisch = three_cases["Caflisch"]

    # by the person's name, the reference and the AHV number
    assert _listed(http, q="bucher") == ["Bucher"]
    assert _listed(http, q=caflisch.reference) == ["Caflisch"]
    assert _listed(http, q=caflisch.client.ahv_display) == ["Caflisch"]
    # by level, case lead, opening institution and what is overdue
    assert _listed(http, level=2) == ["Bucher"]
    assert _listed(http, overdue="on") == ["Caflisch"]
    assert sorted(_listed(http, institution=caflisch.serving_institution_id)) == ["Amsler", "Bucher", "Caflisch"]
    # sorted by person, both ways
    assert _listed(http, sort="person") == ["Amsler", "Bucher", "Caflisch"]
    assert _listed(http, sort="-person") == ["Caflisch", "Bucher", "Amsler"]


def test_it_refuses_a_filter_it_does_not_know_without_failing(http_as, coordinator, three_cases):
    response = http_as(coordinator).get(reverse("cases:list"), {"case_lead": "999999", "sort": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_exports_the_chosen_cases_and_records_the_export(http_as, coordinator, three_cases, fmt):
    from iiz.audit.models import AuditAction, AuditEvent

    # given the coordinator's list narrowed to level 2 and 3
    http = http_as(coordinator)

    # when it is downloaded
    response = http.get(reverse("cases:export", kwargs={"fmt": fmt}), {"q": "", "level": "", "sort": "person"})
    only_level_3 = http.get(reverse("cases:export", kwargs={"fmt": fmt}), {"level": 3})

    # then the file holds the cases of the list with Swiss dates, and the export is in the audit trail
    assert response.status_code == 200
    caflisch = three_cases["Caflisch"]
    if fmt == "csv":
        text = response.content.decode("utf-8-sig")
        lines = text.splitlines()
        assert lines[0].startswith("Fallnummer;Name;Vorname;Geburtsdatum")
        assert [line.split(";")[1] for line in lines[1:]] == ["Amsler", "Bucher", "Caflisch"]
        assert caflisch.client.date_of_birth.strftime("%d.%m.%Y") in text
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(min_row=2))
        assert [row[1].value for row in rows] == ["Amsler", "Bucher", "Caflisch"]
        assert rows[2][3].value.date() == caflisch.client.date_of_birth
        assert rows[2][3].number_format == "DD.MM.YYYY"
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="case_list").order_by("pk").last()
    assert event.details["cases"] == [caflisch.reference]
    assert event.details["format"] == fmt
    assert only_level_3["Content-Disposition"].startswith("attachment;")


def test_it_offers_no_export_to_roles_without_client_work(http_as, committee):
    assert http_as(committee).get(reverse("cases:export", kwargs={"fmt": "csv"})).status_code == 403
