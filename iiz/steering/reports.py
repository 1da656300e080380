"""Quarterly and annual steering reports: the data, the PDF (WeasyPrint) and the XLSX (openpyxl).

A report is ordered with ``report_request``, which stores a ``SteeringReport`` and records its generation in
the outbox (handed to a worker after the commit); ``report_generate`` (run by the Celery task, inline in the
demo) builds it, updating the progress as it goes, and does nothing for a report that is already done. The
command ``steering_report`` builds the same files without storing a report.

Reports publish every count through ``iiz.steering.publication`` like the pages; a report is read by everyone
of its audience, so none of its figures is exact for a single reader.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from iiz.outbox.services import outbox_enqueue
from iiz.steering.costbenefit import cost_benefit_published
from iiz.steering.figures import (
    HIDDEN,
    BreakdownTable,
    EmptyState,
    Figure,
    Labels,
    Trend,
    cases_table,
    empty_state,
    figures_build,
    outcomes_table,
    threshold,
    trend_build,
)
from iiz.steering.kpis import DIMENSIONS, STRATEGIC, Period, Scope, dataset_load, kpis_for
from iiz.steering.models import ReportFormat, ReportStatus, SteeringReport
from iiz.steering.publication import Publisher, Reader, method_note
from iiz.steering.selectors import report_audiences_for, scope_from_json, scope_to_json

if TYPE_CHECKING:
    from iiz.organisations.models import User

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]


def _no_progress(_percent: int) -> None:
    return None


def audience_label(audience: str) -> str:
    return _("Trägerschaft (strategisch)") if audience == STRATEGIC else _("Operativer Ausschuss (operativ)")


# ---------------------------------------------------------------------------------------------------------
# The data of a report
# ---------------------------------------------------------------------------------------------------------


@dataclass
class CostBenefitLine:
    label: str
    display: str
    value: float | None  # None when suppressed
    suppressed: bool = False
    # How the XLSX shows the value: a count, an amount in francs, or a ratio with one decimal.
    unit: str = "count"


@dataclass
class CostBenefitSummary:
    lines: list[CostBenefitLine]
    note: str


def _chf(amount: Decimal) -> str:
    return f"CHF {number_format(round(amount), 0, force_grouping=True)}"


def cost_benefit_summary(period: Period, *, publisher: Publisher) -> CostBenefitSummary:
    """The cost-benefit model for the period (whole canton), as the cost-benefit page publishes it."""
    cb = cost_benefit_published(period=period, publisher=publisher)
    counts = [
        (_("Integrationen (Stelle im ersten Arbeitsmarkt gefunden oder erhalten)"), cb.integrations),
        (_("davon mit ALV-Taggeldern"), cb.with_alv),
        (_("davon mit Sozialhilfe"), cb.with_sa),
        (_("davon mit IV-Rente (Rentenprüfung hängig oder Rente auf dem Spiel)"), cb.with_iv),
        (_("davon bei der IV angemeldet, ohne Rentenfrage (keine vermiedene Rente)"), cb.iv_without_pension),
    ]
    lines = [CostBenefitLine(label, n.display, None if n.small else float(n.value), n.small) for label, n in counts]
    for label, amount in [
        (_("Vermiedene Leistungen"), cb.savings),
        (_("Betriebskosten (Personal, Geschäftsstelle, gemeinsames Budget)"), cb.model.running_costs),
        (_("Netto (Einsparungen minus Kosten)"), cb.net),
    ]:
        if amount is None:
            lines.append(CostBenefitLine(label, HIDDEN, None, True, "chf"))
        else:
            lines.append(CostBenefitLine(label, _chf(amount), float(amount), False, "chf"))
    lines.append(
        CostBenefitLine(
            _("Break-even: Integrationen pro Jahr"),
            number_format(cb.break_even, 1) if cb.break_even is not None else "–",
            None if cb.break_even is None else float(cb.break_even),
            False,
            "ratio",
        )
    )
    note = _(
        "Kosten-Nutzen-Rechnung für den ganzen Kanton, unabhängig vom gewählten Umfang; Annahmen, Quellen und "
        "die Herleitung des Break-even auf der Seite Kosten-Nutzen."
    )
    if cb.suppressed or cb.incomplete:
        note += " " + _(
            "Beträge, die eine als «< %(t)s» ausgewiesene Zahl verraten würden, stehen als «X» und fehlen im "
            "Total (dann eine Untergrenze); ohne ausgewiesene Integrationen beruht der Break-even auf der "
            "Modellannahme je Integration."
        ) % {"t": publisher.t}
    return CostBenefitSummary(lines, note)


@dataclass
class ReportData:
    title: str
    period: Period
    scope: Scope
    scope_label: str
    audience: str
    audience_label: str
    generated_at: dt.datetime
    threshold: int
    protect: bool
    empty: EmptyState | None
    figures: list[Figure]
    tables: list[BreakdownTable]
    trend: Trend
    cost_benefit: CostBenefitSummary
    method_note: str = ""

    @property
    def marker(self) -> str:
        return f"<{self.threshold}"


def report_data_build(
    *, period: Period, scope: Scope, audience: str, today: dt.date | None = None, progress: Progress = _no_progress
) -> ReportData:
    today = today or timezone.localdate()
    t = threshold()
    ds = dataset_load(scope=scope)
    # A report is read by everyone of its audience: no figure in it is exact for one reader.
    publisher = Publisher(Reader.anyone(), keys=ds.record_keys)
    labels = Labels.load()
    progress(20)
    figures = figures_build(ds, period, kpis_for(audience), publisher=publisher)
    progress(35)
    tables: list[BreakdownTable] = []
    for dimension in DIMENSIONS:
        tables.append(cases_table(ds, period, dimension, labels, publisher=publisher))
        tables.append(outcomes_table(ds, period, dimension, labels, publisher=publisher))
    progress(50)
    trend = trend_build(ds, period, publisher=publisher)
    progress(60)
    scope_label = labels.scope_label(scope)
    kind = _("Jahresbericht") if len(period.label) == 4 else _("Quartalsbericht")
    return ReportData(
        title=_("%(kind)s iiz %(period)s") % {"kind": kind, "period": period.label},
        period=period,
        scope=scope,
        scope_label=scope_label,
        audience=audience,
        audience_label=audience_label(audience),
        generated_at=timezone.localtime(),
        threshold=t,
        protect=True,
        empty=empty_state(ds, period, today, scope_label, publisher),
        figures=figures,
        tables=tables,
        trend=trend,
        cost_benefit=cost_benefit_summary(period, publisher=publisher),
        method_note=method_note(t),
    )


# ---------------------------------------------------------------------------------------------------------
# PDF and XLSX
# ---------------------------------------------------------------------------------------------------------


def report_render_pdf(data: ReportData) -> bytes:
    from weasyprint import HTML

    html = render_to_string("steering/report_pdf.html", {"report": data})
    return bytes(HTML(string=html).write_pdf())


def _sheet_title(text: str, used: set[str]) -> str:
    # Excel allows 31 characters and forbids a few; names must be unique in a workbook.
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in text)[:31].strip()
    name, number = clean, 2
    while name in used:
        suffix = f" {number}"
        name, number = clean[: 31 - len(suffix)] + suffix, number + 1
    used.add(name)
    return name


def _xlsx_value(value: float | None, suppressed: bool, marker: str, unit: str = "count") -> object:
    """A number as a number; a suppressed value as its mark ("<5" for a small count, "X" otherwise)."""
    if suppressed:
        return marker.replace(" ", "")
    if value is None:
        return "–"
    if unit == "count":
        return int(round(value))
    return value


def report_render_xlsx(data: ReportData) -> bytes:
    """One sheet per table; numbers stay numbers, suppressed cells hold the marker text (e.g. "<5")."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    formats = {"share": "0.0%", "days": "0.0", "ratio": "0.0", "count": "#,##0"}
    money_formats = {"chf": '"CHF" #,##0', "ratio": "0.0", "count": "#,##0"}
    book = Workbook()
    used: set[str] = set()

    def header(sheet: Any, values: list[str]) -> None:
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    def widths(sheet: Any, sizes: list[int]) -> None:
        for index, size in enumerate(sizes, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = size

    kpis = book.active
    assert kpis is not None  # noqa: S101 - a new workbook has its first sheet
    kpis.title = _sheet_title(_("Kennzahlen"), used)
    header(
        kpis,
        [
            _("Code"),
            _("Kennzahl"),
            _("Wert"),
            _("Einheit"),
            _("Fälle dahinter (n)"),
            _("Zähler"),
            _("Nenner"),
            _("Definition"),
            _("Formel"),
        ],
    )
    for figure in data.figures:
        kpis.append(
            [
                figure.code,
                figure.name,
                _xlsx_value(figure.value, figure.suppressed, figure.display, figure.unit),
                figure.unit_label,
                figure.n if figure.n_published is not None else figure.n_display.replace(" ", ""),
                figure.numerator if figure.numerator is not None else (HIDDEN if figure.suppressed else ""),
                figure.denominator if figure.denominator is not None else (HIDDEN if figure.suppressed else ""),
                figure.definition,
                figure.formula,
            ]
        )
        kpis.cell(row=kpis.max_row, column=3).number_format = formats.get(figure.unit, "General")
    widths(kpis, [24, 40, 12, 14, 12, 10, 10, 60, 60])
    kpis.freeze_panes = "A2"

    for table in data.tables:
        sheet = book.create_sheet(_sheet_title(table.short_title or table.title, used))
        header(sheet, [table.dimension_label, *table.columns])
        rows = [*table.rows, *([table.total] if table.total else [])]
        for row in rows:
            values: list[object] = [row.label]
            for index, cell in enumerate(row.cells):
                is_rate = table.rate_column and index == len(row.cells) - 1
                values.append(_xlsx_value(cell.value, cell.suppressed, cell.display, "share" if is_rate else "count"))
            sheet.append(values)
            if table.rate_column:
                sheet.cell(row=sheet.max_row, column=len(table.columns) + 1).number_format = "0.0%"
        if table.total:
            for cell in sheet[sheet.max_row]:
                cell.font = bold
        if table.note:
            sheet.append([])
            sheet.append([table.note])
        widths(sheet, [36] + [16] * len(table.columns))
        sheet.freeze_panes = "B2"

    trend = book.create_sheet(_sheet_title(_("Trend nach Quartal"), used))
    header(trend, [_("Kennzahl"), _("Einheit"), *data.trend.labels])
    for line in data.trend.lines:
        trend.append(
            [
                str(line.kpi.name),
                str(line.kpi.unit),
                *(_xlsx_value(c.value, c.suppressed, c.display, line.kpi.unit) for c in line.cells),
            ]
        )
        for column in range(3, 3 + len(line.cells)):
            trend.cell(row=trend.max_row, column=column).number_format = formats.get(line.kpi.unit, "General")
    widths(trend, [40, 10] + [11] * len(data.trend.labels))

    cost = book.create_sheet(_sheet_title(_("Kosten-Nutzen"), used))
    header(cost, [_("Grösse"), _("Wert")])
    for item in data.cost_benefit.lines:
        cost.append(
            [
                item.label,
                item.display.replace(" ", "") if item.suppressed else (item.value if item.value is not None else "–"),
            ]
        )
        # Numbers stay numbers; Excel shows the grouping of the reader's locale (1'112'000 in Switzerland).
        # A withheld amount is the mark "X", text: no number format.
        if not item.suppressed:
            cost.cell(row=cost.max_row, column=2).number_format = money_formats.get(item.unit, "#,##0")
    cost.append([])
    cost.append([data.cost_benefit.note])
    widths(cost, [60, 18])

    about = book.create_sheet(_sheet_title(_("Hinweise"), used))
    for label, value in [
        (_("Bericht"), data.title),
        (_("Periode"), f"{data.period.label} ({data.period.start:%d.%m.%Y}–{data.period.end:%d.%m.%Y})"),
        (_("Periode von"), data.period.start),
        (_("Periode bis"), data.period.end),
        (_("Umfang"), data.scope_label),
        (_("Zielgruppe"), data.audience_label),
        (_("Erstellt am"), timezone.localtime(data.generated_at).replace(tzinfo=None)),
        (
            _("Schutz der Personen"),
            data.method_note,
        ),
    ]:
        about.append([label, value])
        # Dates are dates in the sheet, shown the Swiss way.
        if isinstance(value, dt.datetime):
            about.cell(row=about.max_row, column=2).number_format = "DD.MM.YYYY HH:MM"
        elif isinstance(value, dt.date):
            about.cell(row=about.max_row, column=2).number_format = "DD.MM.YYYY"
    widths(about, [20, 100])

    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def report_render(data: ReportData, fmt: str) -> bytes:
    return report_render_pdf(data) if fmt == ReportFormat.PDF else report_render_xlsx(data)


# ---------------------------------------------------------------------------------------------------------
# Ordering and generating a stored report
# ---------------------------------------------------------------------------------------------------------


def report_request(*, actor: User, period: Period, scope: Scope, audience: str, fmt: str) -> SteeringReport:
    """Store an order for a report and schedule its generation after commit."""
    if audience not in report_audiences_for(actor):
        raise PermissionDenied(_("Ihre Rolle erhält keine Berichte für diese Zielgruppe."))
    if fmt not in ReportFormat.values:
        raise ValidationError({"format": _("Unbekanntes Format.")}, code="format")
    with transaction.atomic():
        report = SteeringReport(
            period=period.label, scope=scope_to_json(scope), audience=audience, format=fmt, created_by=actor
        )
        report.full_clean()
        report.save()
        outbox_enqueue(
            task="iiz.steering.tasks.steering_report_generate",
            args=[report.pk],
            on_failure="iiz.steering.tasks.steering_report_abandoned",
        )
    return report


def _progress(report_id: int) -> Progress:
    def update(percent: int) -> None:
        SteeringReport.objects.filter(pk=report_id).update(progress=percent)

    return update


def report_generate(*, report_id: int) -> SteeringReport | None:
    """Build a stored report. Idempotent: a report that is done is left as it is."""
    with transaction.atomic():
        report = SteeringReport.objects.select_for_update().filter(pk=report_id).first()
        if report is None or report.status == ReportStatus.DONE:
            return report
        report.status, report.progress, report.error = ReportStatus.RUNNING, 5, ""
        report.save(update_fields=["status", "progress", "error"])
    progress = _progress(report.pk)
    try:
        data = report_data_build(
            period=Period.parse(report.period),
            scope=scope_from_json(report.scope or {}),
            audience=report.audience,
            progress=progress,
        )
        content = report_render(data, report.format)
        progress(90)
        name = f"iiz-steuerung-{report.period}-{report.audience}-{report.pk}.{report.format}"
        report.file.save(name, ContentFile(content), save=False)
        report.status, report.progress, report.finished_at = ReportStatus.DONE, 100, timezone.now()
        report.save(update_fields=["file", "status", "progress", "finished_at"])
    except Exception as error:  # the report says it failed; the worker keeps running
        logger.exception("steering report %s failed", report.pk)
        SteeringReport.objects.filter(pk=report.pk).update(
            status=ReportStatus.FAILED, error=str(error)[:1000], finished_at=timezone.now()
        )
        report.refresh_from_db()
    return report


def report_abandon(*, report_id: int) -> None:
    """The report could not be built even after several attempts (workers lost): it says so, to order again."""
    SteeringReport.objects.filter(pk=report_id).exclude(status=ReportStatus.DONE).update(
        status=ReportStatus.FAILED,
        error="The background service failed repeatedly (workers lost); no attempt left.",
        finished_at=timezone.now(),
    )


def report_filename(report: SteeringReport) -> str:
    return f"iiz-steuerung-{report.period}-{report.audience}.{report.format}"
