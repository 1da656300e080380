"""The demo loader: synthetic clients and IIZ cases, built through the services, reproducible and idempotent."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command

from iiz.cases.models import Case, CaseStatus
from iiz.cases.selectors import tasks_for_user
from iiz.clients.models import Client
from iiz.demo.generator import demo_client_rows
from iiz.demo.world import demo_world_build
from iiz.organisations.models import User
from iiz.steering.kpis import dataset_load

pytestmark = pytest.mark.django_db


def test_load_demo_creates_valid_cases_once(audit_store) -> None:
    # given the demo loaded with 10 cases of the demo users and the network's cases in bulk
    first = io.StringIO()
    call_command("load_demo", "--clients", "400", "--cases", "10", "--case-share", "0.08", stdout=first)
    assert "Created 10 synthetic IIZ cases of the demo users" in first.getvalue()
    assert "of the whole network" in first.getvalue()
    cases = list(Case.objects.all())

    # when it runs again
    second = io.StringIO()
    call_command("load_demo", "--clients", "400", "--cases", "10", "--case-share", "0.08", stdout=second)

    # then nothing is added, and every case is valid
    assert f"{len(cases)} IIZ cases exist already" in second.getvalue()
    assert Client.objects.count() == 400
    assert Case.objects.count() == len(cases) > 10
    for case in cases:
        case.full_clean()
    rav = User.objects.get(username="rav-berater")
    overdue = [t for t in tasks_for_user(user=rav) if t.overdue and t.kind == "agreement"]
    assert len(overdue) >= 2
    coordinator = User.objects.get(username="koordinatorin")
    assert any(t.overdue for t in tasks_for_user(user=coordinator))
    dataset = dataset_load()
    assert any(row.closed_on is not None for row in dataset.cases)
    assert any(row.closed_on is None for row in dataset.cases)
    assert Case.objects.filter(status=CaseStatus.CLOSED).exclude(outcome="").exists()
    # the demo has no sealer process: the loader sealed its trail, which verifies
    verified = io.StringIO()
    call_command("audit_verify", stdout=verified)
    assert "audit trail intact" in verified.getvalue()


def test_client_rows_are_reproducible() -> None:
    units = demo_world_build()

    def ahv_numbers(seed: int) -> list[str]:
        return [row.ahv_number for batch in demo_client_rows(count=40, seed=seed, units=units) for row in batch]

    def people(seed: int) -> list[tuple[str, str, str]]:
        return [
            (row.first_name, row.last_name, str(row.date_of_birth))
            for batch in demo_client_rows(count=40, seed=seed, units=units, batch_size=15)
            for row in batch
        ]

    assert ahv_numbers(7) == ahv_numbers(7)
    assert people(7) == people(7)
    assert ahv_numbers(7) != ahv_numbers(8)


def test_generated_consents_are_dated_when_they_took_effect() -> None:
    # given / when 200 synthetic clients are generated
    from django.utils import timezone

    from iiz.clients.models import Consent
    from iiz.demo.generator import demo_clients_generate

    demo_clients_generate(count=200, seed=11, units=demo_world_build())

    # then each consent counts for the day it took effect, not for the day of the run
    consents = list(Consent.objects.all())
    assert len(consents) > 50
    today = timezone.localdate()
    assert all(timezone.localdate(c.recorded_at) == min(c.valid_from, today) for c in consents)
    assert sum(1 for c in consents if timezone.localdate(c.recorded_at) < today - dt.timedelta(days=90)) > 25
