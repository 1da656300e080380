"""Write a quarterly or annual steering report to a file, for operators and scheduled jobs.

python manage.py steering_report --period 2026-Q3 --format pdf --output bericht.pdf
python manage.py steering_report --period 2026 --format xlsx --output bericht.xlsx --audience operational
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from iiz.cases.models import LifeSituation
from iiz.organisations.models import District, Institution
from iiz.steering.kpis import OPERATIONAL, STRATEGIC, Period, Scope
from iiz.steering.reports import report_data_build, report_render


class Command(BaseCommand):
    help = "Write a steering report (PDF or XLSX) for a quarter (2026-Q3) or a year (2026)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="2026-Q3 or 2026")
        parser.add_argument("--format", choices=["pdf", "xlsx"], required=True)
        parser.add_argument("--output", required=True, help="the file to write")
        parser.add_argument("--audience", choices=[STRATEGIC, OPERATIONAL], default=STRATEGIC)
        parser.add_argument("--institution", type=int, help="id of the serving institution")
        parser.add_argument("--district", type=int, help="district number (101–112)")
        parser.add_argument("--life-situation", dest="life_situation", help="code of a life situation")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = Period.parse(options["period"])
        except ValueError as error:
            raise CommandError(str(error)) from error
        if options["institution"] and not Institution.objects.filter(pk=options["institution"]).exists():
            raise CommandError(f"Unknown institution id {options['institution']}.")
        if options["district"] and not District.objects.filter(number=options["district"]).exists():
            raise CommandError(f"Unknown district number {options['district']}.")
        if options["life_situation"] and not LifeSituation.objects.filter(code=options["life_situation"]).exists():
            raise CommandError(f"Unknown life situation {options['life_situation']!r}.")
        scope = Scope(
            institution_id=options["institution"],
            district=options["district"],
            life_situation=options["life_situation"],
        )
        data = report_data_build(period=period, scope=scope, audience=options["audience"])
        content = report_render(data, options["format"])
        output = Path(options["output"])
        try:
            output.write_bytes(content)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error}") from error
        self.stdout.write(f"{data.title} ({data.audience_label}, {data.scope_label}): {output} ({len(content)} bytes)")
