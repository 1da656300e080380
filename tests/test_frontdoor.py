"""The front door: the public report form, its abuse protection, the triage queue and the API intake."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from iiz.audit.models import AuditEvent
from iiz.cases.models import LifeSituation, ReportChannel, ReporterType, Screening
from iiz.clients.models import Client, Registration
from iiz.frontdoor import services
from iiz.frontdoor.models import EarlyDetectionReport, ReportStatus
from iiz.interfaces.models import Scope
from tests.api_world import api_client, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_limits():
    cache.clear()
    yield
    cache.clear()


def form_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "reporter_type": ReporterType.EMPLOYER,
        "reporter_name": "Petra Chef",
        "reporter_organisation": "Muster Bau AG",
        "reporter_phone": "044 000 00 00",
        "reporter_email": "",
        "person_first_name": "Lara",
        "person_last_name": "Beispiel",
        "person_date_of_birth": "1971-03-04",
        "person_ahv_number": "",
        "life_situations": [LifeSituation.objects.get(code="frequent-certified-absences").pk],
        "absent_since": "",
        "absence_days": "24",
        "description": "Fehlt seit Monaten immer wieder.",
        "person_informed": "on",
        "person_agrees": "yes",
        "website": "",
    }
    data.update(changes)
    return data


def submit(**changes: object) -> EarlyDetectionReport:
    return services.report_submit(
        channel=ReportChannel.WEB,
        **{  # type: ignore[arg-type]
            "reporter_type": ReporterType.DOCTOR,
            "reporter_name": "Dr. Hausarzt",
            "reporter_phone": "044 111 11 11",
            "person_first_name": "Lara",
            "person_last_name": "Beispiel",
            "person_date_of_birth": dt.date(1971, 3, 4),
            "life_situations": LifeSituation.objects.filter(code="frequent-certified-absences"),
            "person_informed": True,
            "person_agrees": "yes",
            **changes,
        },
    )


# --- the public page --------------------------------------------------------------------------------------


def _without_tokens(body: bytes) -> bytes:
    # The anti-forgery token is masked anew on every page; it is the one thing that must differ.
    return re.sub(rb'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', rb"\1-", body)


def test_it_answers_a_report_on_a_known_and_an_unknown_person_byte_for_byte_the_same(monkeypatch, rav_client):
    # given a person the platform knows and one it does not, reported the same way, with the reference fixed
    monkeypatch.setattr("iiz.frontdoor.models.reference_new", lambda: "M-TEST-0001")
    monkeypatch.setattr("iiz.frontdoor.services.reference_new", lambda: "M-TEST-0001")
    known = form_data(
        person_first_name=rav_client.first_name,
        person_last_name=rav_client.last_name,
        person_date_of_birth=rav_client.date_of_birth.isoformat(),
        person_ahv_number=rav_client.ahv_display,
    )
    unknown = form_data(
        person_first_name=rav_client.first_name,
        person_last_name=rav_client.last_name,
        person_date_of_birth=rav_client.date_of_birth.isoformat(),
        person_ahv_number="756.9999.9999.91",
    )
    answers = []
    for data in (known, unknown):
        http = HttpClient()
        # when each is reported on the public page (the second report's reference is freed first)
        EarlyDetectionReport.objects.filter(reference="M-TEST-0001").update(reference="M-OLD-0001")
        response = http.post(reverse("frontdoor:report"), data)
        confirmation = http.get(response["Location"])
        answers.append((response, confirmation))

    # then both were taken, and the answers are the same, status, headers and body
    assert EarlyDetectionReport.objects.count() == 2
    (first, first_page), (second, second_page) = answers
    assert first.status_code == second.status_code == 303
    assert first.content == second.content
    ignored = {"Date", "Set-Cookie"}
    assert {k: v for k, v in first.items() if k not in ignored} == {k: v for k, v in second.items() if k not in ignored}
    assert sorted(first.cookies) == sorted(second.cookies)
    assert first_page.status_code == second_page.status_code == 200
    assert b"M-TEST-0001" in first_page.content
    assert _without_tokens(first_page.content) == _without_tokens(second_page.content)


@override_settings(IIZ_REPORT_RATE="2/h")
def test_it_answers_429_once_an_address_has_sent_too_many_reports():
    # given an address that has sent as many reports as the limit allows
    http = HttpClient(REMOTE_ADDR="203.0.113.7")
    for _ in range(2):
        assert http.post(reverse("frontdoor:report"), form_data()).status_code == 303

    # when it sends another
    response = http.post(reverse("frontdoor:report"), form_data())

    # then it is refused with 429, said in words, and nothing more is stored; another address is still heard
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert "Zu viele Meldungen" in response.content.decode()
    assert EarlyDetectionReport.objects.count() == 2
    assert HttpClient(REMOTE_ADDR="203.0.113.8").post(reverse("frontdoor:report"), form_data()).status_code == 303


def test_it_refuses_a_report_on_someone_else_who_was_not_told_and_keeps_the_input():
    # given an employer who has not told the person
    data = form_data(person_informed="")

    # when the report is sent
    response = HttpClient().post(reverse("frontdoor:report"), data)

    # then the form says why, keeps what was typed, and nothing is stored
    body = response.content.decode()
    assert response.status_code == 400
    assert "Art. 3b IVG" in body
    assert 'value="Muster Bau AG"' in body
    assert EarlyDetectionReport.objects.count() == 0


def test_it_takes_a_report_by_the_person_themselves_without_the_statement():
    # given the person reporting themselves
    data = form_data(reporter_type=ReporterType.PERSON, reporter_name="", person_informed="")

    # when it is sent
    response = HttpClient().post(reverse("frontdoor:report"), data)

    # then it is taken
    assert response.status_code == 303
    assert EarlyDetectionReport.objects.get().person_informed is True


def test_it_stores_nothing_from_a_bot_that_fills_the_hidden_field_but_answers_the_same():
    # given a bot that fills in every field, the hidden one too
    response = HttpClient().post(reverse("frontdoor:report"), form_data(website="https://spam.example"))

    # then it is told what everyone is told, and nothing is stored
    assert response.status_code == 303
    assert response["Location"] == reverse("frontdoor:thanks")
    assert EarlyDetectionReport.objects.count() == 0


def test_it_refuses_a_request_larger_than_any_report():
    # given a description far beyond the limit
    response = HttpClient().post(reverse("frontdoor:report"), form_data(description="x" * 40_000))

    # then the request is refused as too large
    assert response.status_code == 413
    assert EarlyDetectionReport.objects.count() == 0


def test_it_explains_every_field_it_refuses():
    # given a report with a date of birth in the future, a bad AHV number and no contact
    data = form_data(person_date_of_birth="2999-01-01", person_ahv_number="756.1234", reporter_phone="")

    # when it is sent
    response = HttpClient().post(reverse("frontdoor:report"), data)

    # then each problem is named at its field
    body = response.content.decode()
    assert response.status_code == 400
    assert "Das Geburtsdatum ist nicht möglich" in body
    assert "Telefonnummer oder eine E-Mail-Adresse" in body
    assert 'id="id_person_ahv_number_error"' in body


def test_it_serves_the_public_pages_without_sign_in_in_french():
    # given a visitor who chose French
    http = HttpClient()
    http.post(reverse("set_language"), {"language": "fr", "next": "/meldung/"})

    # when the contact point and the form are opened
    contact = http.get(reverse("frontdoor:contact_point"))
    form = http.get(reverse("frontdoor:report"))

    # then both answer in French, and the login page leads to the form
    assert contact.status_code == form.status_code == 200
    assert 'lang="fr"' in form.content.decode()
    assert reverse("frontdoor:report") in HttpClient().get(reverse("login")).content.decode()


# --- triage -----------------------------------------------------------------------------------------------


def test_it_turns_a_report_on_a_known_person_into_a_screening_with_the_reporter_recorded(
    http_as, coordinator, rav_client
):
    # given a doctor's report on a person registered with the RAV only
    report = submit(
        person_first_name=rav_client.first_name,
        person_last_name=rav_client.last_name,
        person_date_of_birth=rav_client.date_of_birth,
    )
    http = http_as(coordinator)

    # when the coordinator sees the match and turns the report into a screening of that person
    detail = http.get(reverse("triage:detail", args=[report.public_id]))
    response = http.post(
        reverse("triage:screening", args=[report.public_id]),
        {
            "person": str(rav_client.public_id),
            "life_situations": [s.pk for s in report.life_situations.all()],
            "screened_on": timezone.localdate().isoformat(),
        },
    )

    # then the screening names the reporter and the channel, the Geschäftsstelle serves the person now
    assert str(rav_client.public_id) in detail.content.decode()
    assert response.status_code == 302
    screening = Screening.objects.get(client=rav_client)
    assert (screening.reporter_type, screening.report_channel) == (ReporterType.DOCTOR, ReportChannel.WEB)
    assert screening.reported_on == timezone.localdate(report.received_at)
    report.refresh_from_db()
    assert report.status == ReportStatus.SCREENED and report.screening == screening
    assert Registration.objects.filter(client=rav_client, institution=coordinator.institution).exists()
    assert AuditEvent.objects.filter(object_type="report_match", actor=coordinator).exists()


def test_it_records_a_person_new_to_the_platform_from_a_report(http_as, coordinator):
    # given a report on somebody the platform does not know
    report = submit(person_first_name="Noah", person_last_name="Neuling")

    # when the coordinator records them as new, with the AHV number
    response = http_as(coordinator).post(
        reverse("triage:screening", args=[report.public_id]),
        {"person": "new", "ahv_number": "756.9999.9999.91", "sex": "male", "screened_on": timezone.localdate()},
    )

    # then the person exists, recorded by the Geschäftsstelle, with the screening
    assert response.status_code == 302
    client = Client.objects.get(ahv_number="7569999999991")
    assert client.recorded_by_institution == coordinator.institution
    assert client.screenings.get().reporter_type == ReporterType.DOCTOR


def test_it_forwards_a_report_to_the_iv_whose_specialist_sees_only_persons_they_may_see(
    http_as, coordinator, iv_specialist, rav_client, world
):
    # given a report on the RAV's client, forwarded by the coordinator to the IV-Stelle
    report = submit(
        person_first_name=rav_client.first_name,
        person_last_name=rav_client.last_name,
        person_date_of_birth=rav_client.date_of_birth,
    )
    forwarded = http_as(coordinator).post(
        reverse("triage:forward", args=[report.public_id]), {"institution": world.disability.pk}
    )
    assert forwarded.status_code == 302

    # when the IV specialist opens the queue and the report
    http = http_as(iv_specialist)
    queue = http.get(reverse("triage:list"))
    detail = http.get(reverse("triage:detail", args=[report.public_id]))

    # then the report is there, but the RAV's client (whom the IV does not serve) is not suggested
    assert report.reference in queue.content.decode()
    assert detail.status_code == 200
    assert str(rav_client.public_id) not in detail.content.decode()
    assert "Keine bekannte Person gefunden" in detail.content.decode()


def test_it_hides_reports_from_those_they_were_not_forwarded_to(http_as, rav_adviser, iv_specialist):
    # given a new report, not forwarded
    report = submit()

    # then a case worker may not use the queue, and the IV specialist does not see the report
    assert http_as(rav_adviser).get(reverse("triage:list")).status_code == 403
    assert http_as(iv_specialist).get(reverse("triage:detail", args=[report.public_id])).status_code == 404
    assert AuditEvent.objects.filter(actor=iv_specialist, action="denied", object_id=str(report.public_id)).exists()


def test_it_closes_a_report_with_a_reason_and_refuses_a_second_decision(http_as, coordinator):
    # given a report
    report = submit()
    http = http_as(coordinator)

    # when it is closed, and then closed again
    first = http.post(reverse("triage:close", args=[report.public_id]), {"reason": "not_target_group"})
    second = http.post(reverse("triage:close", args=[report.public_id]), {"reason": "duplicate"})

    # then the first decision stands and the second is refused on the page
    assert first.status_code == 302
    assert second.status_code == 302
    assert "bereits entschieden" in http.get(second["Location"]).content.decode()
    report.refresh_from_db()
    assert (report.status, report.close_reason) == (ReportStatus.CLOSED, "not_target_group")


def test_it_lists_the_queue_in_a_fixed_number_of_queries(http_as, coordinator, django_assert_max_num_queries):
    # given many reports
    for number in range(30):
        submit(person_last_name=f"Beispiel{number}")
    http = http_as(coordinator)
    http.get(reverse("triage:list"))

    # then the page needs the same few queries whatever their number
    with django_assert_max_num_queries(14):
        response = http.get(reverse("triage:list"))
    assert response.status_code == 200


def test_it_removes_the_reporters_and_the_persons_data_a_year_after_the_decision(coordinator):
    # given a report closed more than a year ago and one still in the queue
    old = submit()
    services.report_close(actor=coordinator, report=old, reason="duplicate")
    EarlyDetectionReport.objects.filter(pk=old.pk).update(decided_at=timezone.now() - dt.timedelta(days=400))
    waiting = submit()

    # when the retention job runs
    purged = services.reports_retention_apply()

    # then the old report keeps only what the key figures need
    old.refresh_from_db()
    waiting.refresh_from_db()
    assert purged == 1
    assert (old.reporter_name, old.person_last_name, old.person_date_of_birth) == ("", "", None)
    assert old.reporter_type == ReporterType.DOCTOR and old.personal_data_removed_on == timezone.localdate()
    assert waiting.reporter_name == "Dr. Hausarzt"


# --- the API ----------------------------------------------------------------------------------------------


def test_it_takes_a_report_from_a_partner_system_into_the_same_queue(world, fresh_rate_limits):
    # given a partner system with the scope to report
    key = token_for(world.social_service_uster, scopes=[Scope.REPORTS_WRITE]).key

    # when it reports a person
    response = api_client(key).post(
        reverse("api:early_detection_reports"),
        {
            "reporter_type": "social_assistance",
            "reporter_name": "Sozialdienst Uster",
            "reporter_email": "fall@uster.example",
            "person_first_name": "Mia",
            "person_last_name": "Muster",
            "person_date_of_birth": "1990-01-02",
            "life_situations": ["sa-recipient-feels-unable"],
            "person_informed": True,
            "person_agrees": "unknown",
        },
        content_type="application/json",
    )

    # then the report is in the queue with its channel and the system's institution
    assert response.status_code == 201, response.content
    report = EarlyDetectionReport.objects.get(reference=response.json()["reference"])
    assert (report.channel, report.submitted_by_institution) == (ReportChannel.API, world.social_service_uster)


def test_it_refuses_a_partner_report_without_the_scope_or_with_errors(world, fresh_rate_limits):
    # given a token without the scope, and one with it
    without = api_client(token_for(world.labour, scopes=[Scope.CLIENTS_READ]).key)
    with_scope = api_client(token_for(world.labour, scopes=[Scope.REPORTS_WRITE]).key)
    url = reverse("api:early_detection_reports")

    # then the first is refused, and the second is told what is wrong with a report on another person not told
    assert without.post(url, {}, content_type="application/json").status_code == 403
    response = with_scope.post(
        url,
        {
            "reporter_type": "employer",
            "reporter_name": "Chef",
            "reporter_phone": "044",
            "person_first_name": "A",
            "person_last_name": "B",
            "person_date_of_birth": "1990-01-02",
            "description": "x",
            "person_informed": False,
            "person_agrees": "no",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "3b" in response.content.decode()
