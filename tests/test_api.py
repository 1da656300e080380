"""The REST API for partner systems: one institution's token never reaches another institution's data.

The tokens of these tests belong to the Amt für Arbeit (labour, "A") and the IV-Stelle (disability, "B").
Every read and write goes through the same selectors and services as the web pages: hidden records are
404, the audit trail names the token's service user, and every error is a problem detail.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from iiz.audit.models import AuditAction, AuditEvent
from iiz.cases.models import AgreementStatus
from iiz.clients.models import Client, Consent, DataCategory, Registration
from iiz.exchange.models import Message, MessageKind
from iiz.organisations.models import Institution, User
from iiz.steering.publication import Publisher
from tests import cases_world
from tests.api_world import api_client, problem, token_for
from tests.factories import CaseFactory, ClientFactory, ConsentFactory, RegistrationFactory, ahv_from_serial

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


@pytest.fixture
def iv_client(world) -> Client:
    """A person known only to the IV-Stelle (B)."""
    client = ClientFactory(
        last_name="Verborgen", first_name="Vera", recorded_by_institution=world.disability, registered=False
    )
    RegistrationFactory(client=client, institution=world.disability)
    return client


def client_url(client: Client, suffix: str = "") -> str:
    return f"/api/v1/clients/{client.public_id}/{suffix}"


# ---------------------------------------------------------------------------------------------------------
# One institution cannot reach another's data
# ---------------------------------------------------------------------------------------------------------


def test_it_lists_only_the_clients_of_the_tokens_institution(api_a, rav_client, iv_client):
    # given a person of A and a person of B / when A lists
    response = api_a.get("/api/v1/clients/")

    # then only A's person is listed
    assert response.status_code == 200
    ids = {item["id"] for item in response.json()["results"]}
    assert ids == {str(rav_client.public_id)}


def test_it_answers_404_for_another_institutions_client(api_a, iv_client, token_a):
    # when A asks for B's person
    response = api_a.get(client_url(iv_client))

    # then it is not found, exactly like on the web, and the attempt is audited with A's service user
    assert response.status_code == 404
    assert problem(response)["type"] == "urn:iiz:problem:not-found"
    denied = AuditEvent.objects.filter(action=AuditAction.DENIED, object_type="client").first()
    assert denied is not None and denied.actor_id == token_a.token.service_user_id


def test_it_refuses_every_write_to_another_institutions_client(api_a, iv_client, world):
    # when A tries to change B's person, register them, or record a consent for them
    patch = api_a.patch(
        client_url(iv_client),
        data={"phone": "044 111 11 11"},
        content_type="application/json",
        headers={"If-Match": "*"},
    )
    register = api_a.post(
        client_url(iv_client, "registrations/"), data={"registered_on": "2026-01-05"}, content_type="application/json"
    )
    consent = api_a.post(
        client_url(iv_client, "consents/"),
        data={
            "institutions": [world.labour.pk],
            "categories": ["personal"],
            "purpose": "x",
            "valid_from": "2026-01-05",
        },
        content_type="application/json",
    )

    # then each is answered like a person who does not exist, and nothing changed
    assert [patch.status_code, register.status_code, consent.status_code] == [404, 404, 404]
    iv_client.refresh_from_db()
    assert iv_client.phone != "044 111 11 11"
    assert not Registration.objects.filter(client=iv_client, institution=world.labour).exists()
    assert not Consent.objects.filter(client=iv_client).exists()


def test_it_refuses_to_register_a_person_with_another_institutions_unit(api_a, rav_client, world):
    # given a unit of B
    unit_of_b = world.disability.units.first()

    # when A registers its own person with B's unit
    response = api_a.post(
        client_url(rav_client, "registrations/"),
        data={"unit": unit_of_b.pk, "registered_on": "2026-01-05"},
        content_type="application/json",
    )

    # then the service refuses it, field by field
    assert response.status_code == 400
    assert [error["field"] for error in problem(response)["errors"]] == ["unit"]
    assert not Registration.objects.filter(client=rav_client, institution=world.disability).exists()


def test_it_hides_the_consents_of_a_person_the_token_cannot_see(api_a, iv_client, world):
    # given a consent of B's person
    consent = ConsentFactory(client=iv_client, institutions=[world.disability, world.labour])

    # when A asks for it, or for the list
    one = api_a.get(client_url(iv_client, f"consents/{consent.pk}/"))
    all_of_them = api_a.get(client_url(iv_client, "consents/"))

    # then both are 404
    assert (one.status_code, all_of_them.status_code) == (404, 404)


def test_it_shows_another_institutions_registration_and_contact_only_under_consent(api_b, rav_client, world):
    # given A's person, also registered with B, without a consent
    RegistrationFactory(client=rav_client, institution=world.disability)

    # when B reads the person
    before = api_b.get(client_url(rav_client)).json()
    ConsentFactory(
        client=rav_client, institutions=[world.labour, world.disability], categories=["personal", "occupational"]
    )
    after = api_b.get(client_url(rav_client)).json()

    # then A's contact details and registration appear only once the consent covers them
    assert before["contact"] is None and len(before["registrations"]) == 1
    # whether other registrations exist is itself data of their category: never counted
    assert "hidden_registrations" not in before
    assert after["contact"]["street"] == rav_client.street and len(after["registrations"]) == 2


def test_it_shows_only_cases_in_which_the_institution_takes_part(iv_specialist, world):
    # given a case opened by B's specialist
    case = cases_world.case_open(specialist=iv_specialist)
    api_a, api_b = api_client(token_for(world.labour).key), api_client(token_for(world.disability).key)

    # when A and B list and read it
    listed_a = api_a.get("/api/v1/cases/").json()["results"]
    listed_b = api_b.get("/api/v1/cases/").json()["results"]
    detail_a = api_a.get(f"/api/v1/cases/{case.reference}/")
    detail_b = api_b.get(f"/api/v1/cases/{case.reference}/")

    # then only B, which takes part, sees it
    assert listed_a == [] and [c["reference"] for c in listed_b] == [case.reference]
    assert detail_a.status_code == 404
    body = detail_b.json()
    assert (body["level"], body["status"], body["plan"]) == (1, "open", None)
    assert [i["id"] for i in body["institutions"]] == [world.disability.pk]
    # and B may read the person of its case, which it knows only through the case
    assert api_b.get(client_url(case.client)).status_code == 200


def test_it_reports_the_case_lead_team_and_agreed_plan(iv_specialist, coordinator, rav_adviser, world):
    # given a case at level 3 with an agreed plan led by the RAV adviser
    case = cases_world.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    plan, _measure = cases_world.plan_with_measure(
        case=case, actor=coordinator, case_lead=rav_adviser, responsible_institution=world.labour
    )
    cases_world.plan_agreed(plan=plan, actor=coordinator)
    api_a = api_client(token_for(world.labour).key)

    # when A (whose adviser now leads the case) reads it
    body = api_a.get(f"/api/v1/cases/{case.reference}/").json()

    # then level, team, lead and the plan's measures are there, without free text
    assert body["level"] == 3 and body["case_team"]["name"] == "iiz-Fallteam Oberland"
    assert body["case_lead"]["institution"]["id"] == world.labour.pk
    assert body["plan"]["version"] == plan.version and body["plan"]["status"] == "agreed"
    assert body["plan"]["measures"][0]["responsible_institution"]["id"] == world.labour.pk
    assert "goals" not in body["plan"]


def test_it_lets_a_token_report_the_agreements_of_its_institution_only(iv_specialist, coordinator, rav_adviser, world):
    # given two agreements in a case at level 3: one owned by A's adviser, one by B's specialist
    case = cases_world.case_at_level(3, specialist=iv_specialist, coordinator=coordinator)
    due = cases_world.days_ago(-10)
    own = cases_world.agreement_add(case=case, coordinator=coordinator, owner=rav_adviser, due_on=due)
    other = cases_world.agreement_add(case=case, coordinator=coordinator, owner=iv_specialist, due_on=due)
    api_a = api_client(token_for(world.labour).key)

    # when A lists its agreements and reports its own done
    listed = [a["id"] for a in api_a.get("/api/v1/agreements/").json()["results"]]
    etag = api_a.get(f"/api/v1/agreements/{own.pk}/")["ETag"]
    done = api_a.patch(
        f"/api/v1/agreements/{own.pk}/",
        data={"status": "done"},
        content_type="application/json",
        headers={"If-Match": etag},
    )
    foreign = api_a.patch(
        f"/api/v1/agreements/{other.pk}/",
        data={"status": "done"},
        content_type="application/json",
        headers={"If-Match": "*"},
    )

    # then only A's own is listed and changed; B's is not found
    assert listed == [own.pk]
    assert done.status_code == 200 and done.json()["status"] == AgreementStatus.DONE
    assert done["ETag"] != etag
    assert foreign.status_code == 404
    other.refresh_from_db()
    assert other.status == AgreementStatus.OPEN


def test_it_lists_message_metadata_only_where_the_institution_may_read(iv_specialist, rav_adviser, world):
    # given a case both take part in, and two messages from B to A: one covered by consent, one not
    case = cases_world.case_open(specialist=iv_specialist)
    cases_world.participant_join(case=case, by=iv_specialist, users=[rav_adviser])
    ConsentFactory(
        client=case.client, institutions=[world.labour, world.disability], categories=[DataCategory.OCCUPATIONAL]
    )
    shared = _message(case, iv_specialist, DataCategory.OCCUPATIONAL, world.labour)
    _message(case, iv_specialist, DataCategory.MEDICAL, world.labour)
    api_a = api_client(token_for(world.labour).key)

    # when A lists the case's messages
    response = api_a.get(f"/api/v1/cases/{case.reference}/messages/")

    # then only the shared one is listed, with metadata and no text
    results = response.json()["results"]
    assert [m["id"] for m in results] == [str(shared.public_id)]
    assert set(results[0]) == {
        "id",
        "case",
        "kind",
        "category",
        "sender_institution",
        "recipients",
        "sent_at",
        "in_reply_to",
        "basis",
    }
    assert "Befund" not in response.content.decode()


def _message(case, sender: User, category: str, recipient: Institution) -> Message:
    message = Message.objects.create(
        case=case,
        kind=MessageKind.NOTICE,
        category=category,
        subject="Befund",
        body="Vertraulicher Befund",
        sender=sender,
        sender_institution=sender.institution,
    )
    message.recipients.set([recipient])
    return message


# ---------------------------------------------------------------------------------------------------------
# Writes through the services
# ---------------------------------------------------------------------------------------------------------


def test_it_records_a_person_registered_with_the_tokens_institution(api_a, token_a, world):
    # when A records a new person
    response = api_a.post(
        "/api/v1/clients/",
        data={
            "ahv_number": ahv_from_serial(777_000_001),
            "first_name": "Laura",
            "last_name": "Neu",
            "date_of_birth": "1985-06-01",
            "sex": "female",
            "municipality_bfs": 198,
            "languages": ["de", "it"],
        },
        content_type="application/json",
    )

    # then the service created the person and A's registration, audited with the service user
    assert response.status_code == 201, response.content
    client = Client.objects.get(public_id=response.json()["id"])
    assert response["Location"].endswith(f"/api/v1/clients/{client.public_id}/")
    assert client.recorded_by_institution == world.labour and client.municipality.bfs_number == 198
    assert list(client.registrations.values_list("institution", flat=True)) == [world.labour.pk]
    created = AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="client", client_id=client.pk).get()
    assert created.actor_username == token_a.token.service_user.username


LAURA = {
    "ahv_number": ahv_from_serial(777_000_002),
    "first_name": "Laura",
    "last_name": "Neu",
    "date_of_birth": "1985-06-01",
    "sex": "female",
}


def test_it_answers_a_likely_existing_record_with_its_candidates_and_creates_once_confirmed(api_a, world):
    # given Laura Neu, born 01.06.1985, registered at the RAV under another AHV number
    existing = ClientFactory(first_name="Laura", last_name="Neu", date_of_birth=dt.date(1985, 6, 1), registered=False)
    RegistrationFactory(client=existing, institution=world.labour, unit=world.rav_uster)

    # when the RAV's system records "Laura Neu" again
    first = api_a.post("/api/v1/clients/", data=LAURA, content_type="application/json")

    # then it is a 409 naming the existing record with its score, and nothing is created
    assert first.status_code == 409
    body = problem(first)
    assert body["type"] == "urn:iiz:problem:likely-duplicate"
    assert [c["id"] for c in body["candidates"]] == [str(existing.public_id)]
    assert body["candidates"][0]["score"] >= 85
    assert not Client.objects.filter(ahv_number=LAURA["ahv_number"]).exists()

    # when the system confirms that it is another person
    second = api_a.post("/api/v1/clients/", data={**LAURA, "confirm_new": True}, content_type="application/json")

    # then the person is created
    assert second.status_code == 201, second.content
    assert Client.objects.filter(ahv_number=LAURA["ahv_number"]).exists()


def test_it_gives_no_hint_of_a_similar_person_held_only_by_another_institution(api_a, world):
    # given a similar person registered at the IV-Stelle only
    hidden = ClientFactory(first_name="Laura", last_name="Neu", date_of_birth=dt.date(1985, 6, 1), registered=False)
    RegistrationFactory(client=hidden, institution=world.disability)

    # when the RAV's system records Laura Neu
    response = api_a.post("/api/v1/clients/", data=LAURA, content_type="application/json")

    # then the person is created: the answer must not tell that the IV knows someone of that name and birth date
    assert response.status_code == 201, response.content
    assert str(hidden.public_id) not in response.content.decode()


def test_it_refuses_a_second_person_with_the_same_ahv_number(api_a, rav_client):
    # when A records a person whose AHV number exists
    response = api_a.post(
        "/api/v1/clients/",
        data={
            "ahv_number": rav_client.ahv_number,
            "first_name": "X",
            "last_name": "Y",
            "date_of_birth": "1990-01-01",
            "sex": "male",
        },
        content_type="application/json",
    )

    # then the field is named
    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "ahv_number"


def test_it_records_a_consent_with_its_signed_form(api_a, rav_client, world):
    # when A uploads a consent with the signed form (multipart)
    response = api_a.post(
        client_url(rav_client, "consents/"),
        data={
            "institutions": [world.labour.pk, world.disability.pk],
            "categories": ["personal", "medical"],
            "purpose": "Koordination",
            "valid_from": timezone.localdate().isoformat(),
            "document": SimpleUploadedFile("form.pdf", PDF, content_type="application/pdf"),
        },
    )

    # then the consent is recorded with the document
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["has_document"] is True and body["status"] == "valid"
    assert sorted(i["id"] for i in body["institutions"]) == sorted([world.labour.pk, world.disability.pk])


def test_it_revokes_a_consent_only_with_the_current_etag(api_a, rav_client, world):
    # given a consent recorded as JSON
    created = api_a.post(
        client_url(rav_client, "consents/"),
        data={
            "institutions": [world.labour.pk],
            "categories": ["personal"],
            "purpose": "x",
            "valid_from": "2026-01-05",
        },
        content_type="application/json",
    )
    url = client_url(rav_client, f"consents/{created.json()['id']}/revoke/")

    # when A revokes without, with a stale and with the current ETag
    missing = api_a.post(url, data={"reason": "Widerruf am Schalter"}, content_type="application/json")
    stale = api_a.post(url, data={"reason": "Widerruf"}, content_type="application/json", headers={"If-Match": '"abc"'})
    done = api_a.post(
        url, data={"reason": "Widerruf"}, content_type="application/json", headers={"If-Match": created["ETag"]}
    )
    again = api_a.post(
        url, data={"reason": "Widerruf"}, content_type="application/json", headers={"If-Match": done["ETag"]}
    )

    # then 428, 412, 200 and then 409 (already revoked)
    assert [missing.status_code, stale.status_code, done.status_code, again.status_code] == [428, 412, 200, 409]
    assert problem(missing)["type"] == "urn:iiz:problem:precondition-required"
    assert problem(stale)["type"] == "urn:iiz:problem:precondition-failed"
    assert done.json()["status"] == "revoked"


def test_it_ends_a_registration_with_if_match(api_a, rav_client):
    # given A's registration of its person
    registration = rav_client.registrations.get()
    url = client_url(rav_client, f"registrations/{registration.pk}/")
    etag = api_a.get(url)["ETag"]

    # when A ends it
    response = api_a.post(
        f"{url}end/",
        data={"deregistered_on": timezone.localdate().isoformat()},
        content_type="application/json",
        headers={"If-Match": etag},
    )

    # then it is ended
    assert response.status_code == 200
    registration.refresh_from_db()
    assert registration.deregistered_on == timezone.localdate()


# ---------------------------------------------------------------------------------------------------------
# HTTP semantics: ETag, If-Match, bad input, pagination, ordering
# ---------------------------------------------------------------------------------------------------------


def test_it_answers_304_when_the_copy_is_current(api_a, rav_client):
    # given a first read
    first = api_a.get(client_url(rav_client))

    # when read again with its ETag
    second = api_a.get(client_url(rav_client), headers={"If-None-Match": first["ETag"]})

    # then nothing is sent again
    assert first.status_code == 200 and first["ETag"].startswith('"')
    assert second.status_code == 304 and second.content == b"" and second["ETag"] == first["ETag"]


def test_it_requires_the_current_etag_to_change_contact_details(api_a, rav_client):
    url = client_url(rav_client)
    etag = api_a.get(url)["ETag"]
    change = {"street": "Seestrasse", "house_number": "3"}

    # when changed without If-Match, with an outdated one, and with the current one
    missing = api_a.patch(url, data=change, content_type="application/json")
    outdated = api_a.patch(url, data=change, content_type="application/json", headers={"If-Match": '"0"'})
    done = api_a.patch(url, data=change, content_type="application/json", headers={"If-Match": etag})

    # then 428, 412, and the change with a new ETag
    assert (missing.status_code, outdated.status_code, done.status_code) == (428, 412, 200)
    assert done.json()["contact"]["street"] == "Seestrasse" and done["ETag"] != etag
    rav_client.refresh_from_db()
    assert rav_client.street == "Seestrasse"
    # and the old ETag no longer matches
    assert api_a.patch(url, data=change, content_type="application/json", headers={"If-Match": etag}).status_code == 412


def test_it_rejects_unknown_fields(api_a, rav_client):
    # when a field is misspelt
    response = api_a.patch(
        client_url(rav_client),
        data={"strasse": "Seestrasse"},
        content_type="application/json",
        headers={"If-Match": "*"},
    )

    # then it is named, not ignored
    assert response.status_code == 400
    assert problem(response)["errors"] == [{"field": "strasse", "message": "Unbekanntes Feld.", "code": "invalid"}]


def test_it_answers_malformed_json_with_a_problem(api_a):
    # when the body is not JSON
    response = api_a.post("/api/v1/clients/", data="{'ahv_number': ", content_type="application/json")

    # then a 400 problem, not a 500
    assert response.status_code == 400
    assert problem(response)["type"] == "urn:iiz:problem:validation-error"


def test_it_names_each_field_of_the_wrong_type(api_a):
    # when types are wrong
    response = api_a.post(
        "/api/v1/clients/",
        data={
            "ahv_number": 7,
            "first_name": ["x"],
            "last_name": "Y",
            "date_of_birth": "gestern",
            "sex": "f",
            "languages": "de",
        },
        content_type="application/json",
    )

    # then every wrong field is listed
    fields = {error["field"] for error in problem(response)["errors"]}
    assert response.status_code == 400
    assert {"ahv_number", "first_name", "date_of_birth", "sex", "languages"} <= fields


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/clients/not-a-uuid/", "/api/v1/x%0Ay/"])
def test_it_answers_an_unknown_api_path_with_a_problem(api_a, path):
    response = api_a.get(path)

    assert response.status_code == 404
    assert problem(response)["type"] == "urn:iiz:problem:not-found"


def test_it_pages_and_orders_by_allowed_fields(api_a, world):
    # given five persons of A
    for index, name in enumerate(["Ammann", "Baumann", "Christen", "Dubach", "Egli"]):
        ClientFactory(last_name=name, ahv_number=ahv_from_serial(600_000_000 + index))

    # when listed two at a time, newest name first
    first = api_a.get("/api/v1/clients/?page_size=2&ordering=-last_name").json()
    second = api_a.get(first["next"]).json()
    wrong = api_a.get("/api/v1/clients/?ordering=ahv_number")

    # then the pages follow the order, and an ordering by another field is refused
    assert first["count"] == 5
    assert [c["last_name"] for c in first["results"] + second["results"]] == ["Egli", "Dubach", "Christen", "Baumann"]
    assert wrong.status_code == 400 and problem(wrong)["errors"][0]["field"] == "ordering"


def test_it_filters_by_name_ahv_number_and_birth_date(api_a):
    # given three persons
    anna = ClientFactory(first_name="Anna", last_name="Keller", date_of_birth=dt.date(1980, 1, 2))
    ClientFactory(first_name="Beat", last_name="Keller", date_of_birth=dt.date(1975, 3, 4))
    ClientFactory(first_name="Anna", last_name="Zürcher", date_of_birth=dt.date(1980, 1, 2))

    # when filtered
    by_name = api_a.get("/api/v1/clients/", {"name": "anna kell"}).json()["results"]
    by_ahv = api_a.get("/api/v1/clients/", {"ahv_number": anna.ahv_display}).json()["results"]
    by_birth = api_a.get("/api/v1/clients/", {"date_of_birth": "1980-01-02"}).json()["results"]
    bad = api_a.get("/api/v1/clients/", {"date_of_birth": "1980-13-45"})

    # then
    assert [c["id"] for c in by_name] == [str(anna.public_id)] == [c["id"] for c in by_ahv]
    assert len(by_birth) == 2
    assert bad.status_code == 400 and problem(bad)["errors"][0]["field"] == "date_of_birth"


def test_it_lists_in_a_fixed_number_of_queries(api_a, iv_specialist, world):
    # given a token of B and its lists with one and with six entries
    api_b = api_client(token_for(world.disability).key)
    ClientFactory()
    cases_world.case_open(specialist=iv_specialist)
    # (the first request of a token notes when it was used; measure after it)
    api_a.get("/api/v1/kpis/")
    api_b.get("/api/v1/kpis/")
    with CaptureQueriesContext(connection) as few_clients:
        api_a.get("/api/v1/clients/")
    with CaptureQueriesContext(connection) as few_cases:
        api_b.get("/api/v1/cases/")
    for _ in range(5):
        ClientFactory()
        cases_world.case_open(specialist=iv_specialist)
    cache.clear()

    # when listed again
    with CaptureQueriesContext(connection) as many_clients:
        api_a.get("/api/v1/clients/")
    with CaptureQueriesContext(connection) as many_cases:
        api_b.get("/api/v1/cases/")

    # then the number of queries does not grow with the entries
    assert len(many_clients) == len(few_clients)
    assert len(many_cases) == len(few_cases)


# ---------------------------------------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------------------------------------


def test_it_audits_every_read_with_the_service_user(api_a, token_a, rav_client):
    service_user = token_a.token.service_user
    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()

    # when A lists, reads a person, its registrations, consents and a registration
    api_a.get("/api/v1/clients/")
    api_a.get(client_url(rav_client))
    api_a.get(client_url(rav_client, "registrations/"))
    api_a.get(client_url(rav_client, "consents/"))
    api_a.get(client_url(rav_client, f"registrations/{rav_client.registrations.get().pk}/"))

    # then each read left an entry naming the service user and the institution
    events = list(AuditEvent.objects.filter(id__gt=start).order_by("id"))
    assert [(e.action, e.object_type) for e in events] == [(AuditAction.SEARCH, "client_search")] + [
        (AuditAction.READ, "client")
    ] * 4
    assert {e.actor_username for e in events} == {service_user.username}
    assert {e.actor_institution for e in events} == {rav_client.recorded_by_institution.name}
    assert all(e.client_id == rav_client.pk for e in events[1:])
    assert events[0].details["results"] == [rav_client.pk]


# ---------------------------------------------------------------------------------------------------------
# Key figures
# ---------------------------------------------------------------------------------------------------------


def test_it_publishes_key_figures_as_the_pages_do(api_a, settings):
    # given two cases opened this quarter, in which the partner system's institution takes no part
    cases = CaseFactory.create_batch(2, opened_on=timezone.localdate())
    ids = sorted(case.pk for case in cases)

    # when the published figures are asked for, with the threshold 5 and then 2
    under_five = _figure(api_a.get("/api/v1/kpis/").json(), "new_cases")
    settings.IIZ_SUPPRESSION_THRESHOLD = 2
    cache.clear()
    under_two = _figure(api_a.get("/api/v1/kpis/").json(), "new_cases")

    # then each is the published count of the two cases (perturbed by their cell key), "< t" below the threshold
    for figure, t in ((under_five, 5), (under_two, 2)):
        expected = Publisher(t=t).count(ids)
        assert (figure["n"], figure["suppressed"]) == (expected.shown, expected.small)
        assert figure["value"] == (None if expected.small else float(expected.value))


def test_it_offers_operational_figures_to_operational_roles_only(api_a, http_as, committee):
    # when a token and the operating committee ask for the operational figures
    token = api_a.get("/api/v1/kpis/", {"audience": "operational"})
    person = http_as(committee).get("/api/v1/kpis/", {"audience": "operational", "period": "2026"})

    # then the token is refused and the committee gets all figures
    assert token.status_code == 403
    assert person.status_code == 200
    assert {f["code"] for f in person.json()["figures"]} >= {"open_cases", "new_cases"}


def test_it_refuses_an_invalid_period(api_a):
    response = api_a.get("/api/v1/kpis/", {"period": "2026-Q5"})

    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "period"


def _figure(report: dict, code: str) -> dict:
    return next(figure for figure in report["figures"] if figure["code"] == code)


# ---------------------------------------------------------------------------------------------------------
# Browser use, documentation and schema
# ---------------------------------------------------------------------------------------------------------


def test_it_serves_the_browser_session_with_csrf(http_as, rav_adviser, rav_client):
    # given a signed-in case worker
    browser = http_as(rav_adviser)
    browser.handler.enforce_csrf_checks = True

    # when the API is read and written without a CSRF token
    read = browser.get("/api/v1/clients/")
    write = browser.post("/api/v1/clients/", data={}, content_type="application/json")

    # then reading works and writing is refused
    assert read.status_code == 200 and [c["id"] for c in read.json()["results"]] == [str(rav_client.public_id)]
    assert write.status_code == 403 and problem(write)


def test_it_serves_the_documentation_under_the_strict_csp(db):
    # when the documentation page and its start script are fetched
    page = HttpClient().get("/api/docs/")
    script = HttpClient().get("/api/docs/?script=")

    # then the page needs no inline script or style, and nothing from another origin
    html = page.content.decode()
    csp = page["Content-Security-Policy"]
    assert page.status_code == 200 and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<style" not in html and "<script>" not in html and "https://" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


def test_it_publishes_an_openapi_schema_with_bearer_auth_and_problems(db):
    schema = json.loads(HttpClient().get("/api/schema/?format=json").content)

    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "application/problem+json" in operation["responses"]["404"]["content"], (method, path)
            if method in {"patch"} or path.endswith(("end/", "revoke/")):
                header = next(p for p in operation["parameters"] if p["name"] == "If-Match")
                assert header["required"] is True and "428" in operation["responses"]


def test_it_answers_in_the_language_asked_for(api_a):
    response = api_a.get("/api/v1/clients/", {"lang": "fr"})

    assert response["Content-Language"] == "fr"
