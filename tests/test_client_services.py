"""The services that write clients, registrations and consents: validated, atomic, audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis, AuditEvent
from iiz.clients import services
from iiz.clients.models import Client, Consent, DataCategory, Registration
from iiz.lib.ahv import ahv_invalid_message
from iiz.lib.crypto import decrypt_bytes
from tests.factories import ClientFactory, ConsentFactory, RegistrationFactory, ahv_from_serial

TODAY = timezone.localdate
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def new_client(actor, **overrides):
    data = {
        "actor": actor,
        "ahv_number": "756.9217.0769.85",
        "first_name": " Lea ",
        "last_name": "Beispiel",
        "date_of_birth": dt.date(1990, 5, 17),
        "sex": "female",
        "municipality": None,
        "phone": "044 123 45 67",
    }
    data.update(overrides)
    return services.client_create(**data)


def row_counts():
    return (Client.objects.count(), Registration.objects.count(), AuditEvent.objects.count())


# --- client_create ---------------------------------------------------------------------------------


def test_it_creates_the_client_with_its_own_registration(rav_adviser, world):
    # given a case worker of RAV Uster

    # when the person is recorded
    client = new_client(rav_adviser)

    # then the client belongs to the adviser's institution and is registered at the adviser's unit
    registration = client.registrations.get()
    assert client.ahv_number == "7569217076985"
    assert client.first_name == "Lea"
    assert client.recorded_by_institution == world.labour
    assert (registration.institution, registration.unit) == (world.labour, world.rav_uster)
    assert registration.registered_on == TODAY()


def test_it_audits_the_creation_of_client_and_registration(rav_adviser):
    # given
    before = AuditEvent.objects.count()

    # when
    client = new_client(rav_adviser)

    # then one entry for the client and one for the registration, both by the adviser
    events = list(AuditEvent.objects.filter(client_id=client.pk).order_by("id"))
    assert AuditEvent.objects.count() == before + 2
    assert [(e.action, e.object_type) for e in events] == [
        (AuditAction.CREATE, "client"),
        (AuditAction.CREATE, "registration"),
    ]
    assert {e.actor_id for e in events} == {rav_adviser.pk}
    assert {e.basis for e in events} == {AuditBasis.REGISTRATION}


def test_it_refuses_a_duplicate_ahv_number_typed_in_another_format(rav_adviser):
    # given a client recorded with the dotted notation
    new_client(rav_adviser, ahv_number="756.9217.0769.85")
    counts = row_counts()

    # when the same institution types the same number without dots
    with pytest.raises(ValidationError) as refused:
        new_client(rav_adviser, ahv_number="7569217076985", first_name="Lea", last_name="Anders")

    # then the error sits at the AHV field (the institution sees that person) and nothing is written
    assert "ahv_number" in refused.value.message_dict
    assert "bereits eine Person" in refused.value.message_dict["ahv_number"][0]
    assert row_counts() == counts


def test_it_answers_another_institution_s_number_under_another_name_as_an_invalid_number(rav_adviser, iv_specialist):
    # given a client of the RAV
    new_client(rav_adviser, ahv_number="756.9217.0769.85")
    clients = Client.objects.count()

    # when the IV-Stelle, which does not see her, types the number with another name
    with pytest.raises(ValidationError) as refused:
        new_client(iv_specialist, ahv_number="7569217076985", first_name="Lea", last_name="Anders")

    # then it is told what a wrong check digit would tell it, and nothing of the person is written
    assert refused.value.message_dict["ahv_number"] == [ahv_invalid_message()]
    assert Client.objects.count() == clients
    assert not Registration.objects.filter(institution=iv_specialist.institution).exists()


def test_it_refuses_a_birth_date_in_the_future(rav_adviser):
    # given
    counts = row_counts()

    # when
    with pytest.raises(ValidationError) as refused:
        new_client(rav_adviser, date_of_birth=TODAY() + dt.timedelta(days=1))

    # then
    assert "date_of_birth" in refused.value.message_dict
    assert row_counts() == counts


def test_it_refuses_an_invalid_ahv_number(rav_adviser):
    # given
    counts = row_counts()

    # when
    with pytest.raises(ValidationError):
        new_client(rav_adviser, ahv_number="756.9217.0769.84")

    # then
    assert row_counts() == counts


def test_it_decides_a_lost_race_on_the_unique_index_as_if_the_person_had_been_there(rav_adviser, monkeypatch):
    # given another institution commits the same AHV number, under another name, between our check and our insert
    original_full_clean = Client.full_clean

    def full_clean_then_race(self, *args, **kwargs):
        original_full_clean(self, *args, **kwargs)
        ClientFactory(ahv_number=self.ahv_number, registered=False, last_name="Anders")

    monkeypatch.setattr(Client, "full_clean", full_clean_then_race)

    # when
    with pytest.raises(ValidationError) as refused:
        new_client(rav_adviser)

    # then the unique index refused the insert, and the user, who does not see that person, hears of no person
    assert refused.value.message_dict["ahv_number"] == [ahv_invalid_message()]


@pytest.mark.parametrize("persona", ["committee", "supervisory", "admin"])
def test_it_refuses_client_creation_to_roles_without_client_work(db, persona, request):
    # given a role that never sees persons
    actor = request.getfixturevalue(persona)
    counts = row_counts()

    # when / then
    with pytest.raises(PermissionDenied):
        new_client(actor)
    assert row_counts() == counts


# --- registrations ---------------------------------------------------------------------------------


def test_it_registers_an_existing_client_with_the_actors_institution(iv_specialist, rav_client, world):
    # given a client of the RAV that the IV specialist may reach (here: directly through the service)

    # when the IV-Stelle records its own registration
    registration = services.registration_create(
        actor=iv_specialist, client=rav_client, unit=iv_specialist.unit, registered_on=TODAY()
    )

    # then it is the IV-Stelle's registration, audited
    assert registration.institution == world.disability
    assert AuditEvent.objects.filter(object_type="registration", object_id=str(registration.pk)).exists()


def test_it_refuses_a_registration_for_another_institutions_unit(iv_specialist, rav_client, world):
    # given / when / then
    with pytest.raises(ValidationError) as refused:
        services.registration_create(
            actor=iv_specialist, client=rav_client, unit=world.rav_uster, registered_on=TODAY()
        )
    assert "unit" in refused.value.message_dict


def test_it_refuses_a_registration_that_ends_before_it_starts(rav_adviser, rav_client):
    # given
    count = Registration.objects.count()

    # when
    with pytest.raises(ValidationError) as refused:
        services.registration_create(
            actor=rav_adviser,
            client=rav_client,
            unit=rav_adviser.unit,
            registered_on=TODAY(),
            deregistered_on=TODAY() - dt.timedelta(days=1),
        )

    # then
    assert "deregistered_on" in refused.value.message_dict
    assert Registration.objects.count() == count


def test_it_ends_a_registration(rav_adviser, rav_client):
    # given
    registration = rav_client.registrations.get()

    # when
    services.registration_end(actor=rav_adviser, registration=registration, deregistered_on=TODAY())

    # then
    registration.refresh_from_db()
    assert registration.deregistered_on == TODAY()
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, object_type="registration", object_id=str(registration.pk)
    ).exists()


def test_it_refuses_to_end_a_registration_before_it_started(rav_adviser, rav_client):
    # given
    registration = rav_client.registrations.get()

    # when
    with pytest.raises(ValidationError) as refused:
        services.registration_end(
            actor=rav_adviser,
            registration=registration,
            deregistered_on=registration.registered_on - dt.timedelta(days=1),
        )

    # then the stored registration is unchanged
    assert "deregistered_on" in refused.value.message_dict
    registration.refresh_from_db()
    assert registration.deregistered_on is None


def test_it_refuses_to_end_another_institutions_registration(iv_specialist, rav_client):
    # given / when / then
    with pytest.raises(PermissionDenied):
        services.registration_end(
            actor=iv_specialist, registration=rav_client.registrations.get(), deregistered_on=TODAY()
        )


# --- consents --------------------------------------------------------------------------------------


def record_consent(actor, client, institutions, **overrides):
    data = {
        "actor": actor,
        "client": client,
        "institutions": institutions,
        "categories": [DataCategory.PERSONAL, DataCategory.OCCUPATIONAL],
        "purpose": "Abklärung im iiz-Fall",
        "valid_from": TODAY(),
        "verbal_statement": "Am Schalter mündlich erteilt, R. Brunner",
        "form_due_on": TODAY() + dt.timedelta(days=14),
    }
    data.update(overrides)
    return services.consent_record(**data)


def test_it_records_a_consent_as_version_one(rav_adviser, rav_client, world):
    # given / when
    consent = record_consent(rav_adviser, rav_client, [world.labour, world.disability])

    # then
    assert consent.version == 1
    assert set(consent.institutions.all()) == {world.labour, world.disability}
    assert consent.categories == sorted([DataCategory.PERSONAL, DataCategory.OCCUPATIONAL])
    event = AuditEvent.objects.get(object_type="consent", object_id=str(consent.pk))
    assert event.details["institutions"] == sorted([world.labour.short_name, world.disability.short_name])


def test_it_amends_a_consent_as_a_new_version_and_keeps_the_old_one_readable(rav_adviser, rav_client, world):
    # given version 1
    first = record_consent(rav_adviser, rav_client, [world.labour, world.disability], purpose="Erste Fassung")

    # when the client agrees to a changed consent
    second = record_consent(
        rav_adviser, rav_client, [world.labour, world.disability, world.youth], purpose="Zweite Fassung",
        replaces=first,
    )

    # then version 2 replaces version 1, which is superseded but unchanged otherwise
    first.refresh_from_db()
    assert (second.version, second.replaces_id) == (2, first.pk)
    assert first.superseded_at is not None
    assert first.purpose == "Erste Fassung"
    assert set(first.institutions.all()) == {world.labour, world.disability}
    assert [c.pk for c in access.valid_consents(client=rav_client)] == [second.pk]


def test_it_refuses_to_amend_a_superseded_version(rav_adviser, rav_client, world):
    # given version 1 already replaced by version 2
    first = record_consent(rav_adviser, rav_client, [world.labour])
    record_consent(rav_adviser, rav_client, [world.labour], replaces=first)
    count = Consent.objects.count()

    # when / then
    with pytest.raises(ValidationError) as refused:
        record_consent(rav_adviser, rav_client, [world.labour], replaces=first)
    assert refused.value.code == "stale"
    assert Consent.objects.count() == count


def test_it_refuses_a_consent_that_ends_before_it_starts(rav_adviser, rav_client, world):
    # given
    count = Consent.objects.count()

    # when
    with pytest.raises(ValidationError) as refused:
        record_consent(
            rav_adviser, rav_client, [world.labour], valid_from=TODAY(), valid_until=TODAY() - dt.timedelta(days=1)
        )

    # then
    assert "valid_until" in refused.value.message_dict
    assert Consent.objects.count() == count


def test_it_refuses_a_consent_without_institutions(rav_adviser, rav_client):
    # given / when / then
    with pytest.raises(ValidationError) as refused:
        record_consent(rav_adviser, rav_client, [])
    assert "institutions" in refused.value.message_dict


def test_it_refuses_an_upload_that_is_neither_pdf_nor_image(rav_adviser, rav_client, world):
    # given a text file disguised with a .pdf name and type
    upload = SimpleUploadedFile("einwilligung.pdf", b"just some text", content_type="application/pdf")
    count = Consent.objects.count()

    # when
    with pytest.raises(ValidationError) as refused:
        record_consent(rav_adviser, rav_client, [world.labour], document=upload)

    # then
    assert "document" in refused.value.message_dict
    assert Consent.objects.count() == count


def test_it_refuses_an_oversized_upload(rav_adviser, rav_client, world, settings):
    # given a limit of 1 KB and a 2 KB PDF
    settings.IIZ_UPLOAD_MAX_BYTES = 1024
    upload = SimpleUploadedFile("einwilligung.pdf", PDF + b"0" * 2048, content_type="application/pdf")

    # when
    with pytest.raises(ValidationError) as refused:
        record_consent(rav_adviser, rav_client, [world.labour], document=upload)

    # then
    assert "zu gross" in refused.value.message_dict["document"][0]
    assert not Consent.objects.filter(client=rav_client).exists()


def test_it_stores_an_uploaded_image_encrypted_under_a_name_without_personal_data(rav_adviser, rav_client, world):
    # given a scan named after the person
    upload = SimpleUploadedFile("Muster_Anna_Einwilligung.png", PNG, content_type="image/png")

    # when
    consent = record_consent(rav_adviser, rav_client, [world.labour], document=upload)

    # then the content decided the type, the stored name reveals nothing, and the file is encrypted
    assert consent.document_content_type == "image/png"
    assert "Muster" not in consent.document.name
    assert consent.document.name.startswith(f"consents/{rav_client.public_id}/")
    with consent.document.open("rb") as stored:
        ciphertext = stored.read()
    assert PNG not in ciphertext
    assert decrypt_bytes(ciphertext) == PNG


def test_it_revokes_a_consent_and_cuts_access_at_once(rav_adviser, iv_specialist, rav_client, world):
    # given the IV-Stelle also has the client and sees the RAV's contact details under a consent
    RegistrationFactory(client=rav_client, institution=world.disability)
    consent = ConsentFactory(
        client=rav_client, institutions=[world.labour, world.disability], categories=[DataCategory.PERSONAL]
    )
    assert access.client_access_for(user=iv_specialist, client=rav_client).may_see_contact_details()

    # when the client revokes it
    services.consent_revoke(actor=rav_adviser, consent=consent, reason="Widerruf am Schalter")

    # then the next access check no longer shows the contact details, and the revocation is audited
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    assert consent.revoked_by == rav_adviser
    assert not access.client_access_for(user=iv_specialist, client=rav_client).may_see_contact_details()
    assert AuditEvent.objects.filter(object_type="consent", object_id=str(consent.pk), details__revoked=True).exists()


def test_it_refuses_to_revoke_twice(rav_adviser, rav_client, world):
    # given
    consent = ConsentFactory(client=rav_client, institutions=[world.labour], revoked_at=timezone.now())

    # when / then
    with pytest.raises(ValidationError) as refused:
        services.consent_revoke(actor=rav_adviser, consent=consent, reason="nochmals")
    assert refused.value.code == "already_revoked"


def test_it_requires_a_reason_for_a_revocation(rav_adviser, rav_client, world):
    # given
    consent = ConsentFactory(client=rav_client, institutions=[world.labour])

    # when
    with pytest.raises(ValidationError) as refused:
        services.consent_revoke(actor=rav_adviser, consent=consent, reason="   ")

    # then
    assert "revocation_reason" in refused.value.message_dict
    consent.refresh_from_db()
    assert consent.revoked_at is None


def test_it_refuses_consent_changes_by_users_who_do_not_see_the_client(biz_adviser, rav_client, world):
    # given the biz adviser has no registration and no case for the RAV's client
    consent = ConsentFactory(client=rav_client, institutions=[world.labour])

    # when / then
    with pytest.raises(PermissionDenied):
        record_consent(biz_adviser, rav_client, [world.youth])
    with pytest.raises(PermissionDenied):
        services.consent_revoke(actor=biz_adviser, consent=consent, reason="fremd")


def test_it_gives_every_generated_client_a_unique_valid_ahv_number(db):
    # given / when
    clients = ClientFactory.create_batch(5, registered=False)

    # then
    numbers = [c.ahv_number for c in clients]
    assert len(set(numbers)) == 5
    assert all(ahv_from_serial(int(n[3:12])) == n for n in numbers)
