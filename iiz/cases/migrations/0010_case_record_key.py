"""A random record key per case for the cell key method of the published steering figures.

Existing cases get their own key each (a default on the added column would give them all the same one).
"""

import secrets

from django.db import migrations, models

import iiz.cases.models

SPACE = 2**31


def keys_draw(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    batch = []
    for case in Case.objects.only("id").iterator(chunk_size=2000):
        case.record_key = secrets.randbelow(SPACE)
        batch.append(case)
        if len(batch) >= 2000:
            Case.objects.bulk_update(batch, ["record_key"])
            batch = []
    if batch:
        Case.objects.bulk_update(batch, ["record_key"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_meeting_locking")]

    operations = [
        migrations.AddField(
            model_name="case", name="record_key", field=models.PositiveIntegerField(default=0, editable=False)
        ),
        migrations.RunPython(keys_draw, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="case",
            name="record_key",
            field=models.PositiveIntegerField(default=iiz.cases.models.record_key_new, editable=False),
        ),
    ]
