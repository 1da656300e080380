"""Seed the catalogues that administrators maintain: life situations, problem topics, services, case teams.

Life situations: the six of the Uster pilot (ZESO 3/2005) and the Solothurn case-management criterion
(return to the first labour market likely to take more than two years).
"""

from django.db import migrations

LIFE_SITUATIONS = [
    ("youth-no-qualification", "without_job", None, 25,
     "Jugendliche bis 25, die den Schul- oder Lehrabschluss möglicherweise nicht schaffen"),
    ("sa-applicant-sick-leave", "without_job", None, None,
     "Anmeldung zur Sozialhilfe bei ärztlich attestierter Arbeitsunfähigkeit"),
    ("sa-recipient-feels-unable", "without_job", None, None,
     "Sozialhilfebezug und fühlt sich arbeitsunfähig"),
    ("dismissed-risk-illness", "without_job", None, None,
     "Gekündigt, findet aus eigener Kraft keine Stelle und ist gefährdet zu erkranken"),
    ("employee-over-55-limited", "job_at_risk", 55, None,
     "Arbeitnehmende über 55 mit deutlichen alters- oder gesundheitsbedingten Leistungseinschränkungen"),
    ("frequent-certified-absences", "job_at_risk", None, None,
     "Arbeitnehmende mit häufigen oder regelmässigen ärztlich attestierten Absenzen"),
    ("reintegration-over-two-years", "long_term", None, None,
     "Wiedereingliederung in den ersten Arbeitsmarkt dauert voraussichtlich mehr als zwei Jahre"),
]

TOPICS = [
    ("health", "Gesundheit"), ("mental-health", "Psychische Gesundheit"), ("debt", "Schulden"),
    ("housing", "Wohnen"), ("language", "Sprache"), ("childcare", "Kinderbetreuung"), ("addiction", "Sucht"),
    ("qualification", "Qualifikation / Ausbildung"), ("family", "Familiäre Situation"),
    ("residence-permit", "Aufenthaltsstatus"), ("mobility", "Mobilität"),
]

SERVICES = [
    ("labour", "alv-placement", "Stellenvermittlung RAV"),
    ("labour", "alv-amm-course", "Arbeitsmarktliche Massnahme: Kurs"),
    ("labour", "alv-amm-programme", "Programm zur vorübergehenden Beschäftigung"),
    ("labour", "alv-training-allowance", "Ausbildungszuschuss"),
    ("labour", "alv-induction-allowance", "Einarbeitungszuschuss"),
    ("disability", "iv-early-intervention", "IV-Frühintervention"),
    ("disability", "iv-integration-measure", "IV-Integrationsmassnahme"),
    ("disability", "iv-vocational-measure", "Berufliche Massnahme der IV (Umschulung, Ausbildung)"),
    ("disability", "iv-job-coaching", "Job-Coaching der IV"),
    ("disability", "iv-work-trial", "Arbeitsversuch"),
    ("social_service", "sh-budget", "Unterstützung nach SKOS-Richtlinien"),
    ("social_service", "sh-integration-programme", "Integrationsprogramm der Sozialhilfe"),
    ("social_service", "sh-debt-counselling", "Vermittlung Schuldenberatung"),
    ("social_service", "sh-housing", "Wohnhilfe"),
    ("youth", "ajb-career-guidance", "Berufs- und Laufbahnberatung biz"),
    ("youth", "ajb-case-management-bb", "Case Management Berufsbildung"),
    ("youth", "ajb-family-support", "Jugend- und Familienhilfe"),
    ("youth", "ajb-childcare", "Vermittlung Kinderbetreuung"),
    ("education", "mba-bridge-year", "Brückenangebot"),
]

CASE_TEAMS = [
    ("iiz-Fallteam Oberland", [109, 105, 108]),
    ("iiz-Fallteam Winterthur und Weinland", [110, 102]),
    ("iiz-Fallteam Stadt Zürich", [112]),
    ("iiz-Fallteam Limmattal und Knonaueramt", [111, 101]),
    ("iiz-Fallteam Unterland", [103, 104]),
    ("iiz-Fallteam Zimmerberg und Pfannenstiel", [106, 107]),
]


def load(apps, schema_editor):
    LifeSituation = apps.get_model("cases", "LifeSituation")
    ProblemTopic = apps.get_model("cases", "ProblemTopic")
    ServiceOffering = apps.get_model("cases", "ServiceOffering")
    CaseTeam = apps.get_model("cases", "CaseTeam")
    District = apps.get_model("organisations", "District")
    for position, (code, group, min_age, max_age, name) in enumerate(LIFE_SITUATIONS):
        LifeSituation.objects.get_or_create(
            code=code, defaults={"group": group, "min_age": min_age, "max_age": max_age, "name": name,
                                 "position": position}
        )
    for position, (code, name) in enumerate(TOPICS):
        ProblemTopic.objects.get_or_create(code=code, defaults={"name": name, "position": position})
    for kind, code, name in SERVICES:
        ServiceOffering.objects.get_or_create(code=code, defaults={"institution_kind": kind, "name": name})
    for name, district_numbers in CASE_TEAMS:
        team, _ = CaseTeam.objects.get_or_create(name=name)
        team.districts.set(District.objects.filter(number__in=district_numbers))


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_case_work"), ("organisations", "0002_municipalities_and_partners")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
