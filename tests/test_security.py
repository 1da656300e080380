"""Sign-in protection: lock-out after failed logins, the TOTP second factor, and the idle timeout."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from iiz.audit.models import AuditAction, AuditEvent
from iiz.demo.world import DEMO_PASSWORD

# --- lock-out (django-axes) -----------------------------------------------------------------------------


def sign_in(http, password):
    return http.post(reverse("login"), {"username": "rav-berater", "password": password})


def test_it_locks_the_account_after_five_failures_even_for_the_right_password(rav_adviser, clear_axes, settings):
    # given five failed attempts
    http = HttpClient()
    failures = [sign_in(http, "falsch").status_code for _ in range(settings.AXES_FAILURE_LIMIT)]

    # when the sixth attempt has the right password
    response = sign_in(http, DEMO_PASSWORD)

    # then it is refused with the lock-out page
    assert failures[:4] == [200, 200, 200, 200]
    assert response.status_code == 429
    assert "Konto vorübergehend gesperrt" in response.content.decode()
    assert "_auth_user_id" not in http.session


def test_it_lets_the_user_in_before_the_limit_is_reached(rav_adviser, clear_axes, settings):
    # given four failed attempts
    http = HttpClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(http, "falsch")

    # when
    response = sign_in(http, DEMO_PASSWORD)

    # then
    assert response.status_code == 302
    assert int(http.session["_auth_user_id"]) == rav_adviser.pk


def test_it_audits_failed_and_successful_sign_ins(rav_adviser, clear_axes):
    # given
    http = HttpClient()

    # when
    sign_in(http, "falsch")
    sign_in(http, DEMO_PASSWORD)

    # then
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.actor is None
    assert failed.actor_username == "rav-berater"
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor=rav_adviser).count() == 1


# --- second factor (TOTP) -------------------------------------------------------------------------------


def current_token(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


@pytest.fixture
def device(rav_adviser):
    return TOTPDevice.objects.create(user=rav_adviser, name="Authenticator-App", confirmed=True)


def test_it_sends_a_user_without_a_device_to_enrol_one(http_as, rav_adviser, settings):
    # given the second factor is mandatory and the user has no device
    settings.IIZ_REQUIRE_OTP = True
    http = http_as(rav_adviser)

    # when the user opens a client page
    response = http.get(reverse("clients:search"), follow=True)

    # then the user lands on the enrolment page, not on the client page
    assert [url for url, _ in response.redirect_chain] == [
        f"{reverse('otp_verify')}?next={reverse('clients:search')}",
        f"{reverse('otp_setup')}?next={reverse('clients:search')}",
    ]
    assert "Zweiten Faktor einrichten" in response.content.decode()


def test_it_asks_a_user_with_a_device_for_the_code(http_as, rav_adviser, device, settings):
    # given
    settings.IIZ_REQUIRE_OTP = True

    # when
    response = http_as(rav_adviser).get(reverse("home"))

    # then
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('otp_verify')}?next=/"


def test_it_lets_the_user_in_with_the_current_code(http_as, rav_adviser, device, settings):
    # given
    settings.IIZ_REQUIRE_OTP = True
    http = http_as(rav_adviser)

    # when
    verified = http.post(reverse("otp_verify"), {"token": current_token(device), "next": reverse("clients:search")})
    response = http.get(reverse("clients:search"))

    # then
    assert verified.status_code == 302
    assert verified["Location"] == reverse("clients:search")
    assert response.status_code == 200


def test_it_refuses_a_wrong_code_with_a_message(http_as, rav_adviser, device, settings):
    # given
    settings.IIZ_REQUIRE_OTP = True
    http = http_as(rav_adviser)
    wrong = f"{(int(current_token(device)) + 500_000) % 1_000_000:06d}"

    # when
    response = http.post(reverse("otp_verify"), {"token": wrong, "next": "/"})

    # then the form says what is wrong and the platform stays closed
    assert response.status_code == 200
    assert "Der Code ist falsch oder abgelaufen" in response.content.decode()
    assert http.get(reverse("home")).status_code == 302


def test_it_enrols_a_device_with_the_first_code(http_as, rav_adviser, settings):
    # given the enrolment page created an unconfirmed device
    settings.IIZ_REQUIRE_OTP = True
    http = http_as(rav_adviser)
    http.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=rav_adviser)

    # when the user types the code the app shows
    response = http.post(reverse("otp_setup"), {"token": current_token(device), "next": "/"})

    # then
    device.refresh_from_db()
    assert response.status_code == 302
    assert device.confirmed is True
    assert http.get(reverse("home")).status_code == 200


def test_it_asks_for_the_code_of_an_enrolled_user_even_where_it_is_optional(rav_adviser, device, clear_axes):
    # given the demo, where the second factor is optional, and a user who enrolled a device
    http = HttpClient()

    # when the user signs in with the password
    sign_in(http, DEMO_PASSWORD)
    response = http.get(reverse("home"))

    # then the code is still asked for
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp_verify"))


# --- idle timeout ----------------------------------------------------------------------------------------


def session_row(http) -> Session:
    return Session.objects.get(session_key=http.cookies["sessionid"].value)


def test_it_pushes_the_session_expiry_forward_on_every_request(http_as, rav_adviser):
    # given a session that would end in one minute
    http = http_as(rav_adviser)
    http.get(reverse("home"))
    Session.objects.filter(pk=session_row(http).pk).update(expire_date=timezone.now() + dt.timedelta(minutes=1))

    # when the user does something
    response = http.get(reverse("home"))

    # then the session cookie is sent again and the session lasts another 30 minutes
    assert "sessionid" in response.cookies
    assert session_row(http).expire_date > timezone.now() + dt.timedelta(minutes=29)


def test_it_signs_out_after_the_idle_time(http_as, rav_adviser):
    # given a session idle for longer than the timeout
    http = http_as(rav_adviser)
    http.get(reverse("home"))
    Session.objects.filter(pk=session_row(http).pk).update(expire_date=timezone.now() - dt.timedelta(seconds=1))

    # when
    response = http.get(reverse("clients:search"))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
