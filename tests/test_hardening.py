"""The smaller findings of the outside test (issue 14, point 8), each as the request that found it."""

from __future__ import annotations

import re
import socket
import time
import urllib.error

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
