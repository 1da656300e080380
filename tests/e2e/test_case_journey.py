"""One IIZ case played through in Chromium by users of four institutions, each in their own browser.

An IV specialist screens a client, checks the target group, opens a case and asks the Geschäftsstelle for
help; the coordinator escalates to a case team and schedules a meeting with the RAV adviser and the social
worker; the plan is agreed with measures from three institutions; an agreement of the RAV adviser turns
overdue and shows on his start page; the case closes with an outcome and a follow-up is recorded. Along
the way each user sees only what they may.

Set ``IIZ_E2E_SCREENSHOTS=/some/dir`` to keep screenshots of the main pages.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from iiz.cases.models import Agreement, Case, FollowUp, Meeting
from iiz.clients import services as client_services
from iiz.clients.models import Client, DataCategory
from iiz.organisations.models import Institution, Municipality, OrganisationalUnit, User
from tests.factories import ahv_from_serial

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000
SCREENSHOTS = os.environ.get("IIZ_E2E_SCREENSHOTS", "")


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"needs Chromium at {CHROMIUM}")
    # Playwright's sync API runs an event loop in this thread; the test still reads and writes through the
    # ORM between browser steps, which Django would otherwise refuse as "async-unsafe".
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _shot(page: Page, name: str, *, narrow: bool = False) -> None:
    if not SCREENSHOTS:
        return
    Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)
    if narrow:  # the same page on a phone
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-narrow.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})


class Session:
    """One user in their own browser context, signed in with the demo password."""

    def __init__(self, browser: Browser, base_url: str, username: str) -> None:
        self.base_url = base_url
        self.context: BrowserContext = browser.new_context(
            locale="de-CH", timezone_id="Europe/Zurich", viewport={"width": 1280, "height": 900}
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        # The strict Content-Security-Policy: anything the browser refuses is reported on the console.
        self.csp_violations: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.csp_violations.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        self.page.goto(f"{base_url}/konto/anmelden/")
        self.page.locator("#id_username").fill(username)
        self.page.locator("#id_password").fill("demo")
        self.page.get_by_role("button", name="Anmelden", exact=True).click()
        self.page.wait_for_url(f"{base_url}/")

    def go(self, path: str) -> Page:
        response = self.page.goto(f"{self.base_url}{path}")
        assert response is not None and response.ok, (path, response.status if response else None)
        return self.page


def _client_of_three_institutions() -> Client:
    """A 57-year-old in Uster, known to the IV-Stelle, the RAV and the social service.

    Her consent covers the exchange among these institutions and the Geschäftsstelle, but not medical data.
    """
    today = timezone.localdate()
    iv, rav, social = (
        User.objects.get(username=name) for name in ("iv-spezialistin", "rav-berater", "sozialdienst-uster")
    )
    client = client_services.client_create(
        actor=iv,
        ahv_number=ahv_from_serial(987_654_321),
        first_name="Martina",
        last_name="Journeyfrau",
        date_of_birth=today.replace(year=today.year - 57) - dt.timedelta(days=30),
        sex="female",
        municipality=Municipality.objects.get(bfs_number=198, valid_until__isnull=True),
        street="Bankstrasse",
        house_number="7",
        postal_code="8610",
        town="Uster",
        registration_unit=iv.unit,
        registered_on=today - dt.timedelta(days=60),
    )
    client_services.registration_create(
        actor=rav, client=client, unit=OrganisationalUnit.objects.get(name="RAV Uster"), registered_on=today
    )
    client_services.registration_create(
        actor=social, client=client, unit=social.unit, registered_on=today - dt.timedelta(days=10)
    )
    client_services.consent_record(
        actor=iv,
        client=client,
        institutions=[
            iv.institution,
            rav.institution,
            social.institution,
            Institution.objects.get(kind="coordination", municipality__isnull=True),
        ],
        categories=[
            DataCategory.PERSONAL,
            DataCategory.OCCUPATIONAL,
            DataCategory.SOCIAL_ASSISTANCE,
            DataCategory.FINANCIAL,
        ],
        purpose="Koordination der beruflichen Integration im iiz-Fall",
        valid_from=today - dt.timedelta(days=1),
        verbal_statement="Im Erstgespräch mündlich erteilt",
        form_due_on=today + dt.timedelta(days=14),
    )
    return client


def _add_measure(page: Page, institution: str, service: str, description: str, person: str, count: int) -> None:
    form = page.locator("#measure-form")
    institution_select = form.get_by_label("Verantwortliche Institution")
    # htmx narrows the services to the institution's catalogue (the full list is grouped by kind). Right after
    # htmx swapped the plan section in, a change can come before htmx has wired the new form up; choosing
    # again (via the empty choice, so that the browser fires a real change) then triggers the narrowing.
    for _attempt in range(3):
        institution_select.select_option(label=institution)
        try:
            expect(form.locator("#id_measure-service optgroup")).to_have_count(0, timeout=5_000)
            break
        except AssertionError:
            institution_select.select_option(index=0)
    expect(form.locator("#id_measure-service optgroup")).to_have_count(0)
    form.locator("#id_measure-service").select_option(label=service)
    form.locator("#id_measure-description").fill(description)
    form.get_by_label("Verantwortliche Person").select_option(label=person)
    form.locator("#id_measure-due_on").fill((timezone.localdate() + dt.timedelta(days=90)).isoformat())
    form.get_by_role("button", name="Massnahme hinzufügen").click()
    # htmx replaces the plan section; the new measure is in the draft's table.
    expect(page.locator("#plan .plan--draft table.measures tbody tr")).to_have_count(count)


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
def test_case_journey(live_server: object, committed_world: None, browser: Browser) -> None:
    expect.set_options(timeout=TIMEOUT_MS)
    base = str(live_server.url)  # type: ignore[attr-defined]
    client = _client_of_three_institutions()
    today = timezone.localdate()

    # --- The IV specialist screens the client, checks the target group and opens a case -------------------
    iv = Session(browser, base, "iv-spezialistin")
    page = iv.go(client.get_absolute_url())
    page.locator("#iiz").get_by_role("link", name="Früherkennung erfassen").click()
    page.wait_for_url(re.compile(r"/frueherkennung/$"))
    over_55 = page.get_by_label(re.compile(r"Arbeitnehmende über 55"))
    expect(over_55).to_be_checked()  # pre-selected from her age
    expect(page.get_by_label(re.compile(r"Jugendliche bis 25"))).not_to_be_checked()
    page.get_by_label(re.compile(r"häufigen oder regelmässigen")).check()
    page.get_by_label("Bemerkung", exact=True).fill("Lange krankgeschrieben, Stelle gefährdet.")
    _shot(page, "01-screening")
    page.get_by_role("button", name="Früherkennung speichern").click()

    page.wait_for_url(re.compile(r"/zielgruppe/\?screening=\d+$"))
    form = page.locator("#check-form")
    form.get_by_label("ja", exact=True).check()
    form.get_by_label("Gesundheit", exact=True).check()
    form.get_by_label("Schulden", exact=True).check()
    form.get_by_label("Diese Themen behindern die Integration in den ersten Arbeitsmarkt").check()
    form.get_by_role("button", name="Prüfen").click()

    page.wait_for_url(re.compile(r"/zielgruppe/\d+/$"))
    expect(page.locator("#result-heading")).to_contain_text("erfüllt")
    expect(page.locator("table.criteria .badge--stop")).to_have_count(0)
    _shot(page, "02-check")
    page.get_by_role("link", name="Fall eröffnen").click()

    form = page.locator("#open-form")
    form.get_by_label("Fallkoordination durch die Geschäftsstelle").check()
    form.get_by_label("Anlass und Begründung").fill("Gesundheit, Schulden und drohender Stellenverlust.")
    form.get_by_role("button", name="Fall eröffnen").click()
    page.wait_for_url(re.compile(r"/faelle/IIZ-\d{4}-\d{5}/$"))
    case = Case.objects.get(client=client)
    case_path = case.get_absolute_url()
    expect(page.locator("h1")).to_contain_text(case.reference)
    expect(page.locator("#case-level")).to_have_text("Stufe 1: Fachberatung")

    # She writes the medical clarification, which only the IV-Stelle may write (htmx refreshes the section).
    form = page.locator("#clarification-form-medical")
    form.locator("#id_clar-medical-situation").fill("Rückenleiden, seit acht Monaten krankgeschrieben.")
    form.get_by_label("Arbeitsfähigkeit in %").fill("50")
    form.get_by_role("button", name="Speichern").click()
    expect(page.locator("#klaerung-medical")).to_contain_text("Erfasst von Ivana Meier")
    expect(page.locator("#verlauf")).to_contain_text("Situationsklärung: Medizinische Situation")

    # Asking the Geschäftsstelle for help: level 1 -> 2, naming the coordinator.
    form = page.locator("#level-form")
    expect(form.get_by_label("Eskalieren auf Stufe 2: Unterstützung Geschäftsstelle")).to_be_checked()
    form.get_by_label("Koordinatorin oder Koordinator der Geschäftsstelle").select_option(
        label="Claudia Frei (Geschäftsstelle iiz)"
    )
    form.locator("#id_level-reason").fill("Mehrere Institutionen beteiligt; Koordination nötig.")
    form.get_by_role("button", name="Stufe ändern").click()
    expect(page.locator("#case-level")).to_have_text("Stufe 2: Unterstützung Geschäftsstelle")
    expect(page.locator("#verlauf")).to_contain_text("Stufe 1 → Stufe 2")

    # --- The coordinator escalates to the case team and schedules a meeting -------------------------------
    coordinator = Session(browser, base, "koordinatorin")
    page = coordinator.page
    page.get_by_role("link", name=case.reference).first.click()
    page.wait_for_url(re.compile(re.escape(case_path) + "$"))
    form = page.locator("#level-form")
    form.get_by_label("Eskalieren auf Stufe 3: iiz-Fallteam").check()
    expect(form.get_by_label("Regionales iiz-Fallteam").locator("option:checked")).to_have_text("iiz-Fallteam Oberland")
    form.locator("#id_level-reason").fill("Verbindliche Ziele mit allen Partnern vereinbaren.")
    form.get_by_role("button", name="Stufe ändern").click()
    expect(page.locator("#case-level")).to_have_text("Stufe 3: iiz-Fallteam")

    start = timezone.localtime() + dt.timedelta(days=7)
    start = start.replace(hour=9, minute=0)
    form = page.locator("#meeting-form")
    form.locator("#id_meeting-starts_at").fill(f"{start:%Y-%m-%dT%H:%M}")
    form.locator("#id_meeting-ends_at").fill(f"{start + dt.timedelta(minutes=90):%Y-%m-%dT%H:%M}")
    form.locator("#id_meeting-place").fill("Stadthaus Uster, Sitzungszimmer 2")
    form.locator("#id_meeting-agenda").fill("1. Situation\n2. Ziele und Massnahmen\n3. Fallführung")
    form.get_by_label("Teilnehmende der Partnerinstitutionen").select_option(
        label=["Reto Brunner (RAV Uster)", "Sandra Huber (Sozialdienst Uster)"]
    )
    form.get_by_label("Die Person selbst nimmt teil").check()
    form.get_by_role("button", name="Sitzung planen und einladen").click()
    meeting_box = page.locator("#sitzungen article.meeting")
    expect(meeting_box).to_have_count(1)
    expect(meeting_box).to_contain_text("Reto Brunner")
    expect(meeting_box).to_contain_text("Sandra Huber")
    expect(page.locator(".case-head")).to_contain_text("Sandra Huber")
    assert any(case.reference in message.subject for message in mail.outbox), "invitations are e-mailed"

    with page.expect_download() as download_info:
        meeting_box.get_by_role("link", name="Einladung für den Kalender (.ics)").click()
    invitation = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert "BEGIN:VCALENDAR" in invitation
    assert f"iiz-Fallteam {case.reference}" in invitation
    assert "Journeyfrau" not in invitation  # the invitation never names the client

    # Time travel: the meeting day has come. The meeting is moved to earlier today so that it can be
    # minuted and the plan agreed in it, without waiting a week.
    meeting = Meeting.objects.get(case=case)
    held = timezone.now() - dt.timedelta(hours=2)
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=held, ends_at=held + dt.timedelta(minutes=90))
    page.reload()

    # --- The plan: goals, case lead and measures of three institutions, agreed with the client --------------
    form = page.locator("#plan-new-form")
    form.locator("#id_plannew-goals").fill(
        "Rückkehr in eine angepasste Stelle im ersten Arbeitsmarkt innert 12 Monaten."
    )
    form.locator("#id_plannew-case_lead").select_option(label="Reto Brunner (RAV Uster)")
    form.get_by_role("button", name="Entwurf anlegen").click()
    expect(page.locator("#plan-form")).to_be_visible()
    _add_measure(
        page,
        "SVA Zürich IV-Stelle",
        "Job-Coaching der IV",
        "Job-Coaching bei der Stellensuche",
        "Ivana Meier (IV-Stelle Zürich, Eingliederung Oberland)",
        1,
    )
    _add_measure(
        page, "Amt für Arbeit", "Stellenvermittlung RAV", "Vermittlung passender Stellen", "Reto Brunner (RAV Uster)", 2
    )
    _add_measure(
        page,
        "Sozialdienst Uster",
        "Vermittlung Schuldenberatung",
        "Schuldenberatung organisieren",
        "Sandra Huber (Sozialdienst Uster)",
        3,
    )
    form = page.locator("#agree-form")
    form.get_by_label("Zustimmung der Person am").fill(today.isoformat())
    expect(form.get_by_label("An der Sitzung").locator("option:checked")).to_contain_text("Stadthaus Uster")
    form.get_by_role("button", name="Plan vereinbaren").click()
    expect(page.locator("#plan .plan--agreed")).to_contain_text("Gültiger Plan, Version 1")
    expect(page.locator("#plan .plan--agreed table.measures tbody tr")).to_have_count(3)
    expect(page.locator(".case-head")).to_contain_text("Fallführung")
    expect(page.locator(".case-head")).to_contain_text("Reto Brunner (AFA)")

    # Minutes and an agreement owned by the RAV adviser (htmx refreshes the meetings section).
    meeting_box = page.locator(f"#sitzung-{meeting.pk}")
    meeting_box.locator(f"#minutes-form-{meeting.pk}").locator(f"#id_minutes-{meeting.pk}-minutes").fill(
        "Plan besprochen und vereinbart."
    )
    meeting_box.get_by_role("button", name="Protokoll speichern").click()
    expect(page.locator(f"#sitzung-{meeting.pk}")).to_contain_text("durchgeführt")
    form = page.locator(f"#agreement-form-{meeting.pk}")
    form.get_by_label("Wer macht was?").fill("Bewerbungsdossier mit der Klientin überarbeiten")
    form.locator(f"#id_agreement-{meeting.pk}-owner").select_option(label="Reto Brunner (RAV Uster)")
    form.locator(f"#id_agreement-{meeting.pk}-due_on").fill((today + dt.timedelta(days=14)).isoformat())
    form.get_by_role("button", name="Vereinbarung festhalten").click()
    expect(page.locator(f"#sitzung-{meeting.pk} table.agreements")).to_contain_text("Bewerbungsdossier")
    _shot(page, "03-case-coordinator")

    # --- The agreement turns overdue and shows on the RAV adviser's start page ----------------------------
    # Time travel: two weeks pass and the dossier is not done; its date is moved into the past.
    agreement = Agreement.objects.get(case=case)
    Agreement.objects.filter(pk=agreement.pk).update(due_on=today - dt.timedelta(days=1))
    rav = Session(browser, base, "rav-berater")
    page = rav.page
    overdue = page.locator(".task--overdue", has_text="Bewerbungsdossier")
    expect(overdue).to_be_visible()
    expect(overdue).to_contain_text("überfällig")
    expect(overdue.get_by_role("link", name=f"Fall {case.reference}")).to_be_visible()
    call_command("send_reminders")  # the daily job, as cron or Celery beat runs it
    page.reload()
    expect(page.locator("#notifications")).to_contain_text("Vereinbarung überfällig seit")
    expect(page.locator("#notifications")).to_contain_text(case.reference)
    _shot(page, "04-start-rav")
    # He sees the case, but not the medical clarification of the IV-Stelle.
    page = rav.go(case_path)
    expect(page.locator("#klaerung-medical-withheld")).to_be_visible()

    # --- Each user sees only what they may ----------------------------------------------------------------
    social = Session(browser, base, "sozialdienst-uster")
    page = social.go(case_path)
    expect(page.locator("#klaerung-medical-withheld")).to_contain_text("Zurückgehalten, Einwilligung nötig.")
    assert "Rückenleiden" not in page.content()
    expect(page.locator("#meeting-form")).to_have_count(0)  # scheduling is the coordinator's
    expect(page.locator("#level-form")).to_have_count(0)
    expect(page.locator("#plan .plan--agreed")).to_contain_text("Schuldenberatung organisieren")
    _shot(page, "05-case-social-worker", narrow=True)

    outsider = Session(browser, base, "biz-beraterin")
    response = outsider.page.goto(f"{base}{case_path}")
    assert response is not None and response.status == 404
    response = outsider.page.goto(f"{base}{client.get_absolute_url()}")
    assert response is not None and response.status == 404

    # --- The coordinator closes the case; the six-month follow-up is recorded -----------------------------
    page = coordinator.go(case_path)
    page.locator("#abschluss summary", has_text="Fall abschliessen").click()
    form = page.locator("#close-form")
    form.locator("#id_close-outcome").select_option(label="Stelle im ersten Arbeitsmarkt")
    form.get_by_label("Bemerkung", exact=True).fill("Festanstellung 80 % ab nächstem Monat.")
    form.get_by_role("button", name="Fall abschliessen").click()
    expect(page.locator("#case-outcome")).to_have_text("Stelle im ersten Arbeitsmarkt")
    expect(page.locator(".case-status")).to_contain_text("abgeschlossen")

    # Time travel: six months pass; the first follow-up falls due today.
    follow_up = FollowUp.objects.get(case=case, months_after=6)
    FollowUp.objects.filter(pk=follow_up.pk).update(due_on=today)
    page = rav.go("/")
    expect(page.locator(".task", has_text="Nachbefragung nach 6 Monaten")).to_be_visible()
    page = rav.go(case_path)
    form = page.locator(f"#followup-form-{follow_up.pk}")
    form.get_by_label("Ergebnis der Nachbefragung").select_option(label="weiterhin integriert")
    form.get_by_label("Bemerkung", exact=True).fill("Arbeitet weiterhin 80 %.")
    form.get_by_role("button", name="Nachbefragung speichern").click()
    expect(page.locator(f"#nachbefragung-{follow_up.pk}")).to_contain_text("weiterhin integriert")
    expect(page.locator("#verlauf")).to_contain_text("Nachbefragung nach 6 Monaten: weiterhin integriert")
    _shot(page, "06-closed-case")

    # The client's page links the closed case in its iiz section.
    page = iv.go(client.get_absolute_url())
    expect(page.locator("#iiz")).to_contain_text(case.reference)
    expect(page.locator("#iiz")).to_contain_text("abgeschlossen")
    _shot(page, "07-client")

    for session in (iv, coordinator, rav, social, outsider):
        assert session.csp_violations == [], session.csp_violations
        session.context.close()
