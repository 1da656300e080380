"""The client pages: access (404 for outsiders, 403 for roles without client work), audit, forms, queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from django.utils import timezone

from iiz.audit.models import AuditAction, AuditBasis, AuditEvent
from iiz.clients import services
from iiz.clients import urls as client_urls
from iiz.clients.models import Client, Consent, DataCategory, Registration
from iiz.organisations.models import InstitutionKind
from tests.factories import (
    CaseFactory,
    CaseParticipantFactory,
    ClientFactory,
    ConsentFactory,
    InstitutionFactory,
    RegistrationFactory,
)

TODAY = timezone.localdate
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def consent_with_document(rav_client, rav_adviser, world):
    """A consent naming the AFA only, with its signed form, recorded through the service."""
    return services.consent_record(
        actor=rav_adviser,
        client=rav_client,
        institutions=[world.labour],
        categories=[DataCategory.PERSONAL],
        purpose="Abklärung",
        valid_from=TODAY(),
        document=SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf"),
    )


def client_urls_of(client, consent):
    """Every routed page of one client, by URL name."""
    registration = client.registrations.first()
    public_id = client.public_id
    return {
        "detail": reverse("clients:detail", args=[public_id]),
        "contact": reverse("clients:contact", args=[public_id]),
        "audit": reverse("clients:audit", args=[public_id]),
        "disclosure": reverse("clients:disclosure", args=[public_id]),
        "ech_export": reverse("clients:ech_export", args=[public_id]),
        "registration_create": reverse("clients:registration_create", args=[public_id]),
        "registration_end": reverse("clients:registration_end", args=[public_id, registration.pk]),
        "registration_benefits": reverse("clients:registration_benefits", args=[public_id, registration.pk]),
        "consent_create": reverse("clients:consent_create", args=[public_id]),
        "consent_amend": reverse("clients:consent_amend", args=[public_id, consent.pk]),
        "consent_revoke": reverse("clients:consent_revoke", args=[public_id, consent.pk]),
        "consent_document": reverse("clients:consent_document", args=[public_id, consent.pk]),
    }


CLIENT_PAGES = [
    ("detail", "get"),
    ("contact", "get"),
    ("contact", "post"),
    ("audit", "get"),
    ("disclosure", "get"),
    ("disclosure", "post"),
    ("ech_export", "get"),
    ("registration_create", "get"),
    ("registration_create", "post"),
    ("registration_end", "get"),
    ("registration_end", "post"),
    ("registration_benefits", "get"),
    ("registration_benefits", "post"),
    ("consent_create", "get"),
    ("consent_create", "post"),
    ("consent_amend", "get"),
    ("consent_amend", "post"),
    ("consent_revoke", "get"),
    ("consent_revoke", "post"),
    ("consent_document", "get"),
]
# What a POST would change if it got through.
POST_DATA = {
    "contact": {"phone": "079 999 99 99"},
    "disclosure": {"format": "json"},
    "registration_create": {"registered_on": "2026-01-05"},
    "registration_end": {"deregistered_on": "2026-01-05"},
    "registration_benefits": {"alv_remaining_days": "100"},
    "consent_create": {"institutions": [], "categories": ["personal"], "purpose": "x", "valid_from": "2026-01-05"},
    "consent_amend": {"categories": ["personal"], "purpose": "x", "valid_from": "2026-01-05"},
    "consent_revoke": {"revocation_reason": "fremd"},
}


def test_it_covers_every_client_page_with_the_outsider_test():
    # given the routed views under /klienten/<public_id>/ / when / then each is in the outsider table
    routed = {p.name for p in client_urls.urlpatterns if isinstance(p, URLPattern) and "public_id" in str(p.pattern)}
    assert routed == {name for name, _ in CLIENT_PAGES}


@pytest.mark.parametrize(("name", "method"), CLIENT_PAGES)
def test_it_answers_404_to_an_outsider_on_every_client_page(
    name, method, http_as, biz_adviser, rav_client, consent_with_document
):
    # given the biz adviser, whose institution has neither a registration nor a case for the client
    url = client_urls_of(rav_client, consent_with_document)[name]
    phone = rav_client.phone
    counts = (Registration.objects.count(), Consent.objects.count())

    # when
    response = getattr(http_as(biz_adviser), method)(url, POST_DATA.get(name, {}))

    # then the page does not exist for the outsider, nothing changed, and the attempt is audited
    assert response.status_code == 404
    assert rav_client.last_name not in response.content.decode()
    rav_client.refresh_from_db()
    assert rav_client.phone == phone
    assert (Registration.objects.count(), Consent.objects.count()) == counts
    denied = AuditEvent.objects.filter(action=AuditAction.DENIED, client_id=rav_client.pk, actor=biz_adviser)
    assert denied.count() == 1
    assert denied.get().basis == AuditBasis.NONE


@pytest.mark.parametrize(("name", "method"), CLIENT_PAGES)
@pytest.mark.parametrize("persona", ["committee", "supervisory", "admin"])
def test_it_answers_403_to_roles_without_client_work_on_every_client_page(
    persona, name, method, request, http_as, rav_client, consent_with_document
):
    # given a role that never sees persons
    user = request.getfixturevalue(persona)
    url = client_urls_of(rav_client, consent_with_document)[name]

    # when
    response = getattr(http_as(user), method)(url, POST_DATA.get(name, {}))

    # then
    assert response.status_code == 403
    assert rav_client.last_name not in response.content.decode()


@pytest.mark.parametrize("persona", ["committee", "supervisory", "admin"])
def test_it_answers_403_on_search_and_create_to_roles_without_client_work(persona, request, http_as, rav_client):
    # given
    http = http_as(request.getfixturevalue(persona))

    # when
    search = http.get(reverse("clients:search"), {"q": "Muster"})
    create = http.get(reverse("clients:create"))

    # then
    assert (search.status_code, create.status_code) == (403, 403)
    assert "Muster, Anna" not in search.content.decode()


def test_it_answers_404_for_an_unknown_client(http_as, rav_adviser):
    # given / when
    response = http_as(rav_adviser).get(reverse("clients:detail", args=["00000000-0000-0000-0000-000000000000"]))

    # then
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, client_id=None, actor=rav_adviser).exists()


def test_it_answers_404_for_a_consent_of_another_client(http_as, rav_adviser, rav_client, world):
    # given a consent of another client of the same institution
    other = ConsentFactory(client=ClientFactory(), institutions=[world.labour])

    # when the id is put into this client's URL
    url = reverse("clients:consent_revoke", args=[rav_client.public_id, other.pk])
    response = http_as(rav_adviser).post(url, {"revocation_reason": "falsche Person"})

    # then
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None


def test_it_answers_404_when_ending_another_institutions_registration(http_as, iv_specialist, rav_client, world):
    # given the IV specialist sees the client through an own registration
    RegistrationFactory(client=rav_client, institution=world.disability)
    rav_registration = rav_client.registrations.get(institution=world.labour)

    # when
    url = reverse("clients:registration_end", args=[rav_client.public_id, rav_registration.pk])
    response = http_as(iv_specialist).post(url, {"deregistered_on": TODAY().isoformat()})

    # then
    assert response.status_code == 404
    rav_registration.refresh_from_db()
    assert rav_registration.deregistered_on is None


# --- the client file ------------------------------------------------------------------------------


def test_it_shows_the_client_file_and_audits_the_read(http_as, rav_adviser, rav_client):
    # given / when
    response = http_as(rav_adviser).get(rav_client.get_absolute_url())

    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert "Muster, Anna" in content
    assert rav_client.ahv_display in content
    assert rav_client.phone in content
    event = AuditEvent.objects.filter(action=AuditAction.READ, client_id=rav_client.pk).get()
    assert (event.actor, event.basis, event.object_type) == (rav_adviser, AuditBasis.REGISTRATION, "client")
    assert event.ip_address == "127.0.0.1"


def test_it_withholds_contact_details_on_the_page_without_consent(http_as, iv_specialist, rav_client, world):
    # given the IV-Stelle has the client, but there is no consent
    RegistrationFactory(client=rav_client, institution=world.disability)

    # when
    response = http_as(iv_specialist).get(rav_client.get_absolute_url())

    # then the person is shown, the RAV's contact details and registration are not
    content = response.content.decode()
    assert response.status_code == 200
    assert "Muster, Anna" in content
    assert rav_client.phone not in content
    assert rav_client.street not in content
    assert reverse("clients:contact", args=[rav_client.public_id]) not in content


def test_it_refuses_the_contact_form_where_the_contact_details_are_withheld(
    http_as, iv_specialist, rav_client, world
):
    # given the IV-Stelle has its own registration but no consent for the RAV's contact details
    RegistrationFactory(client=rav_client, institution=world.disability)

    # when the IV specialist opens the edit form directly
    response = http_as(iv_specialist).get(reverse("clients:contact", args=[rav_client.public_id]))

    # then the form (which would show the current values) is refused
    assert response.status_code == 403
    assert rav_client.phone not in response.content.decode()


def test_it_lets_another_registered_institution_correct_contact_details_under_consent(
    http_as, iv_specialist, rav_client, world
):
    # given the IV-Stelle has the client and a consent covers personal data of AFA and IV-Stelle
    RegistrationFactory(client=rav_client, institution=world.disability)
    ConsentFactory(client=rav_client, institutions=[world.labour, world.disability])

    # when
    response = http_as(iv_specialist).post(
        reverse("clients:contact", args=[rav_client.public_id]), {"phone": "079 111 22 33"}
    )

    # then
    assert response.status_code == 302
    rav_client.refresh_from_db()
    assert rav_client.phone == "079 111 22 33"


def test_it_shows_the_file_to_a_case_participant_and_audits_the_case_basis(http_as, coordinator, rav_client):
    # given
    CaseParticipantFactory(case=CaseFactory(client=rav_client), user=coordinator)

    # when
    response = http_as(coordinator).get(rav_client.get_absolute_url())

    # then
    assert response.status_code == 200
    event = AuditEvent.objects.filter(action=AuditAction.READ, client_id=rav_client.pk).get()
    assert event.basis == AuditBasis.CASE
    assert rav_client.phone not in response.content.decode()


# --- search ---------------------------------------------------------------------------------------


def test_it_finds_the_clients_of_the_own_institution_and_audits_the_search(http_as, rav_adviser, rav_client):
    # given / when
    response = http_as(rav_adviser).get(reverse("clients:search"), {"q": "muster"})

    # then
    assert response.status_code == 200
    assert [c.pk for c in response.context["results"]] == [rav_client.pk]
    event = AuditEvent.objects.get(action=AuditAction.SEARCH, actor=rav_adviser)
    assert event.details["results"] == [rav_client.pk]


@pytest.mark.parametrize("query", ["{ahv}", "{ahv_compact}", "{born}", "Muster Anna", "anna MUSTER"])
def test_it_finds_by_ahv_number_birth_date_and_several_terms(http_as, rav_adviser, rav_client, query):
    # given
    typed = query.format(
        ahv=rav_client.ahv_display,
        ahv_compact=rav_client.ahv_number,
        born=rav_client.date_of_birth.strftime("%d.%m.%Y"),
    )

    # when
    response = http_as(rav_adviser).get(reverse("clients:search"), {"q": typed})

    # then
    assert rav_client in response.context["results"]


def test_it_finds_nobody_for_an_outsider_and_explains_why(http_as, biz_adviser, rav_client):
    # given / when
    response = http_as(biz_adviser).get(reverse("clients:search"), {"q": "Muster"})

    # then
    content = response.content.decode()
    assert list(response.context["results"]) == []
    assert "Keine Person gefunden." in content
    assert "Muster, Anna" not in content


def test_it_answers_an_htmx_search_with_the_results_partial_only(http_as, rav_adviser, rav_client):
    # given
    http = http_as(rav_adviser)

    # when
    partial = http.get(reverse("clients:search"), {"q": "Muster"}, headers={"HX-Request": "true"})
    page = http.get(reverse("clients:search"), {"q": "Muster"})

    # then
    assert "<html" not in partial.content.decode()
    assert "Muster, Anna" in partial.content.decode()
    assert 'id="search-results"' not in partial.content.decode()
    assert "<html" in page.content.decode()


def test_it_shows_an_empty_search_page_without_auditing(http_as, rav_adviser):
    # given / when
    response = http_as(rav_adviser).get(reverse("clients:search"))

    # then
    assert response.status_code == 200
    assert "Keine Person gefunden." not in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.SEARCH).exists()


# --- the create form ------------------------------------------------------------------------------


def create_form_data(**overrides):
    data = {
        "ahv_number": "756.1234.5678.97",
        "last_name": "Beispiel",
        "first_name": "Lea",
        "date_of_birth": "1990-05-17",
        "sex": "female",
        "municipality": "",
        "street": "Seestrasse",
        "house_number": "3",
        "postal_code": "8610",
        "town": "Uster",
        "phone": "",
        "email": "",
        "registration_unit": "",
        "external_case_number": "A-1",
        "registered_on": "",
    }
    data.update(overrides)
    return data


def test_it_creates_a_client_from_the_form(http_as, rav_adviser):
    # given / when
    response = http_as(rav_adviser).post(reverse("clients:create"), create_form_data())

    # then
    client = Client.objects.get(ahv_number="7561234567897")
    assert response.status_code == 302
    assert response["Location"] == client.get_absolute_url()
    assert client.registrations.get().external_case_number == "A-1"


def test_it_finds_nobody_by_a_part_of_an_ahv_number(http_as, rav_adviser, rav_client):
    # given / when the first digits of a number are typed (a way to list persons by number ranges)
    response = http_as(rav_adviser).get(reverse("clients:search"), {"q": rav_client.ahv_display[:9]})

    # then only the whole number finds a person
    assert list(response.context["results"]) == []


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("ahv_number", "756.9217.0769.84", "Ungültige AHV-Nummer"),
        ("ahv_number", "756.9217.0769.85", "bereits eine Person"),
        ("date_of_birth", "2999-01-01", "nicht in der Zukunft"),
        ("postal_code", "86100", "vier Ziffern"),
    ],
)
def test_it_returns_the_form_with_the_message_at_the_field(http_as, rav_adviser, field, typed, message):
    # given a client with the AHV number 756.9217.0769.85 exists (stored without dots)
    ClientFactory(ahv_number="7569217076985", last_name="Vorhanden")
    count = Client.objects.count()

    # when the form is posted with one bad value
    response = http_as(rav_adviser).post(reverse("clients:create"), create_form_data(**{field: typed}))

    # then 400, the message at the field, the typed values kept, nothing saved
    content = response.content.decode()
    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in content
    assert re.search(rf'aria-describedby="[^"]*\bid_{field}_error\b', content)
    assert 'value="Beispiel"' in content
    assert f'value="{typed}"' in content
    assert "Es wurde nichts gespeichert." in content
    assert Client.objects.count() == count


# --- the consent form and its document -------------------------------------------------------------


def consent_form_data(world, **overrides):
    data = {
        "institutions": [world.labour.pk, world.disability.pk],
        "categories": [DataCategory.PERSONAL],
        "purpose": "Abklärung im iiz-Fall",
        "valid_from": TODAY().isoformat(),
        "valid_until": "",
        # Without the signed form, a consent for other institutions needs the verbal consent on record.
        "verbal_statement": "Am Telefon, R. Brunner",
        "form_due_on": (TODAY() + dt.timedelta(days=14)).isoformat(),
    }
    data.update(overrides)
    return data


def test_it_records_a_consent_with_its_signed_form(http_as, rav_adviser, rav_client, world):
    # given
    upload = SimpleUploadedFile("unterschrieben.pdf", PDF, content_type="application/pdf")

    # when
    response = http_as(rav_adviser).post(
        reverse("clients:consent_create", args=[rav_client.public_id]), consent_form_data(world, document=upload)
    )

    # then
    consent = rav_client.consents.get()
    assert response.status_code == 302
    assert consent.document_content_type == "application/pdf"
    assert set(consent.institutions.all()) == {world.labour, world.disability}


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        ("valid_until", {"valid_from": "2026-03-01", "valid_until": "2026-02-01"}, "vor ihrem Beginn"),
        ("document", {"document": ("x.pdf", b"Dies ist nur Text.", "application/pdf")}, "Nur PDF-Dateien"),
        ("document", {"document": ("gross.pdf", PDF + b"0" * 4096, "application/pdf")}, "zu gross"),
        ("categories", {"categories": []}, "mindestens eine Datenkategorie"),
    ],
)
def test_it_returns_the_consent_form_with_the_message_at_the_field(
    http_as, rav_adviser, rav_client, world, settings, field, overrides, message
):
    # given an upload limit of 1 KB
    settings.IIZ_UPLOAD_MAX_BYTES = 1024
    data = consent_form_data(world, purpose="Mein Zweck", **overrides)
    upload = data.pop("document", None)
    data.update({"document": SimpleUploadedFile(*upload)} if upload else {})

    # when
    response = http_as(rav_adviser).post(reverse("clients:consent_create", args=[rav_client.public_id]), data)

    # then
    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert "Mein Zweck" in response.content.decode()
    assert not Consent.objects.filter(client=rav_client).exists()


def test_it_serves_the_signed_form_to_an_allowed_user_and_audits_it(
    http_as, rav_adviser, rav_client, consent_with_document
):
    # given / when
    response = http_as(rav_adviser).get(
        reverse("clients:consent_document", args=[rav_client.public_id, consent_with_document.pk])
    )

    # then
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert AuditEvent.objects.filter(
        action=AuditAction.READ, object_type="consent_document", object_id=str(consent_with_document.pk)
    ).exists()


def test_it_hides_the_signed_form_from_an_institution_the_consent_does_not_name(
    http_as, iv_specialist, rav_client, consent_with_document, world
):
    # given the IV-Stelle sees the client but the consent names the AFA only
    RegistrationFactory(client=rav_client, institution=world.disability)

    # when
    response = http_as(iv_specialist).get(
        reverse("clients:consent_document", args=[rav_client.public_id, consent_with_document.pk])
    )

    # then the form is hidden, and the refused read is in the audit trail
    assert response.status_code == 404
    denied = AuditEvent.objects.get(action=AuditAction.DENIED, object_type="consent_document", actor=iv_specialist)
    assert (denied.client_id, denied.object_id) == (rav_client.pk, str(consent_with_document.pk))


def test_it_amends_and_revokes_a_consent_through_the_pages(http_as, rav_adviser, rav_client, world):
    # given
    first = ConsentFactory(client=rav_client, institutions=[world.labour], recorded_by=rav_adviser)
    http = http_as(rav_adviser)

    # when
    amended = http.post(
        reverse("clients:consent_amend", args=[rav_client.public_id, first.pk]),
        consent_form_data(world, purpose="Zweite Fassung"),
    )
    second = rav_client.consents.get(version=2)
    revoked = http.post(
        reverse("clients:consent_revoke", args=[rav_client.public_id, second.pk]), {"revocation_reason": "mündlich"}
    )

    # then
    first.refresh_from_db()
    second.refresh_from_db()
    assert (amended.status_code, revoked.status_code) == (302, 302)
    assert first.superseded_at is not None
    assert second.revoked_at is not None


def test_it_registers_and_deregisters_through_the_pages(http_as, rav_adviser, iv_specialist, rav_client, world):
    # given the IV specialist sees the client through a case
    CaseParticipantFactory(case=CaseFactory(client=rav_client), user=iv_specialist)
    http = http_as(iv_specialist)

    # when the IV-Stelle registers the client, then ends the registration before it started
    created = http.post(
        reverse("clients:registration_create", args=[rav_client.public_id]),
        {"unit": iv_specialist.unit.pk, "registered_on": TODAY().isoformat()},
    )
    registration = rav_client.registrations.get(institution=world.disability)
    refused = http.post(
        reverse("clients:registration_end", args=[rav_client.public_id, registration.pk]),
        {"deregistered_on": (TODAY() - dt.timedelta(days=1)).isoformat()},
    )

    # then
    assert created.status_code == 302
    assert refused.status_code == 400
    assert "vor der Anmeldung" in refused.context["form"].errors["deregistered_on"][0]


# --- query counts ---------------------------------------------------------------------------------


def count_queries(http, url, **params):
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url, params)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_it_searches_with_a_fixed_number_of_queries(http_as, rav_adviser, world):
    # given 2 clients called Klein and 20 called Gross, all at the adviser's institution
    for _ in range(2):
        ClientFactory(last_name="Klein")
    for _ in range(20):
        ClientFactory(last_name="Gross")
    http = http_as(rav_adviser)
    http.get(reverse("home"))

    # when
    few = count_queries(http, reverse("clients:search"), q="Klein")
    many = count_queries(http, reverse("clients:search"), q="Gross")

    # then
    assert few == many
    assert many <= 15


def client_with(count, world, viewer):
    """A client of the viewer's institution with ``count`` other registrations and consents covering them."""
    client = ClientFactory(registered=False)
    RegistrationFactory(client=client, institution=world.labour, recorded_by=viewer)
    kinds = [InstitutionKind.DISABILITY, InstitutionKind.SOCIAL_SERVICE, InstitutionKind.YOUTH]
    for index in range(count):
        institution = InstitutionFactory(kind=kinds[index % len(kinds)])
        RegistrationFactory(client=client, institution=institution, recorded_by=viewer)
        ConsentFactory(
            client=client,
            recorded_by=viewer,
            institutions=[world.labour, institution],
            categories=list(DataCategory.values),
            document=ContentFile(b"encrypted", name="consent.pdf"),
        )
    return client


def test_it_shows_the_client_file_with_a_fixed_number_of_queries(http_as, rav_adviser, world):
    # given a client with 2 and one with 20 registrations and consents
    few = client_with(2, world, rav_adviser)
    many = client_with(20, world, rav_adviser)
    http = http_as(rav_adviser)
    http.get(reverse("home"))

    # when
    few_queries = count_queries(http, few.get_absolute_url())
    many_queries = count_queries(http, many.get_absolute_url())

    # then
    assert few_queries == many_queries
    assert many_queries <= 25


def test_it_shows_a_likely_existing_record_before_creating_and_creates_once_confirmed(http_as, rav_adviser, world):
    # given Lea Beispiel, born 17.05.1990, already registered at RAV Uster under another AHV number
    existing = ClientFactory(
        last_name="Beispiel", first_name="Lea", date_of_birth=dt.date(1990, 5, 17), registered=False
    )
    RegistrationFactory(client=existing, institution=world.labour, unit=world.rav_uster)
    http = http_as(rav_adviser)

    # when the adviser creates "Léa Beispiel" with the same birth date
    first = http.post(reverse("clients:create"), create_form_data(first_name="Léa"))

    # then nothing is created yet: the existing record is shown with its score, the typed data are kept,
    # and the check is audited with what it showed
    assert first.status_code == 200
    assert not Client.objects.filter(ahv_number="7561234567897").exists()
    page = first.content.decode()
    assert existing.get_absolute_url() in page
    assert "Léa" in page
    check = AuditEvent.objects.get(action=AuditAction.SEARCH, object_type="client_duplicate_check")
    assert check.details == {"results": [existing.pk]}

    # when the adviser confirms that it is another person
    second = http.post(reverse("clients:create"), create_form_data(first_name="Léa", confirm_new="on"))

    # then the person is created
    assert second.status_code == 302
    assert Client.objects.get(ahv_number="7561234567897").first_name == "Léa"


def test_it_gives_no_hint_of_a_similar_person_held_only_by_another_institution(http_as, rav_adviser, world):
    # given a similar person known only to the IV-Stelle
    hidden = ClientFactory(
        last_name="Beispiel", first_name="Lea", date_of_birth=dt.date(1990, 5, 17), registered=False
    )
    RegistrationFactory(client=hidden, institution=world.disability)

    # when the RAV adviser creates Lea Beispiel
    response = http_as(rav_adviser).post(reverse("clients:create"), create_form_data())

    # then the person is created at once: a name and a birth date must not reveal the IV's client
    assert response.status_code == 302
    assert Client.objects.filter(ahv_number="7561234567897").exists()
    assert not AuditEvent.objects.filter(object_type="client_duplicate_check").exists()


def test_it_creates_at_once_when_no_similar_person_exists(http_as, rav_adviser, world):
    # given a person with the same name but born on another day
    ClientFactory(last_name="Beispiel", first_name="Lea", date_of_birth=dt.date(1990, 8, 3))

    # when
    response = http_as(rav_adviser).post(reverse("clients:create"), create_form_data())

    # then no question is asked and no duplicate check is audited
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(object_type="client_duplicate_check").exists()
