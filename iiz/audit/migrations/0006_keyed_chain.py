"""The keyed chain: each entry gets a keyed MAC, the plain hash chain gives way to seals.

The entries written so far are checked against their plain hash chain first (a break stops the migration,
naming the entry, so that nothing altered is sealed as if it were genuine); then each gets its MAC under
the newest key of IIZ_AUDIT_KEYS, and the sealer chains them like any new entry. The seals are append-only
like the entries: triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).
"""

import hashlib
import importlib
import json

import django.db.models.deletion
from django.db import migrations, models

_ENTRIES = importlib.import_module("iiz.audit.migrations.0003_append_only_triggers")

SEAL_SQLITE = [
    """CREATE TRIGGER audit_seal_no_update BEFORE UPDATE ON audit_auditseal
       BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;""",
    """CREATE TRIGGER audit_seal_no_delete BEFORE DELETE ON audit_auditseal
       BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;""",
]
SEAL_SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS audit_seal_no_update;", "DROP TRIGGER IF EXISTS audit_seal_no_delete;"]
SEAL_POSTGRES = [
    """CREATE TRIGGER audit_seal_no_change BEFORE UPDATE OR DELETE ON audit_auditseal
       FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();""",
    """CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_auditseal
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();""",
]
SEAL_POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_seal_no_change ON audit_auditseal;",
    "DROP TRIGGER IF EXISTS audit_seal_no_truncate ON audit_auditseal;",
]

# Both tables, in the order to install (the entries' function first) and to remove.
SQLITE = _ENTRIES.SQLITE + SEAL_SQLITE
SQLITE_REVERSE = SEAL_SQLITE_REVERSE + _ENTRIES.SQLITE_REVERSE
POSTGRES = _ENTRIES.POSTGRES + SEAL_POSTGRES
POSTGRES_REVERSE = SEAL_POSTGRES_REVERSE + _ENTRIES.POSTGRES_REVERSE


def _run(schema_editor, sqlite, postgres):
    for statement in postgres if schema_editor.connection.vendor == "postgresql" else sqlite:
        schema_editor.execute(statement)


def entries_triggers_drop(apps, schema_editor):
    _run(schema_editor, _ENTRIES.SQLITE_REVERSE, _ENTRIES.POSTGRES_REVERSE)


def all_triggers_install(apps, schema_editor):
    _run(schema_editor, SQLITE, POSTGRES)


def all_triggers_drop(apps, schema_editor):
    _run(schema_editor, SQLITE_REVERSE, POSTGRES_REVERSE)


def entries_triggers_install(apps, schema_editor):
    _run(schema_editor, _ENTRIES.SQLITE, _ENTRIES.POSTGRES)


def _payload(event):
    # As AuditEvent.canonical_payload() at the time of this migration.
    return json.dumps(
        {
            "occurred_at": event.occurred_at.isoformat(),
            "actor": event.actor_id,
            "actor_username": event.actor_username,
            "actor_roles": list(event.actor_roles),
            "actor_institution": event.actor_institution,
            "action": event.action,
            "client_id": event.client_id,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "basis": event.basis,
            "recipient": event.recipient,
            "details": event.details,
            "ip_address": event.ip_address,
        },
        sort_keys=True,
        ensure_ascii=True,
        separators=(",", ":"),
        default=str,
    )


def entries_mac(apps, schema_editor):
    from iiz.audit.chain import entry_mac

    AuditEvent = apps.get_model("audit", "AuditEvent")
    previous = ""
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        payload = _payload(event)
        if (
            event.previous_hash != previous
            or hashlib.sha256((previous + payload).encode()).hexdigest() != event.entry_hash
        ):
            raise RuntimeError(
                f"The audit trail's hash chain is broken at entry {event.pk}; resolve this before migrating "
                "(the keyed chain must not seal an altered trail)."
            )
        previous = event.entry_hash
        kid, mac = entry_mac(payload)
        AuditEvent.objects.filter(pk=event.pk).update(mac_key=kid, entry_mac=mac)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_access_request_scope")]

    operations = [
        migrations.RunPython(entries_triggers_drop, entries_triggers_install),
        migrations.AddField(model_name="auditevent", name="mac_key", field=models.CharField(blank=True, max_length=12)),
        migrations.AddField(
            model_name="auditevent", name="entry_mac", field=models.CharField(blank=True, max_length=64)
        ),
        migrations.RunPython(entries_mac, migrations.RunPython.noop),
        migrations.RemoveField(model_name="auditevent", name="previous_hash"),
        migrations.RemoveField(model_name="auditevent", name="entry_hash"),
        migrations.CreateModel(
            name="AuditSeal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(unique=True)),
                ("chain_key", models.CharField(max_length=12)),
                ("chain_value", models.CharField(max_length=64)),
                ("sealed_at", models.DateTimeField()),
                (
                    "event",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="seal",
                        to="audit.auditevent",
                    ),
                ),
            ],
            options={"verbose_name": "Versiegelung", "verbose_name_plural": "Versiegelungen", "ordering": ["seq"]},
        ),
        migrations.RunPython(all_triggers_install, all_triggers_drop),
    ]
