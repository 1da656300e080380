"""Faults as operations would cause them: Redis stopped around requests, a worker killed in the middle of a job.

Each test starts its own throw-away redis-server on a free port and its own Celery worker processes (the
production command, ``celery -A iiz worker``) against the test's PostgreSQL database, stops them itself and
never touches the machine's shared Redis. The tests commit data that the workers read, so they use the
committed world and run only on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from iiz.cases.models import Meeting
from iiz.interfaces.models_imports import ImportBatch, ImportStatus
from iiz.organisations.models import Municipality, User
from iiz.outbox.models import OutboxMessage, OutboxStatus
from iiz.outbox.services import broker_state, outbox_dispatch
from iiz.steering.models import ReportStatus, SteeringReport
from tests import cases_world as cw
from tests.factories import ahv_from_serial
from tests.faults import REDIS_SERVER, broker, mails, redis_server, wait_for, worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server"),
]

HEADER = "AHV-Nummer;Name;Vorname;Geburtsdatum;Geschlecht;BFS-Nr.;angemeldet seit;Fallnummer"


def csv_file(rows: int, first_serial: int) -> bytes:
    bfs = Municipality.objects.filter(valid_until__isnull=True).values_list("bfs_number", flat=True).first()
    lines = [
        f"{ahv_from_serial(first_serial + i)};Muster{i};Lea;0{1 + i % 9}.0{1 + i % 9}.198{i % 10};w;{bfs};"
        f"2024-01-15;F-{i}"
        for i in range(rows)
    ]
    return "\n".join([HEADER, *lines]).encode()


def signed_in(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user, backend="iiz.organisations.backends.IizBackend")
    return http


def upload(http: HttpClient, content: bytes, name: str) -> tuple[int, ImportBatch]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = http.post(reverse("imports:start"), {"file": SimpleUploadedFile(name, content)})
    return response.status_code, ImportBatch.objects.get(file_name=name)


@pytest.fixture
def fault_dir(tmp_path: Path) -> Path:
    broker_state.succeeded()
    yield tmp_path
    broker_state.succeeded()


def test_it_answers_success_while_redis_is_down_and_does_the_work_once_when_it_returns(
    committed_world, fault_dir: Path
) -> None:
    rav_adviser = User.objects.get(username="rav-berater")
    social_worker = User.objects.get(username="sozialdienst-uster")
    coordinator = User.objects.get(username="koordinatorin")
    committee = User.objects.get(username="ausschuss")
    case = cw.case_at_level(3, specialist=User.objects.get(username="iv-spezialistin"), coordinator=coordinator)
    start = timezone.localtime() + dt.timedelta(days=7)
    with redis_server(fault_dir) as redis, broker(redis.url):
        # given Redis, the platform's broker, stopped
        redis.stop()
        # when an import is uploaded, a report ordered and a case-team meeting scheduled through the pages
        imported, batch = upload(signed_in(rav_adviser), csv_file(3, 610_000_000), "waehrend-ausfall.csv")
        ordered = signed_in(committee).post(
            reverse("steering:reports"), {"period": "2025", "audience": "operational", "format": "xlsx"}
        )
        scheduled = signed_in(coordinator).post(
            reverse("cases:meeting_schedule", args=[case.reference]),
            {
                "meeting-starts_at": f"{start:%Y-%m-%dT%H:%M}",
                "meeting-ends_at": f"{start + dt.timedelta(hours=1):%Y-%m-%dT%H:%M}",
                "meeting-place": "Stadthaus Uster",
                "meeting-agenda": "Integrationsplan",
                "meeting-users": [rav_adviser.pk, social_worker.pk],
            },
        )
        # then each answers success, and the work waits in the outbox
        assert (imported, ordered.status_code, scheduled.status_code) == (302, 302, 302)
        assert list(OutboxMessage.objects.values_list("status", flat=True)) == [OutboxStatus.PENDING] * 3

        # when Redis returns, the dispatcher runs (Celery beat runs it every few seconds) and a worker starts
        redis.start()
        assert outbox_dispatch().sent == 3
        with worker(redis_url=redis.url, log=fault_dir / "worker.log"):
            wait_for(
                lambda: not OutboxMessage.objects.exclude(status=OutboxStatus.DONE).exists(),
                what="the outbox's work to be done",
            )
        # and the dispatcher runs again
        again = outbox_dispatch()

    # then the import is checked, the report produced and the invitation sent, each once
    batch.refresh_from_db()
    report = SteeringReport.objects.get()
    meeting = Meeting.objects.get(case=case)
    assert (batch.status, batch.counts["create"]) == (ImportStatus.PREVIEWED, 3)
    assert report.status == ReportStatus.DONE
    sent = mails(fault_dir / "mail")
    assert len(sent) == 1
    assert rav_adviser.email in sent[0] and social_worker.email in sent[0] and case.reference in sent[0]
    assert list(meeting.participants.values_list("invited_sequence", flat=True)) == [meeting.sequence] * 2
    assert (again.sent, list(OutboxMessage.objects.values_list("attempts", flat=True))) == (0, [1, 1, 1])


def test_it_completes_an_import_check_after_its_worker_was_killed_in_the_middle(
    committed_world, fault_dir: Path, settings
) -> None:
    # given a large import being checked by a worker
    settings.IIZ_OUTBOX_STALL_SECONDS = 2
    rav_adviser = User.objects.get(username="rav-berater")
    rows = 3000
    with redis_server(fault_dir) as redis, broker(redis.url):
        with worker(redis_url=redis.url, log=fault_dir / "worker-1.log") as first:
            status, batch = upload(signed_in(rav_adviser), csv_file(rows, 620_000_000), "gross.csv")
            assert status == 302
            message = OutboxMessage.objects.get(task="iiz.interfaces.tasks_imports.imports_check")
            wait_for(
                lambda: ImportBatch.objects.filter(pk=batch.pk, processed_rows__gt=0, status=ImportStatus.CHECKING)
                .exists(),
                what="the check to be under way",
            )
            # when the worker is killed with SIGKILL in the middle of the check
            first.kill()
        batch.refresh_from_db()
        assert batch.status == ImportStatus.CHECKING and 0 < batch.processed_rows < rows
        # and the dispatcher's sweep runs once the worker's heartbeat is older than the stall time
        wait_for(lambda: outbox_dispatch().requeued == 1, timeout=20, what="the sweep to find the stalled check")
        with worker(redis_url=redis.url, log=fault_dir / "worker-2.log"):
            wait_for(
                lambda: ImportBatch.objects.filter(pk=batch.pk).exclude(status=ImportStatus.CHECKING).exists(),
                what="the check to finish",
            )
            wait_for(lambda: OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.DONE).exists())

    # then the check ran again from the start and completed, with every row counted once
    batch.refresh_from_db()
    message.refresh_from_db()
    assert (batch.status, batch.total_rows, batch.counts["create"]) == (ImportStatus.PREVIEWED, rows, rows)
    assert (message.status, message.attempts) == (OutboxStatus.DONE, 2)


def test_it_answers_503_while_the_database_is_unreachable_and_recovers_without_a_restart(
    committed_world, caplog
) -> None:
    # given a signed-in member of the operating committee
    from django.core.cache import cache
    from django.db import connection

    from iiz.lib import outage
    from tests.faults import free_port

    outage.episode.started, outage.episode.failures = None, 0
    cache.delete("iiz:database-outage")
    http = HttpClient(raise_request_exception=False)
    http.force_login(User.objects.get(username="ausschuss"), backend="iiz.organisations.backends.IizBackend")
    order = {"period": "2025", "audience": "operational", "format": "xlsx"}
    port = connection.settings_dict["PORT"]
    with caplog.at_level("INFO"):
        # when the database stops answering (its address leads nowhere) while the user submits three times
        try:
            connection.close()
            connection.settings_dict["PORT"] = str(free_port())
            failed = [http.post(reverse("steering:reports"), order) for _ in range(3)]
        finally:
            connection.close()
            connection.settings_dict["PORT"] = port
        # and submits again once it is back, in the same process
        back = http.post(reverse("steering:reports"), order)

    # then the outage is answered with 503 and Retry-After, nothing was half written, the same process serves
    # again at once, and the log has one line for the outage and one for its end
    assert [(r.status_code, r["Retry-After"]) for r in failed] == [(503, "30")] * 3
    assert back.status_code == 302 and SteeringReport.objects.count() == 1
    lines = [r.getMessage() for r in caplog.records if r.levelno >= 30]
    assert len(lines) == 2, lines
    assert lines[0].startswith("Database unavailable (OperationalError") and "3 requests were answered 503" in lines[1]
