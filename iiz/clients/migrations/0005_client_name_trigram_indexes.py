"""Trigram indexes for the client search by name, on PostgreSQL only.

The search (``client_search`` and the API's ``name`` filter) matches every term with ``icontains`` on the
first and the last name, which Django writes as ``UPPER(name::text) LIKE UPPER('%term%')``: a pattern
with a leading wildcard that no B-tree serves, so every search read the whole table. A GIN index with
``gin_trgm_ops`` on exactly that expression lets PostgreSQL find the rows from the term's trigrams.

SQLite has no such index and its search stays as it was, so the migration does nothing there; the model
state is unchanged on both (the indexes are not Django ``Meta.indexes``, which would also be created on
SQLite). ``pg_trgm`` is a trusted extension since PostgreSQL 13: the database owner may create it.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEXES = (
    ("client_last_name_trgm", "last_name"),
    ("client_first_name_trgm", "first_name"),
)


def create_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES:
        # The expression must be the one Django's icontains writes, or the planner cannot use the index.
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON clients_client USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0004_registration_recorder_optional"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
