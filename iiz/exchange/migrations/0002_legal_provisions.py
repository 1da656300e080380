"""Seed the catalogue of legal bases for exchange without consent (summaries; the laws are the reference)."""

from django.db import migrations

PROVISIONS = [
    ("ivg-68bis", "IVG Art. 68bis", "Interinstitutionelle Zusammenarbeit: Datenaustausch zwischen IV-Stellen, "
     "Durchführungsorganen der ALV, Sozialhilfe und weiteren Stellen im Einzelfall."),
    ("ivg-3c", "IVG Art. 3c", "Früherfassung: Meldung an die IV-Stelle mit Ermächtigung der versicherten Person."),
    ("avig-85f", "AVIG Art. 85f", "Zusammenarbeit der Arbeitslosenversicherung mit anderen Institutionen (IIZ)."),
    ("avig-97a", "AVIG Art. 97a", "Datenbekanntgabe durch Organe der Arbeitslosenversicherung."),
    ("avg-35a", "AVG Art. 35a", "Zugriff der Partner auf Daten der Arbeitsvermittlung im Einzelfall, mit "
     "Zustimmung der Person und gegenseitigem Zugriff."),
    ("atsg-32", "ATSG Art. 32", "Amts- und Verwaltungshilfe unter Sozialversicherungsträgern."),
    ("shg-zh-47", "SHG ZH § 47", "Datenbekanntgabe der Sozialhilfeorgane im Kanton Zürich."),
    ("idg-zh-16-17", "IDG ZH §§ 16 und 17", "Bekanntgabe besonderer Personendaten an öffentliche Organe, die sie "
     "im Einzelfall für ihre gesetzliche Aufgabe benötigen."),
]


def load(apps, schema_editor):
    LegalProvision = apps.get_model("exchange", "LegalProvision")
    for code, name, summary in PROVISIONS:
        LegalProvision.objects.get_or_create(code=code, defaults={"name": name, "summary": summary})


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
