"""The leak paths of the outside test (issue 14), each written as the attacker's request.

1. the right-of-access report without an access request;
2. an AHV number alone revealing a hidden person (import, web form, API);
3. a consent recorded by one's own institution unlocking another institution's data;
4. "who saw this file" revealing which institutions serve the person.

Each refused attempt answers 404 or 403 and leaves a denial in the audit trail.
"""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from stdnum.ch import ssn

from iiz import access
from iiz.audit.models import AccessRequest, AuditAction, AuditBasis, AuditEvent, DisclosureScope
from iiz.clients.models import AhvConflict, AhvConflictSource, Consent, ConsentNotice, DataCategory
from iiz.interfaces.imports import import_batch_create
from iiz.interfaces.models_imports import ImportBatch, ImportStatus
from tests import cases_world
from tests.api_world import api_client, problem, token_for
from tests.factories import RegistrationFactory


def denials(user, client=None):
    found = AuditEvent.objects.filter(action=AuditAction.DENIED, actor=user)
    return found.filter(client_id=client.pk) if client is not None else found


# --- 1. the right-of-access report ----------------------------------------------------------------


@pytest.fixture
def case_of_many(iv_specialist, coordinator, rav_adviser, social_worker, world):
    """A level-3 case of an IV client; the RAV and the social service are registered and take part, and their
    registrations, contact data and notes are hidden from the others (no consent)."""
    case = cases_world.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    for user in (rav_adviser, social_worker):
        RegistrationFactory(client=case.client, institution=user.institution, recorded_by=user)
    cases_world.participant_join(case=case, by=coordinator, users=[rav_adviser, social_worker])
    return case


def test_it_refuses_the_report_to_a_coordinator_who_takes_part_in_the_case_without_a_request(
    http_as, coordinator, case_of_many
):
    # given the coordinator takes part in the person's case, and the person asked for nothing
    url = reverse("clients:disclosure", args=[case_of_many.client.public_id])
    http = http_as(coordinator)

    # when the coordinator downloads the report (the attacker's request) or opens its page
    posted = http.post(url, {"format": "json"})
    shown = http.get(url)

    # then both are refused, nothing is exported, and both refusals are in the audit trail
    assert (posted.status_code, shown.status_code) == (403, 403)
    assert case_of_many.client.last_name not in posted.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="disclosure").exists()
    assert denials(coordinator, case_of_many.client).count() == 2


# Each kind of data the person may ask for, and the keys of the report that hold it.
KIND_KEYS = {
    DisclosureScope.PERSONAL: ["person"],
    DisclosureScope.REGISTRATIONS: ["registrations"],
    DisclosureScope.CONSENTS: ["consents"],
    DisclosureScope.CASES: ["cases"],
    DisclosureScope.EXCHANGE: ["messages", "documents"],
    DisclosureScope.ACCESS_LOG: ["audit"],
}


@pytest.mark.parametrize("kind", list(DisclosureScope.values))
def test_it_puts_into_the_report_exactly_the_kind_of_data_the_person_asked_for(
    kind, http_as, coordinator, case_of_many
):
    # given the person's request, recorded by the coordinator, for one kind of data
    client = case_of_many.client
    http = http_as(coordinator)
    recorded = http.post(
        reverse("audit:access_requests"),
        {
            "ahv_number": client.ahv_number,
            "received_on": cases_world.days_ago(0).isoformat(),
            "identity_check": "Identitätskarte am Schalter",
            "scope": [kind],
        },
    )
    assert recorded.status_code == 302

    # when the report is produced
    report = json.loads(http.post(reverse("clients:disclosure", args=[client.public_id]), {"format": "json"}).content)

    # then it holds that kind, from every institution, and no other kind; purposes and retention are always there
    wanted = set(KIND_KEYS[kind])
    other = {key for keys in KIND_KEYS.values() for key in keys} - wanted
    assert wanted <= set(report) and not (other & set(report))
    assert report["scope"] == [kind] and report["purposes"] and report["retention"]
    assert report["subject"]["last_name"] == client.last_name
    if kind == DisclosureScope.REGISTRATIONS:
        assert len(report["registrations"]) == 3  # the IV's, the RAV's and the social service's
    export = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="disclosure")
    request = AccessRequest.objects.get(client=client)
    assert (export.basis, export.object_id, export.details["scope"]) == (
        AuditBasis.ACCESS_REQUEST,
        str(request.public_id),
        [kind],
    )


def test_it_names_the_institutions_in_the_report_s_access_log_but_not_their_staff(
    http_as, coordinator, case_of_many, rav_adviser
):
    # given the RAV adviser read the file, and the person asked for the access log
    client = case_of_many.client
    http_as(rav_adviser).get(client.get_absolute_url())
    AccessRequest.objects.create(
        client=client,
        received_on=cases_world.days_ago(1),
        identity_check="Identitätskarte",
        recorded_by=coordinator,
        scope=[DisclosureScope.ACCESS_LOG],
    )

    # when the report is produced
    response = http_as(coordinator).post(reverse("clients:disclosure", args=[client.public_id]), {"format": "json"})

    # then the RAV's read is in it with its institution, and no user name is
    report = json.loads(response.content)
    assert rav_adviser.institution.name in {entry["institution"] for entry in report["audit"]}
    assert rav_adviser.username not in response.content.decode()


# --- 4. who saw this file ---------------------------------------------------------------------------


def test_it_shows_the_access_log_without_the_accesses_of_institutions_the_viewer_may_not_know_of(
    http_as, iv_specialist, social_worker, coordinator, case_of_many
):
    # given the social service read the file; the person's consent does not cover social assistance for the IV
    client = case_of_many.client
    http_as(social_worker).get(client.get_absolute_url())
    http_as(coordinator).get(client.get_absolute_url())

    # when the IV specialist opens "who saw this file"
    page = http_as(iv_specialist).get(reverse("clients:audit", args=[client.public_id])).content.decode()

    # then the IV's own accesses and the Geschäftsstelle's are listed, the social service's are not
    assert iv_specialist.institution.name in page
    assert coordinator.institution.name in page
    assert social_worker.institution.name not in page


def test_it_shows_another_institution_s_accesses_when_the_person_s_consent_covers_them(
    http_as, iv_specialist, social_worker, case_of_many
):
    # given the person consents that the IV and the social service exchange social-assistance data
    client = case_of_many.client
    http_as(social_worker).get(client.get_absolute_url())
    cases_world.consent_give(
        actor=iv_specialist,
        client=client,
        institutions=[iv_specialist.institution, social_worker.institution],
        categories=[DataCategory.SOCIAL_ASSISTANCE],
    )

    # when the IV specialist opens "who saw this file"
    page = http_as(iv_specialist).get(reverse("clients:audit", args=[client.public_id])).content.decode()

    # then the social service's access is listed
    assert social_worker.institution.name in page


# --- 2. no AHV-number oracle --------------------------------------------------------------------------

INVALID = "Ungültige AHV-Nummer"


@pytest.fixture
def hidden_person(iv_specialist):
    """A person of the IV-Stelle's, hidden from the RAV."""
    return cases_world.person_create(actor=iv_specialist, last_name="Verborgen", first_name="Vera")


def create_form(client, **overrides):
    data = {
        "ahv_number": ssn.format(client.ahv_number),
        "last_name": "Erfunden",
        "first_name": "Eva",
        "date_of_birth": "1990-01-01",
        "sex": "female",
        "municipality": str(cases_world.uster().pk),
        "registered_on": cases_world.days_ago(0).isoformat(),
        "confirm_new": "on",
    }
    data.update(overrides)
    return data


def test_it_answers_a_hidden_person_s_ahv_number_under_another_name_as_an_invalid_number(
    http_as, rav_adviser, hidden_person
):
    # given the RAV adviser types the hidden person's AHV number with a made-up name and birth date
    http = http_as(rav_adviser)

    # when the person is recorded through the web form
    response = http.post(reverse("clients:create"), create_form(hidden_person))
    invalid = http.post(reverse("clients:create"), create_form(hidden_person, ahv_number="756.1234.5678.90"))

    # then the answer is the invalid-number answer, word for word, and nothing is created or linked
    page = response.content.decode()
    assert response.status_code == 400 and INVALID in page and "bereits" not in page
    assert _field_errors(page) == _field_errors(invalid.content.decode())
    assert not hidden_person.registrations.filter(institution=rav_adviser.institution).exists()
    # and the coordinators have a conflict to resolve, and the refusal is in the person's trail
    conflict = AhvConflict.objects.get(client=hidden_person)
    assert (conflict.institution, conflict.typed_last_name, conflict.source) == (
        rav_adviser.institution,
        "Erfunden",
        AhvConflictSource.FORM,
    )
    assert denials(rav_adviser, hidden_person).filter(object_type="ahv_conflict").count() == 1


def _field_errors(page: str) -> list[str]:
    return re.findall(r'<ul class="field-errors"[^>]*>(.*?)</ul>', page, re.S)


def test_it_registers_the_own_institution_when_name_and_birth_date_match_the_hidden_person(
    http_as, rav_adviser, hidden_person
):
    # given the RAV knows the person: the same AHV number, name and birth date
    form = create_form(
        hidden_person,
        last_name=hidden_person.last_name,
        first_name=hidden_person.first_name,
        date_of_birth=hidden_person.date_of_birth.isoformat(),
    )

    # when
    response = http_as(rav_adviser).post(reverse("clients:create"), form)

    # then no second person is created: the RAV is registered with the existing one
    assert response.status_code == 302 and response["Location"] == hidden_person.get_absolute_url()
    assert hidden_person.registrations.filter(institution=rav_adviser.institution).exists()
    assert not AhvConflict.objects.exists()


def test_it_still_tells_the_user_about_a_person_the_user_sees(http_as, rav_adviser, rav_client):
    # given / when the RAV adviser records its own client again
    response = http_as(rav_adviser).post(reverse("clients:create"), create_form(rav_client))

    # then the field says the person exists (the user may see her)
    assert response.status_code == 400 and "bereits eine Person" in response.content.decode()


def test_it_answers_the_api_like_an_invalid_number_for_a_hidden_person_under_another_name(
    world, hidden_person, fresh_rate_limits
):
    # given the RAV's partner system
    api = api_client(token_for(world.labour).key)
    body = {
        "ahv_number": hidden_person.ahv_number,
        "last_name": "Erfunden",
        "first_name": "Eva",
        "date_of_birth": "1990-01-01",
        "sex": "female",
        "confirm_new": True,
    }

    # when it records the hidden person's number under a made-up name
    response = api.post(reverse("api:clients"), body, content_type="application/json")

    # then 400 with the invalid-number message at the field, and a conflict for the coordinators
    assert response.status_code == 400
    assert INVALID in json.dumps(problem(response), ensure_ascii=False)
    assert "bereits" not in response.content.decode()
    assert AhvConflict.objects.get(client=hidden_person).source == AhvConflictSource.API


def test_it_rejects_an_import_row_with_a_hidden_person_s_number_under_another_name(
    rav_adviser, hidden_person, django_capture_on_commit_callbacks
):
    # given a file of the RAV with the hidden person's AHV number and a made-up name
    bfs = cases_world.uster().bfs_number
    content = (
        "AHV-Nummer;Name;Vorname;Geburtsdatum;Geschlecht;BFS-Nr.;angemeldet seit;Fallnummer\n"
        f"{ssn.format(hidden_person.ahv_number)};Erfunden;Eva;01.01.1990;w;{bfs};2024-01-15;F-1\n"
    ).encode()

    # when it is uploaded and checked
    with django_capture_on_commit_callbacks(execute=True):
        batch = import_batch_create(actor=rav_adviser, upload=SimpleUploadedFile("p.csv", content))
    batch = ImportBatch.objects.get(pk=batch.pk)

    # then the row is refused as an invalid number, nothing says "existing person", and the conflict is recorded
    assert batch.status == ImportStatus.REJECTED
    assert [(e["row"], INVALID in e["message"]) for e in batch.errors] == [(2, True)]
    assert batch.changes == [] and batch.counts["change"] == 0
    assert AhvConflict.objects.get(client=hidden_person).source == AhvConflictSource.IMPORT


def test_it_lets_the_coordinator_resolve_an_ahv_conflict_on_the_conflicts_page(
    http_as, rav_adviser, coordinator, hidden_person
):
    # given a conflict reported by the RAV
    http_as(rav_adviser).post(reverse("clients:create"), create_form(hidden_person))
    conflict = AhvConflict.objects.get()
    http = http_as(coordinator)

    # when the coordinator opens the list from the start page and resolves the conflict
    home = http.get(reverse("home")).content.decode()
    listed = http.get(reverse("clients:ahv_conflicts")).content.decode()
    resolved = http.post(
        reverse("clients:ahv_conflict_resolve", args=[conflict.pk]),
        {f"conflict-{conflict.pk}-resolution": "Tippfehler, das RAV hat die Nummer korrigiert."},
    )

    # then both identities were shown side by side, and the conflict is closed with who and how
    assert reverse("clients:ahv_conflicts") in home
    assert "Erfunden" in listed and hidden_person.last_name in listed
    assert resolved.status_code == 302
    conflict.refresh_from_db()
    assert conflict.resolved_by == coordinator and conflict.resolution.startswith("Tippfehler")


# --- 3. a consent recorded by one's own institution ----------------------------------------------------

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def shared_person(rav_adviser, iv_specialist):
    """A person of the RAV's whose registration at the IV-Stelle the RAV does not see."""
    person = cases_world.person_create(actor=rav_adviser, last_name="Geteilt")
    RegistrationFactory(client=person, institution=iv_specialist.institution, recorded_by=iv_specialist)
    return person


def consent_form(world, **overrides):
    data = {
        "institutions": [world.labour.pk, world.disability.pk],
        "categories": [DataCategory.MEDICAL],
        "purpose": "Abklärung der Arbeitsfähigkeit",
        "valid_from": cases_world.days_ago(0).isoformat(),
        "valid_until": "",
        "verbal_statement": "Am Telefon, R. Brunner",
        "form_due_on": cases_world.days_ago(-14).isoformat(),
    }
    data.update(overrides)
    return data


def test_it_keeps_the_iv_registration_hidden_under_a_medical_consent_the_rav_recorded_without_the_form(
    http_as, rav_adviser, iv_specialist, shared_person, world
):
    # given the RAV records, without a signed form, a medical consent naming the RAV and the IV (the attack)
    http = http_as(rav_adviser)
    recorded = http.post(reverse("clients:consent_create", args=[shared_person.public_id]), consent_form(world))
    assert recorded.status_code == 302

    # when the RAV loads the person's page again
    file = http.get(shared_person.get_absolute_url()).context["file"]

    # then the IV-Stelle's registration stays hidden, and the IV-Stelle is told of the consent on its start page
    assert [r.institution for r in file.registrations] == [rav_adviser.institution]
    assert file.hidden_registrations == 1
    assert ConsentNotice.objects.filter(institution=iv_specialist.institution).count() == 1
    home = http_as(iv_specialist).get(reverse("home")).content.decode()
    assert "Einwilligungen, die Daten Ihrer Institution freigeben" in home and shared_person.last_name in home


def test_it_opens_the_iv_registration_once_the_signed_form_is_attached(
    http_as, rav_adviser, iv_specialist, shared_person, world
):
    # given the same consent with the signed form
    http = http_as(rav_adviser)
    upload = SimpleUploadedFile("einwilligung.pdf", PDF, content_type="application/pdf")
    http.post(
        reverse("clients:consent_create", args=[shared_person.public_id]),
        consent_form(world, verbal_statement="", form_due_on="", document=upload),
    )

    # when / then the RAV sees the IV-Stelle's registration
    file = http.get(shared_person.get_absolute_url()).context["file"]
    assert iv_specialist.institution in {r.institution for r in file.registrations}


def test_it_refuses_a_consent_for_other_institutions_without_form_or_verbal_statement(
    http_as, rav_adviser, shared_person, world
):
    # given / when a consent for the RAV and the IV with neither the form nor the verbal statement
    response = http_as(rav_adviser).post(
        reverse("clients:consent_create", args=[shared_person.public_id]),
        consent_form(world, categories=[DataCategory.OCCUPATIONAL], verbal_statement="", form_due_on=""),
    )

    # then the form says what is missing and keeps what was typed; nothing is recorded
    page = response.content.decode()
    assert (
        response.status_code == 400 and "unterschriebene Formular" in page and "Abklärung der Arbeitsfähigkeit" in page
    )
    assert not shared_person.consents.exists()


def test_it_stops_a_verbal_consent_at_the_deadline_of_its_form(rav_adviser, iv_specialist, shared_person, world):
    # given an occupational consent given orally, recorded by the IV-Stelle, whose form is overdue
    consent = cases_world.consent_give(
        actor=iv_specialist,
        client=shared_person,
        institutions=[world.labour, world.disability],
        categories=[DataCategory.OCCUPATIONAL],
    )
    grant = lambda: access.client_access_for(user=rav_adviser, client=shared_person)  # noqa: E731
    assert grant().may_see(category=DataCategory.OCCUPATIONAL, recorded_by_id=world.disability.pk)

    # when the deadline passes without the form
    Consent.objects.filter(pk=consent.pk).update(form_due_on=cases_world.days_ago(1))

    # then the consent opens nothing any more
    assert not grant().may_see(category=DataCategory.OCCUPATIONAL, recorded_by_id=world.disability.pk)
