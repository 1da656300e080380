"""Retention after closure, anonymisation of expired persons, and re-encryption with a new key."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from iiz.audit.models import AuditAction, AuditEvent
from iiz.cases import services
from iiz.cases.models import Clarification, Dimension, Outcome
from iiz.clients.models import Client, RetentionAction
from iiz.clients.retention import retention_apply
from iiz.clients.services import registration_end
from iiz.lib import crypto
from tests.cases_world import case_open, person_create

pytestmark = pytest.mark.django_db

OPENED = dt.date(2018, 3, 1)
CLOSED = dt.date(2019, 6, 30)


def _closed_case_with_clarifications(iv_specialist, rav_adviser):  # type: ignore[no-untyped-def]
    person = person_create(actor=iv_specialist)
    case = case_open(specialist=iv_specialist, client=person, opened_on=OPENED)
    services.clarification_save(actor=iv_specialist, case=case, dimension=Dimension.MEDICAL,
                                situation="Rückenleiden, Arbeitsfähigkeit 50 %")
    services.clarification_save(actor=iv_specialist, case=case, dimension=Dimension.OCCUPATIONAL,
                                situation="Gelernter Logistiker")
    services.case_close(actor=iv_specialist, case=case, outcome=Outcome.FIRST_LABOUR_MARKET, closed_on=CLOSED)
    return person, case


def test_it_removes_each_category_when_its_period_has_passed(iv_specialist, rav_adviser, settings):
    # given a case closed mid-2019, medical kept 2 years and occupational 5 years
    settings.IIZ_RETENTION_YEARS = {**settings.IIZ_RETENTION_YEARS, "medical": 2, "occupational": 5}
    _person, case = _closed_case_with_clarifications(iv_specialist, rav_adviser)

    # when the job runs in 2022 (medical expired) and in 2025 (occupational expired too)
    retention_apply(today=dt.date(2022, 1, 1))
    after_medical = set(Clarification.objects.filter(case=case).values_list("dimension", flat=True))
    retention_apply(today=dt.date(2025, 1, 1))
    after_occupational = set(Clarification.objects.filter(case=case).values_list("dimension", flat=True))

    # then the medical text went first, the occupational one later, and each removal is recorded and audited
    assert after_medical == {Dimension.OCCUPATIONAL}
    assert after_occupational == set()
    assert RetentionAction.objects.filter(case_id_ref=case.pk, category="medical").count() == 1
    assert AuditEvent.objects.filter(client_id=case.client_id, action=AuditAction.DELETE).count() >= 2


def test_it_is_idempotent(iv_specialist, rav_adviser):
    # given an expired case, handled once
    _closed_case_with_clarifications(iv_specialist, rav_adviser)
    retention_apply(today=dt.date(2030, 1, 1))
    actions = RetentionAction.objects.count()

    # when the job runs again
    retention_apply(today=dt.date(2030, 1, 2))

    # then it records nothing new
    assert RetentionAction.objects.count() == actions


def test_it_keeps_everything_while_a_case_of_the_person_is_open(iv_specialist, rav_adviser):
    # given an expired closed case, and a new open case of the same person
    person, case = _closed_case_with_clarifications(iv_specialist, rav_adviser)
    case_open(specialist=iv_specialist, client=person, opened_on=dt.date(2024, 1, 10))

    # when the job runs long after every period
    retention_apply(today=dt.date(2035, 1, 1))

    # then nothing of the person was removed
    assert Clarification.objects.filter(case=case).count() == 2
    assert Client.objects.get(pk=person.pk).anonymised_on is None


def test_it_anonymises_a_person_whose_identity_period_has_passed(iv_specialist, rav_adviser):
    # given an expired closed case and every registration ended
    person, _case = _closed_case_with_clarifications(iv_specialist, rav_adviser)
    for registration in person.registrations.all():
        registration_end(actor=iv_specialist, registration=registration, deregistered_on=CLOSED)

    # when the job runs after the personal period (10 years)
    retention_apply(today=dt.date(2030, 1, 1))

    # then the identity is gone, what the KPIs need stays
    anonymous = Client.objects.get(pk=person.pk)
    assert (anonymous.first_name, anonymous.last_name, anonymous.street, anonymous.email) == ("–", "–", "", "")
    assert anonymous.ahv_number == f"X{person.pk:012d}"
    assert anonymous.date_of_birth == dt.date(person.date_of_birth.year, 7, 1)
    assert anonymous.municipality_id == person.municipality_id
    assert anonymous.cases.get().outcome == Outcome.FIRST_LABOUR_MARKET


def test_it_reencrypts_with_the_newest_key(iv_specialist, rav_adviser, settings):
    # given a medical clarification encrypted with the old key
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.IIZ_ENCRYPTION_KEYS = [old]
    _person, case = _closed_case_with_clarifications(iv_specialist, rav_adviser)
    clarification = Clarification.objects.get(case=case, dimension=Dimension.MEDICAL)

    # when the new key is put first and the rotation runs
    settings.IIZ_ENCRYPTION_KEYS = [new, old]
    call_command("encryption_rotate", stdout=io.StringIO())

    # then the stored value is no plain text and only the new key opens it
    with connection.cursor() as cursor:
        cursor.execute("SELECT situation FROM cases_clarification WHERE id = %s", [clarification.pk])
        stored = cursor.fetchone()[0]
    assert "Rückenleiden" not in stored
    assert Fernet(new.encode()).decrypt(stored.removeprefix(crypto.PREFIX).encode()).decode().startswith("Rücken")
    with pytest.raises(Exception):  # noqa: B017 - any failure of the old key is what we want
        Fernet(old.encode()).decrypt(stored.removeprefix(crypto.PREFIX).encode())
