"""Production settings, the demo's boundaries and the session settings.

The production checks run in a subprocess: the settings module reads the environment once at import,
so only a fresh interpreter sees ``IIZ_MODE=production``.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management.base import CommandError
from django.test import Client as HttpClient
from django.test import RequestFactory, override_settings
from django.urls import reverse

from iiz.demo.world import DEMO_PASSWORD, demo_world_build

BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def production_env(tmp_path):
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "IIZ_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        {
            "IIZ_MODE": "production",
            "DJANGO_SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(60)),
            "DJANGO_ALLOWED_HOSTS": "iiz.example.ch",
            "IIZ_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "IIZ_AUDIT_KEYS": Fernet.generate_key().decode(),
            "IIZ_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "iiz.settings",
        }
    )
    return env


def run(args, env):
    return subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_it_passes_the_deployment_checks_in_production(production_env):
    # given production settings / when
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env)

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_refuses_production_without_a_strong_secret_key(production_env):
    # given
    production_env["DJANGO_SECRET_KEY"] = "short"

    # when
    result = run(["manage.py", "check"], production_env)

    # then
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_it_refuses_production_without_encryption_keys(production_env):
    # given production settings without keys for encryption at rest
    del production_env["IIZ_ENCRYPTION_KEYS"]

    # when
    result = run(["manage.py", "check"], production_env)

    # then
    assert result.returncode != 0
    assert "IIZ_ENCRYPTION_KEYS" in result.stderr


def test_it_refuses_production_without_audit_keys(production_env):
    # given production settings without the audit trail's MAC keys
    del production_env["IIZ_AUDIT_KEYS"]

    # when
    result = run(["manage.py", "check"], production_env)

    # then
    assert result.returncode != 0
    assert "IIZ_AUDIT_KEYS" in result.stderr


PRODUCTION_RESPONSES = """
import json
import django
django.setup()
from django.test import Client
http = Client()
secure = http.get("/healthz", headers={"host": "iiz.example.ch", "x-forwarded-proto": "https"})
plain = http.get("/konto/anmelden/", headers={"host": "iiz.example.ch", "x-forwarded-proto": "http"})
probe = http.get("/healthz", headers={"host": "iiz.example.ch", "x-forwarded-proto": "http"})
print(json.dumps({
    "status": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security"),
    "csp": secure.get("Content-Security-Policy"),
    "frame": secure.get("X-Frame-Options"),
    "nosniff": secure.get("X-Content-Type-Options"),
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "probe_status": probe.status_code,
}))
"""


def test_it_sends_hsts_and_csp_and_redirects_to_https_in_production(production_env):
    # given production settings behind the TLS-terminating proxy / when
    result = run(["-c", PRODUCTION_RESPONSES], production_env)

    # then
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    assert answer["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "default-src 'self'" in answer["csp"]
    assert "frame-ancestors 'none'" in answer["csp"]
    assert "script-src 'self'" in answer["csp"]
    assert "unsafe-inline" not in answer["csp"]
    assert answer["frame"] == "DENY"
    assert answer["nosniff"] == "nosniff"
    assert answer["plain_status"] == 301
    assert answer["plain_location"] == "https://iiz.example.ch/konto/anmelden/"
    # The load balancer's probes are answered on plain HTTP.
    assert answer["probe_status"] == 200


def test_it_sends_a_strict_content_security_policy_in_the_demo(db):
    # given / when
    response = HttpClient().get(reverse("login"))

    # then
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_it_refuses_to_load_the_demo_in_production(production_env):
    # given / when
    result = run(["manage.py", "load_demo", "--clients", "1"], production_env)

    # then
    assert result.returncode != 0
    assert "demo mode" in result.stderr


def test_it_refuses_to_build_the_demo_world_outside_the_demo(db, settings):
    # given
    settings.DEMO_MODE = False

    # when / then
    with pytest.raises(CommandError):
        demo_world_build()


def test_it_lets_a_demo_account_in_only_in_demo_mode(rav_adviser, clear_axes):
    # given the demo account rav-berater with the shared password
    request = RequestFactory().post(reverse("login"))

    # when
    in_demo = authenticate(request, username="rav-berater", password=DEMO_PASSWORD)
    with override_settings(DEMO_MODE=False):
        in_production = authenticate(request, username="rav-berater", password=DEMO_PASSWORD)

    # then
    assert in_demo == rav_adviser
    assert in_production is None


def test_it_refuses_a_demo_account_at_the_login_page_outside_demo_mode(rav_adviser, clear_axes):
    # given
    http = HttpClient()

    # when
    with override_settings(DEMO_MODE=False):
        response = http.post(reverse("login"), {"username": "rav-berater", "password": DEMO_PASSWORD})

    # then
    assert response.status_code == 200
    assert "_auth_user_id" not in http.session
    assert "Benutzername oder Passwort ist falsch" in response.content.decode()


def test_it_ends_idle_sessions_after_thirty_minutes():
    # given / when / then: each request pushes the expiry 30 minutes ahead
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_it_locks_after_five_failures_by_default():
    # given / when / then
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_RESET_ON_SUCCESS is True
