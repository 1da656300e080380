"""PostgreSQL under concurrency: two users recording the same person, many writers and a sealer on the audit trail.

These tests commit data from several threads, each with its own database connection, so they use the
committed world (a transactional test) and run only on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from iiz.audit.models import AuditAction, AuditEvent, AuditSeal
from iiz.audit.sealing import audit_seal
from iiz.audit.selectors import audit_chain_verify
from iiz.audit.services import audit_record
from iiz.clients import services
from iiz.clients.models import Client
from iiz.organisations.models import User

pytestmark = [pytest.mark.postgres]


def in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` in ``count`` threads; return each result or the exception it raised."""
    results: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread raised
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_it_creates_only_one_client_when_two_users_race_with_the_same_ahv_number(committed_world, monkeypatch):
    # given two advisers who both pass the duplicate check before either has committed
    actors = [User.objects.get(username="rav-berater"), User.objects.get(username="iv-spezialistin")]
    passed_checks = threading.Barrier(2, timeout=20)
    original_full_clean = Client.full_clean

    def full_clean_then_wait(self, *args, **kwargs):
        original_full_clean(self, *args, **kwargs)
        passed_checks.wait()

    monkeypatch.setattr(Client, "full_clean", full_clean_then_wait)

    def record(index: int) -> Client:
        return services.client_create(
            actor=actors[index],
            ahv_number=["756.9217.0769.85", "7569217076985"][index],
            first_name="Lea",
            last_name="Beispiel",
            date_of_birth=dt.date(1990, 5, 17),
            sex="female",
            municipality=None,
        )

    # when both insert at the same time
    results = in_threads(2, record)

    # then the unique index lets one through; the other, who gave the same name and birth date, is registered
    # with that person: never a second person
    assert all(isinstance(r, Client) for r in results), results
    assert Client.objects.filter(ahv_number="7569217076985").count() == 1
    assert Client.objects.get().registrations.count() == 2


def test_it_appends_concurrently_and_seals_every_entry_once_in_order(committed_world, settings, tmp_path):
    # given four users writing audit entries at the same moment, and a sealer running beside them
    settings.IIZ_AUDIT_CHECKPOINT_DIR = tmp_path
    actor = User.objects.get(username="rav-berater")
    start = threading.Barrier(5, timeout=20)
    before = AuditEvent.objects.count()

    def write(index: int) -> int:
        start.wait()
        if index == 4:
            for _ in range(5):
                audit_seal()
            return index
        for _ in range(15):
            audit_record(actor=actor, action=AuditAction.READ, object_type="client", object_id=index)
        return index

    # when
    results = in_threads(5, write)
    audit_seal(checkpoint=True)

    # then every entry has exactly one seal, the seals count without gaps, and the chain verifies
    assert results == [0, 1, 2, 3, 4]
    assert AuditEvent.objects.count() == before + 60
    seqs = list(AuditSeal.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, AuditEvent.objects.count() + 1))
    assert list(audit_chain_verify()) == []
