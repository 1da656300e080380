"""Load the canton's districts and municipalities, and the partner institutions of the network.

Source of ``zh-municipalities.csv``: the federal statistical office's official municipality register
(Amtliches Gemeindeverzeichnis, 2023 snapshot), compared row by row with the canton of Zürich's
statistical office's area master data (Gebietsstammdaten, years 2023–2026): the 160 political
municipalities as of 1 January 2023, unchanged through 2026. Later mergers are recorded by administrators
as new register states (end the old entries, add the new one); no code change is needed.
"""

import csv
import datetime as dt
from pathlib import Path

from django.db import migrations

SOURCE = (
    "BFS Amtliches Gemeindeverzeichnis (Stand 2023), abgeglichen mit den Gebietsstammdaten "
    "des Statistischen Amts des Kantons Zürich 2023–2026"
)
REGISTER_DATE = dt.date(2023, 1, 1)

PARTNERS = [
    ("labour", "Amt für Arbeit", "AFA", "Amt für Wirtschaft und Arbeit (AWA)", True),
    ("disability", "SVA Zürich IV-Stelle", "IV", "", True),
    ("cantonal_social", "Kantonales Sozialamt", "KSA", "", True),
    ("youth", "Amt für Jugend und Berufsberatung", "AJB", "", True),
    ("education", "Amt für Mittelschul- und Berufsbildung", "MBA", "", True),
    ("coordination", "Geschäftsstelle iiz", "GS iiz", "", True),
]


def load(apps, schema_editor):
    District = apps.get_model("organisations", "District")
    Municipality = apps.get_model("organisations", "Municipality")
    Institution = apps.get_model("organisations", "Institution")
    path = Path(__file__).resolve().parent.parent / "zh-municipalities.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    districts = {}
    for row in rows:
        number = int(row["district_number"])
        if number not in districts:
            districts[number], _ = District.objects.get_or_create(
                number=number, defaults={"name": row["district_name"]}
            )
    for row in rows:
        Municipality.objects.get_or_create(
            bfs_number=int(row["bfs_number"]),
            valid_from=REGISTER_DATE,
            defaults={
                "name": row["name"],
                "district": districts[int(row["district_number"])],
                "register_source": SOURCE,
            },
        )
    for kind, name, short, formerly, partner in PARTNERS:
        Institution.objects.get_or_create(
            name=name, defaults={"kind": kind, "short_name": short, "formerly": formerly, "is_partner": partner}
        )


def unload(apps, schema_editor):
    apps.get_model("organisations", "Municipality").objects.filter(valid_from=REGISTER_DATE).delete()
    apps.get_model("organisations", "District").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("organisations", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
