"""Import throughput: a CSV of N new registrations through the real import path, timed step by step.

Run by ``bench/run.py`` on a copy of the bench database (demo settings, tasks inline), as a case worker
of RAV Uster ("bench-import"). The file holds synthetic people from the demo generator (new AHV numbers,
the columns a partner's export has: the required ones plus address, phone, e-mail and languages). The
steps are the services the import page and the API call: ``import_batch_create`` (keep the file),
``import_batch_check`` (validate, classify, look for likely duplicates; the preview), ``import_batch_confirm``
and ``import_batch_apply`` (check again and write, all in one transaction). The background tasks they
schedule are replaced by direct calls, so that each step is timed on its own.

Prints progress on stderr and one JSON object on stdout: seconds and rows/s per step, peak RSS.
Usage: python bench/import_bench.py --rows 100000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iiz.settings")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import UploadedFile  # noqa: E402

from iiz.clients.models import Sex  # noqa: E402
from iiz.demo.generator import demo_client_rows  # noqa: E402
from iiz.demo.world import demo_world_build  # noqa: E402
from iiz.interfaces import imports  # noqa: E402
from iiz.interfaces.models_imports import ImportBatch, ImportStatus  # noqa: E402
from iiz.organisations.models import OrganisationalUnit, Role, User  # noqa: E402
from iiz.organisations.services import user_create  # noqa: E402

USERNAME = "bench-import"
UNIT = "RAV Uster"
HEADER = ["AHV-Nummer", "Name", "Vorname", "Geburtsdatum", "Geschlecht", "BFS-Nr.", "angemeldet seit", "Fallnummer",
          "Strasse", "Hausnummer", "PLZ", "Ort", "Telefon", "E-Mail", "Sprachen"]
SEX_CODES = {Sex.FEMALE: "w", Sex.MALE: "m", Sex.UNKNOWN: "unbekannt"}


def log(message: str) -> None:
    print(f"[import {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> int:
    # ru_maxrss is in kilobytes on Linux.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def importer() -> User:
    user = User.objects.filter(username=USERNAME).first()
    if user is None:
        user = user_create(actor=None, username=USERNAME, first_name="Bench", last_name="Import",
                           email=f"{USERNAME}@bench.iiz.invalid", unit=OrganisationalUnit.objects.get(name=UNIT),
                           roles=[Role.CASE_WORKER], password=None)
    return user


def write_csv(path: Path, rows: int, seed: int) -> None:
    """New people only (the generator skips AHV numbers already taken), one batch in memory at a time."""
    units = demo_world_build()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        number = 0
        for batch in demo_client_rows(count=rows, seed=seed, units=units, batch_size=2000):
            for person in batch:
                number += 1
                ahv = person.ahv_number
                writer.writerow([
                    f"{ahv[:3]}.{ahv[3:7]}.{ahv[7:11]}.{ahv[11:]}", person.last_name, person.first_name,
                    person.date_of_birth.strftime("%d.%m.%Y"), SEX_CODES[person.sex],
                    person.municipality.bfs_number if person.municipality else "",
                    person.registrations[0].registered_on.isoformat(), f"BENCH-{seed}-{number:06d}",
                    person.street, person.house_number, person.postal_code, person.town, person.phone, person.email,
                    ",".join(person.languages),
                ])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=4711)
    args = parser.parse_args()
    actor = importer()
    result: dict[str, object] = {"rows": args.rows}
    with tempfile.TemporaryDirectory(prefix="iiz-import-") as work:
        path = Path(work) / "anmeldungen.csv"
        started = time.monotonic()
        write_csv(path, args.rows, args.seed)
        result["file_mb"] = round(path.stat().st_size / 1e6, 1)
        result["build_s"] = round(time.monotonic() - started, 1)
        result["build_peak_rss_mb"] = peak_rss_mb()
        log(f"{args.rows:,} rows written ({result['file_mb']} MB) in {result['build_s']} s.")
        # The tasks are called below one by one; their scheduling after commit is a no-op here.
        with mock.patch("iiz.interfaces.tasks_imports.imports_check.delay"), \
                mock.patch("iiz.interfaces.tasks_imports.imports_apply.delay"), path.open("rb") as handle:
            started = time.monotonic()
            batch = imports.import_batch_create(
                actor=actor, upload=UploadedFile(handle, name=path.name, size=path.stat().st_size)
            )
            result["upload_s"] = round(time.monotonic() - started, 2)
            log("Checking.")
            started = time.monotonic()
            batch = imports.import_batch_check(batch_id=batch.pk)
            check_s = time.monotonic() - started
            result["check_peak_rss_mb"] = peak_rss_mb()
            if batch.status != ImportStatus.PREVIEWED:
                raise SystemExit(f"check ended {batch.status}: {batch.file_error} {batch.errors[:3]}")
            result["check_s"] = round(check_s, 1)
            result["check_rows_per_s"] = round(args.rows / check_s)
            result["likely_duplicates"] = len(batch.duplicates)
            log(f"Checked in {check_s:.1f} s; applying.")
            imports.import_batch_confirm(actor=actor, batch=batch)
            started = time.monotonic()
            batch = imports.import_batch_apply(batch_id=batch.pk, actor=actor)
            apply_s = time.monotonic() - started
    batch = ImportBatch.objects.get(pk=batch.pk)
    if batch.status != ImportStatus.DONE or batch.counts.get("create") != args.rows:
        raise SystemExit(f"apply ended {batch.status}: {batch.file_error} {batch.counts}")
    result["apply_s"] = round(apply_s, 1)
    result["apply_rows_per_s"] = round(args.rows / apply_s)
    result["peak_rss_mb"] = peak_rss_mb()
    log(f"Applied in {apply_s:.1f} s.")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
