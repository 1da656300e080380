"""Swiss formats in all four languages: dates as 06.12.2026, amounts as CHF 1'112'000, on a page, in a PDF and
in an XLSX (``iiz/formats``)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.utils import formats, translation

from iiz.steering import reports
from iiz.steering.kpis import Period, Scope

LANGUAGES = ["de", "fr", "it", "en"]
SWISS_AMOUNT = re.compile(r"CHF \d{1,3}(?:'\d{3})+\b")
FOREIGN_AMOUNT = re.compile(r"CHF \d{1,3}(?:[.,\u00a0 ]\d{3})+\b")


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_formats_numbers_and_dates_the_swiss_way_in_every_language(language: str) -> None:
    # given / when the formats of the language are used
    with translation.override(language):
        amount = formats.number_format(1112000, 0, force_grouping=True)
        share = formats.number_format(66.7, 1, force_grouping=True)
        day = formats.date_format(dt.date(2026, 3, 6))
        short = formats.date_format(dt.date(2026, 3, 6), "SHORT_DATE_FORMAT")
        typed = formats.get_format("DATE_INPUT_FORMATS")[0]

    # then they are the Swiss ones
    assert (amount, share, day, short, typed) == ("1'112'000", "66.7", "06.03.2026", "06.03.2026", "%d.%m.%Y")


@pytest.mark.parametrize("language", ["de", "fr"])
def test_it_shows_amounts_with_the_swiss_thousands_separator_on_a_page(world, supervisory, http_as, language) -> None:
    # given the supervisory body reads the cost-benefit page in the language
    http = http_as(supervisory)
    http.post("/i18n/setlang/", {"language": language})

    # when
    html = http.get("/steuerung/kosten-nutzen/").content.decode()

    # then the running costs (several hundred thousand francs) are grouped with apostrophes, never with dots
    assert SWISS_AMOUNT.search(html), html
    assert not FOREIGN_AMOUNT.search(html)


@pytest.fixture
def annual_report(world) -> reports.ReportData:
    return reports.report_data_build(period=Period.parse("2025"), scope=Scope(), audience="strategic")


def test_it_writes_swiss_amounts_and_dates_into_the_pdf(annual_report: reports.ReportData) -> None:
    import pypdfium2

    # given / when the annual report is rendered in French
    with translation.override("fr"):
        content = reports.report_render_pdf(annual_report)

    # then its amounts carry apostrophes and its dates are dd.mm.yyyy
    text = "".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(content))
    assert SWISS_AMOUNT.search(text)
    assert not FOREIGN_AMOUNT.search(text)
    assert "01.01.2025" in text and "31.12.2025" in text


def test_it_keeps_numbers_and_dates_as_such_in_the_xlsx_with_swiss_formats(annual_report: reports.ReportData) -> None:
    from openpyxl import load_workbook

    # given / when the annual report is written as a workbook
    book = load_workbook(io.BytesIO(reports.report_render_xlsx(annual_report)))

    # then the amounts are numbers shown with thousands grouping (the reader's Swiss locale shows 1'112'000) ...
    cost = book.worksheets[-2]
    amounts = [row[1] for row in cost.iter_rows(min_row=2) if row[1].number_format == '"CHF" #,##0']
    assert amounts and all(isinstance(cell.value, int | float) for cell in amounts)
    # ... and the period's first and last day are dates shown as dd.mm.yyyy
    about = book.worksheets[-1]
    dates = [row[1] for row in about.iter_rows() if row[1].number_format == "DD.MM.YYYY"]
    assert [cell.value.date() for cell in dates] == [dt.date(2025, 1, 1), dt.date(2025, 12, 31)]
