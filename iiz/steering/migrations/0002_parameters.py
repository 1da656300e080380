"""Defaults of the cost-benefit model, each with its source (DOMAIN.md figures from practice)."""

from decimal import Decimal

from django.db import migrations

PARAMETERS = [
    ("alv_daily_allowance", "ALV-Taggeld pro Tag", "150", "CHF/Tag",
     "Durchschnittliches ALV-Taggeld rund CHF 140–165 pro Tag (ältere Zahlen, Praxiswerte Kanton Zürich)."),
    ("alv_days_per_month", "Taggelder pro Monat", "21.7", "Tage", "Arbeitstage pro Monat nach AVIG (21,7)."),
    ("alv_months_avoided", "Vermiedene ALV-Bezugsmonate pro Integration", "6", "Monate",
     "Annahme der Geschäftsstelle; anpassen, sobald Auswertungen der Bezugsdauer vorliegen."),
    ("sa_cost_per_year", "Sozialhilfe pro Person und Jahr", "10100", "CHF/Jahr",
     "Sozialhilfekosten rund CHF 10'100 pro Person und Jahr (Schweiz, 2024)."),
    ("sa_years_avoided", "Vermiedene Sozialhilfejahre pro Integration", "3", "Jahre",
     "Annahme der Geschäftsstelle (Langzeitbezug in der Sozialhilfe)."),
    ("iv_pension_per_month", "Durchschnittliche IV-Rente pro Monat", "1470", "CHF/Monat",
     "Durchschnittliche IV-Rente rund CHF 1'470 pro Monat."),
    ("iv_years_avoided", "Vermiedene IV-Rentenjahre pro Integration", "10", "Jahre",
     "Annahme; Solothurner Überlegung: 5–6 Integrationen pro Jahr decken die Betriebskosten einer CM-Stelle."),
    ("fte_cost_per_year", "Kosten pro Vollzeitstelle", "140000", "CHF/Jahr",
     "Lohn- und Arbeitsplatzkosten einer Fachperson (Annahme, kantonale Lohnklassen)."),
    ("fte_labour", "Stellen AFA/RAV (iiz-Spezialistinnen)", "1.5", "FTE", "Angabe der Partnerinstitution."),
    ("fte_disability", "Stellen SVA Zürich IV-Stelle", "1.0", "FTE", "Angabe der Partnerinstitution."),
    ("fte_cantonal_social", "Stellen KSA", "0.3", "FTE", "Angabe der Partnerinstitution."),
    ("fte_youth", "Stellen AJB", "0.5", "FTE", "Angabe der Partnerinstitution."),
    ("fte_social_service", "Stellen Gemeinde-Sozialdienste", "1.0", "FTE", "Angabe der beigetretenen Gemeinden."),
    ("office_cost_per_year", "Geschäftsstelle iiz (bezahlt durch AFA)", "450000", "CHF/Jahr",
     "iiz-Konzept 2014, Ziff. 10: Die Kosten der Geschäftsstelle trägt das AWA (heute AFA)."),
    ("shared_budget_per_year", "Gemeinsames Budget (Anlässe, Informatik, Material)", "60000", "CHF/Jahr",
     "iiz-Konzept 2014, Ziff. 10: zu gleichen Teilen von den Partnerinstitutionen finanziert."),
]


def load(apps, schema_editor):
    Parameter = apps.get_model("steering", "CostBenefitParameter")
    for position, (key, label, value, unit, source) in enumerate(PARAMETERS):
        Parameter.objects.get_or_create(
            key=key, defaults={"label": label, "value": Decimal(value), "unit": unit, "source": source,
                               "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("steering", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
