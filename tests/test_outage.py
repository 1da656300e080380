"""A database outage answered as one: 503 with the app's page and Retry-After, one log line per episode.

The failures are simulated where the request meets the database (a service, the session); the fault suite
(``test_faults.py``) also cuts the real connection on PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client as HttpClient

from iiz.lib import outage
from iiz.organisations.models import User
from iiz.steering import reports

pytestmark = pytest.mark.django_db

REPORT = {"period": "2025", "audience": "operational", "format": "xlsx"}


@pytest.fixture(autouse=True)
def _no_episode() -> Iterator[None]:
    """Each test starts and ends outside an outage (the episode is per process, like a worker's)."""
    outage.episode.started, outage.episode.failures = None, 0
    cache.delete("iiz:database-outage")
    yield
    outage.episode.started, outage.episode.failures = None, 0
    cache.delete("iiz:database-outage")


def browser_of(user: User) -> HttpClient:
    """A signed-in browser that gets the error page, as a user does, instead of the exception."""
    http = HttpClient(raise_request_exception=False)
    http.force_login(user, backend="iiz.organisations.backends.IizBackend")
    return http


def database_down(*args: object, **kwargs: object) -> None:
    raise OperationalError('connection to server at "db" (10.0.0.5), port 5432 failed: Connection refused')


def test_it_answers_a_failed_submit_with_the_apps_503_page_and_retry_after(committee, monkeypatch) -> None:
    # given a database that fails when the report is ordered
    monkeypatch.setattr(reports, "report_request", database_down)
    # when the committee submits the order form
    response = browser_of(committee).post("/steuerung/berichte/", REPORT, HTTP_REFERER="http://testserver/steuerung/berichte/")
    # then the platform's own page says that nothing was saved, leads back to the form, and asks to retry
    page = response.content.decode()
    assert (response.status_code, response["Retry-After"]) == (503, str(outage.RETRY_AFTER_SECONDS))
    assert "Vorübergehend nicht verfügbar" in page and "Es wurde nichts gespeichert" in page
    assert 'data-submit-failed="1"' in page and 'href="/steuerung/berichte/" data-history-back' in page
    assert 'class="site-header"' in page and "/static/iiz/iiz.js" in page


def test_it_answers_503_when_the_session_cannot_be_read(committee, monkeypatch) -> None:
    # given a database that fails as soon as the session is read (in the middleware, before any view)
    http = browser_of(committee)
    monkeypatch.setattr(SessionStore, "load", database_down)
    # when the user opens the start page
    response = http.get("/")
    # then the outage page answers, with a way to try again
    assert (response.status_code, response["Retry-After"]) == (503, str(outage.RETRY_AFTER_SECONDS))
    assert "Erneut versuchen" in response.content.decode()


def test_it_logs_an_outage_once_and_its_end_with_the_count(committee, monkeypatch, caplog) -> None:
    # given a database that fails for three requests
    http = browser_of(committee)
    with caplog.at_level(logging.INFO):
        with monkeypatch.context() as patch:
            patch.setattr(reports, "report_request", database_down)
            codes = [http.post("/steuerung/berichte/", REPORT).status_code for _ in range(3)]
        # when it is back and the next request succeeds
        back = http.get("/steuerung/berichte/")
    # then three 503s, one line for the outage, none per request, and one line for its end
    assert (codes, back.status_code) == ([503, 503, 503], 200)
    lines = [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]
    assert lines[0][:2] == ("iiz.outage", "ERROR") and "Database unavailable (OperationalError" in lines[0][2]
    assert lines[1][:2] == ("iiz.outage", "WARNING") and "3 requests were answered 503" in lines[1][2]
    assert len(lines) == 2
    assert not any(r.exc_info for r in caplog.records)


def test_it_answers_the_api_with_a_503_problem(api_a, monkeypatch) -> None:
    # given a database that fails while the API reads cases
    from iiz.interfaces import views_cases

    monkeypatch.setattr(views_cases.selectors, "cases_for_api", database_down)
    # when the partner system asks
    response = api_a.get("/api/v1/cases/")
    # then a problem document says so, with the time to wait
    assert (response.status_code, response["Retry-After"]) == (503, str(outage.RETRY_AFTER_SECONDS))
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:iiz:problem:service-unavailable"
