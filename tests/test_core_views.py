"""Login page and language, the start page, and the health endpoints."""

from __future__ import annotations

import re

import pytest
from django.db import DatabaseError
from django.db.migrations.executor import MigrationExecutor
from django.test import Client as HttpClient
from django.urls import reverse

from iiz.core import health
from tests.factories import CaseFactory, CaseParticipantFactory


def html_lang(response) -> str:
    """The interface language of the page (its <html lang> is the Swiss variant: de-CH, fr-CH, ...)."""
    match = re.search(r'<html lang="([a-z]+)-CH"', response.content.decode())
    assert match is not None
    return match.group(1)


# --- login page and language ------------------------------------------------------------------------


def test_it_shows_the_login_page_in_german_by_default(db):
    # given an anonymous visitor / when
    response = HttpClient().get(reverse("login"))

    # then
    assert response.status_code == 200
    assert html_lang(response) == "de"
    assert "Anmelden" in response.content.decode()


def test_it_ignores_the_browsers_accept_language(db):
    # given a workstation set to English / when
    response = HttpClient().get(reverse("login"), headers={"Accept-Language": "en-US,en;q=0.9"})

    # then the platform still speaks German
    assert html_lang(response) == "de"


def test_it_sends_anonymous_visitors_to_the_login_page(db):
    # given / when
    response = HttpClient().get(reverse("home"))

    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("language", ["fr", "it", "en"])
def test_it_switches_the_language_on_the_login_page(db, language):
    # given an anonymous visitor on the login page
    http = HttpClient()

    # when the language switch is used
    switched = http.post(reverse("set_language"), {"language": language, "next": reverse("login")})
    response = http.get(reverse("login"))

    # then
    assert switched.status_code == 302
    assert switched["Location"] == reverse("login")
    assert html_lang(response) == language


@pytest.mark.parametrize("language", ["fr", "it", "en"])
def test_it_switches_the_language_for_a_signed_in_user(http_as, rav_adviser, language):
    # given
    http = http_as(rav_adviser)

    # when
    http.post(reverse("set_language"), {"language": language, "next": reverse("home")})
    response = http.get(reverse("home"), headers={"Accept-Language": "de"})

    # then
    assert html_lang(response) == language


def test_it_switches_back_to_german(http_as, rav_adviser):
    # given a user who chose French
    http = http_as(rav_adviser)
    http.post(reverse("set_language"), {"language": "fr", "next": "/"})

    # when
    http.post(reverse("set_language"), {"language": "de", "next": "/"})

    # then
    assert html_lang(http.get(reverse("home"))) == "de"


# --- start page -----------------------------------------------------------------------------------------


def test_it_explains_the_empty_start_page_of_a_case_worker(http_as, rav_adviser):
    # given a case worker without cases or tasks / when
    response = http_as(rav_adviser).get(reverse("home"))

    # then both empty states say what would appear and how
    content = response.content.decode()
    assert response.status_code == 200
    assert "Sie sind an keinem offenen iiz-Fall beteiligt." in content
    assert "Sobald Sie beteiligt sind, erscheint er hier." in content
    assert "Keine offenen Aufgaben." in content
    assert reverse("clients:search") in content


@pytest.mark.parametrize(
    ("persona", "start"),
    [("committee", "steering:operational"), ("supervisory", "steering:strategic"), ("admin", "admin:index")],
)
def test_it_starts_each_role_without_client_work_where_its_work_is(request, http_as, persona, start):
    # given / when a role that never sees persons opens the start page
    response = http_as(request.getfixturevalue(persona)).get(reverse("home"))

    # then it is sent on to its cockpit or to the administration
    assert response.status_code == 302
    assert response["Location"] == reverse(start)


def test_it_names_the_role_of_a_steering_user_in_the_header_rather_than_a_unit(http_as, supervisory):
    # given / when the supervisory body reads its cockpit
    content = http_as(supervisory).get(reverse("steering:strategic")).content.decode()

    # then the header names the role, not the Geschäftsstelle the account is filed under
    header = content[content.index('class="user-box"') : content.index("</header>")]
    assert "Trägerschaft" in header
    assert "Geschäftsstelle iiz" not in header
    assert reverse("clients:search") not in header


def test_it_lists_an_open_case_of_the_user_on_the_start_page(http_as, coordinator, rav_client):
    # given
    case = CaseFactory(client=rav_client, reference="IIZ-2026-0042")
    CaseParticipantFactory(case=case, user=coordinator)

    # when
    response = http_as(coordinator).get(reverse("home"))

    # then
    content = response.content.decode()
    assert "IIZ-2026-0042" in content
    assert "Sie sind an keinem offenen iiz-Fall beteiligt." not in content


# --- health ---------------------------------------------------------------------------------------------


def test_it_answers_healthz_without_login(db):
    # given / when
    response = HttpClient().get("/healthz")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_is_ready_when_the_database_answers_and_is_migrated(db):
    # given / when
    response = HttpClient().get("/readyz")

    # then (tasks run inline in the tests: there is no broker, and no work waits)
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "broker": "inline",
        "outbox": {"waiting": 0, "oldest_seconds": 0, "failed": 0},
    }


def test_it_is_not_ready_while_a_migration_is_pending(db, monkeypatch):
    # given a fresh process (nothing remembered) and a migration that has not been applied
    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("pending", False)])

    # when
    response = HttpClient().get("/readyz")

    # then
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "1 pending"


class UnreachableDatabase:
    def cursor(self):
        raise DatabaseError("connection refused")


def test_it_is_not_ready_when_the_database_fails(db, monkeypatch):
    # given a database that refuses connections
    monkeypatch.setattr(health, "connection", UnreachableDatabase())

    # when
    response = HttpClient().get("/readyz")

    # then
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "unreachable"}}


def test_it_remembers_applied_migrations_within_a_process(db, monkeypatch):
    # given a process that has seen every migration applied
    monkeypatch.setattr(health, "_migrations_applied", False)
    assert HttpClient().get("/readyz").status_code == 200
    calls = []
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: calls.append(1) or [])

    # when it is probed again
    response = HttpClient().get("/readyz")

    # then the migration graph is not read again
    assert response.status_code == 200
    assert calls == []


def test_it_does_not_cache_the_health_answers(db):
    # given / when
    response = HttpClient().get("/readyz")

    # then
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_the_probes_on_the_health_listener_of_a_worker(db):
    # given the listener that each gunicorn worker starts beside its requests (gunicorn.conf.py)
    import json
    import urllib.error
    import urllib.request

    from iiz.core.health_server import health_server_start
    from tests.faults import free_port

    port = free_port()
    server = health_server_start(f"127.0.0.1:{port}")
    try:
        # when a load balancer probes it
        def probe(path):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:  # noqa: S310
                    return answer.status, answer.headers["Cache-Control"], json.loads(answer.read())
            except urllib.error.HTTPError as error:
                return error.code, error.headers["Cache-Control"], json.loads(error.read())

        alive, ready, other = probe("/healthz"), probe("/readyz"), probe("/klienten/")
    finally:
        server.shutdown()
        server.server_close()

    # then it answers as the views do, uncached, and nothing else
    assert alive == (200, "no-store", {"status": "ok"})
    assert (ready[0], ready[1], ready[2]["checks"]["database"], ready[2]["checks"]["migrations"]) == (
        200,
        "no-store",
        "ok",
        "ok",
    )
    assert other[0] == 404
