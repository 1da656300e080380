"""The outbox: background work is a row of the change's transaction, handed over after the commit, never lost.

These tests run the tasks inline (as the demo does) or hand them to a broker that is down; the fault suite
(``test_faults.py``) does the same against a real Redis and real workers on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from celery import shared_task
from django.db import transaction
from django.test import Client as HttpClient
from django.utils import timezone

from iiz.interfaces.models_imports import ImportBatch, ImportStatus
from iiz.outbox import services as outbox
from iiz.outbox.models import OutboxMessage, OutboxStatus
from iiz.steering.models import ReportStatus, SteeringReport
from tests.faults import broker, free_port

pytestmark = pytest.mark.django_db

RUNS: list[tuple[str, int]] = []


@shared_task(name="tests.outbox.record")
def record(label: str, number: int) -> int:
    RUNS.append((label, number))
    return number


@shared_task(name="tests.outbox.fail")
def fail(label: str) -> None:
    RUNS.append(("fail", 0))
    raise OSError(f"mail server refused {label}")


@shared_task(name="tests.outbox.failed")
def failed(label: str) -> None:
    RUNS.append(("failed", 0))


@pytest.fixture(autouse=True)
def _no_runs() -> None:
    RUNS.clear()


def down_broker() -> str:
    """A Redis address where nothing listens: the broker is down."""
    return f"redis://127.0.0.1:{free_port()}/0"


def message(**fields: object) -> OutboxMessage:
    return OutboxMessage.objects.create(**{"task": "tests.outbox.record", "args": ["x", 1], **fields})


def test_it_records_the_work_with_the_change_and_runs_it_after_the_commit(django_capture_on_commit_callbacks) -> None:
    # given work recorded in a transaction
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        queued = outbox.outbox_enqueue(task="tests.outbox.record", args=["a", 7])
    # then before the commit it waits as a row and nothing has run
    assert (OutboxMessage.objects.get().status, RUNS) == (OutboxStatus.PENDING, [])
    # when the commit's callbacks run
    for callback in callbacks:
        callback()
    # then the task ran once and its row is done
    queued.refresh_from_db()
    assert (RUNS, queued.status, queued.attempts) == ([("a", 7)], OutboxStatus.DONE, 1)


def test_it_leaves_nothing_when_the_change_is_rolled_back(django_capture_on_commit_callbacks) -> None:
    # when the transaction that recorded the work rolls back
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        outbox.outbox_enqueue(task="tests.outbox.record", args=["a", 1])
        raise RuntimeError("later failure")
    # then no row and no run remain
    assert (OutboxMessage.objects.count(), RUNS) == (0, [])


def test_it_runs_a_message_delivered_twice_once() -> None:
    # given a message handed over once and delivered again (a redelivery after a lost acknowledgement)
    queued = message(status=OutboxStatus.SENT, sends=1)
    task = record
    # when both copies arrive
    task.apply(args=["x", 1], task_id=outbox.task_id_for(queued, 1))
    task.apply(args=["x", 1], task_id=outbox.task_id_for(queued, 1))
    # then the work ran once
    assert RUNS == [("x", 1)]
    assert OutboxMessage.objects.get().status == OutboxStatus.DONE


def test_it_keeps_the_work_and_answers_success_when_the_broker_is_down(
    http_as, committee, django_capture_on_commit_callbacks, caplog
) -> None:
    # given a broker that is down
    http = http_as(committee)
    with broker(down_broker()), caplog.at_level(logging.WARNING, logger="iiz.outbox.services"):
        # when the committee orders two reports
        for period in ("2025-Q3", "2025-Q4"):
            with django_capture_on_commit_callbacks(execute=True):
                form = {"period": period, "audience": "strategic", "format": "xlsx"}
                response = http.post("/steuerung/berichte/", form)
            # then each order answers success
            assert response.status_code == 302
    # and both reports and their work are kept for the dispatcher, the outage logged once
    assert list(SteeringReport.objects.values_list("status", flat=True)) == [ReportStatus.PENDING] * 2
    assert list(OutboxMessage.objects.values_list("status", flat=True)) == [OutboxStatus.PENDING] * 2
    logged = [r.getMessage() for r in caplog.records if r.name == "iiz.outbox.services"]
    assert len(logged) == 1 and "broker unreachable" in logged[0]
    outbox.broker_state.succeeded()


def test_it_hands_over_the_waiting_work_once_the_broker_is_back(committee) -> None:
    # given a report whose work could not be handed over
    from iiz.steering.kpis import Period, Scope
    from iiz.steering.reports import report_request

    with broker(down_broker()):
        report = report_request(actor=committee, period=Period.parse("2025"), scope=Scope(), audience="operational",
                                fmt="xlsx")
        result = outbox.outbox_dispatch()
    assert result.broker_down and OutboxMessage.objects.get().status == OutboxStatus.PENDING
    outbox.broker_state.succeeded()
    # when the dispatcher runs with the broker back (here: tasks inline)
    result = outbox.outbox_dispatch()
    # then the report is built, once
    report.refresh_from_db()
    assert (result.sent, report.status, OutboxMessage.objects.get().status) == (1, ReportStatus.DONE, OutboxStatus.DONE)


def test_it_retries_failing_work_later_and_tells_the_user_when_no_attempt_is_left() -> None:
    # given work that raises every time, with a failure handler
    queued = message(task="tests.outbox.fail", args=["invitation"], on_failure="tests.outbox.failed")
    now = timezone.now()
    # when it runs, is retried after each wait, and runs out of attempts
    for attempt in range(outbox.max_attempts()):
        result = outbox.outbox_dispatch(now=now)
        queued.refresh_from_db()
        assert result.sent == 1
        if queued.status == OutboxStatus.PENDING:
            waited = queued.due_at - timezone.now()
            assert abs(waited - outbox.RETRY_BACKOFF[attempt]) < dt.timedelta(seconds=5)
            now = queued.due_at
    outbox.outbox_dispatch(now=now)
    # then it failed for good with the error, and its failure handler ran once
    assert (queued.status, queued.attempts) == (OutboxStatus.FAILED, outbox.max_attempts())
    assert "mail server refused invitation" in queued.error
    assert RUNS == [("fail", 0)] * outbox.max_attempts() + [("failed", 0)]


def test_it_runs_again_work_whose_worker_stopped_beating() -> None:
    # given work that a worker claimed and then stopped beating for (killed)
    stale = timezone.now() - dt.timedelta(seconds=outbox.stall_seconds() + 1)
    queued = message(status=OutboxStatus.RUNNING, attempts=1, sends=1, heartbeat_at=stale, started_at=stale)
    # when the dispatcher runs
    result = outbox.outbox_dispatch()
    # then the work ran again, and is done
    queued.refresh_from_db()
    assert (result.requeued, RUNS, queued.status, queued.attempts) == (1, [("x", 1)], OutboxStatus.DONE, 2)


def test_it_leaves_work_alone_whose_worker_still_beats() -> None:
    # given work running in a worker that beat a moment ago
    queued = message(status=OutboxStatus.RUNNING, attempts=1, sends=1, heartbeat_at=timezone.now())
    # when the dispatcher runs, and the message is delivered a second time
    result = outbox.outbox_dispatch()
    record.apply(args=["x", 1], task_id=outbox.task_id_for(queued, 1))
    # then nothing runs a second time
    assert (result.requeued, RUNS, OutboxMessage.objects.get().status) == (0, [], OutboxStatus.RUNNING)


def test_it_hands_over_again_a_message_that_no_worker_took() -> None:
    # given a message handed over long ago that no worker ever claimed (the broker restarted empty)
    queued = message(status=OutboxStatus.SENT, sends=1, due_at=timezone.now() - dt.timedelta(seconds=1))
    # when the dispatcher runs
    outbox.outbox_dispatch()
    # then it is handed over again, and runs
    queued.refresh_from_db()
    assert (queued.sends, queued.status, RUNS) == (2, OutboxStatus.DONE, [("x", 1)])


def test_it_marks_an_import_failed_with_a_message_when_its_check_cannot_finish(
    rav_adviser, django_capture_on_commit_callbacks
) -> None:
    # given an import whose check was running in a worker that was lost on its last attempt
    batch = ImportBatch.objects.create(
        institution=rav_adviser.institution, created_by=rav_adviser, file_name="personen.csv", file_format="csv",
        total_rows=30_000, processed_rows=9_000,
    )
    stale = timezone.now() - dt.timedelta(seconds=outbox.stall_seconds() + 1)
    message(
        task="iiz.interfaces.tasks_imports.imports_check", args=[batch.pk],
        on_failure="iiz.interfaces.tasks_imports.imports_abandoned",
        status=OutboxStatus.RUNNING, attempts=outbox.max_attempts(), heartbeat_at=stale,
    )
    # when the dispatcher sweeps (and its transaction commits)
    with django_capture_on_commit_callbacks(execute=True):
        result = outbox.outbox_dispatch()
    # then the batch says that it failed and asks for a new upload, in the uploader's language
    batch.refresh_from_db()
    assert (result.failed, batch.status) == (1, ImportStatus.FAILED)
    assert "Bitte laden Sie die Datei neu hoch" in batch.file_error


def test_it_reports_the_broker_and_the_backlog_when_ready(client: HttpClient, settings) -> None:
    # given tasks that run inline, and then a broker that is down with work waiting for longer than allowed
    inline = client.get("/readyz").json()
    settings.IIZ_READY_BACKLOG_SECONDS = 60
    message(due_at=timezone.now() - dt.timedelta(seconds=90))
    with broker(down_broker()):
        response = client.get("/readyz")
    # then the inline platform is ready, the one with a down broker and a growing backlog is not
    assert inline["checks"]["broker"] == "inline"
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["broker"] == "unreachable"
    assert body["checks"]["outbox"]["waiting"] == 1 and body["checks"]["outbox"]["oldest_seconds"] >= 90


def test_it_stays_ready_while_the_broker_is_down_without_a_backlog(client: HttpClient) -> None:
    # when the broker is down but nothing has waited long
    with broker(down_broker()):
        response = client.get("/readyz")
    # then the platform stays in service and says so
    assert (response.status_code, response.json()["checks"]["broker"]) == (200, "unreachable")
