"""The bulk import through the REST API: upload, poll, confirm, the rejected rows, and what is refused.

The API is a thin layer over the web's import service: the check runs after commit (the tests run the
captured on-commit callbacks, as the inline demo does), the whole file is taken or nothing, and the token's
service user is the importer. Tokens belong to the Amt für Arbeit (A) and the IV-Stelle (B).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile

import openpyxl
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from iiz import access
from iiz.audit.models import AuditAction, AuditEvent
from iiz.clients.models import Client, Registration
from iiz.interfaces import imports
from iiz.interfaces.ech.export import client_ech_export
from iiz.interfaces.models import Scope
from iiz.interfaces.models_imports import ImportBatch, ImportStatus
from iiz.interfaces.services import IssuedToken
from iiz.organisations.models import Municipality
from tests.api_world import api_client, problem, token_for
from tests.factories import ahv_from_serial

HEADER = "AHV-Nummer;Name;Vorname;Geburtsdatum;Geschlecht;BFS-Nr.;angemeldet seit;Fallnummer"
IMPORTS = "/api/v1/imports/"


pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


@pytest.fixture
def run_after_commit(django_capture_on_commit_callbacks):
    """Run the background jobs (check, apply) that a request scheduled after commit, as the inline demo does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _bfs() -> int:
    return Municipality.objects.filter(valid_until__isnull=True).values_list("bfs_number", flat=True).first()


def _line(i: int, bfs: int) -> str:
    return f"{ahv_from_serial(400_000_000 + i)};Import{i};Lea;0{1 + i % 9}.04.1985;w;{bfs};2026-01-15;API-{i}"


def _csv(*lines: str) -> bytes:
    return "\n".join([HEADER, *lines]).encode("utf-8")


def _rows(count: int) -> list[str]:
    bfs = _bfs()
    return [_line(i, bfs) for i in range(count)]


def _xlsx(build) -> bytes:  # type: ignore[no-untyped-def]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(";"))
    sheet.append(_line(1, _bfs()).split(";"))
    build(sheet)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _upload(api: HttpClient, content: bytes, name: str = "personen.csv"):  # type: ignore[no-untyped-def]
    return api.post(IMPORTS, {"file": SimpleUploadedFile(name, content)})


def _stored_imports() -> set[str]:
    return set(default_storage.listdir("imports")[1]) if default_storage.exists("imports") else set()


# ---------------------------------------------------------------------------------------------------------
# The whole way: upload, poll, confirm, done, and the same file again
# ---------------------------------------------------------------------------------------------------------


def test_it_imports_a_file_after_upload_poll_and_confirm_and_the_same_file_again_changes_nothing(
    api_a, token_a, world, run_after_commit
):
    # given a file of three new persons
    content = _csv(*_rows(3))
    clients_before = Client.objects.count()

    # when A uploads it
    with run_after_commit():
        created = _upload(api_a, content)

    # then the upload is accepted, the batch is where Location says, still being checked
    assert created.status_code == 202, created.content
    location = created["Location"]
    assert location == f"{IMPORTS}{created.json()['id']}/"
    assert created.json()["status"] == ImportStatus.CHECKING

    # when A polls once the check has run
    previewed = api_a.get(location)

    # then the preview says what would be created, and nothing is written yet
    body = previewed.json()
    assert (previewed.status_code, body["status"]) == (200, ImportStatus.PREVIEWED)
    assert body["counts"] == {"create": 3, "change": 0, "unchanged": 0, "rejected": 0}
    assert body["progress"] == {"processed_rows": 3, "total_rows": 3, "percent": 100}
    assert (body["errors"], body["error_count"], body["encoding"]) == ([], 0, "utf-8")
    assert Client.objects.count() == clients_before

    # when A confirms
    with run_after_commit():
        confirmed = api_a.post(f"{location}confirm/")

    # then it is accepted, and once the job ran, the persons are there, registered by A's service user
    assert confirmed.status_code == 202 and confirmed.json()["status"] == ImportStatus.RUNNING
    assert confirmed["Location"] == location
    done = api_a.get(location).json()
    assert done["status"] == ImportStatus.DONE and done["counts"]["create"] == 3
    assert Client.objects.count() == clients_before + 3
    registrations = Registration.objects.filter(external_case_number__startswith="API-")
    assert {(r.institution_id, r.recorded_by_id) for r in registrations} == {
        (world.labour.pk, token_a.token.service_user_id)
    }
    registrations_before = registrations.count()

    # when the same file is uploaded and confirmed again
    with run_after_commit():
        again = _upload(api_a, content)
    preview = api_a.get(again["Location"]).json()
    with run_after_commit():
        api_a.post(f"{again['Location']}confirm/")

    # then nothing changes
    assert preview["counts"] == {"create": 0, "change": 0, "unchanged": 3, "rejected": 0}
    assert api_a.get(again["Location"]).json()["status"] == ImportStatus.DONE
    assert Client.objects.count() == clients_before + 3
    assert Registration.objects.filter(external_case_number__startswith="API-").count() == registrations_before


def test_it_lists_the_institutions_batches_newest_first(api_a, api_b, run_after_commit):
    # given two uploads of A and one of B
    with run_after_commit():
        first = _upload(api_a, _csv(*_rows(1)), "eins.csv").json()["id"]
        second = _upload(api_a, _csv(*_rows(2)), "zwei.csv").json()["id"]
        _upload(api_b, _csv(*_rows(1)), "b.csv")

    # when A lists its imports
    response = api_a.get(IMPORTS)

    # then it sees its own two, newest first, paginated like the other lists
    body = response.json()
    assert response.status_code == 200 and body["count"] == 2
    assert [item["id"] for item in body["results"]] == [second, first]
    assert body["results"][0]["counts"]["create"] == 2 and "errors" not in body["results"][0]


def test_it_answers_304_while_the_batch_has_not_changed(api_a, run_after_commit):
    # given a checked batch that A has read
    with run_after_commit():
        location = _upload(api_a, _csv(*_rows(1)))["Location"]
    etag = api_a.get(location)["ETag"]

    # when A polls with the ETag, before and after confirming
    unchanged = api_a.get(location, headers={"If-None-Match": etag})
    with run_after_commit():
        api_a.post(f"{location}confirm/")
    changed = api_a.get(location, headers={"If-None-Match": etag})

    # then only the changed batch is sent again
    assert (unchanged.status_code, changed.status_code) == (304, 200)


def test_it_takes_an_ech_delivery_through_the_same_steps(api_b, rav_adviser, rav_client, world, run_after_commit):
    # given a person of A, exported as an eCH-0044/0010 delivery
    content = client_ech_export(user=rav_adviser, public_id=rav_client.public_id).content

    # when B uploads the delivery, polls and confirms
    with run_after_commit():
        location = _upload(api_b, content, "lieferung.xml")["Location"]
    preview = api_b.get(location).json()
    with run_after_commit():
        api_b.post(f"{location}confirm/")

    # then the known person is registered with B as well, and no second person is recorded
    assert preview["status"] == ImportStatus.PREVIEWED, preview
    assert preview["counts"] == {"create": 0, "change": 1, "unchanged": 0, "rejected": 0}
    assert api_b.get(location).json()["status"] == ImportStatus.DONE
    assert Registration.objects.filter(client=rav_client, institution=world.disability).count() == 1
    assert Client.objects.filter(ahv_number=rav_client.ahv_number).count() == 1


# ---------------------------------------------------------------------------------------------------------
# Rejected rows
# ---------------------------------------------------------------------------------------------------------


def test_it_reports_each_rejected_row_with_row_column_and_reason_and_writes_nothing(api_a, run_after_commit):
    # given a file whose second data row has an invalid AHV number and whose third has no last name
    good = _rows(3)
    bad_ahv = good[1].replace(good[1].split(";")[0], "756.1234.5678.00")
    no_name = ";".join(part if index != 1 else "" for index, part in enumerate(good[2].split(";")))
    clients_before = Client.objects.count()

    # when A uploads it and polls
    with run_after_commit():
        location = _upload(api_a, _csv(good[0], bad_ahv, no_name))["Location"]
    body = api_a.get(location).json()

    # then the batch is rejected whole, with each error's row (the header is row 1), column and reason
    assert body["status"] == ImportStatus.REJECTED
    assert body["counts"]["rejected"] == 2 and body["error_count"] == 2
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "AHV-Nummer"), (4, "Name")]
    assert all(e["message"] for e in body["errors"])
    assert Client.objects.count() == clients_before

    # when A downloads the report
    report = api_a.get(f"{location}rejected.csv")

    # then it is the web's CSV of the same rows
    assert report.status_code == 200 and report["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in report["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Zeile", "Spalte", "Grund"]
    assert [(row[0], row[1]) for row in rows[1:]] == [("3", "AHV-Nummer"), ("4", "Name")]
    assert rows[1][2] == body["errors"][0]["message"]


def test_it_refuses_to_confirm_a_rejected_batch_with_a_conflict(api_a, run_after_commit):
    # given a rejected batch
    with run_after_commit():
        location = _upload(api_a, _csv(_rows(1)[0].replace("Import0", "")))["Location"]

    # when A confirms it anyway, in French
    with run_after_commit():
        response = api_a.post(f"{location}confirm/?lang=fr")

    # then it is a 409 that says why and in which status the batch is, and the batch stays rejected
    body = problem(response)
    assert response.status_code == 409 and body["type"] == "urn:iiz:problem:conflict"
    assert "Seul un import vérifié" in body["detail"] and "Statut" in body["detail"]
    assert api_a.get(location).json()["status"] == ImportStatus.REJECTED


def test_it_refuses_to_confirm_a_batch_still_being_checked_or_already_taken(api_a, run_after_commit):
    # given a batch whose check has not run yet, and one that was checked
    checking = _upload(api_a, _csv(*_rows(1)))["Location"]
    with run_after_commit():
        checked = _upload(api_a, _csv(*_rows(2)))["Location"]

    # when A confirms the first, and the second twice
    early = api_a.post(f"{checking}confirm/")
    with run_after_commit():
        first = api_a.post(f"{checked}confirm/")
    second = api_a.post(f"{checked}confirm/")

    # then only the first confirmation of the checked batch is accepted; the others say the batch's status
    assert (early.status_code, first.status_code, second.status_code) == (409, 202, 409)
    assert problem(early)["detail"].endswith("Status: wird geprüft.")
    assert problem(second)["detail"].endswith("Status: übernommen.")
    assert api_a.get(checked).json()["status"] == ImportStatus.DONE


# ---------------------------------------------------------------------------------------------------------
# Isolation and scopes
# ---------------------------------------------------------------------------------------------------------


def test_it_hides_one_institutions_batch_from_another_and_audits_the_attempts(api_a, api_b, token_b, run_after_commit):
    # given a previewed batch of A with a rejected-rows report
    with run_after_commit():
        location = _upload(api_a, _csv(*_rows(1)))["Location"]

    # when B reads it, confirms it, downloads its report and lists its own
    read = api_b.get(location)
    confirm = api_b.post(f"{location}confirm/")
    report = api_b.get(f"{location}rejected.csv")
    listed = api_b.get(IMPORTS).json()

    # then each is a 404 problem like a batch that does not exist, each attempt is audited with B's
    # service user, and A's batch is untouched
    assert [read.status_code, confirm.status_code, report.status_code] == [404, 404, 404]
    assert {problem(r)["type"] for r in (read, confirm, report)} == {"urn:iiz:problem:not-found"}
    denied = AuditEvent.objects.filter(action=AuditAction.DENIED, object_type="import_batch")
    assert denied.count() == 3
    assert {e.actor_id for e in denied} == {token_b.token.service_user_id}
    assert listed["count"] == 0
    assert api_a.get(location).json()["status"] == ImportStatus.PREVIEWED


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("post", ""), ("get", "{id}/"), ("post", "{id}/confirm/"), ("get", "{id}/rejected.csv")],
)
def test_it_refuses_a_token_without_the_import_scope(world, api_a, run_after_commit, method, suffix):
    # given a previewed batch of A, and another token of A without imports:write
    with run_after_commit():
        batch_id = _upload(api_a, _csv(*_rows(1))).json()["id"]
    others = [scope for scope in Scope.values if scope != Scope.IMPORTS_WRITE]
    api = api_client(token_for(world.labour, scopes=others).key)
    batches_before = ImportBatch.objects.count()

    # when that token calls the operation
    url = IMPORTS + suffix.format(id=batch_id)
    if method == "post" and not suffix:
        response = api.post(url, {"file": SimpleUploadedFile("p.csv", _csv(*_rows(1)))})
    else:
        response = getattr(api, method)(url)

    # then it is a 403 naming the scope, and nothing was created or confirmed
    body = problem(response)
    assert response.status_code == 403 and body["type"] == "urn:iiz:problem:scope-missing"
    assert "imports:write" in body["detail"]
    assert ImportBatch.objects.count() == batches_before
    assert ImportBatch.objects.get(public_id=batch_id).status == ImportStatus.PREVIEWED


def test_it_lets_a_service_user_import_for_its_institution(token_a, world):
    # then the service user behind a token is allowed to record persons, for its own institution
    user = token_a.token.service_user
    assert access.may_create_clients(user)
    assert access.own_institution(user) == world.labour


def test_it_refuses_the_imports_to_a_browser_user_who_may_not_record_persons(http_as, committee):
    # given a member of the operating committee (aggregates only), signed in to the browser
    http = http_as(committee)

    # when they list the imports and upload a file that could not be imported anyway
    listed = http.get(IMPORTS)
    uploaded = http.post(IMPORTS, {"file": SimpleUploadedFile("p.csv", b"nichts")})

    # then both are refused by the same rule as the web pages, before the file is looked at
    assert (listed.status_code, uploaded.status_code) == (403, 403)
    assert problem(uploaded)["detail"] == "Sie dürfen keine Personen erfassen."
    assert not ImportBatch.objects.exists()


def test_it_offers_the_import_scope_in_the_token_form(http_as, admin):
    # when the administrator opens the form to issue a token
    response = http_as(admin).get("/admin/interfaces/apitoken/add/")

    # then the import scope is one of the choices
    assert response.status_code == 200
    assert 'value="imports:write"' in response.content.decode()


# ---------------------------------------------------------------------------------------------------------
# Bad input: a problem detail, never a 500, never a batch or a person half written
# ---------------------------------------------------------------------------------------------------------


def _damaged_xlsx() -> bytes:
    # A sheet cut off in the middle of its XML, as a broken transfer leaves it.
    good = zipfile.ZipFile(io.BytesIO(_xlsx(lambda sheet: None)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for item in good.infolist():
            data = good.read(item.filename)
            damaged.writestr(item, data[: len(data) // 2] if item.filename == "xl/worksheets/sheet1.xml" else data)
    return out.getvalue()


def _utf16() -> bytes:
    return _csv(*_rows(1)).decode("utf-8").encode("utf-16")


BAD_UPLOADS = {
    "empty file": ("leer.csv", lambda: b"", "file", "leer"),
    "only blank lines": ("leer.csv", lambda: b"\n\n\n", "file", "bfs_number"),
    "wrong file type": ("personen.pdf", lambda: b"%PDF-1.7", "file", "XLSX"),
    "wrong encoding (UTF-16)": ("personen.csv", _utf16, "file", "UTF-8"),
    "missing column": (
        "personen.csv",
        lambda: b"AHV-Nummer;Name;Vorname;Geburtsdatum;Geschlecht\n",
        "file",
        "bfs_number",
    ),
    "not an XLSX file": ("personen.xlsx", lambda: b"AHV;Name\n", "file", "XLSX"),
    "damaged XLSX": ("personen.xlsx", _damaged_xlsx, "file", "kann nicht gelesen werden"),
    "merged cells": ("personen.xlsx", lambda: _xlsx(lambda sheet: sheet.merge_cells("A3:B3")), "file", "A3:B3"),
    "formula in the header": (
        "personen.xlsx",
        lambda: _xlsx(lambda sheet: sheet.__setitem__("I1", "=1+1")),
        "file",
        "I1",
    ),
}


@pytest.mark.parametrize("case", BAD_UPLOADS.values(), ids=BAD_UPLOADS.keys())
def test_it_refuses_a_file_that_cannot_be_imported_with_a_400_problem(api_a, run_after_commit, case):
    # given a file that cannot be imported
    name, content, field, words = case
    before = (ImportBatch.objects.count(), Client.objects.count(), AuditEvent.objects.count(), _stored_imports())

    # when A uploads it
    with run_after_commit():
        response = _upload(api_a, content(), name)

    # then it is a 400 naming the file and why, and nothing is left behind: no batch, no person, no
    # audit entry of an upload, no stored file
    body = problem(response)
    assert response.status_code == 400 and body["type"] == "urn:iiz:problem:validation-error"
    assert [error["field"] for error in body["errors"]] == [field]
    assert words in body["errors"][0]["message"]
    after = (ImportBatch.objects.count(), Client.objects.count(), AuditEvent.objects.count(), _stored_imports())
    assert after == before


def test_it_explains_a_refused_file_in_the_language_asked_for(api_a):
    # when A uploads a file without the BFS number column and asks for French
    response = api_a.post(
        f"{IMPORTS}?lang=fr",
        {"file": SimpleUploadedFile("p.csv", b"AHV-Nummer;Name;Vorname;Geburtsdatum;Geschlecht;angemeldet seit\n")},
    )

    # then the problem and the service's message about the file are in French
    body = problem(response)
    assert (response.status_code, response["Content-Language"]) == (400, "fr")
    assert body["title"] == "Saisie non valable"
    assert body["errors"][0]["message"].startswith("Colonnes manquantes\xa0: bfs_number")


def test_it_rejects_a_formula_further_down_in_the_background_check(api_a, run_after_commit):
    # given an XLSX file with a formula in a data row (its first row is fine)
    content = _xlsx(lambda sheet: sheet.__setitem__("I2", "=1+1"))

    # when A uploads it and polls
    with run_after_commit():
        created = _upload(api_a, content, "formel.xlsx")
    body = api_a.get(created["Location"]).json()

    # then the check rejects the whole file, naming the cell, and nothing is written
    assert created.status_code == 202
    assert body["status"] == ImportStatus.REJECTED and "I2" in body["file_error"]
    assert not Client.objects.filter(last_name="Import1").exists()


@pytest.mark.parametrize(("encoding", "detected"), [("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252")])
def test_it_detects_the_encodings_it_accepts(api_a, run_after_commit, encoding, detected):
    # given a file with umlauts, in one of the accepted encodings
    content = "\n".join([HEADER, _rows(1)[0].replace("Lea", "Zoë Jürg")]).encode(encoding)

    # when A uploads it and polls
    with run_after_commit():
        location = _upload(api_a, content)["Location"]
    body = api_a.get(location).json()

    # then the encoding is recognised and the row is fine
    assert (body["status"], body["encoding"]) == (ImportStatus.PREVIEWED, detected)


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda api: api.post(IMPORTS, {}), id="no file"),
        pytest.param(lambda api: api.post(IMPORTS, {"file": "AHV;Name"}), id="text instead of a file"),
        pytest.param(
            lambda api: api.post(IMPORTS, {"file": SimpleUploadedFile("p.csv", _csv(*_rows(1))), "mode": "fast"}),
            id="unknown field",
        ),
    ],
)
def test_it_refuses_a_request_without_exactly_one_file_with_a_400_problem(api_a, send):
    # when A sends a multipart request without a file, or with a field the operation does not know
    response = send(api_a)

    # then it is a 400 problem, field by field, and no batch exists
    assert response.status_code == 400 and problem(response)["errors"]
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(json.dumps({"file": "x"}), "application/json"), ("file=x", "application/x-www-form-urlencoded")],
)
def test_it_refuses_a_body_that_is_not_multipart_with_415(api_a, body, content_type):
    response = api_a.post(IMPORTS, data=body, content_type=content_type)

    assert response.status_code == 415
    assert problem(response)["type"] == "urn:iiz:problem:unsupported-media-type"
    assert not ImportBatch.objects.exists()


def test_it_refuses_a_malformed_multipart_body_with_a_problem(api_a):
    response = api_a.post(IMPORTS, data=b"--x\r\nnonsense", content_type="multipart/form-data; boundary=x")

    assert response.status_code == 400 and problem(response)
    assert not ImportBatch.objects.exists()


def test_it_refuses_a_file_over_the_size_limit_with_413(api_a, monkeypatch):
    # given a limit of 100 kB (the real one is 50 MB)
    monkeypatch.setattr(imports, "MAX_UPLOAD_BYTES", 100_000)

    # when A uploads a larger file, and a body whose announced length is already too large
    large = _upload(api_a, _csv(*_rows(2000)))
    announced = api_a.post(IMPORTS, data=b"", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH="500000")

    # then both are 413 problems, and no batch exists
    assert (large.status_code, announced.status_code) == (413, 413)
    assert problem(large)["type"] == "urn:iiz:problem:payload-too-large" and problem(announced)
    assert not ImportBatch.objects.exists()


# ---------------------------------------------------------------------------------------------------------
# Query counts
# ---------------------------------------------------------------------------------------------------------


def _stored_batch(token: IssuedToken, *, errors: int) -> ImportBatch:
    return ImportBatch.objects.create(
        institution=token.token.institution,
        created_by=token.token.service_user,
        file_name="x.csv",
        file_format="csv",
        status=ImportStatus.REJECTED if errors else ImportStatus.PREVIEWED,
        total_rows=errors + 1,
        processed_rows=errors + 1,
        counts={"create": 1, "change": 0, "unchanged": 0, "rejected": errors},
        errors=[{"row": n + 2, "column": "AHV-Nummer", "message": "ungültig"} for n in range(errors)],
        duplicates=[{"row": n + 2, "client_id": 1, "score": 90, "reasons": ["date_of_birth"]} for n in range(errors)],
    )


def test_it_reads_a_batch_and_the_list_in_a_fixed_number_of_queries(api_a, token_a):
    # given a batch with one error and one with fifty, and a first request that notes the token's use
    small = _stored_batch(token_a, errors=1)
    large = _stored_batch(token_a, errors=50)
    api_a.get(IMPORTS)

    # when each is read, and the list is read with two and with seven batches
    with CaptureQueriesContext(connection) as one_error:
        api_a.get(f"{IMPORTS}{small.public_id}/")
    with CaptureQueriesContext(connection) as fifty_errors:
        api_a.get(f"{IMPORTS}{large.public_id}/")
    with CaptureQueriesContext(connection) as two_batches:
        api_a.get(IMPORTS)
    for _ in range(5):
        _stored_batch(token_a, errors=3)
    with CaptureQueriesContext(connection) as seven_batches:
        listed = api_a.get(IMPORTS)

    # then the number of queries does not grow with the errors or the batches
    assert listed.json()["count"] == 7
    assert len(one_error) == len(fifty_errors)
    assert len(two_batches) == len(seven_batches)


# ---------------------------------------------------------------------------------------------------------
# Celery workers know the import's jobs
# ---------------------------------------------------------------------------------------------------------


def test_it_registers_the_import_jobs_when_a_worker_discovers_the_tasks():
    # given a fresh process, as a worker starts: Django set up, the Celery app's task modules discovered
    script = (
        "import django; django.setup()\n"
        "from iiz.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print('\\n'.join(sorted(app.tasks)))\n"
    )

    # when it lists the tasks it knows
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "iiz.settings"},
    )

    # then the import's check and apply jobs are among them
    names = set(result.stdout.split())
    assert {"iiz.interfaces.tasks_imports.imports_check", "iiz.interfaces.tasks_imports.imports_apply"} <= names
