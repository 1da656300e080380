"""The case list as a file (CSV for any tool, XLSX for Excel): what the user sees on the list, audited.

Each row is a case the user takes part in, with the person's name and birth date as the list shows them
(no AHV number: the file leaves the platform). Dates are dd.mm.yyyy in the CSV and real dates shown the
Swiss way in the XLSX. Every export writes one audit entry naming the cases and persons it contained.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest

    from iiz.cases.models import Case
    from iiz.organisations.models import User

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# The most rows one export holds: a list a person works with, not a copy of the register.
EXPORT_LIMIT = 5000


def _header() -> list[str]:
    return [
        _("Fallnummer"),
        _("Name"),
        _("Vorname"),
        _("Geburtsdatum"),
        _("Stufe"),
        _("Status"),
        _("Fallführung"),
        _("Eröffnet von"),
        _("Eröffnet am"),
        _("Abgeschlossen am"),
    ]


def _row(case: Case) -> list[object]:
    return [
        case.reference,
        case.client.last_name,
        case.client.first_name,
        case.client.date_of_birth,
        str(case.get_level_display()),
        str(case.get_status_display()),
        str(case.case_lead) if case.case_lead_id else "",
        case.serving_institution.name,
        case.opened_on,
        case.closed_on,
    ]


def _csv(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    # Semicolons and a byte-order mark: what Excel with Swiss settings opens without asking.
    writer = csv.writer(out, delimiter=";")
    writer.writerow(_header())
    for row in rows:
        writer.writerow([f"{value:%d.%m.%Y}" if isinstance(value, dt.date) else (value or "") for value in row])
    return out.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has its first sheet
    sheet.title = _("Fälle")
    sheet.append(_header())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, dt.date | dt.datetime):
                cell.number_format = "DD.MM.YYYY"
    for index, width in enumerate([16, 20, 16, 12, 32, 14, 24, 32, 12, 14], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def case_list_export(
    *, user: User, cases: QuerySet[Case], fmt: str, request: HttpRequest | None = None
) -> tuple[bytes, str, str]:
    """(content, content type, file name) of the cases as CSV or XLSX; the export is audited."""
    chosen = list(cases[:EXPORT_LIMIT])
    rows = [_row(case) for case in chosen]
    content = _xlsx(rows) if fmt == "xlsx" else _csv(rows)
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        object_type="case_list",
        basis=AuditBasis.CASE,
        details={
            "format": fmt,
            "cases": [case.reference for case in chosen],
            "clients": sorted({case.client_id for case in chosen}),
        },
        request=request,
    )
    filename = f"iiz-faelle-{timezone.localdate():%Y-%m-%d}.{'xlsx' if fmt == 'xlsx' else 'csv'}"
    return content, FORMATS["xlsx" if fmt == "xlsx" else "csv"], filename
