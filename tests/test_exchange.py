"""The exchange in a case: consent-gated sending and reading, encrypted documents, receipts, the directory.

The case is built through the real services (screening, target-group check, case opening by the IV
specialist, participants added); consents are built with the factory so that each test states exactly what
the client agreed to.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from django.utils import timezone

from iiz.audit.models import AuditAction, AuditBasis, AuditEvent
from iiz.cases import services as case_services
from iiz.cases.models import Case, LifeSituation, ProblemTopic
from iiz.clients.models import Client, DataCategory
from iiz.clients.services import consent_revoke
from iiz.exchange import services
from iiz.exchange import urls as exchange_urls
from iiz.exchange.models import Document, LegalBasis, LegalProvision, Message, MessageKind, ReadReceipt
from iiz.organisations.models import Municipality, Role, User
from iiz.organisations.selectors import directory_specialists
from tests.factories import ClientFactory, ConsentFactory, RegistrationFactory, UnitFactory, UserFactory

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def today() -> dt.date:
    return timezone.localdate()


def uster() -> Municipality:
    return Municipality.objects.get(bfs_number=198, valid_until__isnull=True)


def case_build(*, specialist: User, client: Client, participants: list[User]) -> Case:
    """Screening, a passing target-group check and the case opened by the specialist, with participants."""
    screening = case_services.screening_record(
        actor=specialist,
        client=client,
        life_situations=LifeSituation.objects.filter(code="frequent-certified-absences"),
        screened_on=today() - dt.timedelta(days=3),
    )
    check = case_services.target_group_check_record(
        actor=specialist,
        client=client,
        employable=True,
        topics=ProblemTopic.objects.filter(code__in=["health", "debt"]),
        topics_block_integration=True,
        checked_on=today() - dt.timedelta(days=2),
        screening=screening,
    )
    case = case_services.case_open(
        actor=specialist, client=client, target_group_check=check, opened_on=today() - dt.timedelta(days=1)
    )
    for user in participants:
        case_services.case_participant_add(actor=specialist, case=case, user=user)
    return case


def person_build(world) -> Client:
    """A person in Uster, registered with the RAV and the IV-Stelle."""
    client = ClientFactory(registered=False, municipality=uster())
    RegistrationFactory(client=client, institution=world.labour, unit=world.rav_uster)
    RegistrationFactory(client=client, institution=world.disability)
    return client


@pytest.fixture
def person(world) -> Client:
    return person_build(world)


@pytest.fixture
def case(person, iv_specialist, rav_adviser, social_worker, coordinator) -> Case:
    """IV (opened it), RAV, the social service of Uster and the Geschäftsstelle take part."""
    return case_build(specialist=iv_specialist, client=person, participants=[rav_adviser, social_worker, coordinator])


@pytest.fixture
def occupational_consent(person, world, rav_adviser):
    """RAV and IV may exchange occupational data (not medical)."""
    return ConsentFactory(
        client=person,
        recorded_by=rav_adviser,
        institutions=[world.labour, world.disability],
        categories=[DataCategory.OCCUPATIONAL],
    )


def exchange_url(case: Case, name: str = "case", *args: object) -> str:
    return reverse(f"exchange:{name}", args=[case.reference, *args])


def notice(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": MessageKind.NOTICE,
        "category": DataCategory.OCCUPATIONAL,
        "subject": "Stellensuche läuft gut",
        "body": "Drei Bewerbungen diese Woche.",
        "document_kind": "report",
    }
    data.update(overrides)
    return data


def send_notice(case: Case, actor: User, recipient, category: str = DataCategory.OCCUPATIONAL) -> Message:
    return services.message_send(
        actor=actor,
        case=case,
        kind=MessageKind.NOTICE,
        category=category,
        subject="Bewerbungsstand",
        body="Vier Bewerbungen, ein Vorstellungsgespräch.",
        recipients=[recipient],
    )


def pdf_upload(name: str = "bericht.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# ---------------------------------------------------------------------------------------------------
# Sending


def test_it_refuses_a_message_without_consent_with_the_reason_and_saves_nothing(
    case, world, rav_adviser, http_as, occupational_consent
):
    # given a consent for occupational data only
    # when the RAV adviser sends medical data to the IV-Stelle
    response = http_as(rav_adviser).post(
        exchange_url(case, "message_create"),
        notice(category=DataCategory.MEDICAL, recipients=[world.disability.pk], subject="Arztbericht Hausarzt"),
    )
    # then the send is refused with the reason at the recipients, the typed input is kept, nothing is saved
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "Keine gültige Einwilligung" in errors["recipients"][0]
    assert "Medizinisch" in errors["recipients"][0]
    assert response.context["form"]["subject"].value() == "Arztbericht Hausarzt"
    assert "Arztbericht Hausarzt" in response.content.decode()
    assert not Message.objects.filter(case=case).exists()
    assert not AuditEvent.objects.filter(client_id=case.client_id, object_type="message").exists()


def test_it_says_that_the_chosen_file_must_be_chosen_again_after_a_refusal(case, world, rav_adviser, http_as):
    # given no consent at all / when a notice with a document is refused
    response = http_as(rav_adviser).post(
        exchange_url(case, "message_create"),
        notice(recipients=[world.disability.pk], document=pdf_upload("lebenslauf.pdf")),
    )
    # then the form tells at the file field that the file was not kept; no file was stored
    assert response.status_code == 400
    assert "lebenslauf.pdf" in response.context["form"].errors["document"][0]
    assert "erneut" in response.context["form"].errors["document"][0]
    assert not Document.objects.filter(case=case).exists()


def test_it_sends_under_consent_and_audits_the_disclosure_with_basis_and_recipient(
    case, world, rav_adviser, http_as, occupational_consent
):
    # given a consent covering RAV and IV for occupational data
    # when the RAV adviser sends an occupational notice to the IV-Stelle
    response = http_as(rav_adviser).post(exchange_url(case, "message_create"), notice(recipients=[world.disability.pk]))
    # then it is sent and the disclosure is audited with the consent as basis and the IV as recipient
    assert response.status_code == 302
    message = Message.objects.get(case=case)
    assert list(message.recipients.all()) == [world.disability]
    event = AuditEvent.objects.get(action=AuditAction.DISCLOSE, object_type="message", object_id=str(message.pk))
    assert event.basis == AuditBasis.CONSENT
    assert event.recipient == "IV"
    assert event.actor == rav_adviser


def test_it_sends_under_a_legal_basis_recorded_by_the_coordinator(case, world, coordinator, iv_specialist, http_as):
    # given no consent; the coordinator records IVG Art. 68bis for medical data to the RAV
    provision = LegalProvision.objects.get(code="ivg-68bis")
    recorded = http_as(coordinator).post(
        exchange_url(case, "legal_basis_create"),
        {
            "provision": provision.pk,
            "institutions": [world.labour.pk],
            "categories": [DataCategory.MEDICAL],
            "justification": "Die ALV braucht die Einschätzung der Arbeitsfähigkeit für die Vermittlung.",
            "valid_from": today().isoformat(),
        },
    )
    assert recorded.status_code == 302
    # when the IV specialist sends medical data to the RAV
    message = send_notice(case, iv_specialist, world.labour, category=DataCategory.MEDICAL)
    # then the disclosure is audited with the legal basis
    event = AuditEvent.objects.get(action=AuditAction.DISCLOSE, object_type="message", object_id=str(message.pk))
    assert event.basis == AuditBasis.LEGAL
    assert event.recipient == "AFA"


def test_it_ends_a_legal_basis_and_access_ends_with_it(case, world, coordinator, iv_specialist, rav_adviser, http_as):
    # given a legal basis and a medical notice sent under it
    basis = services.legal_basis_record(
        actor=coordinator,
        case=case,
        provision=LegalProvision.objects.get(code="ivg-68bis"),
        institutions=[world.labour],
        categories=[DataCategory.MEDICAL],
        justification="Einschätzung der Arbeitsfähigkeit für die Vermittlung.",
        valid_from=today(),
    )
    message = send_notice(case, iv_specialist, world.labour, category=DataCategory.MEDICAL)
    assert http_as(rav_adviser).get(exchange_url(case, "message", message.public_id)).status_code == 200
    # when the coordinator ends it
    response = http_as(coordinator).post(exchange_url(case, "legal_basis_end", basis.pk))
    # then the RAV no longer reads the message
    assert response.status_code == 302
    assert LegalBasis.objects.get(pk=basis.pk).ended_at is not None
    assert http_as(rav_adviser).get(exchange_url(case, "message", message.public_id)).status_code == 404


def test_it_lets_only_coordinators_record_legal_bases(case, rav_adviser, iv_specialist, http_as):
    # given participants without the coordinator role / when they open the form / then 403
    for user in (rav_adviser, iv_specialist):
        assert http_as(user).get(exchange_url(case, "legal_basis_create")).status_code == 403


# ---------------------------------------------------------------------------------------------------
# Reading


def test_it_shows_the_message_to_the_recipient_and_not_to_another_participant(
    case, world, rav_adviser, iv_specialist, social_worker, http_as, occupational_consent
):
    # given a notice from the RAV to the IV-Stelle
    message = send_notice(case, rav_adviser, world.disability)
    # when the IV specialist and the social worker (also in the case) open the exchange
    iv_page = http_as(iv_specialist).get(exchange_url(case)).content.decode()
    social_page = http_as(social_worker).get(exchange_url(case)).content.decode()
    # then the IV sees and opens it; the social service does not see it at all, and guessing it is a 404
    assert message.subject in iv_page
    assert exchange_url(case, "message", message.public_id) in iv_page
    assert message.subject not in social_page
    assert str(message.public_id) not in social_page
    assert http_as(iv_specialist).get(exchange_url(case, "message", message.public_id)).status_code == 200
    assert http_as(social_worker).get(exchange_url(case, "message", message.public_id)).status_code == 404
    assert AuditEvent.objects.filter(
        actor=social_worker, action=AuditAction.DENIED, object_id=str(message.public_id)
    ).exists()


def test_it_withholds_at_once_when_the_consent_is_revoked(
    case, world, rav_adviser, iv_specialist, http_as, occupational_consent
):
    # given a notice the IV read under the consent
    message = send_notice(case, rav_adviser, world.disability)
    url = exchange_url(case, "message", message.public_id)
    assert http_as(iv_specialist).get(url).status_code == 200
    # when the consent is revoked
    consent_revoke(actor=rav_adviser, consent=occupational_consent, reason="Die Person widerruft mündlich.")
    # then the IV sees it as withheld with the reason, and opening it is a 404 that is logged
    page = http_as(iv_specialist).get(exchange_url(case)).content.decode()
    assert "zurückgehalten:" in page
    assert "keine gültige Einwilligung für die Kategorie «Beruflich»" in page
    assert message.subject not in page
    assert http_as(iv_specialist).get(url).status_code == 404
    denied = AuditEvent.objects.filter(actor=iv_specialist, action=AuditAction.DENIED, object_type="message").get()
    assert denied.basis == AuditBasis.NONE
    assert denied.client_id == case.client_id


def test_it_records_the_reading_with_its_basis(case, world, rav_adviser, iv_specialist, http_as, occupational_consent):
    # given a notice under consent / when the IV opens it
    message = send_notice(case, rav_adviser, world.disability)
    http_as(iv_specialist).get(exchange_url(case, "message", message.public_id))
    # then the reading is audited on the consent and a receipt is left
    read = AuditEvent.objects.get(actor=iv_specialist, action=AuditAction.READ, object_type="message")
    assert read.basis == AuditBasis.CONSENT
    assert ReadReceipt.objects.filter(user=iv_specialist, message=message).count() == 1


def test_it_shows_read_receipts_to_the_sender(case, world, rav_adviser, iv_specialist, http_as, occupational_consent):
    # given a notice not yet opened
    message = send_notice(case, rav_adviser, world.disability)
    sender = http_as(rav_adviser)
    assert "noch nicht geöffnet" in sender.get(exchange_url(case)).content.decode()
    # when the IV specialist opens it
    http_as(iv_specialist).get(exchange_url(case, "message", message.public_id))
    # then the sender sees who opened it and when, on the list and on the message
    receipt = ReadReceipt.objects.get(message=message)
    when = timezone.localtime(receipt.read_at).strftime("%d.%m.%Y %H:%M")
    for page in (sender.get(exchange_url(case)), sender.get(exchange_url(case, "message", message.public_id))):
        text = page.content.decode()
        assert f"Ivana Meier (IV) hat am {when} geöffnet" in text


def test_it_holds_an_answer_back_until_consent_covers_it(
    case, world, rav_adviser, iv_specialist, http_as, occupational_consent
):
    # given a medical request from the RAV, no consent for medical data
    request_message = services.message_send(
        actor=rav_adviser,
        case=case,
        kind=MessageKind.REQUEST,
        category=DataCategory.MEDICAL,
        subject="Arbeitsfähigkeit aus ärztlicher Sicht?",
        body="Bitte um Einschätzung.",
        recipients=[world.disability],
        due_on=today() + dt.timedelta(days=10),
    )
    iv = http_as(iv_specialist)
    assert "Arbeitsfähigkeit aus ärztlicher Sicht?" in iv.get(exchange_url(case)).content.decode()
    # when the IV answers with a document
    answered = iv.post(
        exchange_url(case, "answer", request_message.public_id),
        {"body": "Arbeitsfähig zu 50 %.", "document": pdf_upload(), "document_kind": "medical_certificate"},
    )
    # then the answer is deposited but held: the RAV sees it withheld and cannot open it
    assert answered.status_code == 302
    answer = Message.objects.get(kind=MessageKind.ANSWER)
    held = AuditEvent.objects.get(object_type="message", object_id=str(answer.pk))
    assert (held.action, held.basis, held.details["held_for"]) == (AuditAction.CREATE, AuditBasis.NONE, ["AFA"])
    rav = http_as(rav_adviser)
    page = rav.get(exchange_url(case)).content.decode()
    assert "keine gültige Einwilligung für die Kategorie «Medizinisch»" in page
    assert "Arbeitsfähig zu 50 %" not in page
    assert rav.get(exchange_url(case, "message", answer.public_id)).status_code == 404
    # when the IV-Stelle records the client's consent for medical data, the RAV reads it and the disclosure is
    # recorded once (a consent that only the RAV vouched for would not open medical data without the form)
    ConsentFactory(
        client=case.client,
        recorded_by=iv_specialist,
        institutions=[world.labour, world.disability],
        categories=[DataCategory.MEDICAL],
    )
    assert "Arbeitsfähig zu 50 %" in rav.get(exchange_url(case, "message", answer.public_id)).content.decode()
    rav.get(exchange_url(case, "message", answer.public_id))
    disclosed = AuditEvent.objects.get(action=AuditAction.DISCLOSE, object_type="message", object_id=str(answer.pk))
    assert (disclosed.basis, disclosed.recipient, disclosed.actor) == (AuditBasis.CONSENT, "AFA", iv_specialist)


def test_it_refuses_a_second_party_answering_a_request_not_addressed_to_it(
    case, world, rav_adviser, social_worker, http_as
):
    # given a request to the IV / when the social service tries to answer it / then it is a 404
    request_message = services.message_send(
        actor=rav_adviser,
        case=case,
        kind=MessageKind.REQUEST,
        category=DataCategory.MEDICAL,
        subject="Frage",
        body="?",
        recipients=[world.disability],
        due_on=today() + dt.timedelta(days=3),
    )
    response = http_as(social_worker).post(exchange_url(case, "answer", request_message.public_id), {"body": "x"})
    assert response.status_code == 404
    assert not Message.objects.filter(kind=MessageKind.ANSWER).exists()


# ---------------------------------------------------------------------------------------------------
# Documents


def share(http, case: Case, recipient, upload: SimpleUploadedFile, category: str = DataCategory.OCCUPATIONAL):
    return http.post(
        exchange_url(case, "document_share"),
        {
            "document": upload,
            "document_title": "Zwischenbericht",
            "document_kind": "report",
            "recipients": [recipient.pk],
            "category": category,
        },
    )


def test_it_refuses_a_disguised_file(case, world, rav_adviser, http_as, occupational_consent):
    # given a text file named like a PDF / when it is shared
    response = share(http_as(rav_adviser), case, world.disability, pdf_upload("x.pdf", b"just text, not a PDF"))
    # then it is refused at the file field and nothing is stored
    assert response.status_code == 400
    assert "Nur PDF-Dateien und Bilder" in response.context["form"].errors["document"][0]
    assert not Document.objects.exists()


@override_settings(IIZ_UPLOAD_MAX_BYTES=64)
def test_it_refuses_an_oversized_file(case, world, rav_adviser, http_as, occupational_consent):
    # given a limit of 64 bytes / when a larger PDF is shared / then it is refused
    response = share(http_as(rav_adviser), case, world.disability, pdf_upload(content=PDF + b" " * 100))
    assert response.status_code == 400
    assert "zu gross" in response.context["form"].errors["document"][0]
    assert not Document.objects.exists()


def test_it_stores_the_document_encrypted_and_serves_the_original_to_the_recipient(
    case, world, rav_adviser, iv_specialist, http_as, occupational_consent
):
    # given a PDF shared with the IV under consent
    assert share(http_as(rav_adviser), case, world.disability, pdf_upload()).status_code == 302
    document = Document.objects.get()
    # then the file in the storage is not the plaintext
    with default_storage.open(document.file.name, "rb") as handle:
        raw = handle.read()
    assert b"%PDF-" not in raw
    assert PDF not in raw
    # when the IV downloads it / then it gets the original bytes, as an attachment with a neutral name
    response = http_as(iv_specialist).get(exchange_url(case, "document", document.public_id))
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "Zwischenbericht" not in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    read = AuditEvent.objects.get(actor=iv_specialist, action=AuditAction.READ, object_type="document")
    assert read.basis == AuditBasis.CONSENT


def test_it_never_exposes_the_storage_url(case, world, rav_adviser, iv_specialist, http_as, occupational_consent):
    # given a shared document / when the recipient lists the exchange / then no media URL appears
    share(http_as(rav_adviser), case, world.disability, pdf_upload())
    page = http_as(iv_specialist).get(exchange_url(case)).content.decode()
    assert "/media" not in page
    assert Document.objects.get().file.name not in page


def test_it_answers_a_guessed_document_id_with_404_and_logs_it(
    case, world, person, rav_adviser, iv_specialist, social_worker, biz_adviser, http_as, occupational_consent
):
    # given a document of this case for the social service only, and a document of another case
    ConsentFactory(
        client=person,
        recorded_by=iv_specialist,
        institutions=[world.disability, world.social_service_uster],
        categories=[DataCategory.SOCIAL_ASSISTANCE],
    )
    share(http_as(iv_specialist), case, world.social_service_uster, pdf_upload(), DataCategory.SOCIAL_ASSISTANCE)
    foreign_document = Document.objects.get()
    other_person = person_build(world)
    other_case = case_build(specialist=iv_specialist, client=other_person, participants=[rav_adviser])
    ConsentFactory(
        client=other_person,
        recorded_by=iv_specialist,
        institutions=[world.labour, world.disability],
        categories=[DataCategory.OCCUPATIONAL],
    )
    share(http_as(iv_specialist), other_case, world.labour, pdf_upload())
    other_case_document = Document.objects.get(case=other_case)
    rav = http_as(rav_adviser)
    # when the RAV adviser guesses both ids in this case's URL
    responses = [
        rav.get(exchange_url(case, "document", foreign_document.public_id)),
        rav.get(exchange_url(case, "document", other_case_document.public_id)),
        rav.get(exchange_url(case, "document", "not-a-uuid")),
    ]
    # then each is a 404 and each attempt is logged
    assert [r.status_code for r in responses] == [404, 404, 404]
    denied = AuditEvent.objects.filter(actor=rav_adviser, action=AuditAction.DENIED, object_type="document")
    assert sorted(denied.values_list("object_id", flat=True)) == sorted(
        [str(foreign_document.public_id), str(other_case_document.public_id), "not-a-uuid"]
    )


# ---------------------------------------------------------------------------------------------------
# Pages, outsiders, query counts


def test_it_renders_every_page_for_a_participant(case, world, coordinator, rav_adviser, http_as, occupational_consent):
    # given a message and a legal basis / when the coordinator and the adviser open the pages / then 200
    message = send_notice(case, rav_adviser, world.disability)
    basis = services.legal_basis_record(
        actor=coordinator,
        case=case,
        provision=LegalProvision.objects.get(code="ivg-68bis"),
        institutions=[world.labour],
        categories=[DataCategory.MEDICAL],
        justification="Einschätzung der Arbeitsfähigkeit.",
        valid_from=today(),
    )
    http = http_as(coordinator)
    for url in (
        exchange_url(case),
        exchange_url(case, "message_create"),
        exchange_url(case, "document_share"),
        exchange_url(case, "legal_basis_create"),
        exchange_url(case, "legal_basis_end", basis.pk),
    ):
        assert http.get(url).status_code == 200, url
    assert http_as(rav_adviser).get(exchange_url(case, "message", message.public_id)).status_code == 200


# The pages that take a POST (the others are GET only and answer a POST with 405 before any lookup).
POSTED = ["message_create", "answer", "document_share", "legal_basis_create", "legal_basis_end"]


def exchange_urls_of(case: Case, message: Message, document: Document, basis: LegalBasis) -> dict[str, str]:
    return {
        "case": exchange_url(case),
        "message_create": exchange_url(case, "message_create"),
        "message": exchange_url(case, "message", message.public_id),
        "answer": exchange_url(case, "answer", message.public_id),
        "document_share": exchange_url(case, "document_share"),
        "document": exchange_url(case, "document", document.public_id),
        "legal_basis_create": exchange_url(case, "legal_basis_create"),
        "legal_basis_end": exchange_url(case, "legal_basis_end", basis.pk),
    }


def test_it_answers_404_to_an_outsider_on_every_exchange_url(
    case, world, rav_adviser, coordinator, biz_adviser, http_as, occupational_consent
):
    # given a request, a document and a legal basis in the case
    message = services.message_send(
        actor=rav_adviser,
        case=case,
        kind=MessageKind.REQUEST,
        category=DataCategory.OCCUPATIONAL,
        subject="Frage",
        body="?",
        recipients=[world.disability],
        due_on=today() + dt.timedelta(days=3),
    )
    document = services.document_share(
        actor=rav_adviser,
        case=case,
        upload=pdf_upload(),
        title="Bericht",
        kind="report",
        category=DataCategory.OCCUPATIONAL,
        recipients=[world.disability],
    )
    basis = services.legal_basis_record(
        actor=coordinator,
        case=case,
        provision=LegalProvision.objects.get(code="ivg-68bis"),
        institutions=[world.labour],
        categories=[DataCategory.MEDICAL],
        justification="Einschätzung der Arbeitsfähigkeit.",
        valid_from=today(),
    )
    urls = exchange_urls_of(case, message, document, basis)
    routed = {p.name for p in exchange_urls.urlpatterns if isinstance(p, URLPattern)}
    assert routed == set(urls)
    outsider = http_as(biz_adviser)  # the biz adviser does not take part in the case
    # when the outsider tries every URL with GET and POST / then each is a 404, and nothing changed
    for name, url in urls.items():
        assert outsider.get(url).status_code == 404, name
    for name in POSTED:
        assert outsider.post(urls[name], {"body": "x", "subject": "x"}).status_code == 404, name
    assert Message.objects.count() == 1
    assert LegalBasis.objects.get(pk=basis.pk).ended_at is None
    denied = AuditEvent.objects.filter(actor=biz_adviser, action=AuditAction.DENIED, object_type="case")
    assert denied.count() == len(urls) + len(POSTED)


def test_it_reads_the_exchange_page_in_a_fixed_number_of_queries(
    case, world, rav_adviser, iv_specialist, http_as, occupational_consent
):
    # given one message with a document and a receipt
    http = http_as(rav_adviser)

    def add_message() -> None:
        message = services.message_send(
            actor=rav_adviser,
            case=case,
            kind=MessageKind.NOTICE,
            category=DataCategory.OCCUPATIONAL,
            subject="Bewerbungsstand",
            body="Text",
            recipients=[world.disability],
            attachment=pdf_upload(),
            attachment_title="Beilage",
        )
        ReadReceipt.objects.create(user=iv_specialist, message=message)

    add_message()
    http.get(exchange_url(case))
    with CaptureQueriesContext(connection) as one:
        assert http.get(exchange_url(case)).status_code == 200
    # when there are four more / then the page needs no more queries
    for _ in range(4):
        add_message()
    with CaptureQueriesContext(connection) as five:
        assert http.get(exchange_url(case)).status_code == 200
    assert len(five) == len(one)


# ---------------------------------------------------------------------------------------------------
# Directory


@pytest.fixture
def specialists(world) -> dict[str, User]:
    """Besides the demo IV specialist (Uster, Bezirk Uster): one at the RAV Winterthur, one at biz Kloten."""
    return {
        "winterthur": UserFactory(
            unit=world.unit("RAV Winterthur"), roles=[Role.SPECIALIST], first_name="Wanda", last_name="Wyss"
        ),
        "kloten": UserFactory(
            unit=world.unit("biz Kloten"), roles=[Role.SPECIALIST], first_name="Kurt", last_name="Kunz"
        ),
        # Not in the directory: a case worker, and a specialist whose account is inactive.
        "worker": UserFactory(unit=world.unit("RAV Winterthur"), roles=[Role.CASE_WORKER], last_name="Nurberater"),
        "inactive": UserFactory(
            unit=world.unit("RAV Winterthur"), roles=[Role.SPECIALIST], last_name="Ausgetreten", is_active=False
        ),
    }


def test_it_lists_active_specialists_with_filters(world, specialists, iv_specialist):
    # given three active specialists / when filtered / then each filter narrows the list
    everyone = list(directory_specialists())
    assert set(everyone) == {iv_specialist, specialists["winterthur"], specialists["kloten"]}
    assert list(directory_specialists(institution_id=world.labour.pk)) == [specialists["winterthur"]]
    winterthur_district = world.unit("RAV Winterthur").municipality.district.number
    assert list(directory_specialists(district_number=winterthur_district)) == [specialists["winterthur"]]
    assert list(directory_specialists(query="kloten")) == [specialists["kloten"]]
    assert list(directory_specialists(query="Meier IV")) == [iv_specialist]
    assert list(directory_specialists(institution_id=world.youth.pk, query="Winterthur")) == []


def test_it_reads_the_directory_in_a_fixed_number_of_queries(world, specialists):
    # given three specialists / when ten more join / then the selector still needs one query
    with CaptureQueriesContext(connection) as few:
        rows = list(directory_specialists())
        [(u.unit.institution.name, u.unit.municipality and u.unit.municipality.district.name) for u in rows]
    for _ in range(10):
        UserFactory(unit=world.unit("RAV Uster"), roles=[Role.SPECIALIST])
    with CaptureQueriesContext(connection) as many:
        rows = list(directory_specialists())
        [(u.unit.institution.name, u.unit.municipality and u.unit.municipality.district.name) for u in rows]
    assert len(rows) == 13
    assert len(few) == len(many) == 1


def test_it_shows_the_directory_page_filtered_in_two_clicks(world, specialists, rav_adviser, http_as):
    # given the start page lists the directory in the navigation
    http = http_as(rav_adviser)
    home = http.get(reverse("home")).content.decode()
    assert f'href="{reverse("directory")}"' in home
    # when the adviser opens it and clicks the RAV filter
    page = http.get(reverse("directory")).content.decode()
    assert f'href="{reverse("directory")}?institution={world.labour.pk}"' in page
    filtered = http.get(reverse("directory"), {"institution": world.labour.pk})
    # then only the RAV specialist is listed, with contact details
    text = filtered.content.decode()
    assert "Wyss" in text and "Kunz" not in text and "Meier" not in text
    assert specialists["winterthur"].email in text
    # and the htmx request gets only the results
    fragment = http.get(reverse("directory"), {"q": "Kunz"}, headers={"HX-Request": "true"}).content.decode()
    assert "Kunz" in fragment and "<html" not in fragment


def test_it_keeps_the_directory_from_roles_without_client_work(committee, http_as):
    # given the operating committee / when it opens the directory / then 403
    assert http_as(committee).get(reverse("directory")).status_code == 403


def test_it_refuses_a_filter_that_is_not_a_district(rav_adviser, http_as):
    response = http_as(rav_adviser).get(reverse("directory"), {"district": "abc"})
    assert response.status_code == 400


def test_it_shows_specialists_of_a_new_unit_without_a_site(specialists, rav_adviser, http_as):
    # given a specialist in a unit without municipality / then the directory says "ganzer Kanton"
    UserFactory(unit=UnitFactory(name="Mobile Beratung"), roles=[Role.SPECIALIST], last_name="Mobil")
    text = http_as(rav_adviser).get(reverse("directory"), {"q": "Mobil"}).content.decode()
    assert "ganzer Kanton" in text
