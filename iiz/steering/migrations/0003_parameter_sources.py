"""The assumptions of the cost-benefit model as the per-benefit model uses them, with sources that credit no
seed with a figure it does not give. Only rows an administrator has not changed are updated."""

from django.db import migrations

UPDATES = [
    (
        "alv_months_avoided",
        "Vermiedene ALV-Bezugsmonate pro Integration",
        "Vermiedene ALV-Bezugsmonate, wo das RAV keinen Restanspruch erfasst hat",
        None,
    ),
    (
        "sa_cost_per_year",
        "Sozialhilfe pro Person und Jahr",
        "Sozialhilfe pro Person und Jahr, wo der Sozialdienst keinen Monatsbetrag erfasst hat",
        None,
    ),
    (
        "iv_years_avoided",
        "Vermiedene IV-Rentenjahre pro Integration",
        "Vermiedene IV-Rentenjahre, wo eine Rente in Frage stand",
        (
            "Annahme; Solothurner Überlegung: 5–6 Integrationen pro Jahr decken die Betriebskosten einer CM-Stelle.",
            "Annahme der Geschäftsstelle. Zählt nur, wo die IV-Stelle eine hängige Rentenprüfung oder eine gefährdete "
            "Rente erfasst hat (Leistungsangaben); der Artikel zu Solothurn (ZeSo 2005) nennt keine Rentenjahre.",
        ),
    ),
]


def forwards(apps, schema_editor):
    Parameter = apps.get_model("steering", "CostBenefitParameter")
    for key, old_label, new_label, source in UPDATES:
        Parameter.objects.filter(key=key, label=old_label).update(label=new_label)
        if source is not None:
            Parameter.objects.filter(key=key, source=source[0]).update(source=source[1])


class Migration(migrations.Migration):
    dependencies = [("steering", "0002_parameters")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
