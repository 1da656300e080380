"""eCH messages: export of persons (eCH-0044, eCH-0010, eCH-0058 header) and their import as a bulk-import format."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from iiz.audit.models import AuditAction, AuditBasis, AuditEvent
from iiz.clients.models import Client, DataCategory, Language, Registration
from iiz.interfaces.ech.export import client_ech_export, institution_ech_export
from iiz.interfaces.ech.schema import NS_0010, NS_0044, NS_0058, NS_DELIVERY, delivery_schema, read_delivery, tag
from iiz.interfaces.imports import import_batch_confirm, import_batch_create
from iiz.interfaces.models import Scope
from iiz.interfaces.models_imports import ImportBatch, ImportStatus
from iiz.interfaces.services import api_token_issue
from iiz.organisations.models import Institution, InstitutionKind, Municipality, Role, User
from tests.factories import (
    ClientFactory,
    ConsentFactory,
    InstitutionFactory,
    RegistrationFactory,
    UnitFactory,
    UserFactory,
    ahv_from_serial,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

NEW_AHV = ahv_from_serial(900_000_001)


def _institution_user() -> User:
    """A case worker of a new institution of its own (nobody else's registrations, no demo data)."""
    unit = UnitFactory(institution=InstitutionFactory(kind=InstitutionKind.SOCIAL_SERVICE))
    return UserFactory(unit=unit, roles=[Role.CASE_WORKER])


def _municipality() -> Municipality:
    return Municipality.objects.filter(valid_until__isnull=True).order_by("bfs_number").first()


def _token(institution: Institution, scopes: list[str]) -> HttpClient:
    issued = api_token_issue(
        actor=User.objects.get(username="admin"), institution=institution, name="Fallsystem", scopes=scopes
    )
    return HttpClient(headers={"Authorization": f"Bearer {issued.key}"})


def _import(user: User, content: bytes, capture, name: str = "lieferung.xml") -> ImportBatch:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        batch = import_batch_create(actor=user, upload=SimpleUploadedFile(name, content))
    return ImportBatch.objects.get(pk=batch.pk)


def _confirm(user: User, batch: ImportBatch, capture) -> ImportBatch:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        import_batch_confirm(actor=user, batch=batch)
    return ImportBatch.objects.get(pk=batch.pk)


def _person_fields(client: Client) -> tuple:
    return (
        client.ahv_number,
        client.last_name,
        client.first_name,
        client.date_of_birth,
        client.sex,
        client.municipality_id,
        client.street,
        client.house_number,
        client.postal_code,
        client.town,
        client.phone,
        client.email,
        sorted(client.languages),
    )


# ---------------------------------------------------------------------------------------------------------
# Export


def test_it_exports_a_person_from_the_client_page_as_a_message_valid_against_the_schema(
    http_as, rav_adviser, rav_client
):
    # given the RAV adviser, whose institution registered the client and recorded the contact details
    url = reverse("clients:ech_export", args=[rav_client.public_id])

    # when
    response = http_as(rav_adviser).get(url)

    # then a valid delivery with the identification, the address and the institution's registration
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert "attachment" in response["Content-Disposition"]
    assert delivery_schema().is_valid(response.content.decode())
    person = read_delivery(io.BytesIO(response.content)).find(tag(NS_DELIVERY, "person"))
    assert person.findtext(f"{tag(NS_DELIVERY, 'personIdentification')}/{tag(NS_0044, 'vn')}") == rav_client.ahv_number
    town = f"{tag(NS_DELIVERY, 'mailAddress')}/{tag(NS_0010, 'addressInformation')}/{tag(NS_0010, 'town')}"
    assert person.findtext(town) == "Uster"
    registration = rav_client.registrations.get()
    case_number = f"{tag(NS_DELIVERY, 'registration')}/{tag(NS_DELIVERY, 'externalCaseNumber')}"
    assert person.findtext(case_number) == registration.external_case_number
    exported = AuditEvent.objects.get(action=AuditAction.EXPORT, client_id=rav_client.pk)
    assert (exported.actor, exported.object_type, exported.basis) == (rav_adviser, "ech_delivery", "registration")


def test_it_withholds_contact_data_without_consent_in_the_export(iv_specialist, world):
    # given a client recorded by the Amt für Arbeit and also registered with the IV-Stelle, without consent
    client = ClientFactory(municipality=_municipality())
    RegistrationFactory(client=client, institution=world.disability)

    # when the IV specialist exports the person
    root = read_delivery(io.BytesIO(client_ech_export(user=iv_specialist, public_id=client.public_id).content))

    # then the identification and residence are there, the address, phone and e-mail are not
    person = root.find(tag(NS_DELIVERY, "person"))
    assert person.find(tag(NS_DELIVERY, "personIdentification")) is not None
    assert person.findtext(f"{tag(NS_DELIVERY, 'residence')}/{tag(NS_DELIVERY, 'municipalityId')}") == str(
        client.municipality.bfs_number
    )
    assert [person.find(tag(NS_DELIVERY, name)) for name in ("mailAddress", "phone", "email")] == [None] * 3
    assert client.street.encode() not in client_ech_export(user=iv_specialist, public_id=client.public_id).content
    exported = AuditEvent.objects.filter(action=AuditAction.EXPORT, client_id=client.pk).first()
    assert exported.details["contact_details"] is False


def test_it_exports_contact_data_once_the_client_consents(iv_specialist, rav_adviser, world):
    # given the same situation, and a consent for personal data between the two institutions
    client = ClientFactory()
    RegistrationFactory(client=client, institution=world.disability)
    ConsentFactory(client=client, institutions=[world.labour, world.disability], categories=[DataCategory.PERSONAL])

    # when
    root = read_delivery(io.BytesIO(client_ech_export(user=iv_specialist, public_id=client.public_id).content))

    # then the address is shared, and the consent used is in the audit entry
    person = root.find(tag(NS_DELIVERY, "person"))
    assert person.findtext(tag(NS_DELIVERY, "phone")) == client.phone
    exported = AuditEvent.objects.get(action=AuditAction.EXPORT, client_id=client.pk)
    assert exported.details["contact_details"] is True
    assert exported.details["consents_used"]


def test_it_answers_404_to_an_outsider_on_the_web_export_and_logs_the_denial(http_as, biz_adviser, rav_client):
    # given the biz adviser, whose institution has neither a registration nor a case for the client
    url = reverse("clients:ech_export", args=[rav_client.public_id])

    # when
    response = http_as(biz_adviser).get(url)

    # then
    assert response.status_code == 404
    assert rav_client.ahv_number.encode() not in response.content
    denied = AuditEvent.objects.get(action=AuditAction.DENIED, client_id=rav_client.pk, actor=biz_adviser)
    assert denied.basis == AuditBasis.NONE
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT, client_id=rav_client.pk).exists()


def test_it_answers_404_to_an_outsider_partner_system_on_the_api_export_and_logs_the_denial(world, rav_client):
    # given a partner system of the AJB, which does not serve the client
    api = _token(world.youth, [Scope.CLIENTS_READ])

    # when
    response = api.get(f"/api/v1/clients/{rav_client.public_id}/ech/")

    # then
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert rav_client.ahv_number.encode() not in response.content
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, client_id=rav_client.pk).count() == 1


def test_it_exports_a_person_over_the_api_with_the_recipient_in_the_header(world, rav_client):
    # given the Amt für Arbeit's partner system
    api = _token(world.labour, [Scope.CLIENTS_READ])

    # when
    response = api.get(
        f"/api/v1/clients/{rav_client.public_id}/ech/", {"recipient": "T1-ZH-42"}, HTTP_ACCEPT="application/xml"
    )

    # then
    assert response.status_code == 200, response.content
    header = read_delivery(io.BytesIO(response.content)).find(tag(NS_DELIVERY, "deliveryHeader"))
    assert header.findtext(tag(NS_0058, "recipientId")) == "T1-ZH-42"
    assert AuditEvent.objects.get(action=AuditAction.EXPORT, client_id=rav_client.pk).recipient == "T1-ZH-42"


def test_it_refuses_the_api_export_without_the_read_scope_or_with_an_unknown_parameter(world, rav_client):
    # given a token that may only read key figures, and one that may read persons
    kpis_only = _token(world.labour, [Scope.KPIS_READ])
    reader = _token(world.labour, [Scope.CLIENTS_READ])

    # when
    forbidden = kpis_only.get("/api/v1/ech/persons/")
    unknown = reader.get("/api/v1/ech/persons/", {"surname": "Muster"})
    bad_date = reader.get("/api/v1/ech/persons/", {"registered_from": "gestern"})

    # then
    assert forbidden.status_code == 403
    assert (unknown.status_code, bad_date.status_code) == (400, 400)
    assert "surname" in unknown.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_it_exports_the_persons_registered_with_the_institution_over_the_api(world):
    # given a new institution with two open registrations and one ended, and a person of another institution
    user = _institution_user()
    institution = user.institution
    open_ones = [ClientFactory(recorded_by_institution=institution) for _ in range(2)]
    ended = ClientFactory(recorded_by_institution=institution, registered=False)
    RegistrationFactory(
        client=ended,
        institution=institution,
        registered_on=dt.date(2025, 1, 6),
        deregistered_on=dt.date(2025, 3, 1),
    )
    ClientFactory()
    api = _token(institution, [Scope.CLIENTS_READ])

    # when
    active = api.get("/api/v1/ech/persons/")
    everyone = api.get("/api/v1/ech/persons/", {"active": "false"})

    # then
    def numbers(response) -> set[str]:
        root = read_delivery(io.BytesIO(response.content))
        return {e.text for e in root.iter(tag(NS_0044, "vn"))}

    assert active.status_code == 200, active.content
    assert numbers(active) == {c.ahv_number for c in open_ones}
    assert numbers(everyone) == {c.ahv_number for c in [*open_ones, ended]}
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="ech_delivery").count() == 5


@override_settings(IIZ_SEDEX_ID="T1-ZH-IIZ-7", IIZ_SEDEX_MESSAGE_TYPE="2099")
def test_it_writes_the_header_from_the_settings_with_a_new_message_id_each_time(rav_adviser, rav_client):
    # given / when two exports of the same person
    before = timezone.now().replace(microsecond=0)
    first = client_ech_export(user=rav_adviser, public_id=rav_client.public_id)
    second = client_ech_export(user=rav_adviser, public_id=rav_client.public_id)

    # then
    header = read_delivery(io.BytesIO(first.content)).find(tag(NS_DELIVERY, "deliveryHeader"))
    assert header.findtext(tag(NS_0058, "senderId")) == "T1-ZH-IIZ-7"
    assert header.findtext(tag(NS_0058, "messageType")) == "2099"
    assert header.findtext(tag(NS_0058, "messageId")) == first.message_id
    assert first.message_id != second.message_id
    sent = dt.datetime.fromisoformat(header.findtext(tag(NS_0058, "messageDate")))
    assert sent.tzinfo is not None
    assert before <= sent <= timezone.now()
    assert header.findtext(tag(NS_0058, "action")) == "1"
    assert header.findtext(tag(NS_0058, "testDeliveryFlag")) == "true"  # not the production system


def test_it_leaves_anonymised_persons_out_of_the_export(http_as, rav_adviser, rav_client):
    # given a second person of the RAV, anonymised after the retention period
    gone = ClientFactory(registered=False)
    RegistrationFactory(client=gone, institution=rav_adviser.institution, deregistered_on=timezone.localdate())
    Client.objects.filter(pk=gone.pk).update(
        ahv_number=f"X{gone.pk:012d}", first_name="–", last_name="–", anonymised_on=timezone.localdate()
    )

    # when
    page = http_as(rav_adviser).get(reverse("clients:ech_export", args=[gone.public_id]))
    everyone = institution_ech_export(user=rav_adviser, active_only=False)

    # then the download explains itself on the client page, and the set holds only the other person
    assert page.status_code == 302
    assert page["Location"] == reverse("clients:detail", args=[gone.public_id])
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT, client_id=gone.pk).exists()
    numbers = {e.text for e in read_delivery(io.BytesIO(everyone.content)).iter(tag(NS_0044, "vn"))}
    assert rav_client.ahv_number in numbers
    assert f"X{gone.pk:012d}" not in numbers


def test_it_refuses_an_export_of_nobody():
    # given an institution without registrations
    user = _institution_user()

    # when / then
    with pytest.raises(ValidationError, match="keine Personen"):
        institution_ech_export(user=user)


# ---------------------------------------------------------------------------------------------------------
# Import


def test_it_round_trips_a_delivery_into_a_fresh_institution_and_a_second_import_changes_nothing(
    django_capture_on_commit_callbacks,
):
    # given three persons of one institution, with residence, address and languages, exported and then gone
    exporter = _institution_user()
    institution = exporter.institution
    persons = [
        ClientFactory(recorded_by_institution=institution, municipality=_municipality(), languages=[Language.DE]),
        ClientFactory(recorded_by_institution=institution, postal_code="", street="", house_number=""),
        ClientFactory(recorded_by_institution=institution, languages=[Language.FR, Language.IT], phone=""),
    ]
    expected = sorted(_person_fields(c) for c in persons)
    numbers = {c.ahv_number: (r.registered_on, r.external_case_number) for c in persons for r in c.registrations.all()}
    content = institution_ech_export(user=exporter).content
    Client.objects.filter(pk__in=[c.pk for c in persons]).delete()
    importer = _institution_user()

    # when the fresh institution imports the message
    checked = _import(importer, content, django_capture_on_commit_callbacks)
    assert checked.status == ImportStatus.PREVIEWED, (checked.file_error, checked.errors)
    done = _confirm(importer, checked, django_capture_on_commit_callbacks)

    # then the same persons exist again, registered with the importing institution
    assert done.status == ImportStatus.DONE, done.file_error
    created = Client.objects.filter(ahv_number__in=numbers)
    assert sorted(_person_fields(c) for c in created) == expected
    registrations = Registration.objects.filter(client__in=created, institution=importer.institution)
    assert {r.client.ahv_number: (r.registered_on, r.external_case_number) for r in registrations} == numbers

    # when the same message is imported again
    second = _import(importer, content, django_capture_on_commit_callbacks)
    assert second.status == ImportStatus.PREVIEWED, (second.file_error, second.errors)
    again = _confirm(importer, second, django_capture_on_commit_callbacks)

    # then nothing changes
    assert again.counts == {"create": 0, "change": 0, "unchanged": 3, "rejected": 0}
    assert Client.objects.filter(ahv_number__in=numbers).count() == 3
    assert Registration.objects.filter(client__ahv_number__in=numbers).count() == 3


def _message(rav_adviser: User, rav_client: Client) -> str:
    """A genuine delivery of one person who is not yet known to the platform."""
    text = client_ech_export(user=rav_adviser, public_id=rav_client.public_id).content.decode()
    return text.replace(rav_client.ahv_number, NEW_AHV)


def test_it_imports_a_genuine_message_of_a_new_person(rav_adviser, rav_client, django_capture_on_commit_callbacks):
    # given / when: the control for the tampered messages below
    batch = _import(rav_adviser, _message(rav_adviser, rav_client).encode(), django_capture_on_commit_callbacks)

    # then
    assert batch.status == ImportStatus.PREVIEWED, (batch.file_error, batch.errors)
    assert batch.counts["create"] == 1


XXE = '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE iiz:delivery [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
LAUGHS = (
    '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE iiz:delivery [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>\n"
)


def _tamper(kind: str, text: str) -> str:
    vn = f"<eCH-0044:vn>{NEW_AHV}</eCH-0044:vn>"
    if kind == "wrong_namespace":
        return text.replace(NS_DELIVERY, "http://www.iiz-zh.ch/xmlns/person-delivery/9")
    if kind == "missing_vn":
        return text.replace(vn, "")
    if kind == "invalid_ahv_checksum":
        wrong = NEW_AHV[:-1] + str((int(NEW_AHV[-1]) + 1) % 10)
        return text.replace(vn, f"<eCH-0044:vn>{wrong}</eCH-0044:vn>")
    if kind == "invalid_date":
        return re.sub(r"<eCH-0044:yearMonthDay>[^<]*<", "<eCH-0044:yearMonthDay>1990-02-30<", text)
    if kind == "unknown_element":
        return text.replace("</iiz:personIdentification>", "</iiz:personIdentification><iiz:nickname>A</iiz:nickname>")
    if kind == "wrong_type":
        return re.sub(r"<eCH-0044:sex>\d<", "<eCH-0044:sex>weiblich<", text)
    if kind == "not_xml":
        return text[: len(text) // 2]
    body = text.split("?>", 1)[1]
    if kind == "xxe":
        return XXE + re.sub(r"<eCH-0044:officialName>[^<]*<", "<eCH-0044:officialName>&xxe;<", body)
    if kind == "billion_laughs":
        return LAUGHS + re.sub(r"<eCH-0044:officialName>[^<]*<", "<eCH-0044:officialName>&lol9;<", body)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("wrong_namespace", "keine iiz-Personenlieferung"),
        ("invalid_date", "Person 1, personIdentification/dateOfBirth/yearMonthDay: «1990-02-30» ist ungültig"),
        ("unknown_element", "Person 1, nickname: unerwartetes Element «nickname»"),
        ("wrong_type", "Person 1, personIdentification/sex: «weiblich» ist nicht erlaubt"),
        ("not_xml", "kein gültiges XML"),
        ("xxe", "Dokumenttyp-Deklaration (DTD)"),
        ("billion_laughs", "Dokumenttyp-Deklaration (DTD)"),
    ],
)
def test_it_rejects_a_tampered_message_as_a_whole_with_a_clear_error_and_writes_nothing(
    kind, expected, rav_adviser, rav_client, django_capture_on_commit_callbacks
):
    # given a genuine message, tampered with
    content = _tamper(kind, _message(rav_adviser, rav_client)).encode()
    clients, registrations = Client.objects.count(), Registration.objects.count()

    # when
    batch = _import(rav_adviser, content, django_capture_on_commit_callbacks)

    # then the file is refused with the reason (German, with line and path), and nothing is written
    assert batch.status == ImportStatus.REJECTED
    assert expected in batch.file_error, batch.file_error
    assert "Zeile" in batch.file_error or kind in {"wrong_namespace", "xxe", "billion_laughs"}
    assert "root:" not in batch.file_error  # no /etc/passwd content, ever
    assert (Client.objects.count(), Registration.objects.count()) == (clients, registrations)
    with pytest.raises(ValidationError, match="Nur ein geprüfter Import"):
        _confirm(rav_adviser, batch, django_capture_on_commit_callbacks)


@pytest.mark.parametrize(
    ("kind", "expected"), [("missing_vn", "Ungültige AHV-Nummer"), ("invalid_ahv_checksum", "Ungültige AHV-Nummer")]
)
def test_it_rejects_a_person_without_a_valid_ahv_number_naming_the_person_and_element(
    kind, expected, rav_adviser, rav_client, django_capture_on_commit_callbacks
):
    # given a message valid against the schema (vn is optional in eCH-0044) whose person lacks a valid number
    content = _tamper(kind, _message(rav_adviser, rav_client)).encode()
    clients = Client.objects.count()

    # when
    batch = _import(rav_adviser, content, django_capture_on_commit_callbacks)

    # then the row of the first person is rejected at the vn element, and nothing is written
    assert batch.status == ImportStatus.REJECTED
    assert batch.file_error == ""
    assert [(e["row"], e["column"]) for e in batch.errors] == [(1, "personIdentification/vn")]
    assert expected in batch.errors[0]["message"]
    assert Client.objects.count() == clients


def test_it_reads_a_large_delivery_one_person_at_a_time(
    monkeypatch, rav_adviser, rav_client, django_capture_on_commit_callbacks
):
    # given a delivery counted as large, so that it is validated lazily, without building a tree
    monkeypatch.setattr("iiz.interfaces.ech.schema.LAZY_ABOVE_BYTES", 0)

    # when
    batch = _import(rav_adviser, _message(rav_adviser, rav_client).encode(), django_capture_on_commit_callbacks)

    # then
    assert (batch.status, batch.counts["create"]) == (ImportStatus.PREVIEWED, 1), batch.file_error


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("invalid_date", "Person 1, personIdentification/dateOfBirth/yearMonthDay: «1990-02-30» ist ungültig"),
        ("unknown_element", "Person 1, nickname: unerwartetes Element «nickname»"),
        ("xxe", "Dokumenttyp-Deklaration (DTD)"),
    ],
)
def test_it_rejects_a_tampered_large_delivery_naming_the_person_and_path(
    kind, expected, monkeypatch, rav_adviser, rav_client, django_capture_on_commit_callbacks
):
    # given tampered deliveries counted as large
    monkeypatch.setattr("iiz.interfaces.ech.schema.LAZY_ABOVE_BYTES", 0)
    content = _tamper(kind, _message(rav_adviser, rav_client)).encode()
    clients = Client.objects.count()

    # when
    batch = _import(rav_adviser, content, django_capture_on_commit_callbacks)

    # then the same refusal as for a small one, with the person and path (a lazy reading keeps no lines)
    assert batch.status == ImportStatus.REJECTED
    assert expected in batch.file_error, batch.file_error
    assert Client.objects.count() == clients


def test_it_accepts_an_xml_file_on_the_import_page(
    http_as, rav_adviser, rav_client, django_capture_on_commit_callbacks
):
    # given the import page, which offers the XML format
    http = http_as(rav_adviser)
    page = http.get(reverse("imports:start"))
    upload = SimpleUploadedFile("lieferung.xml", _message(rav_adviser, rav_client).encode(), "application/xml")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(reverse("imports:start"), {"file": upload})

    # then
    assert ".xml" in page.content.decode()
    assert response.status_code == 302
    batch = ImportBatch.objects.get(institution=rav_adviser.institution, file_name="lieferung.xml")
    assert (batch.file_format, batch.status, batch.counts["create"]) == ("xml", ImportStatus.PREVIEWED, 1)


# ---------------------------------------------------------------------------------------------------------
# The operators' command


def test_it_writes_the_institutions_persons_to_a_file_with_the_command(tmp_path):
    # given an institution with two registered persons, and a case worker of it
    user = _institution_user()
    persons = [ClientFactory(recorded_by_institution=user.institution) for _ in range(2)]
    output = tmp_path / "personen.xml"
    out = io.StringIO()

    # when
    call_command(
        "ech_export",
        "--institution",
        str(user.institution_id),
        "--user",
        user.username,
        "--recipient",
        "T1-ZH-42",
        "--output",
        str(output),
        stdout=out,
    )

    # then a valid message with both persons, each export audited as the named user
    root = read_delivery(io.BytesIO(output.read_bytes()))
    assert {e.text for e in root.iter(tag(NS_0044, "vn"))} == {c.ahv_number for c in persons}
    assert "2 persons" in out.getvalue()
    exports = AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=user, recipient="T1-ZH-42")
    assert exports.count() == 2


def test_it_refuses_a_user_of_another_institution_in_the_command(tmp_path, rav_adviser):
    # given an institution and a user who does not belong to it
    user = _institution_user()

    # when / then
    with pytest.raises(CommandError, match="No user"):
        call_command(
            "ech_export",
            "--institution",
            str(user.institution_id),
            "--user",
            rav_adviser.username,
            "--output",
            str(tmp_path / "x.xml"),
        )
    assert not (tmp_path / "x.xml").exists()


@pytest.mark.parametrize("shape", ["deep", "wide", "foreign_root_child"])
@pytest.mark.parametrize("size", ["small", "large"])
def test_it_refuses_a_document_deeper_or_wider_than_any_delivery_at_once(
    shape, size, rav_adviser, rav_client, django_capture_on_commit_callbacks
):
    # given a genuine message with 2,000 nested or 5,000 sibling elements in its person, or a foreign element
    # under the root; "large" is padded past the size above which deliveries are validated lazily
    text = _message(rav_adviser, rav_client)
    junk = {
        "deep": "<iiz:x>" * 2000 + "</iiz:x>" * 2000,
        "wide": "<iiz:x/>" * 5000,
        "foreign_root_child": "",
    }[shape]
    text = text.replace("</iiz:personIdentification>", "</iiz:personIdentification>" + junk)
    if shape == "foreign_root_child":
        text = text.replace("</iiz:deliveryHeader>", "</iiz:deliveryHeader><iiz:x/>")
    if size == "large":
        text = text.replace("</iiz:delivery>", "<!--" + "x" * 2_200_000 + "--></iiz:delivery>")

    # when it is imported
    batch = _import(rav_adviser, text.encode(), django_capture_on_commit_callbacks)

    # then the batch is refused with a reason, not left checking, and nothing is written
    assert batch.status == ImportStatus.REJECTED
    assert "keine iiz-Personenlieferung" in batch.file_error, batch.file_error


def test_it_exports_the_institutions_persons_with_consent_deciding_and_without_a_query_per_person(
    iv_specialist, world
):
    # given persons recorded by the Amt für Arbeit and registered with the IV-Stelle, half with a consent
    # for personal data between the two
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def persons(n: int) -> list[Client]:
        made = []
        for index in range(n):
            client = ClientFactory()
            RegistrationFactory(client=client, institution=world.disability)
            if index % 2 == 0:
                ConsentFactory(
                    client=client, institutions=[world.labour, world.disability], categories=[DataCategory.PERSONAL]
                )
            made.append(client)
        return made

    def export_queries() -> tuple[int, bytes]:
        with CaptureQueriesContext(connection) as captured:
            content = institution_ech_export(user=iv_specialist, active_only=False).content
        # The audit trail takes its own few statements per exported person; everything else is fixed.
        other = [
            q
            for q in captured.captured_queries
            if not any(word in q["sql"] for word in ("audit", "advisory", "SAVEPOINT"))
        ]
        return len(other), content

    first = persons(4)
    export_queries()  # the first export loads what is cached afterwards (the user's roles)
    few, _content = export_queries()
    second = persons(4)

    # when the export is made with twice as many persons
    many, content = export_queries()

    # then it needs no more queries, and the contact data are shared exactly where a consent allows
    assert many == few
    root = read_delivery(io.BytesIO(content))
    phones = {p.findtext(f"{tag(NS_DELIVERY, 'personIdentification')}/{tag(NS_0044, 'vn')}"): p.findtext(
        tag(NS_DELIVERY, "phone")) for p in root.findall(tag(NS_DELIVERY, "person"))}
    for index, client in enumerate(first + second):
        assert phones[client.ahv_number] == (client.phone if index % 4 in (0, 2) else None)
