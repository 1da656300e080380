"""Steering reports: the PDF renders with its charts, the XLSX holds the tables, the command and the background
task produce them, and only those who may read a report download it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient

from iiz.organisations.models import User
from iiz.steering import reports
from iiz.steering.figures import figures_build
from iiz.steering.kpis import KPI_BY_CODE, KPIS, OPERATIONAL, STRATEGIC, Period, Scope, dataset_load
from iiz.steering.models import ReportStatus, SteeringReport
from iiz.steering.publication import Publisher
from tests.steering_world import SteeringWorld, bulk_cases_build, steering_world_build

Http = Callable[[User], HttpClient]
BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def steering_world(iv_specialist: User, coordinator: User) -> SteeringWorld:
    return steering_world_build(specialist=iv_specialist, coordinator=coordinator)


def pdf_pages(content: bytes, first: int = 3) -> list:
    """The first pages of a PDF as images."""
    import pypdfium2

    document = pypdfium2.PdfDocument(content)
    images = [document[index].render(scale=1).to_pil() for index in range(min(first, len(document)))]
    return [len(document), *images]


def ink(image) -> float:
    """The share of pixels that are not white."""
    grey = image.convert("L")
    histogram = grey.histogram()
    return 1 - sum(histogram[250:]) / sum(histogram)


# ---------------------------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", [STRATEGIC, OPERATIONAL])
def test_it_renders_the_pdf_with_a_title_page_and_charts(steering_world: SteeringWorld, audience: str) -> None:
    # given the history of 2025
    data = reports.report_data_build(period=Period.parse("2025"), scope=Scope(), audience=audience)
    # when the PDF is rendered
    content = reports.report_render_pdf(data)
    # then it is a PDF of several pages, and its first pages carry ink (title, figures, charts)
    assert content.startswith(b"%PDF")
    count, *images = pdf_pages(content)
    assert count >= 2
    for image in images:
        assert ink(image) > 0.003
    # and the text holds the definitions next to the figures
    import pypdfium2

    text = "".join(page.get_textpage().get_text_range() for page in pypdfium2.PdfDocument(content))
    assert "Jahresbericht iiz 2025" in text
    assert "Integrationsquote erster Arbeitsmarkt" in text
    assert "Definition" in text and "Formel" in text


def test_it_suppresses_small_numbers_in_the_strategic_pdf(steering_world: SteeringWorld) -> None:
    import pypdfium2

    data = reports.report_data_build(period=Period.parse("2025"), scope=Scope(), audience=STRATEGIC)
    text = "".join(p.get_textpage().get_text_range() for p in pypdfium2.PdfDocument(reports.report_render_pdf(data)))
    assert "< 5" in text


# ---------------------------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------------------------


def _workbook(data: reports.ReportData):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(reports.report_render_xlsx(data)))


def _rows(sheet) -> dict[str, list]:
    return {row[0]: list(row[1:]) for row in sheet.iter_rows(values_only=True) if row and row[0] is not None}


def test_it_writes_one_sheet_per_table_with_totals_that_match_the_kpis(iv_specialist: User, coordinator: User) -> None:
    # given thirty cases of 2025 (enough that nothing needs suppressing in the totals)
    bulk_cases_build(count=30, specialist=iv_specialist, coordinator=coordinator)
    period = Period.parse("2025")
    ds = dataset_load(scope=Scope())
    data = reports.report_data_build(period=period, scope=Scope(), audience=STRATEGIC)
    # when the XLSX is written and opened again
    book = _workbook(data)
    # then it has the KPI sheet, a sheet per breakdown, the trend and the cost-benefit model
    assert book.sheetnames[0] == "Kennzahlen"
    for name in (
        "Fälle nach Stufe",
        "Abschlüsse nach Stufe",
        "Fälle nach Institution",
        "Fälle nach Bezirk",
        "Abschlüsse nach Bezirk",
        "Fälle nach Lebenssituation",
        "Abschlüsse nach Lebenssituation",
        "Trend nach Quartal",
        "Kosten-Nutzen",
    ):
        assert name in book.sheetnames
    # and the KPI values are numbers, the published ones
    kpis = {row[0]: row for row in book["Kennzahlen"].iter_rows(min_row=2, values_only=True)}
    published = {f.code: f for f in figures_build(ds, period, KPIS, publisher=Publisher())}
    assert kpis["new_cases"][2] == published["new_cases"].value
    assert kpis["integration_rate"][2] == pytest.approx(published["integration_rate"].value)
    # and the totals rows of the single-valued breakdowns are the headline figures (the same records)
    for sheet in ("Fälle nach Institution", "Fälle nach Bezirk", "Fälle nach Stufe"):
        total = _rows(book[sheet])["Total"]
        assert total[0] == published["open_cases"].value, sheet
        assert total[1] == published["new_cases"].value, sheet
    outcomes = _rows(book["Abschlüsse nach Bezirk"])["Total"]
    assert outcomes[0] == published["integration_rate"].numerator
    assert outcomes[-2] == published["integration_rate"].denominator  # no moves away among these closures
    assert outcomes[-1] == pytest.approx(published["integration_rate"].value)


def test_it_writes_the_marker_into_small_cells(steering_world: SteeringWorld) -> None:
    # given 2025 with few cases per district
    book = _workbook(reports.report_data_build(period=Period.parse("2025"), scope=Scope(), audience=STRATEGIC))
    # then small published cells hold the mark and no count between 1 and 4 is left anywhere in the tables
    values = [cell for row in book["Abschlüsse nach Bezirk"].iter_rows(values_only=True) for cell in row]
    assert "<5" in values
    assert all(not (isinstance(v, int) and 0 < v < 5) for v in values)
    # and a share is written as the page publishes it: withheld ("X") where its counts are shown as small
    kpis = {row[0]: row for row in book["Kennzahlen"].iter_rows(min_row=2, values_only=True)}
    period = Period.parse("2025")
    ds = dataset_load(scope=Scope())
    (rate,) = figures_build(ds, period, [KPI_BY_CODE["integration_rate"]], publisher=Publisher())
    assert kpis["integration_rate"][2] == ("X" if rate.suppressed else pytest.approx(rate.value))


def test_it_publishes_the_operational_report_like_the_strategic_one(steering_world: SteeringWorld) -> None:
    # given the operational and the strategic report of 2025
    period = Period.parse("2025")
    operational = reports.report_data_build(period=period, scope=Scope(), audience=OPERATIONAL)
    strategic = reports.report_data_build(period=period, scope=Scope(), audience=STRATEGIC)
    # then a figure in both shows the same, and no figure is exact: a report is read by a whole audience
    both = {f.code: f.display for f in strategic.figures}
    assert {f.code: f.display for f in operational.figures if f.code in both} == both
    assert not any(f.exact for f in operational.figures if f.n)


# ---------------------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("period", "fmt", "magic"), [("2025-Q3", "pdf", b"%PDF"), ("2025", "xlsx", b"PK")])
def test_it_writes_the_report_from_the_command_line(
    steering_world: SteeringWorld, tmp_path: Path, period: str, fmt: str, magic: bytes
) -> None:
    output = tmp_path / f"bericht.{fmt}"
    call_command("steering_report", "--period", period, "--format", fmt, "--output", str(output), stdout=io.StringIO())
    assert output.read_bytes().startswith(magic)


def test_it_writes_the_operational_report_for_a_district(steering_world: SteeringWorld, tmp_path: Path) -> None:
    output = tmp_path / "bericht.xlsx"
    out = io.StringIO()
    call_command(
        "steering_report",
        "--period=2025",
        "--format=xlsx",
        f"--output={output}",
        "--audience=operational",
        "--district=109",
        stdout=out,
    )
    assert "Bezirk Uster" in out.getvalue()
    assert output.exists()


@pytest.mark.parametrize("period", ["2025-Q5", "yesterday", "1850"])
def test_it_refuses_an_invalid_period_on_the_command_line(db: None, tmp_path: Path, period: str) -> None:
    with pytest.raises(CommandError, match="Ungültige Periode"):
        call_command("steering_report", "--period", period, "--format", "pdf", "--output", str(tmp_path / "x.pdf"))
    assert not (tmp_path / "x.pdf").exists()


def test_it_exits_with_an_error_code_for_an_invalid_period(tmp_path: Path) -> None:
    # The period is checked before the database is touched, so a throw-away data directory will do.
    env = {**os.environ, "IIZ_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, "manage.py", "steering_report", "--period", "2026-Q7", "--format", "pdf", "--output", "x.pdf"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "Ungültige Periode" in result.stderr


# ---------------------------------------------------------------------------------------------------------
# In the background, and on the reports page
# ---------------------------------------------------------------------------------------------------------


def test_it_builds_an_ordered_report_in_the_background_with_progress(
    steering_world: SteeringWorld, committee: User, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    # given the progress steps are watched
    seen: list[int] = []
    real = reports._progress

    def watched(report_id: int):
        update = real(report_id)

        def record(percent: int) -> None:
            seen.append(percent)
            update(percent)

        return record

    monkeypatch.setattr(reports, "_progress", watched)
    # when the committee orders a report and the transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        report = reports.report_request(
            actor=committee, period=Period.parse("2025"), scope=Scope(), audience=OPERATIONAL, fmt="pdf"
        )
    # then the task built it, moving the progress forward until done
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE
    assert report.progress == 100
    assert seen == sorted(seen) and len(seen) >= 3
    assert report.file.read().startswith(b"%PDF")
    assert report.finished_at is not None


def test_it_does_not_build_a_finished_report_again(steering_world: SteeringWorld, committee: User) -> None:
    # given a report that is done
    report = SteeringReport.objects.create(period="2025", audience=STRATEGIC, format="xlsx", created_by=committee)
    reports.report_generate(report_id=report.pk)
    report.refresh_from_db()
    name, finished = report.file.name, report.finished_at
    # when the task runs again (a redelivered message)
    reports.report_generate(report_id=report.pk)
    # then nothing changes
    report.refresh_from_db()
    assert (report.file.name, report.finished_at, report.status) == (name, finished, ReportStatus.DONE)


def test_it_records_a_failed_report(committee: User) -> None:
    report = SteeringReport.objects.create(period="2025-Q9", audience=STRATEGIC, format="pdf", created_by=committee)
    reports.report_generate(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert "Ungültige Periode" in report.error


def test_it_refuses_a_report_for_an_audience_the_user_does_not_read(supervisory: User) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        reports.report_request(
            actor=supervisory, period=Period.parse("2025"), scope=Scope(), audience=OPERATIONAL, fmt="pdf"
        )


def test_it_polls_while_a_report_is_pending_and_stops_when_done(http_as: Http, committee: User) -> None:
    # given a pending report
    report = SteeringReport.objects.create(period="2025", audience=STRATEGIC, format="xlsx", created_by=committee)
    http = http_as(committee)
    # when the list is asked for by htmx
    pending = http.get("/steuerung/berichte/", HTTP_HX_REQUEST="true").content.decode()
    # then it asks again every two seconds and shows the progress
    assert 'hx-trigger="every 2s"' in pending
    assert "<progress" in pending
    assert "<html" not in pending
    # and once the report is done, the list stops polling and offers the download
    reports.report_generate(report_id=report.pk)
    done = http.get("/steuerung/berichte/", HTTP_HX_REQUEST="true").content.decode()
    assert "every 2s" not in done
    assert f"/steuerung/berichte/{report.pk}/datei/" in done


def test_it_orders_a_report_from_the_page(
    steering_world: SteeringWorld, http_as: Http, committee: User, django_capture_on_commit_callbacks
) -> None:
    http = http_as(committee)
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(
            "/steuerung/berichte/", {"period": "2025-Q3", "audience": STRATEGIC, "format": "xlsx", "district": "109"}
        )
    assert response.status_code == 302
    report = SteeringReport.objects.get()
    assert (report.period, report.scope, report.created_by, report.status) == (
        "2025-Q3",
        {"district": 109},
        committee,
        ReportStatus.DONE,
    )
    page = http.get("/steuerung/berichte/").content.decode()
    assert "Oliver Steiner" in page or str(committee) in page


def test_it_serves_a_report_only_to_its_readers(
    http_as: Http, committee: User, supervisory: User, rav_adviser: User
) -> None:
    # given an operational report, done
    report = SteeringReport.objects.create(period="2025", audience=OPERATIONAL, format="pdf", created_by=committee)
    reports.report_generate(report_id=report.pk)
    url = f"/steuerung/berichte/{report.pk}/datei/"
    # when the committee downloads it, it gets the file, not cached
    response = http_as(committee).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    # and the supervisory body (strategic reports only) does not see it; a case worker gets no reports at all
    assert http_as(supervisory).get(url).status_code == 404
    assert http_as(rav_adviser).get(url).status_code == 403


def test_it_keeps_report_files_off_public_urls(committee: User) -> None:
    from django.conf import settings

    report = SteeringReport.objects.create(period="2025", audience=STRATEGIC, format="xlsx", created_by=committee)
    reports.report_generate(report_id=report.pk)
    report.refresh_from_db()
    assert Path(report.file.path).is_relative_to(Path(settings.MEDIA_ROOT))
    assert HttpClient().get(settings.MEDIA_URL + report.file.name).status_code in (302, 404)


# ---------------------------------------------------------------------------------------------------------
# Administration
# ---------------------------------------------------------------------------------------------------------


def test_it_lets_administrators_edit_the_assumptions_and_only_read_reports(
    http_as: Http, admin: User, committee: User
) -> None:
    from iiz.steering.models import CostBenefitParameter

    http = http_as(admin)
    parameter = CostBenefitParameter.objects.get(key="sa_cost_per_year")
    report = SteeringReport.objects.create(period="2025", audience=STRATEGIC, format="pdf", created_by=committee)
    # an assumption can be changed, with its source
    change = f"/admin/steering/costbenefitparameter/{parameter.pk}/change/"
    assert http.get(change).status_code == 200
    response = http.post(
        change,
        {"label": parameter.label, "value": "10500.00", "source": "BFS 2025", "position": parameter.position},
    )
    assert response.status_code == 302
    parameter.refresh_from_db()
    assert (parameter.value, parameter.source) == (10500, "BFS 2025")
    # but not added or deleted: the model reads a fixed set of keys
    assert http.get("/admin/steering/costbenefitparameter/add/").status_code == 403
    assert http.get(f"/admin/steering/costbenefitparameter/{parameter.pk}/delete/").status_code == 403
    # reports are listed and shown, never changed or added
    assert http.get("/admin/steering/steeringreport/").status_code == 200
    assert http.get("/admin/steering/steeringreport/add/").status_code == 403
    assert http.post(f"/admin/steering/steeringreport/{report.pk}/change/", {"period": "2030"}).status_code == 403
    report.refresh_from_db()
    assert report.period == "2025"
