"""Issue 5 in a real browser: a medical request, an answer held back until consent, revocation cuts access.

The RAV adviser asks the IV-Stelle for medical information in a case; the IV specialist (a second browser
context) answers with a PDF. The adviser sees the answer only as withheld until a consent for the medical
category is recorded (through the client page), then reads it and downloads the document; after the
revocation the answer is withheld again and its URL is a 404. The audit trail lists every step.

Chromium is the machine's (/usr/bin/chromium); Playwright never downloads a browser here. Set
``IIZ_E2E_SCREENSHOTS=/some/dir`` to keep a screenshot of each step.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from iiz.audit.models import AuditEvent
from iiz.cases import services as case_services
from iiz.cases.models import Case, LifeSituation, ProblemTopic
from iiz.clients.models import Client, DataCategory
from iiz.clients.services import consent_record
from iiz.demo.world import DEMO_PASSWORD, demo_world_build
from iiz.exchange.models import Document, Message, MessageKind
from iiz.organisations.models import InstitutionKind, Municipality, OrganisationalUnit, User
from tests.conftest import CHROMIUM
from tests.factories import ClientFactory, RegistrationFactory, partner

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BLOCKING_IMPACTS = {"serious", "critical"}
SUBJECT = "Ärztliche Einschätzung der Arbeitsfähigkeit"
ANSWER_TEXT = "Arbeitsfähig zu 50 % in einer leichten, wechselbelastenden Tätigkeit."


def tiny_pdf() -> bytes:
    """A minimal valid one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PDF = tiny_pdf()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"needs Chromium at {CHROMIUM}")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still plain
    # synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ.update({"DJANGO_ALLOW_ASYNC_UNSAFE": previous} if previous is not None else {})


@dataclass
class Journey:
    client: Client
    case: Case


@pytest.fixture
def journey(committed_world: None) -> Journey:
    """A person registered with the RAV and the IV, a case opened by the IV specialist, the RAV adviser in it,
    and a consent for occupational data (not medical) between RAV and IV. Committed for the live server.
    """
    demo_world_build()
    labour, disability = partner(InstitutionKind.LABOUR), partner(InstitutionKind.DISABILITY)
    specialist = User.objects.get(username="iv-spezialistin")
    adviser = User.objects.get(username="rav-berater")
    client = ClientFactory(
        first_name="Lea",
        last_name="Beispiel",
        registered=False,
        municipality=Municipality.objects.get(bfs_number=198, valid_until__isnull=True),
    )
    RegistrationFactory(client=client, institution=labour, unit=OrganisationalUnit.objects.get(name="RAV Uster"))
    RegistrationFactory(
        client=client,
        institution=disability,
        unit=OrganisationalUnit.objects.get(name="IV-Stelle Zürich, Eingliederung Oberland"),
    )
    today = timezone.localdate()
    screening = case_services.screening_record(
        actor=specialist,
        client=client,
        life_situations=LifeSituation.objects.filter(code="frequent-certified-absences"),
        screened_on=today - dt.timedelta(days=3),
    )
    check = case_services.target_group_check_record(
        actor=specialist,
        client=client,
        employable=True,
        topics=ProblemTopic.objects.filter(code__in=["health", "debt"]),
        topics_block_integration=True,
        checked_on=today - dt.timedelta(days=2),
        screening=screening,
    )
    assert check.passed
    case = case_services.case_open(
        actor=specialist, client=client, target_group_check=check, opened_on=today - dt.timedelta(days=1)
    )
    case_services.case_participant_add(actor=specialist, case=case, user=adviser)
    consent_record(
        actor=adviser,
        client=client,
        institutions=[labour, disability],
        categories=[DataCategory.OCCUPATIONAL],
        purpose="Koordination der Stellensuche im iiz-Fall",
        valid_from=today - dt.timedelta(days=1),
        verbal_statement="Im Erstgespräch mündlich erteilt",
        form_due_on=today + dt.timedelta(days=14),
    )
    return Journey(client=client, case=case)


def signed_in(browser: Browser, base_url: str, username: str) -> BrowserContext:
    context = browser.new_context(base_url=base_url, locale="de-CH", accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/konto/anmelden/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    expect(page.locator(".user-box")).to_be_visible()
    return context


def snap(page: Page, name: str) -> None:
    folder = os.environ.get("IIZ_E2E_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"exchange-{name}.png"), full_page=True)


def blocking_violations(page: Page) -> list[dict]:
    results = Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in results.response["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]


def test_it_holds_a_medical_answer_until_consent_and_cuts_access_on_revocation(
    browser: Browser, live_server, journey: Journey
):
    exchange = f"/faelle/{journey.case.reference}/austausch/"
    violations: dict[str, list[dict]] = {}

    # given the RAV adviser asks the IV-Stelle for medical information in the case
    rav = signed_in(browser, live_server.url, "rav-berater").pages[0]
    rav.goto(exchange)
    with rav.expect_navigation():
        rav.click("text=Neue Nachricht")
    rav.select_option("#id_kind", MessageKind.REQUEST)
    rav.get_by_label("SVA Zürich IV-Stelle").check()
    rav.select_option("#id_category", DataCategory.MEDICAL)
    rav.fill("#id_subject", SUBJECT)
    rav.fill("#id_body", "Wie viel Prozent ist Frau Beispiel in einer leichten Tätigkeit arbeitsfähig?")
    rav.fill("#id_due_on", (timezone.localdate() + dt.timedelta(days=10)).isoformat())
    snap(rav, "1-request-form")
    violations["message form"] = blocking_violations(rav)
    with rav.expect_navigation():
        rav.click("main button[type=submit]")
    expect(rav.locator(".message--success")).to_contain_text(SUBJECT)
    expect(rav.locator(".exchange-item").first).to_contain_text("noch nicht geöffnet")

    # when the IV specialist reads the request (highlighted on the exchange page) and answers it with a PDF
    iv = signed_in(browser, live_server.url, "iv-spezialistin").pages[0]
    iv.goto(exchange)
    card = iv.locator(".request-card", has_text=SUBJECT)
    expect(card).to_be_visible()
    expect(card.locator(".notice")).to_contain_text("zurückgehalten")
    snap(iv, "2-open-request")
    violations["exchange (IV)"] = blocking_violations(iv)
    with iv.expect_navigation():
        card.get_by_role("link", name=SUBJECT).click()
    expect(iv.locator(".message-body")).to_contain_text("leichten Tätigkeit arbeitsfähig?")
    card = iv.locator("form.answer-form")
    card.locator("textarea").fill(ANSWER_TEXT)
    card.locator("input[type=file]").set_input_files(
        files=[{"name": "arztbericht.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    card.locator("input[name=document_title]").fill("Arztbericht Dr. Huber")
    card.locator("select[name=document_kind]").select_option("medical_certificate")
    with iv.expect_navigation():
        card.locator("button[type=submit]").click()
    expect(iv.locator(".message--warning")).to_contain_text("zurückgehalten")

    # then the RAV adviser sees the answer withheld, without its content, and cannot open it
    answer = Message.objects.get(case=journey.case, kind=MessageKind.ANSWER)
    document = Document.objects.get(message=answer)
    rav.goto(exchange)
    withheld = rav.locator(f"#nachricht-{answer.public_id}")
    expect(withheld).to_contain_text(f"Antwort auf Ihre Anfrage «{SUBJECT}»")
    expect(withheld).to_contain_text("keine gültige Einwilligung für die Kategorie «Medizinisch»")
    expect(rav.locator("main")).not_to_contain_text(ANSWER_TEXT)
    expect(rav.locator(f"#nachricht-{answer.public_id} a[href*='/nachricht/']")).to_have_count(0)
    # The request itself shows that the IV opened it.
    expect(rav.locator(".exchange-item", has_text=SUBJECT).last).to_contain_text("Ivana Meier (IV) hat am")
    snap(rav, "3-withheld")
    violations["exchange (RAV)"] = blocking_violations(rav)
    assert rav.goto(f"{exchange}nachricht/{answer.public_id}/").status == 404
    assert rav.goto(f"{exchange}dokument/{document.public_id}/").status == 404

    # when the adviser records the client's consent for medical data through the client page
    rav.goto(exchange)
    with rav.expect_navigation():
        withheld.get_by_role("link", name="Einwilligung erfassen").click()
    assert rav.url.endswith(f"/klienten/{journey.client.public_id}/einwilligungen/neu/")
    rav.get_by_label("Amt für Arbeit").check()
    rav.get_by_label("SVA Zürich IV-Stelle").check()
    rav.get_by_label("Medizinisch", exact=True).check()
    rav.fill("#id_purpose", "Austausch der ärztlichen Einschätzung im iiz-Fall")
    # The RAV receives the medical data: only the signed form lets its own consent record open them.
    rav.set_input_files(
        "#id_document", files=[{"name": "einwilligung.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    with rav.expect_navigation():
        rav.click("main button[type=submit]")
    expect(rav.locator(".message--success")).to_be_visible()

    # then the adviser opens the answer and downloads the original PDF
    rav.goto(exchange)
    with rav.expect_navigation():
        rav.locator(f"#nachricht-{answer.public_id} a[href*='/nachricht/']").click()
    expect(rav.locator(".message-body")).to_contain_text(ANSWER_TEXT)
    snap(rav, "4-answer-open")
    violations["message"] = blocking_violations(rav)
    with rav.expect_download() as download_info:
        rav.get_by_role("link", name="Arztbericht Dr. Huber").click()
    download = download_info.value
    assert Path(download.path()).read_bytes() == PDF
    assert download.suggested_filename.startswith("iiz-dokument-")
    assert "Huber" not in download.suggested_filename

    # when the consent for medical data is revoked
    rav.goto(f"/klienten/{journey.client.public_id}/")
    medical = rav.locator("li.consent", has_text="Medizinisch")
    with rav.expect_navigation():
        medical.get_by_role("link", name="Widerruf erfassen").click()
    rav.fill("#id_revocation_reason", "Die Person widerruft am Telefon.")
    with rav.expect_navigation():
        rav.click("main button[type=submit]")

    # then the adviser loses access at once: withheld again, and the direct URLs are 404
    rav.goto(exchange)
    expect(rav.locator(f"#nachricht-{answer.public_id}")).to_contain_text("zurückgehalten:")
    expect(rav.locator("main")).not_to_contain_text(ANSWER_TEXT)
    snap(rav, "5-revoked")
    assert rav.goto(f"{exchange}nachricht/{answer.public_id}/").status == 404
    assert rav.goto(f"{exchange}dokument/{document.public_id}/").status == 404

    # and the client's audit trail lists each step, in order, with its basis
    steps = [
        (e.actor_username, e.action, e.object_type, e.basis)
        for e in AuditEvent.objects.filter(client_id=journey.client.pk).order_by("id")
    ]
    expected = [
        ("rav-berater", "create", "message", "case"),  # the request: asking is not disclosing
        ("iv-spezialistin", "read", "message", "case"),  # the IV opens the request
        ("iv-spezialistin", "create", "message", "none"),  # the answer, deposited but held back
        ("rav-berater", "denied", "message", "none"),  # no consent for medical data: 404
        ("rav-berater", "denied", "document", "none"),
        ("rav-berater", "create", "consent", "registration"),
        ("iv-spezialistin", "disclose", "message", "consent"),  # reaches the RAV under the consent
        ("rav-berater", "read", "message", "consent"),
        ("rav-berater", "read", "document", "consent"),
        ("rav-berater", "update", "consent", "registration"),  # the revocation
        ("rav-berater", "denied", "message", "none"),
        ("rav-berater", "denied", "document", "none"),
    ]
    remaining = iter(steps)
    missing = [step for step in expected if step not in remaining]
    assert missing == [], steps

    # and the client's "who saw my file?" page shows them to the IV specialist
    iv.goto(f"/klienten/{journey.client.public_id}/protokoll/")
    rows = iv.locator("table tbody tr")
    expect(rows.filter(has_text="rav-berater").filter(has_text="Zugriff verweigert").first).to_be_visible()
    disclosed = rows.filter(has_text="iv-spezialistin").filter(has_text="bekanntgegeben").filter(has_text="message")
    expect(disclosed.first).to_contain_text("Einwilligung")
    expect(disclosed.first).to_contain_text("AFA")
    expect(
        rows.filter(has_text="rav-berater").filter(has_text="gelesen").filter(has_text="document").first
    ).to_contain_text("Einwilligung")
    snap(iv, "6-audit")

    # and the adviser finds the IV-Stelle's iiz specialist in two clicks: navigation, then the filter
    with rav.expect_navigation():
        rav.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Verzeichnis").click()
    with rav.expect_navigation():
        rav.locator(".chips").get_by_role("link", name="IV", exact=True).click()
    expect(rav.locator("#directory-results tbody tr")).to_have_count(1)
    expect(rav.locator("#directory-results")).to_contain_text("Ivana Meier")
    expect(rav.locator("#directory-results")).to_contain_text("iv-spezialistin@demo.iiz.invalid")
    snap(rav, "7-directory")
    violations["directory"] = blocking_violations(rav)
    assert violations == {name: [] for name in violations}
