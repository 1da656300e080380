"""The audit trail is append-only (model, database triggers, admin) and hash-chained."""

from __future__ import annotations

import json

import pytest
from django.contrib import admin as django_admin
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from iiz.audit.models import AppendOnlyError, AuditAction, AuditEvent
from iiz.audit.selectors import ChainBreak, audit_chain_verify
from iiz.audit.services import audit_record
from iiz.clients import selectors
from tests.conftest import _TRIGGERS

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def event(rav_adviser, rav_client):
    return audit_record(actor=rav_adviser, action=AuditAction.READ, client_id=rav_client.pk, object_type="client")


def drop_triggers_in_this_transaction():
    """Remove the triggers inside the test's transaction only (rolled back with it), to simulate tampering."""
    statements = {"sqlite": _TRIGGERS.SQLITE_REVERSE, "postgresql": _TRIGGERS.POSTGRES_REVERSE}[connection.vendor]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


# --- append-only through the ORM ---------------------------------------------------------------------


def test_it_refuses_to_save_a_changed_event(event):
    # given / when / then
    event.details = {"altered": True}
    with pytest.raises(AppendOnlyError):
        event.save()


def test_it_refuses_to_delete_an_event(event):
    # given / when / then
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_refuses_a_bulk_update_in_the_database(event):
    # given / when / then: a queryset update bypasses save(), the trigger still refuses
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(details={"altered": True})
    event.refresh_from_db()
    assert event.details == {}


def test_it_refuses_a_bulk_delete_in_the_database(event):
    # given / when / then
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# --- append-only in raw SQL (SQLite here; PostgreSQL in the marked copies) -----------------------------


def raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_refuses_a_raw_sql_update(event):
    # given / when / then
    with pytest.raises(DatabaseError, match="append-only"):
        raw(f"UPDATE {TABLE} SET actor_username = %s WHERE id = %s", ["someone-else", event.pk])  # noqa: S608
    event.refresh_from_db()
    assert event.actor_username == "rav-berater"


def test_it_refuses_a_raw_sql_delete(event):
    # given / when / then
    with pytest.raises(DatabaseError, match="append-only"):
        raw(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])  # noqa: S608
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.postgres
def test_it_refuses_a_raw_sql_update_on_postgresql(event):
    # given / when / then
    with pytest.raises(DatabaseError, match="append-only"):
        raw(f"UPDATE {TABLE} SET actor_username = %s WHERE id = %s", ["someone-else", event.pk])  # noqa: S608
    event.refresh_from_db()
    assert event.actor_username == "rav-berater"


@pytest.mark.postgres
def test_it_refuses_a_raw_sql_delete_on_postgresql(event):
    # given / when / then
    with pytest.raises(DatabaseError, match="append-only"):
        raw(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])  # noqa: S608
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.postgres
def test_it_refuses_truncate_on_postgresql(db):
    # given the world's entries (committed before this test's transaction)
    count = AuditEvent.objects.count()

    # when / then (checking deferred constraints first, so that PostgreSQL gets as far as the trigger)
    with pytest.raises(DatabaseError, match="append-only"):
        raw(f"SET CONSTRAINTS ALL IMMEDIATE; TRUNCATE {TABLE}", [])  # noqa: S608
    assert count > 0
    assert AuditEvent.objects.count() == count


@pytest.mark.postgres
def test_it_serialises_appends_with_an_advisory_lock_on_postgresql(rav_adviser):
    # given / when
    with CaptureQueriesContext(connection) as queries:
        audit_record(actor=rav_adviser, action=AuditAction.SEARCH, object_type="client_search")

    # then the chain's predecessor is read under the lock
    statements = [q["sql"] for q in queries.captured_queries]
    lock = next(i for i, sql in enumerate(statements) if "pg_advisory_xact_lock" in sql)
    read = next(i for i, sql in enumerate(statements) if "entry_hash" in sql and sql.lstrip().startswith("SELECT"))
    assert lock < read


# --- the admin ---------------------------------------------------------------------------------------------


def test_it_lists_the_audit_trail_in_the_admin(http_as, admin, event):
    # given / when
    response = http_as(admin).get(reverse("admin:audit_auditevent_changelist"))

    # then
    assert response.status_code == 200
    assert reverse("admin:audit_auditevent_add") not in response.content.decode()


def test_it_offers_no_add_change_or_delete_in_the_admin(http_as, admin, event):
    # given
    http = http_as(admin)

    # when
    add = http.get(reverse("admin:audit_auditevent_add"))
    change = http.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"actor_username": "x"})
    delete = http.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"})

    # then
    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    event.refresh_from_db()
    assert event.actor_username == "rav-berater"


def test_it_has_no_bulk_actions_in_the_admin(admin):
    # given / when / then: not even the built-in "delete selected"
    model_admin = django_admin.site._registry[AuditEvent]
    request = type("Request", (), {"user": admin, "GET": {}})()
    assert model_admin.get_actions(request) == {}


# --- the hash chain ---------------------------------------------------------------------------------


def test_it_verifies_the_chain_of_fresh_entries(http_as, rav_adviser, rav_client):
    # given a few reads and a search
    http = http_as(rav_adviser)
    http.get(rav_client.get_absolute_url())
    http.get(reverse("clients:search"), {"q": "Muster"})

    # when / then
    assert list(audit_chain_verify()) == []
    assert AuditEvent.objects.count() >= 2


def test_it_detects_an_altered_entry(event, rav_adviser):
    # given an entry altered behind the application's back (triggers dropped in this transaction only)
    later = audit_record(actor=rav_adviser, action=AuditAction.READ, object_type="client")
    drop_triggers_in_this_transaction()
    AuditEvent.objects.filter(pk=event.pk).update(actor_username="someone-else")

    # when
    breaks = list(audit_chain_verify())

    # then
    assert breaks == [ChainBreak(event.pk, "entry altered")]
    assert later.pk not in [b.event_id for b in breaks]


def test_it_detects_a_removed_entry(event, rav_adviser):
    # given the entry after `event` and `event` itself, then `event` removed
    follower = audit_record(actor=rav_adviser, action=AuditAction.READ, object_type="client")
    drop_triggers_in_this_transaction()
    AuditEvent.objects.filter(pk=event.pk).delete()

    # when
    breaks = list(audit_chain_verify(batch_size=2))

    # then
    assert breaks == [ChainBreak(follower.pk, "predecessor missing or altered")]


def test_it_keeps_search_terms_out_of_the_audit_trail(rav_adviser, rav_client):
    # given / when
    selectors.client_search(user=rav_adviser, query="Muster Anna")

    # then the entry names the results, not what was typed
    event = AuditEvent.objects.get(action=AuditAction.SEARCH)
    assert "Muster" not in json.dumps(event.details)
    assert event.details == {"query_terms": 2, "results": [rav_client.pk], "page": 1, "total": 1}
