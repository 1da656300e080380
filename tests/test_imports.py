"""Bulk import of clients and registrations from CSV and XLSX."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from iiz.clients.models import Client, Registration
from iiz.interfaces.imports import import_batch_confirm, import_batch_create
from iiz.interfaces.models_imports import ImportBatch, ImportStatus
from iiz.organisations.models import Municipality, User
from tests.factories import ClientFactory, RegistrationFactory, ahv_from_serial

pytestmark = pytest.mark.django_db

HEADER = "AHV-Nummer;Name;Vorname;Geburtsdatum;Geschlecht;BFS-Nr.;angemeldet seit;Fallnummer"


def _bfs() -> int:
    return Municipality.objects.filter(valid_until__isnull=True).values_list("bfs_number", flat=True).first()


def _line(i: int, bfs: int) -> str:
    return f"{ahv_from_serial(300_000_000 + i)};Muster{i};Anna;0{1 + i % 9}.03.1980;w;{bfs};2024-01-15;F-{i}"


def _with(line: str, column: int, value: str) -> str:
    parts = line.split(";")
    parts[column] = value
    return ";".join(parts)


BAD = [
    lambda line: _with(line, 0, "756.1234.5678.00"),  # invalid AHV check digit
    lambda line: _with(line, 1, ""),  # no last name
    lambda line: _with(line, 3, "01.03.2090"),  # born in the future
    lambda line: _with(line, 5, "9999"),  # unknown BFS number
    lambda line: _with(line, 6, "15/01/2024"),  # bad date format
]


def _run(user: User, content: bytes, name: str, capture) -> ImportBatch:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        batch = import_batch_create(actor=user, upload=SimpleUploadedFile(name, content))
    return ImportBatch.objects.get(pk=batch.pk)


def _confirm(user: User, batch: ImportBatch, capture) -> ImportBatch:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        import_batch_confirm(actor=user, batch=batch)
    return ImportBatch.objects.get(pk=batch.pk)


def test_it_rejects_a_large_file_with_bad_rows_whole_then_imports_it_once_fixed(
    rav_adviser: User, django_capture_on_commit_callbacks
) -> None:
    # given: 10,000 rows, 50 of them bad in five ways
    bfs = _bfs()
    good = [_line(i, bfs) for i in range(10_000)]
    bad_indices = list(range(7, 10_000, 200))
    assert len(bad_indices) == 50
    lines = list(good)
    for n, index in enumerate(bad_indices):
        lines[index] = BAD[n % len(BAD)](good[index])
    clients_before = Client.objects.count()

    # when
    batch = _run(rav_adviser, "\n".join([HEADER, *lines]).encode(), "grosse.csv", django_capture_on_commit_callbacks)

    # then: rejected whole, exactly those rows reported (row 1 is the header)
    assert batch.status == ImportStatus.REJECTED, batch.file_error
    assert batch.errors, (batch.file_error, batch.counts, batch.total_rows)
    assert sorted({e["row"] for e in batch.errors}) == [index + 2 for index in bad_indices]
    assert batch.counts["rejected"] == 50
    assert Client.objects.count() == clients_before
    csv_report = reverse("imports:errors", args=[batch.public_id])
    assert csv_report

    # when the rows are fixed
    fixed = _run(rav_adviser, "\n".join([HEADER, *good]).encode(), "grosse.csv", django_capture_on_commit_callbacks)
    assert fixed.status == ImportStatus.PREVIEWED
    assert fixed.counts == {"create": 10_000, "change": 0, "unchanged": 0, "rejected": 0}
    done = _confirm(rav_adviser, fixed, django_capture_on_commit_callbacks)

    # then
    assert done.status == ImportStatus.DONE
    assert Client.objects.count() == clients_before + 10_000
    registrations = Registration.objects.filter(institution=rav_adviser.institution,
                                                external_case_number__startswith="F-")
    assert registrations.count() == 10_000

    # when imported again: nothing changes
    again = _run(rav_adviser, "\n".join([HEADER, *good]).encode(), "grosse.csv", django_capture_on_commit_callbacks)
    assert again.counts == {"create": 0, "change": 0, "unchanged": 10_000, "rejected": 0}
    _confirm(rav_adviser, again, django_capture_on_commit_callbacks)
    assert Client.objects.count() == clients_before + 10_000


def test_it_reports_a_changed_case_number_and_a_new_registration(
    rav_adviser: User, iv_specialist: User, django_capture_on_commit_callbacks
) -> None:
    # given a person known to the labour office
    bfs = _bfs()
    first = _run(rav_adviser, f"{HEADER}\n{_line(1, bfs)}".encode(), "a.csv", django_capture_on_commit_callbacks)
    _confirm(rav_adviser, first, django_capture_on_commit_callbacks)

    # when the labour office sends a new case number and the IV registers the person too
    changed = _run(rav_adviser, f"{HEADER}\n{_line(1, bfs).replace('F-1', 'F-NEU')}".encode(), "b.csv",
                   django_capture_on_commit_callbacks)
    iv = _run(iv_specialist, f"{HEADER}\n{_line(1, bfs)}".encode(), "c.csv", django_capture_on_commit_callbacks)

    # then
    assert changed.counts["change"] == 1 and "F-NEU" in changed.changes[0]["text"]
    assert iv.counts["change"] == 1
    _confirm(iv_specialist, iv, django_capture_on_commit_callbacks)
    client = Client.objects.get(ahv_number=ahv_from_serial(300_000_001))
    assert client.registrations.count() == 2


@pytest.mark.parametrize(("encoding", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                    ("cp1252", "cp1252")])
def test_it_detects_the_encoding(rav_adviser: User, django_capture_on_commit_callbacks, encoding: str,
                                 expected: str) -> None:
    content = f"{HEADER}\n{_line(5, _bfs()).replace('Anna', 'Zoë Jürg')}".replace(";", ",").encode(encoding)
    batch = _run(rav_adviser, content, "e.csv", django_capture_on_commit_callbacks)
    assert batch.encoding == expected
    assert batch.status == ImportStatus.PREVIEWED, batch.errors


def test_it_names_a_missing_column(rav_adviser: User, django_capture_on_commit_callbacks) -> None:
    content = b"AHV-Nummer;Name;Vorname;Geburtsdatum;Geschlecht;angemeldet seit\n"
    batch = _run(rav_adviser, content, "m.csv", django_capture_on_commit_callbacks)
    assert batch.status == ImportStatus.REJECTED
    assert "bfs_number" in batch.file_error


def _xlsx(build) -> bytes:  # type: ignore[no-untyped-def]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(";"))
    sheet.append(_line(3, _bfs()).split(";"))
    build(sheet)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_it_refuses_xlsx_with_a_formula(rav_adviser: User, django_capture_on_commit_callbacks) -> None:
    content = _xlsx(lambda sheet: sheet.__setitem__("I2", "=1+1"))
    batch = _run(rav_adviser, content, "f.xlsx", django_capture_on_commit_callbacks)
    assert batch.status == ImportStatus.REJECTED
    assert "I2" in batch.file_error


def test_it_refuses_xlsx_with_merged_cells(rav_adviser: User, django_capture_on_commit_callbacks) -> None:
    content = _xlsx(lambda sheet: sheet.merge_cells("A3:B3"))
    batch = _run(rav_adviser, content, "m.xlsx", django_capture_on_commit_callbacks)
    assert batch.status == ImportStatus.REJECTED
    assert "A3:B3" in batch.file_error


def test_it_imports_a_clean_xlsx(rav_adviser: User, django_capture_on_commit_callbacks) -> None:
    batch = _run(rav_adviser, _xlsx(lambda sheet: None), "ok.xlsx", django_capture_on_commit_callbacks)
    assert batch.status == ImportStatus.PREVIEWED, (batch.file_error, batch.errors)
    assert batch.counts["create"] == 1


def test_outsider_gets_404_for_an_import(rav_adviser: User, iv_specialist: User, client,  # type: ignore[no-untyped-def]
                                         django_capture_on_commit_callbacks) -> None:
    batch = _run(rav_adviser, f"{HEADER}\n{_line(2, _bfs())}".encode(), "o.csv", django_capture_on_commit_callbacks)
    client.force_login(iv_specialist)
    assert client.get(reverse("imports:detail", args=[batch.public_id])).status_code == 404
    client.force_login(rav_adviser)
    page = client.get(reverse("imports:detail", args=[batch.public_id]))
    assert page.status_code == 200
    report = client.get(reverse("imports:errors", args=[batch.public_id]))
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")


def test_it_flags_likely_duplicates_born_on_the_same_or_the_swapped_day_only(
    rav_adviser: User, django_capture_on_commit_callbacks
) -> None:
    # given three known people; the file names each again under a new AHV number
    same_day = ClientFactory(first_name="Anna", last_name="Meier", date_of_birth=dt.date(1980, 3, 7))
    swapped = ClientFactory(first_name="Jürg", last_name="Müller", date_of_birth=dt.date(1975, 5, 9))
    ClientFactory(first_name="Petra", last_name="Huber", date_of_birth=dt.date(1990, 6, 1))
    bfs = _bfs()
    lines = [
        f"{ahv_from_serial(300_100_001)};Meier;Anna;07.03.1980;w;{bfs};2024-01-15;D-1",
        f"{ahv_from_serial(300_100_002)};Mueller;Juerg;05.09.1975;m;{bfs};2024-01-15;D-2",
        # the same name, born the same year on another day: at most 80 points, not a likely duplicate
        f"{ahv_from_serial(300_100_003)};Huber;Petra;02.06.1990;w;{bfs};2024-01-15;D-3",
    ]

    # when
    batch = _run(rav_adviser, "\n".join([HEADER, *lines]).encode(), "dubletten.csv", django_capture_on_commit_callbacks)

    # then
    assert batch.status == ImportStatus.PREVIEWED
    assert [(d["row"], d["client_id"]) for d in batch.duplicates] == [(2, same_day.pk), (3, swapped.pk)]
    assert "date_of_birth_swapped" in batch.duplicates[1]["reasons"]


def test_it_rejects_an_xlsx_whose_sheet_is_damaged_instead_of_failing_the_check(
    rav_adviser: User, django_capture_on_commit_callbacks
) -> None:
    # given an XLSX file whose sheet XML was cut off in the middle (a broken transfer)
    whole = zipfile.ZipFile(io.BytesIO(_xlsx(lambda sheet: None)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for item in whole.infolist():
            data = whole.read(item.filename)
            damaged.writestr(item, data[: len(data) // 2] if item.filename == "xl/worksheets/sheet1.xml" else data)

    # when it is uploaded and checked
    batch = _run(rav_adviser, out.getvalue(), "kaputt.xlsx", django_capture_on_commit_callbacks)

    # then the check ends: the file is rejected as unreadable, rather than the batch staying "checking"
    assert batch.status == ImportStatus.REJECTED
    assert "kann nicht gelesen werden" in batch.file_error


def _unchecked(user: User, content: bytes, name: str, capture) -> ImportBatch:  # type: ignore[no-untyped-def]
    # The batch as stored by the upload, before its background check has run.
    with capture(execute=False):
        return import_batch_create(actor=user, upload=SimpleUploadedFile(name, content))


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "xml"])
def test_it_estimates_the_rows_before_the_check_so_that_the_progress_bar_moves(
    rav_adviser: User, world, django_capture_on_commit_callbacks, fmt: str
) -> None:
    # given a file of 1,234 rows in each format, stored but not yet checked
    from iiz.interfaces.ech.export import institution_ech_export
    from iiz.interfaces.imports import estimate_rows

    lines = [_line(i, _bfs()) for i in range(1234)]
    if fmt == "csv":
        content = "\n".join([HEADER, *lines]).encode()
    elif fmt == "xlsx":
        content = _xlsx(lambda sheet: [sheet.append(line.split(";")) for line in lines[1:]])
    else:
        for line in lines:
            ahv = line.split(";")[0]
            RegistrationFactory(client=ClientFactory(ahv_number=ahv), institution=world.labour, unit=world.rav_uster)
        content = institution_ech_export(user=rav_adviser, active_only=False).content
    batch = _unchecked(rav_adviser, content, f"f.{fmt}", django_capture_on_commit_callbacks)

    # when the rows are estimated, as the check does before it reads them
    estimate = estimate_rows(batch)

    # then the estimate is the number of rows (plus the demo world's persons at RAV Uster for the delivery)
    at_rav = Registration.objects.filter(institution=world.labour).values("client").distinct().count()
    expected = 1234 if fmt != "xml" else at_rav
    assert estimate == expected


def test_it_reports_the_progress_of_the_apply_step_through_the_cache(
    rav_adviser: User, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    # given a checked file of 2,500 new persons
    from iiz.interfaces import imports

    content = "\n".join([HEADER, *(_line(i, _bfs()) for i in range(2500))]).encode()
    batch = _run(rav_adviser, content, "gross.csv", django_capture_on_commit_callbacks)
    assert batch.status == ImportStatus.PREVIEWED
    reported: list[int] = []
    original = imports._progress_live
    monkeypatch.setattr(imports, "_progress_live", lambda b, n: (reported.append(n), original(b, n)))

    # when it is applied
    batch = _confirm(rav_adviser, batch, django_capture_on_commit_callbacks)

    # then the progress rose step by step from the reading to the writing, and the batch is done
    assert batch.status == ImportStatus.DONE
    assert reported == sorted(reported)
    assert len(set(reported)) >= 4
    assert reported[0] < batch.total_rows // 2 <= reported[-1] <= batch.total_rows


def test_it_explains_rejected_rows_in_the_uploaders_language_whatever_the_workers(
    rav_adviser: User, django_capture_on_commit_callbacks
) -> None:
    # given a file with a bad AHV number, uploaded by a user working in French
    from django.utils import translation

    from iiz.interfaces.imports import import_batch_check

    content = "\n".join([HEADER, BAD[0](_line(1, _bfs()))]).encode()
    with translation.override("fr"):
        batch = _unchecked(rav_adviser, content, "f.csv", django_capture_on_commit_callbacks)

    # when a worker running in German checks it
    with translation.override("de"):
        checked = import_batch_check(batch_id=batch.pk)

    # then the row is explained in French
    assert checked.language == "fr"
    assert checked.status == ImportStatus.REJECTED
    german = "Ungültige AHV-Nummer. Erwartet wird 756.XXXX.XXXX.XX mit korrekter Prüfziffer."
    with translation.override("fr"):
        expected = translation.gettext(german)
    assert expected != german
    assert [e["message"] for e in checked.errors] == [expected]
