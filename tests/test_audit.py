"""The audit trail is append-only (model, database triggers, admin), keyed, sealed in order and checkpointed."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from django.contrib import admin as django_admin
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from iiz.audit.models import AppendOnlyError, AuditAction, AuditEvent, AuditSeal
from iiz.audit.sealing import audit_seal
from iiz.audit.selectors import ChainSummary, audit_chain_verify
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


def test_it_appends_an_entry_with_one_insert_and_no_lock(rav_adviser):
    # given / when an entry is written
    with CaptureQueriesContext(connection) as queries:
        event = audit_record(actor=rav_adviser, action=AuditAction.SEARCH, object_type="client_search")

    # then nothing of the trail was read or locked (requests never wait for one another), and the entry
    # carries its MAC (the one other query reads the actor's institution)
    statements = [q["sql"] for q in queries.captured_queries]
    touching = [sql.split()[0] for sql in statements if "audit_audit" in sql]
    assert touching == ["INSERT"]
    assert not [sql for sql in statements if "lock" in sql.lower()]
    assert len(event.entry_mac) == 64 and event.mac_key


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


# --- the keyed chain, its seals and its signed checkpoints (against the database's owner) --------------------


@pytest.fixture
def base(audit_store):
    """The seal number before the test's own entries: the world's entries are sealed first."""
    return audit_seal().last_seq


def entries(actor, count):
    return [audit_record(actor=actor, action=AuditAction.READ, object_type="client", object_id=i) for i in range(count)]


def verify():
    """audit_verify as operators run it: its output, or the CommandError that names the first break."""
    out = io.StringIO()
    call_command("audit_verify", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def plain_hash(previous, event):
    """The attacker's best guess without the key: the old plain SHA-256 chain over the entry's content."""
    return hashlib.sha256((previous + event.canonical_payload()).encode()).hexdigest()


def test_it_verifies_the_sealed_chain_of_fresh_entries(http_as, rav_adviser, rav_client, audit_store):
    # given a few reads and a search, sealed and checkpointed
    http = http_as(rav_adviser)
    http.get(rav_client.get_absolute_url())
    http.get(reverse("clients:search"), {"q": "Muster"})
    run = audit_seal(checkpoint=True)

    # when / then
    assert run.sealed == AuditEvent.objects.count() >= 2
    assert run.checkpoint is not None and run.checkpoint.signature_valid()
    assert list(audit_chain_verify()) == []
    assert "audit trail intact" in verify()


def test_it_detects_an_altered_entry(rav_adviser, base):
    # given sealed entries, one altered behind the application's back (triggers dropped in this transaction)
    altered = entries(rav_adviser, 3)[1]
    audit_seal(checkpoint=True)
    drop_triggers_in_this_transaction()
    AuditEvent.objects.filter(pk=altered.pk).update(actor_username="someone-else")

    # when
    breaks = list(audit_chain_verify())

    # then the entry is named, and only it
    assert [(b.event_id, b.seq) for b in breaks] == [(altered.pk, base + 2)]
    assert "altered" in breaks[0].reason


def test_it_detects_a_middle_entry_removed_and_the_later_chain_recomputed_with_the_plain_algorithm(rav_adviser, base):
    # given ten sealed entries and a checkpoint; the owner removes the fifth with its seal, renumbers the later
    # seals and recomputes every later value with the plain algorithm (no key)
    written = entries(rav_adviser, 10)
    audit_seal(checkpoint=True)
    drop_triggers_in_this_transaction()
    AuditSeal.objects.filter(event_id=written[4].pk).delete()
    AuditEvent.objects.filter(pk=written[4].pk).delete()
    previous = AuditSeal.objects.get(seq=base + 4).chain_value
    for seal in AuditSeal.objects.filter(seq__gt=base + 5).order_by("seq"):
        event = AuditEvent.objects.get(pk=seal.event_id)
        previous = plain_hash(previous, event)
        AuditEvent.objects.filter(pk=event.pk).update(
            entry_mac=hashlib.sha256(event.canonical_payload().encode()).hexdigest()
        )
        AuditSeal.objects.filter(pk=seal.pk).update(seq=seal.seq - 1, chain_value=previous)

    # when / then audit_verify fails, naming the first entry after the removed one
    with pytest.raises(CommandError, match=rf"entry {written[5].pk}, seal {base + 5}: entry altered"):
        verify()


def test_it_detects_the_last_five_entries_cut_off(rav_adviser, base):
    # given ten sealed entries and a checkpoint; the owner removes the last five with their seals
    written = entries(rav_adviser, 10)
    audit_seal(checkpoint=True)
    drop_triggers_in_this_transaction()
    AuditSeal.objects.filter(seq__gt=base + 5).delete()
    AuditEvent.objects.filter(pk__in=[e.pk for e in written[5:]]).delete()

    # when / then audit_verify fails, naming where the chain now ends and what the checkpoint signed
    with pytest.raises(
        CommandError,
        match=rf"entry {written[4].pk}, seal {base + 5}: the chain ends at seal {base + 5}, but the checkpoint",
    ) as failure:
        verify()
    assert f"signed at seal {base + 10} (entry {written[9].pk})" in str(failure.value)


def test_it_detects_a_removed_entry_whose_seal_is_left(rav_adviser, base):
    # given
    written = entries(rav_adviser, 3)
    audit_seal()
    drop_triggers_in_this_transaction()
    AuditEvent.objects.filter(pk=written[1].pk).delete()

    # when / then
    assert [str(b) for b in audit_chain_verify()] == [f"entry {written[1].pk}, seal {base + 2}: entry removed"]


def test_it_detects_two_seals_swapped(rav_adviser, base):
    # given
    written = entries(rav_adviser, 3)
    audit_seal()
    drop_triggers_in_this_transaction()
    first, second = AuditSeal.objects.get(seq=base + 1), AuditSeal.objects.get(seq=base + 2)
    AuditSeal.objects.filter(pk=first.pk).update(seq=-1)
    AuditSeal.objects.filter(pk=second.pk).update(seq=base + 1)
    AuditSeal.objects.filter(pk=first.pk).update(seq=base + 2)

    # when
    breaks = list(audit_chain_verify())

    # then
    assert breaks and breaks[0].seq == base + 1 and breaks[0].event_id == written[1].pk


def test_it_flags_an_entry_inserted_in_the_database_without_the_key(rav_adviser, base):
    # given an entry written straight into the table with a made-up MAC, then sealed like any other
    forged = AuditEvent(
        occurred_at=timezone.now(), actor_username="x", action=AuditAction.READ, mac_key="0" * 12, entry_mac="0" * 64
    )
    forged.save()
    audit_seal()

    # when / then
    assert [b.event_id for b in audit_chain_verify()] == [forged.pk]


def test_it_refuses_a_checkpoint_whose_signature_does_not_hold(rav_adviser, audit_store):
    # given a checkpoint rewritten to a shorter chain (the second store's owner without the signing key)
    entries(rav_adviser, 2)
    run = audit_seal(checkpoint=True)
    path = Path(run.checkpoint.path)
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "seq": 1}))

    # when / then
    assert any("no valid signature" in b.reason for b in audit_chain_verify())


def test_it_fails_when_entries_wait_for_the_sealer_too_long(rav_adviser, audit_store, settings):
    # given an entry nobody sealed, and no patience at all
    entries(rav_adviser, 1)
    settings.IIZ_AUDIT_UNSEALED_MAX_SECONDS = -1

    # when / then
    with pytest.raises(CommandError, match="waited more than -1 s for the sealer"):
        verify()


def test_it_seals_after_the_commit_when_no_sealer_process_runs(
    rav_adviser, audit_store, settings, django_capture_on_commit_callbacks
):
    # given the embedded demo's setting
    settings.IIZ_AUDIT_SEAL_INLINE = True

    # when two entries are written in one transaction
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        entries(rav_adviser, 2)

    # then one sealing ran after the commit and sealed both
    assert len(callbacks) == 1
    assert AuditSeal.objects.count() == AuditEvent.objects.count()


def test_it_verifies_incrementally_from_the_newest_checkpoint(rav_adviser, base):
    # given an altered entry before the newest checkpoint, and new entries after it
    early = entries(rav_adviser, 2)[0]
    audit_seal(checkpoint=True)
    entries(rav_adviser, 2)
    audit_seal(checkpoint=True)
    entries(rav_adviser, 2)
    audit_seal()
    drop_triggers_in_this_transaction()
    AuditEvent.objects.filter(pk=early.pk).update(actor_username="someone-else")
    summary = ChainSummary()

    # when
    incremental = list(audit_chain_verify(incremental=True, summary=summary))

    # then only the entries after the checkpoint were walked (the full check finds the alteration)
    assert incremental == [] and (summary.first_seq, summary.last_seq) == (base + 5, base + 6)
    assert [b.event_id for b in audit_chain_verify()] == [early.pk]


def test_it_verifies_entries_sealed_under_a_retired_key_while_that_key_is_listed(rav_adviser, audit_store, settings):
    # given entries sealed under the first key, then a new key put first
    entries(rav_adviser, 2)
    audit_seal(checkpoint=True)
    settings.IIZ_AUDIT_KEYS = ["bmV3LWtleS1mb3ItdGhlLWF1ZGl0LXRyYWlsLWFmdGVyLXJvdGF0aW9u", *settings.IIZ_AUDIT_KEYS]
    entries(rav_adviser, 2)
    audit_seal(checkpoint=True)

    # when / then both generations verify, and new seals use the new key
    assert list(audit_chain_verify()) == []
    assert len(set(AuditSeal.objects.values_list("chain_key", flat=True))) == 2
    settings.IIZ_AUDIT_KEYS = settings.IIZ_AUDIT_KEYS[:1]
    assert any("not in IIZ_AUDIT_KEYS" in b.reason for b in audit_chain_verify())


def test_it_exports_each_entry_with_its_mac_and_seal(rav_adviser, base, tmp_path):
    # given
    written = entries(rav_adviser, 2)
    audit_seal()

    # when
    call_command("audit_export", str(tmp_path), "--date", timezone.localdate().isoformat(), stdout=io.StringIO())

    # then
    lines = [
        json.loads(line)
        for line in (tmp_path / f"audit-{timezone.localdate().isoformat()}.jsonl").read_text().splitlines()
    ]
    assert {e.pk for e in written} <= {line["id"] for line in lines}
    mine = [line for line in lines if line["id"] in {e.pk for e in written}]
    assert mine[0]["entry_mac"] == written[0].entry_mac and mine[0]["seal"]["seq"] == base + 1


def test_it_keeps_search_terms_out_of_the_audit_trail(rav_adviser, rav_client):
    # given / when
    selectors.client_search(user=rav_adviser, query="Muster Anna")

    # then the entry names the results, not what was typed
    event = AuditEvent.objects.get(action=AuditAction.SEARCH)
    assert "Muster" not in json.dumps(event.details)
    assert event.details == {"query_terms": 2, "results": [rav_client.pk], "page": 1, "total": 1}
