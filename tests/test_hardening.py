"""The smaller findings of the outside test (issue 14, point 8), each as the request that found it."""

from __future__ import annotations

import datetime as dt
import re
import socket
import time
import urllib.error
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from iiz.audit.models import AuditAction, AuditEvent
from iiz.clients import services as client_services
from iiz.core.middleware import SESSION_STARTED
from iiz.demo.world import DEMO_PASSWORD
from iiz.interfaces import services, webhooks
from iiz.interfaces.models import WebhookEvent
from tests import cases_world
from tests.api_world import api_client, token_for

# --- webhooks: public https hosts on the operators' allow-list, no raw errors ---------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/hooks",
        "https://192.168.1.20/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00::1]/hooks",
        "https://intranet.kanton.local/hooks",
    ],
)
def test_it_refuses_a_webhook_target_on_the_internal_network_or_off_the_allow_list(admin, world, url):
    # given / when / then
    with pytest.raises(ValidationError, match="nicht freigegeben"):
        services.webhook_subscription_create(
            actor=admin, institution=world.disability, target_url=url, events=[WebhookEvent.CASE_OPENED]
        )


def test_it_refuses_a_delivery_to_an_allowed_name_that_resolves_to_an_internal_address(monkeypatch):
    # given an allowed host name whose DNS answer points into the internal network
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, 0, 0, "", ("10.1.2.3", 0))])

    # when
    result = webhooks.webhook_send(url="https://partner.example.ch/hooks", body=b"{}", headers={})

    # then nothing is sent, and the error names no address
    assert not result.ok and result.error == "refused: not a public address"


def test_it_keeps_a_category_of_the_error_not_the_network_stack_s_message(monkeypatch):
    # given a public address whose connection fails with a message naming an internal host
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, 0, 0, "", ("185.199.108.1", 0))])

    def refuse(*args, **kwargs):
        raise urllib.error.URLError(ConnectionRefusedError("[Errno 111] Connection refused by proxy 10.9.8.7"))

    monkeypatch.setattr(webhooks._opener, "open", refuse)

    # when
    result = webhooks.webhook_send(url="https://partner.example.ch/hooks", body=b"{}", headers={})

    # then
    assert result.error == "connection refused"


# --- Cache-Control: no-store on everything with personal data ----------------------------------------------


def test_it_forbids_storing_pages_and_api_answers(http_as, rav_adviser, rav_client, world, fresh_rate_limits):
    # given / when a person's page and the API's list of persons
    page = http_as(rav_adviser).get(rav_client.get_absolute_url())
    api = api_client(token_for(world.labour).key).get(reverse("api:clients"))

    # then neither may be kept by a browser or a proxy
    assert page["Cache-Control"] == "no-store"
    assert api["Cache-Control"] == "no-store"


# --- names: no bidirectional control characters ------------------------------------------------------------


@pytest.mark.parametrize("name", ["Anna\u202eredlüM", "\u2067Muster\u2069", "Mus\u200fter"])
def test_it_refuses_bidirectional_control_characters_in_a_name(rav_adviser, name):
    # given / when / then
    with pytest.raises(ValidationError) as refused:
        client_services.client_create(
            actor=rav_adviser,
            ahv_number="756.9217.0769.85",
            first_name="Lea",
            last_name=name,
            date_of_birth=cases_world.days_ago(9000),
            sex="female",
            municipality=None,
        )
    assert "Schreibrichtung" in refused.value.message_dict["last_name"][0]


# --- lock-out per account across addresses, absolute session lifetime, second factor --------------------


def test_it_locks_an_account_attacked_from_many_addresses(rav_adviser, clear_axes, settings):
    # given failed attempts for one account, each from another address (password spraying)
    for index in range(settings.AXES_FAILURE_LIMIT):
        HttpClient(REMOTE_ADDR=f"198.51.100.{index + 1}").post(
            reverse("login"), {"username": "rav-berater", "password": "falsch"}
        )

    # when the right password comes from yet another address
    response = HttpClient(REMOTE_ADDR="198.51.100.99").post(
        reverse("login"), {"username": "rav-berater", "password": DEMO_PASSWORD}
    )

    # then the account is locked all the same
    assert response.status_code == 429


def test_it_ends_a_session_after_its_absolute_lifetime_however_active(http_as, rav_adviser, settings):
    # given a session that began longer ago than the absolute lifetime
    http = http_as(rav_adviser)
    session = http.session
    session[SESSION_STARTED] = int(time.time()) - settings.IIZ_SESSION_MAX_HOURS * 3600 - 60
    session.save()

    # when the user goes on working
    response = http.get(reverse("clients:search"))

    # then the user is signed out and asked to sign in again
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in http.session


def test_it_records_a_wrong_second_factor_code_as_a_denial(http_as, rav_adviser):
    # given an enrolled authenticator
    TOTPDevice.objects.create(user=rav_adviser, name="App", confirmed=True)

    # when a wrong code is typed
    http_as(rav_adviser).post(reverse("otp_verify"), {"token": "000000"})

    # then the refusal is in the audit trail
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, actor=rav_adviser, object_type="otp_code").exists()


# --- aria-describedby points at elements that exist ---------------------------------------------------------


def test_it_points_aria_describedby_only_at_elements_of_the_page(
    http_as, rav_adviser, coordinator, iv_specialist, rav_client
):
    # given forms with help texts and errors, and the case page with its many forms
    case = cases_world.case_at_level(2, specialist=iv_specialist, coordinator=coordinator)
    pages = [
        http_as(rav_adviser).post(reverse("clients:create"), {"ahv_number": "x"}),
        http_as(rav_adviser).post(reverse("clients:consent_create", args=[rav_client.public_id]), {}),
        http_as(coordinator).post(reverse("audit:access_requests"), {}),
        http_as(coordinator).get(case.get_absolute_url()),
    ]

    # when / then every id named by aria-describedby is on the page
    for response in pages:
        page = response.content.decode()
        ids = set(re.findall(r'\bid="([^"]+)"', page))
        named = {name for value in re.findall(r'aria-describedby="([^"]+)"', page) for name in value.split()}
        assert named, response.request["PATH_INFO"]
        assert named <= ids, (response.request["PATH_INFO"], named - ids)


# --- data at rest: import files encrypted, kept only until the batch is taken or refused ---------------------


IMPORT_HEADER = "AHV-Nummer;Name;Vorname;Geburtsdatum;Geschlecht;BFS-Nr.;angemeldet seit;Fallnummer"


def _upload(actor, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from iiz.interfaces.imports import import_batch_create

    return import_batch_create(actor=actor, upload=SimpleUploadedFile("personen.csv", content))


def test_it_stores_an_import_file_encrypted_and_deletes_it_once_taken(rav_adviser, django_capture_on_commit_callbacks):
    from iiz.interfaces.imports import import_batch_confirm
    from iiz.interfaces.models_imports import ImportBatch, ImportStatus

    # given a file with a person's AHV number and name
    bfs = cases_world.uster().bfs_number
    content = f"{IMPORT_HEADER}\n756.9217.0769.85;Verschlüsselt;Vera;02.04.1979;w;{bfs};2024-01-15;F-1\n".encode()
    batch = _upload(rav_adviser, content)

    # when it is stored
    with batch.file.open("rb") as stored:
        at_rest = stored.read()

    # then neither the number nor the name is readable in the file storage
    assert b"Verschl" not in at_rest and b"7569217076985" not in at_rest and b"756.9217" not in at_rest

    # when the check runs and the batch is taken
    from iiz.interfaces.imports import import_batch_check

    checked = import_batch_check(batch_id=batch.pk)
    assert checked.status == ImportStatus.PREVIEWED and checked.file
    path = checked.file.path
    with django_capture_on_commit_callbacks(execute=True):
        import_batch_confirm(actor=rav_adviser, batch=checked)

    # then the file is gone
    done = ImportBatch.objects.get(pk=batch.pk)
    assert done.status == ImportStatus.DONE and not done.file
    assert not Path(path).exists()


def test_it_deletes_a_refused_file_at_once_and_keeps_the_reasons(rav_adviser):
    from iiz.interfaces.imports import import_batch_check, rejected_rows_csv

    # given a file with a bad row, checked
    batch = _upload(
        rav_adviser, f"{IMPORT_HEADER}\n756.1234.5678.90;Muster;Anna;01.03.1980;w;9999;2024-01-15;F\n".encode()
    )
    path = batch.file.path

    # when
    refused = import_batch_check(batch_id=batch.pk)

    # then the reasons stay, the file does not
    assert "Ungültige AHV-Nummer" in rejected_rows_csv(refused)
    assert not refused.file and not Path(path).exists()


def test_it_deletes_files_nobody_confirmed_after_the_retention_period(rav_adviser, settings):
    from django.utils import timezone

    from iiz.interfaces.imports import import_files_expire
    from iiz.interfaces.models_imports import ImportBatch

    # given an upload left unconfirmed
    batch = _upload(rav_adviser, f"{IMPORT_HEADER}\n".encode())

    # when the retention period has passed
    later = timezone.now() + dt.timedelta(hours=settings.IIZ_IMPORT_FILE_HOURS + 1)
    expired = import_files_expire(now=later)

    # then its file is deleted
    assert expired >= 1 and not ImportBatch.objects.get(pk=batch.pk).file


# --- password change and a reset flow that leaks nothing ------------------------------------------------------


def test_it_lets_a_user_change_the_password_from_every_page(http_as, rav_adviser):
    # given a signed-in user on the start page
    http = http_as(rav_adviser)
    assert reverse("password_change") in http.get(reverse("home")).content.decode()

    # when the password is changed
    response = http.post(
        reverse("password_change"),
        {
            "old_password": DEMO_PASSWORD,
            "new_password1": "Lange-Reihe-77-Zürich",
            "new_password2": "Lange-Reihe-77-Zürich",
        },
    )

    # then it holds, and the change is audited
    assert response.status_code == 302
    rav_adviser.refresh_from_db()
    assert rav_adviser.check_password("Lange-Reihe-77-Zürich")
    assert AuditEvent.objects.filter(actor=rav_adviser, object_type="password").exists()


def test_it_answers_a_reset_request_the_same_whether_the_address_has_an_account_or_not(rav_adviser, mailoutbox):
    # given an address of an account and one of nobody
    rav_adviser.email = "reto.brunner@afa.example.ch"
    rav_adviser.save(update_fields=["email"])
    anonymous = HttpClient()

    # when both ask for a reset link
    known = anonymous.post(reverse("password_reset"), {"email": "reto.brunner@afa.example.ch"})
    unknown = anonymous.post(reverse("password_reset"), {"email": "niemand@example.ch"})

    # then both get the same answer, and only the account's address gets a link
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [message.to for message in mailoutbox] == [["reto.brunner@afa.example.ch"]]

    # when the link is followed and a new password set
    link = re.search(r"https?://[^/]+(/konto/passwort-vergessen/[^\s]+)", mailoutbox[0].body).group(1)
    form = anonymous.get(link, follow=True)
    done = anonymous.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"new_password1": "Neue-Reihe-88-Uster", "new_password2": "Neue-Reihe-88-Uster"},
    )

    # then the password holds and the user signs in as usual (second factor included)
    assert done.status_code == 302
    rav_adviser.refresh_from_db()
    assert rav_adviser.check_password("Neue-Reihe-88-Uster")
