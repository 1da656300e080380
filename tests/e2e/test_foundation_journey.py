"""The foundation in a real browser: sign in, switch to French, find a person, open the file; axe-core scans.

Chromium is the machine's (/usr/bin/chromium); Playwright never downloads a browser here. All browser
tests share one xdist group so that only one Chromium runs at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import Browser, Page, expect, sync_playwright

from iiz.demo.world import DEMO_PASSWORD
from iiz.organisations.models import InstitutionKind, OrganisationalUnit, User
from tests.conftest import CHROMIUM
from tests.factories import ClientFactory, ConsentFactory, RegistrationFactory, partner

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"needs Chromium at {CHROMIUM}")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test and of
    # pytest-django's teardown are still plain synchronous code.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def rav_clients(committed_world: None) -> list:
    """Three persons registered at RAV Uster, committed so that the live server sees them."""
    labour = partner(InstitutionKind.LABOUR)
    unit = OrganisationalUnit.objects.get(name="RAV Uster")
    clients = [
        ClientFactory(last_name="Muster", first_name="Anna", registered=False),
        ClientFactory(last_name="Muster", first_name="Beat", registered=False),
        ClientFactory(last_name="Keller", first_name="Chiara", registered=False),
    ]
    for client in clients:
        RegistrationFactory(client=client, institution=labour, unit=unit)
    # Anna's file lists a consent in each state, so that the scans see every badge.
    adviser = User.objects.get(username="rav-berater")
    for state in [{}, {"superseded_at": timezone.now()}, {"revoked_at": timezone.now(), "revoked_by": adviser}]:
        ConsentFactory(client=clients[0], recorded_by=adviser, institutions=[labour], **state)
    return clients


@pytest.fixture
def page(browser: Browser, live_server, rav_clients) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, locale="de-CH")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page) -> None:
    page.goto("/konto/anmelden/")
    page.fill("#id_username", "rav-berater")
    page.fill("#id_password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def search(page: Page, surname: str) -> None:
    page.click('nav a[href="/klienten/"]')
    page.fill("#q", surname)
    page.press("#q", "Enter")
    page.wait_for_selector("#search-results table a")


def blocking_violations(page: Page) -> list[dict]:
    results = Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in results.response["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]


def french(text: str) -> str:
    with translation.override("fr"):
        return gettext(text)


def test_it_walks_a_case_worker_through_sign_in_search_and_file_in_french(page: Page):
    # given the RAV adviser signs in and switches the header's language select to French (choosing alone
    # changes nothing: the page reloads only with the button, WCAG 3.2.2)
    sign_in(page)
    page.select_option("#language-select", "fr")
    with page.expect_navigation():
        page.click(".lang-switch button[type=submit]")

    # when the adviser searches a person by surname and opens the file
    search(page, "Muster")
    results = page.locator("#search-results table tbody tr")
    expect(results).to_have_count(2)
    with page.expect_navigation():
        page.click("text=Muster, Anna")

    # then the file is shown, in French
    expect(page.locator("html")).to_have_attribute("lang", "fr-CH")
    expect(page.locator("h1")).to_have_text("Muster, Anna")
    assert french("Personalien") != "Personalien"
    expect(page.locator("#identity-heading")).to_have_text(french("Personalien"))
    expect(page.locator("#registrations-heading")).to_have_text(french("Anmeldungen bei Institutionen"))
    expect(page.locator("body")).to_contain_text("RAV Uster")
    assert blocking_violations(page) == []


def test_it_has_no_serious_accessibility_violations_on_the_main_pages(page: Page):
    # given / when each main page is scanned with axe-core
    page.goto("/konto/anmelden/")
    login = blocking_violations(page)
    sign_in(page)
    start = blocking_violations(page)
    search(page, "Muster")
    results = blocking_violations(page)
    with page.expect_navigation():
        page.click("text=Muster, Anna")
    detail = blocking_violations(page)

    # then none of them has a serious or critical violation
    assert {"login": login, "start": start, "search": results, "detail": detail} == {
        "login": [],
        "start": [],
        "search": [],
        "detail": [],
    }


def test_it_keeps_the_pages_accessible_with_form_errors(page: Page):
    # given the create form posted empty (every required field marked as invalid)
    sign_in(page)
    page.goto("/klienten/neu/")
    with page.expect_navigation():
        page.click("main button[type=submit]")

    # when / then
    expect(page.locator(".error-summary")).to_be_visible()
    assert blocking_violations(page) == []


def test_it_lets_the_coordinator_answer_an_access_request_without_a_case(page: Page, rav_clients: list):
    # given the coordinator, whom no case links to Anna Muster
    anna = rav_clients[0]
    page.goto("/konto/anmelden/")
    page.fill("#id_username", "koordinatorin")
    page.fill("#id_password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")

    # when she records Anna's request from the navigation and downloads the report
    with page.expect_navigation():
        page.click('nav a[href="/auskunftsbegehren/"]')
    register = blocking_violations(page)
    page.fill("#id_ahv_number", anna.ahv_display)
    page.fill("#id_identity_check", "Persönliche Vorsprache mit Identitätskarte")
    with page.expect_navigation():
        page.click("main form.form button[type=submit]")
    with page.expect_download() as download:
        page.click("button[value=pdf]")

    # then the report is a PDF, and both pages pass the accessibility scan
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    expect(page.locator("h1")).to_have_text("Auskunft an die betroffene Person")
    assert {"register": register, "report": blocking_violations(page)} == {"register": [], "report": []}


def test_it_asks_before_recording_a_person_who_is_likely_recorded_already(page: Page, rav_clients: list):
    # given the RAV adviser records Anna Muster again, with her birth date and a new AHV number
    anna = rav_clients[0]
    sign_in(page)
    page.goto("/klienten/neu/")
    page.fill("#id_ahv_number", "756.1234.5678.97")
    page.fill("#id_last_name", "Muster")
    page.fill("#id_first_name", "Anna")
    page.fill("#id_date_of_birth", anna.date_of_birth.isoformat())
    page.select_option("#id_sex", "female")
    with page.expect_navigation():
        page.click("main button[type=submit]")

    # when the adviser looks at the question and confirms that it is another person
    expect(page.locator("#similar-heading")).to_be_visible()
    expect(page.locator(f'a[href="{anna.get_absolute_url()}"]')).to_be_visible()
    question = blocking_violations(page)
    page.check("#id_confirm_new")
    with page.expect_navigation():
        page.click("main button[type=submit]")

    # then the typed data were kept, the person is recorded, and the question page passes the scan
    expect(page.locator("h1")).to_have_text("Muster, Anna")
    assert anna.get_absolute_url() not in page.url
    assert question == []


def test_it_keeps_what_was_typed_when_the_database_fails_on_submit(page: Page, rav_clients: list, monkeypatch):
    # given the RAV adviser changing Anna Muster's address while the database fails on the submit
    from django.db import OperationalError

    from iiz.clients import services as client_services

    def database_down(**kwargs):
        raise OperationalError("connection to server failed: Connection refused")

    anna = rav_clients[0]
    sign_in(page)
    page.goto(f"{anna.get_absolute_url()}kontakt/")
    page.fill("#id_street", "Seestrasse")
    page.fill("#id_town", "Uster")
    with monkeypatch.context() as patch:
        patch.setattr(client_services, "client_update_contact", database_down)
        with page.expect_navigation():
            page.click("main button[type=submit]")
        # then the platform's own page says nothing was saved and leads back to the form
        expect(page.locator("h1")).to_have_text("Vorübergehend nicht verfügbar")
        outage_violations = blocking_violations(page)
        with page.expect_navigation():
            page.click("[data-history-back]")

    # and back on the form, what she typed is filled in again, and she is told so
    expect(page.locator("#id_street")).to_have_value("Seestrasse")
    expect(page.locator("#id_town")).to_have_value("Uster")
    expect(page.locator("main form .message[role=status]")).to_contain_text("wieder eingefüllt")
    # and once the database is back, the same form saves
    with page.expect_navigation():
        page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("Muster, Anna")
    anna.refresh_from_db()
    assert (anna.street, anna.town) == ("Seestrasse", "Uster")
    assert outage_violations == []
