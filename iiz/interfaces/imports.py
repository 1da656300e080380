"""Bulk import of clients and their registrations from CSV and XLSX files, and from eCH person deliveries (XML).

An upload is checked first (every row validated as `client_create` would, and classified as a new person,
a change, unchanged, or rejected) and shown as a preview; only when the user confirms it is it taken,
all rows in one transaction, and only when no row was rejected. The import is idempotent: a row is
identified by its AHV number, the importing institution and the external case number, so importing the
same file again changes nothing. Rows are streamed in chunks, so memory stays bounded by the chunk size
(plus the set of AHV numbers seen, to find duplicates within the file).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any
from xml.etree import ElementTree  # noqa: S405 - our own check of a zip member, no entities expanded

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from iiz import access
from iiz.audit.models import AuditAction, AuditBasis
from iiz.audit.services import audit_record
from iiz.cases.models import CaseParticipant
from iiz.clients.identity import identity_matches
from iiz.clients.imports import ClientImportRow, RegistrationImportRow
from iiz.clients.models import AhvConflictSource, Client, Language, Registration, Sex
from iiz.clients.services import ahv_conflict_record, clients_import_batch, registration_create
from iiz.interfaces.ech.imports import COLUMNS as ECH_COLUMNS
from iiz.interfaces.ech.imports import ech_rows
from iiz.interfaces.ech.schema import EchDocumentError
from iiz.interfaces.matching import LIKELY_DUPLICATE, CandidateIndex
from iiz.interfaces.models_imports import ImportBatch, ImportStatus
from iiz.lib.ahv import ahv_invalid_message, ahv_normalise
from iiz.lib.crypto import decrypt_bytes, encrypt_bytes
from iiz.organisations.models import Municipality
from iiz.outbox.services import outbox_enqueue

if TYPE_CHECKING:
    from iiz.organisations.models import User

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
# How long the cache keeps the progress of an apply step that a worker is running.
PROGRESS_SECONDS = 6 * 3600
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PREVIEW_CHANGES = 200

REQUIRED = ("ahv_number", "last_name", "first_name", "date_of_birth", "sex", "bfs_number", "registered_on")
OPTIONAL = ("external_case_number", "street", "house_number", "postal_code", "town", "phone", "email", "languages")

# The German column names partners' systems export, casefolded, spaces and dots removed.
ALIASES: dict[str, tuple[str, ...]] = {
    "ahv_number": ("ahvnummer", "ahv-nr", "ahvnr", "ahvn13", "ahv", "sozialversicherungsnummer", "vn"),
    "last_name": ("name", "nachname", "familienname"),
    "first_name": ("vorname",),
    "date_of_birth": ("geburtsdatum", "geboren"),
    "sex": ("geschlecht",),
    "bfs_number": ("bfs-nr", "bfsnr", "bfs-nummer", "bfsnummer", "gemeindenummer", "bfs"),
    "registered_on": ("angemeldetseit", "anmeldedatum", "angemeldetam"),
    "external_case_number": ("fallnummer", "fall-nr", "fallnr", "dossiernummer"),
    "street": ("strasse",),
    "house_number": ("hausnummer", "hausnr"),
    "postal_code": ("plz", "postleitzahl"),
    "town": ("ort", "wohnort"),
    "phone": ("telefon", "tel"),
    "email": ("e-mail", "mail"),
    "languages": ("sprachen", "sprache"),
}

SEXES = {
    "w": Sex.FEMALE,
    "weiblich": Sex.FEMALE,
    "f": Sex.FEMALE,
    "female": Sex.FEMALE,
    "frau": Sex.FEMALE,
    "2": Sex.FEMALE,
    "m": Sex.MALE,
    "männlich": Sex.MALE,
    "maennlich": Sex.MALE,
    "male": Sex.MALE,
    "mann": Sex.MALE,
    "1": Sex.MALE,
    "unbekannt": Sex.UNKNOWN,
    "unknown": Sex.UNKNOWN,
    "3": Sex.UNKNOWN,
}


def _header_key(value: str) -> str:
    return re.sub(r"[\s._\-]", "", value.strip().lstrip("\ufeff").casefold())


_HEADERS: dict[str, str] = {}
for _name, _aliases in ALIASES.items():
    _HEADERS[_header_key(_name)] = _name
    for _alias in _aliases:
        _HEADERS[_header_key(_alias)] = _name
# An eCH delivery's columns are the element paths below person (see iiz.interfaces.ech.imports).
_HEADERS.update({_header_key(_path): _name for _name, _path in ECH_COLUMNS.items()})


class ImportFileError(Exception):
    """The file as a whole cannot be read: wrong format, a missing column, a formula or merged cells."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ParsedRow:
    row: int
    ahv_number: str
    last_name: str
    first_name: str
    date_of_birth: dt.date
    sex: str
    municipality: Municipality | None
    registered_on: dt.date
    external_case_number: str = ""
    contact: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------
# Reading the file


def detect_encoding(stream: IO[bytes]) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes strictly as such, else Windows-1252."""
    stream.seek(0)
    head = stream.read(3)
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        while chunk := stream.read(64 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    finally:
        stream.seek(0)
    return "utf-8-sig" if head == codecs.BOM_UTF8 else "utf-8"


def _csv_rows(stream: IO[bytes], encoding: str) -> Iterator[list[str]]:
    # Windows-1252 leaves five bytes undefined; they become U+FFFD rather than failing the import.
    text = io.TextIOWrapper(
        stream, encoding=encoding, errors="replace" if encoding == "cp1252" else "strict", newline=""
    )
    first = text.readline()
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    yield from csv.reader(io.StringIO(first), delimiter=delimiter)
    yield from csv.reader(text, delimiter=delimiter)
    text.detach()


def _merged_cells(stream: IO[bytes], sheet_path: str) -> list[str]:
    with zipfile.ZipFile(stream) as archive, archive.open(sheet_path.lstrip("/")) as sheet:
        return [
            element.get("ref", "")
            for _event, element in ElementTree.iterparse(sheet)  # noqa: S314
            if element.tag.endswith("}mergeCell")
        ]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise ImportFileError(_("Die Datei ist keine gültige XLSX-Datei.")) from error
    try:
        sheet = workbook.worksheets[0]
        merged = _merged_cells(stream, sheet._worksheet_path)  # type: ignore[union-attr,unused-ignore]
        if merged:
            raise ImportFileError(
                _("Die Tabelle enthält verbundene Zellen (%(cells)s). Bitte heben Sie die Verbindung auf.")
                % {"cells": ", ".join(merged[:10])}
            )
        for cells in sheet.iter_rows():
            values = []
            for cell in cells:
                if getattr(cell, "data_type", None) == "f":
                    raise ImportFileError(
                        _("Die Zelle %(cell)s enthält eine Formel. Bitte speichern Sie nur Werte.")
                        % {"cell": cell.coordinate}
                    )  # type: ignore[union-attr,unused-ignore]
                values.append(_cell_text(cell.value))
            yield values
    finally:
        workbook.close()


def _xml_rows(stream: IO[bytes]) -> Iterator[list[str]]:
    try:
        yield from ech_rows(stream)
    except EchDocumentError as error:
        raise ImportFileError(error.message) from error


def file_rows(stream: IO[bytes], file_format: str) -> tuple[str, Iterator[list[str]]]:
    """The encoding used (empty for XLSX and XML) and the rows of the file as lists of texts, header first."""
    if file_format == "xlsx":
        return "", _xlsx_rows(stream)
    if file_format == "xml":
        return "", _xml_rows(stream)
    encoding = detect_encoding(stream)
    return encoding, _csv_rows(stream, encoding)


def map_header(cells: list[str]) -> dict[str, tuple[int, str]]:
    """Which column holds which field: {field: (index, the column's name in the file)}."""
    columns: dict[str, tuple[int, str]] = {}
    for index, cell in enumerate(cells):
        name = _HEADERS.get(_header_key(cell))
        if name and name not in columns:
            columns[name] = (index, cell.strip().lstrip("\ufeff"))
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise ImportFileError(
            _("Es fehlen Spalten: %(columns)s.")
            % {"columns": ", ".join(f"{name} ({ALIASES[name][0]})" for name in missing)}
        )
    return columns


# ---------------------------------------------------------------------------------------------------------
# Checking one row


def parse_date(value: str) -> dt.date:
    value = value.strip()
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, pattern).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise ValueError(value)


class _Context:
    def __init__(self, columns: dict[str, tuple[int, str]]) -> None:
        self.columns = columns
        self.municipalities = {m.bfs_number: m for m in Municipality.objects.filter(valid_until__isnull=True)}
        self.languages = {code: code for code in Language.values}
        self.languages.update({str(label).casefold(): code for code, label in Language.choices})
        self.labels = {f.name: str(getattr(f, "verbose_name", f.name)) for f in Client._meta.get_fields()}

    def column(self, name: str) -> str:
        return self.columns[name][1] if name in self.columns else name


def parse_row(number: int, cells: list[str], context: _Context) -> tuple[ParsedRow | None, list[RowError]]:
    values = {
        name: (cells[index].strip() if index < len(cells) else "") for name, (index, _c) in context.columns.items()
    }
    errors: list[RowError] = []

    def error(name: str, message: str) -> None:
        errors.append(RowError(number, context.column(name), message))

    ahv = ""
    try:
        ahv = ahv_normalise(values["ahv_number"])
    except ValidationError as invalid:
        error("ahv_number", invalid.messages[0])
    for name in ("last_name", "first_name"):
        if not values[name]:
            error(name, _("Dieses Feld ist erforderlich."))
    dates: dict[str, dt.date] = {}
    for name in ("date_of_birth", "registered_on"):
        if not values[name]:
            error(name, _("Dieses Feld ist erforderlich."))
            continue
        try:
            dates[name] = parse_date(values[name])
        except ValueError:
            error(
                name, _("Ungültiges Datum «%(value)s»: erwartet TT.MM.JJJJ oder JJJJ-MM-TT.") % {"value": values[name]}
            )
    sex = SEXES.get(values["sex"].casefold())
    if sex is None:
        error(
            "sex",
            _("Unbekanntes Geschlecht «%(value)s»: erwartet w, m, weiblich, männlich.") % {"value": values["sex"]},
        )
    municipality = None
    if values["bfs_number"]:
        try:
            municipality = context.municipalities.get(int(values["bfs_number"]))
        except ValueError:
            municipality = None
        if municipality is None:
            error("bfs_number", _("Unbekannte BFS-Nummer «%(value)s».") % {"value": values["bfs_number"]})
    languages = []
    for item in re.split(r"[,;|/]", values.get("languages", "")):
        if item.strip():
            code = context.languages.get(item.strip().casefold())
            if code is None:
                error("languages", _("Unbekannte Sprache «%(value)s».") % {"value": item.strip()})
            else:
                languages.append(code)
    contact: dict[str, Any] = {
        name: values.get(name, "") for name in OPTIONAL if name not in ("external_case_number", "languages")
    }
    contact["languages"] = languages
    if not errors and sex is not None:
        # The model's own rules (lengths, e-mail, date of birth not in the future), as client_create applies them.
        client = Client(
            ahv_number=ahv,
            first_name=values["first_name"],
            last_name=values["last_name"],
            date_of_birth=dates["date_of_birth"],
            sex=sex,
            **contact,
        )
        try:
            client.full_clean(exclude=["municipality", "recorded_by_institution"], validate_unique=False)
        except ValidationError as invalid:
            for name, messages in invalid.message_dict.items():
                for message in messages:
                    error(name if name in context.columns else name, message)
        if len(values.get("external_case_number", "")) > 50:
            error("external_case_number", _("Höchstens 50 Zeichen."))
    if errors or sex is None:
        return None, errors
    return ParsedRow(
        row=number,
        ahv_number=ahv,
        last_name=values["last_name"],
        first_name=values["first_name"],
        date_of_birth=dates["date_of_birth"],
        sex=sex,
        municipality=municipality,
        registered_on=dates["registered_on"],
        external_case_number=values.get("external_case_number", ""),
        contact=contact,
    ), []


# ---------------------------------------------------------------------------------------------------------
# Classifying rows against the database


@dataclass
class Planned:
    create: list[ParsedRow] = field(default_factory=list)
    # (row, client id) for a new registration of an existing client
    register: list[tuple[ParsedRow, int]] = field(default_factory=list)
    # (row, registration id, old case number) for a changed external case number
    renumber: list[tuple[ParsedRow, int, str]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    # (row, client id): the number of a person hidden from the importer, under another name or birth date
    conflicts: list[tuple[ParsedRow, int]] = field(default_factory=list)


def _hidden_identities(client_ids: set[int], institution_id: int) -> dict[int, Client]:
    """The clients among these that the importing institution does not see (no registration of its own, no case
    it takes part in), with what identifies them."""
    if not client_ids:
        return {}
    seen = set(
        CaseParticipant.objects.filter(
            institution_id=institution_id, left_on__isnull=True, case__client_id__in=client_ids
        ).values_list("case__client_id", flat=True)
    )
    hidden = client_ids - seen
    return Client.objects.only("pk", "first_name", "last_name", "date_of_birth").in_bulk(hidden) if hidden else {}


def _classify(
    chunk: list[ParsedRow], institution_id: int, plan: Planned, *, find_duplicates: bool, ahv_column: str = ""
) -> None:
    existing: dict[str, int] = dict(
        Client.objects.filter(ahv_number__in=[r.ahv_number for r in chunk]).values_list("ahv_number", "pk")
    )
    registrations: dict[int, list[tuple[int, str, dt.date | None]]] = {}
    for pk, owner_id, number, ended in (
        Registration.objects.filter(institution_id=institution_id, client_id__in=existing.values())
        .order_by("-registered_on", "-pk")
        .values_list("pk", "client_id", "external_case_number", "deregistered_on")
    ):
        registrations.setdefault(owner_id, []).append((pk, number, ended))
    # A person hidden from the importer is linked only when the row's name and birth date match hers; otherwise
    # the row gets the answer of an invalid number, and the coordinators a conflict to resolve.
    hidden = _hidden_identities(set(existing.values()) - set(registrations), institution_id)
    new_rows: list[ParsedRow] = []
    for row in chunk:
        client_id = existing.get(row.ahv_number)
        if client_id is None:
            plan.create.append(row)
            new_rows.append(row)
            continue
        stranger = hidden.get(client_id)
        if stranger is not None and not identity_matches(
            client=stranger, first_name=row.first_name, last_name=row.last_name, date_of_birth=row.date_of_birth
        ):
            plan.errors.append(RowError(row.row, ahv_column, ahv_invalid_message()))
            plan.conflicts.append((row, client_id))
            continue
        own = registrations.get(client_id, [])
        open_ones = [r for r in own if r[2] is None]
        if own and (not row.external_case_number or any(r[1] == row.external_case_number for r in own)):
            plan.unchanged += 1
        elif open_ones:
            plan.renumber.append((row, open_ones[0][0], open_ones[0][1]))
        else:
            plan.register.append((row, client_id))
    if find_duplicates and new_rows:
        index = CandidateIndex.born_on(r.date_of_birth for r in new_rows)
        for row in new_rows:
            found = index.candidates(
                last_name=row.last_name,
                first_name=row.first_name,
                date_of_birth=row.date_of_birth,
                minimum=LIKELY_DUPLICATE,
                municipality_bfs=row.municipality.bfs_number if row.municipality else None,
            )
            if found:
                plan.duplicates.append(
                    {
                        "row": row.row,
                        "client_id": found[0].client_id,
                        "score": found[0].score,
                        "reasons": list(found[0].reasons),
                    }
                )


def plan_import(batch: ImportBatch, *, find_duplicates: bool, on_progress: Any = None) -> Planned:
    """Read the batch's file and work out what it would create, change or reject. Raises ImportFileError."""
    plan = Planned()
    seen: dict[str, int] = {}
    with import_file_open(batch) as stream:
        encoding, rows = file_rows(stream, batch.file_format)
        batch.encoding = encoding
        header = next(rows, None)
        if header is None:
            raise ImportFileError(_("Die Datei ist leer."))
        context = _Context(map_header(header))
        chunk: list[ParsedRow] = []
        count = 0
        # A row's number is its line in a table (the header is line 1) and the person's position in a delivery.
        for number, cells in enumerate(rows, start=1 if batch.file_format == "xml" else 2):
            if not any(cell.strip() for cell in cells):
                continue
            count += 1
            parsed, errors = parse_row(number, cells, context)
            if parsed is not None and parsed.ahv_number in seen:
                errors = [
                    RowError(
                        number,
                        context.column("ahv_number"),
                        _("Diese AHV-Nummer steht schon in Zeile %(row)s.") % {"row": seen[parsed.ahv_number]},
                    )
                ]
                parsed = None
            plan.errors.extend(errors)
            if parsed is not None:
                seen[parsed.ahv_number] = number
                chunk.append(parsed)
            if len(chunk) >= CHUNK_SIZE:
                _classify(
                    chunk,
                    batch.institution_id or 0,
                    plan,
                    find_duplicates=find_duplicates,
                    ahv_column=context.column("ahv_number"),
                )
                chunk = []
                if on_progress is not None:
                    on_progress(count)
        if chunk:
            _classify(
                chunk,
                batch.institution_id or 0,
                plan,
                find_duplicates=find_duplicates,
                ahv_column=context.column("ahv_number"),
            )
    batch.total_rows = count
    return plan


# ---------------------------------------------------------------------------------------------------------
# Services


@transaction.atomic
def import_batch_create(*, actor: User, upload: UploadedFile) -> ImportBatch:
    """Keep the uploaded file and start its check in the background (after commit)."""
    if not access.may_create_clients(actor) or actor.institution_id is None:
        raise PermissionDenied(_("Sie dürfen keine Personen erfassen."))
    name = upload.name or "import"
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in {"csv", "xlsx", "txt", "xml"}:
        raise ValidationError({"file": _("Bitte laden Sie eine CSV-, XLSX- oder XML-Datei (eCH) hoch.")})
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("Die Datei ist grösser als 50 MB.")})
    batch = ImportBatch(
        institution_id=actor.institution_id,
        created_by=actor,
        language=translation.get_language() or actor.language or settings.LANGUAGE_CODE,
        file_name=name[:255],
        file_format=suffix if suffix in {"xlsx", "xml"} else "csv",
    )
    # Encrypted at rest like documents: the file holds AHV numbers, names and birth dates.
    batch.file.save(name, ContentFile(encrypt_bytes(upload.read())), save=False)
    batch.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="import_batch",
        object_id=batch.pk,
        basis=AuditBasis.REGISTRATION,
        details={"file": name},
    )
    outbox_enqueue(
        task="iiz.interfaces.tasks_imports.imports_check",
        args=[batch.pk],
        on_failure="iiz.interfaces.tasks_imports.imports_abandoned",
    )
    return batch


def _progress(batch: ImportBatch, processed: int) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(processed_rows=processed)


def _progress_live(batch: ImportBatch, processed: int) -> None:
    """Progress from inside a transaction, which other connections cannot see: through the cache.

    The bar is a courtesy: when the cache is unreachable the import goes on without it.
    """
    try:
        cache.set(batch.progress_cache_key, processed, timeout=PROGRESS_SECONDS)
    except Exception:  # noqa: BLE001, S110 - the tolerant cache logs outages itself
        pass


# Each person of a delivery has exactly one personIdentification (its mail address has a `person` element too).
_PERSON_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?personIdentification[\s>]")


def estimate_rows(batch: ImportBatch) -> int:
    """A quick count of the data rows, so that the progress bar moves from the start of the check.

    Lines of a CSV file (a quoted line break counts twice), the sheet's recorded size of an XLSX file, the
    persons of a delivery. The exact number is known once the check has read every row.
    """
    with import_file_open(batch) as stream:
        if batch.file_format == "xlsx":
            from openpyxl import load_workbook

            try:
                workbook = load_workbook(stream, read_only=True)
                sheet = workbook.worksheets[0] if workbook.worksheets else None
                rows = (sheet.max_row or 0) - 1 if sheet is not None else 0
                workbook.close()
            except (zipfile.BadZipFile, KeyError, ValueError, OSError, ElementTree.ParseError):
                return 0
            return max(rows, 0)
        count, tail, last = 0, b"", b""
        pattern = _PERSON_TAG if batch.file_format == "xml" else re.compile(rb"\n")
        while block := stream.read(1 << 20):
            # The end of the previous block is read again, so that a tag cut in two is found; what lay wholly
            # in that end was counted then and is taken off now.
            data = tail + block
            count += len(pattern.findall(data)) - len(pattern.findall(tail))
            tail, last = data[-40:], block[-1:]
    if batch.file_format == "xml":
        return count
    # The header is not a data row; a last line without a line break is one.
    return max(count - 1 + (1 if last not in {b"", b"\n"} else 0), 0)


@contextmanager
def import_file_open(batch: ImportBatch) -> Iterator[IO[bytes]]:
    """The uploaded file, decrypted in memory (never written in plain text)."""
    if not batch.file:
        raise ImportFileError(_("Die Datei ist nicht mehr gespeichert. Bitte laden Sie sie neu hoch."))
    with batch.file.open("rb") as stored:
        yield io.BytesIO(decrypt_bytes(stored.read()))


def import_file_delete(batch: ImportBatch) -> None:
    """The file is needed only until the batch is taken or refused: its rows' errors are kept on the batch."""
    if batch.file:
        batch.file.delete(save=False)
        ImportBatch.objects.filter(pk=batch.pk).update(file="")


def import_files_expire(*, now: dt.datetime | None = None) -> int:
    """Delete the files of batches older than IIZ_IMPORT_FILE_HOURS that were neither taken nor refused."""
    limit = (now or timezone.now()) - dt.timedelta(hours=settings.IIZ_IMPORT_FILE_HOURS)
    expired = 0
    for batch in ImportBatch.objects.filter(created_at__lt=limit).exclude(file="").iterator():
        import_file_delete(batch)
        expired += 1
    return expired


def import_batch_check(*, batch_id: int) -> ImportBatch:
    """Check the file and store the preview. Idempotent: a batch already checked is left as it is."""
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status != ImportStatus.CHECKING:
        return batch
    # The rows are explained in the uploader's language, whichever language the worker runs in.
    with translation.override(batch.language):
        return _check(batch)


def _check(batch: ImportBatch) -> ImportBatch:
    batch.total_rows = estimate_rows(batch)
    batch.save(update_fields=["total_rows"])
    try:
        plan = plan_import(batch, find_duplicates=True, on_progress=lambda n: _progress(batch, n))
    except ImportFileError as error:
        batch.file_error = error.message
        batch.status = ImportStatus.REJECTED
    except (UnicodeDecodeError, csv.Error, zipfile.BadZipFile, ElementTree.ParseError) as error:
        batch.file_error = _("Die Datei kann nicht gelesen werden: %(error)s") % {"error": error}
        batch.status = ImportStatus.REJECTED
    except Exception:
        # Whatever else a crafted file may raise in a reader: the batch is refused, never left checking.
        logger.exception("Import batch %s: the file could not be checked", batch.pk)
        batch.file_error = _("Die Datei kann nicht gelesen werden.")
        batch.status = ImportStatus.REJECTED
    else:
        batch.counts = {
            "create": len(plan.create),
            "change": len(plan.register) + len(plan.renumber),
            "unchanged": plan.unchanged,
            "rejected": len({e.row for e in plan.errors}),
        }
        batch.errors = [
            {"row": e.row, "column": e.column, "message": e.message} for e in sorted(plan.errors, key=lambda e: e.row)
        ]
        _conflicts_record(batch, plan.conflicts)
        batch.duplicates = plan.duplicates
        changes = [{"row": r.row, "text": _("neue Anmeldung für bestehende Person")} for r, _c in plan.register]
        changes += [
            {"row": r.row, "text": _("Fallnummer «%(old)s» → «%(new)s»") % {"old": old, "new": r.external_case_number}}
            for r, _p, old in plan.renumber
        ]
        batch.changes = sorted(changes, key=lambda c: int(str(c["row"])))[:PREVIEW_CHANGES]
        batch.status = ImportStatus.REJECTED if plan.errors else ImportStatus.PREVIEWED
    batch.processed_rows = batch.total_rows
    batch.finished_at = timezone.now()
    batch.save()
    if batch.status == ImportStatus.REJECTED:
        import_file_delete(batch)
    return batch


def _conflicts_record(batch: ImportBatch, conflicts: list[tuple[ParsedRow, int]]) -> None:
    if not conflicts:
        return
    clients = Client.objects.in_bulk([client_id for _row, client_id in conflicts])
    for row, client_id in conflicts:
        ahv_conflict_record(
            actor=batch.created_by,
            client=clients[client_id],
            first_name=row.first_name,
            last_name=row.last_name,
            date_of_birth=row.date_of_birth,
            source=AhvConflictSource.IMPORT,
            reference=_("%(file)s, Zeile %(row)s") % {"file": batch.file_name[:60], "row": row.row},
        )


@transaction.atomic
def import_batch_confirm(*, actor: User, batch: ImportBatch) -> ImportBatch:
    if batch.institution_id != actor.institution_id or not access.may_create_clients(actor):
        raise PermissionDenied
    # Locked: a double click confirms once and starts one apply.
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportStatus.PREVIEWED:
        raise ValidationError(_("Nur ein geprüfter Import ohne abgelehnte Zeilen kann übernommen werden."))
    batch.status = ImportStatus.RUNNING
    batch.processed_rows = 0
    batch.save(update_fields=["status", "processed_rows"])
    outbox_enqueue(
        task="iiz.interfaces.tasks_imports.imports_apply",
        args=[batch.pk, actor.pk],
        on_failure="iiz.interfaces.tasks_imports.imports_abandoned",
    )
    return batch


class _Rejected(Exception):
    pass


def import_batch_apply(*, batch_id: int, actor: User) -> ImportBatch:
    """Take the whole file in one transaction, or nothing. The rows are checked again: things may have changed."""
    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status != ImportStatus.RUNNING:
        return batch
    with translation.override(batch.language):
        return _apply(batch, actor)


def _apply(batch: ImportBatch, actor: User) -> ImportBatch:
    try:
        with transaction.atomic():
            # The batch is locked for the whole apply: a second run of the job (a message delivered twice)
            # waits here, and then finds the batch done.
            batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
            if batch.status != ImportStatus.RUNNING:
                return batch
            # Reading the file again is the first half of the work, writing the rows the second.
            total = batch.total_rows
            plan = plan_import(batch, find_duplicates=False, on_progress=lambda n: _progress_live(batch, n // 2))
            if plan.errors:
                raise _Rejected
            _write(
                actor=actor,
                batch=batch,
                plan=plan,
                on_progress=lambda share: _progress_live(batch, total // 2 + round(share * total / 2)),
            )
            # Done in the same transaction as the rows: a worker lost after the commit leaves a batch that is
            # done, never one that a second run would take again.
            batch.status = ImportStatus.DONE
            batch.counts = {
                "create": len(plan.create),
                "change": len(plan.register) + len(plan.renumber),
                "unchanged": plan.unchanged,
                "rejected": 0,
            }
            batch.processed_rows = batch.total_rows
            batch.finished_at = timezone.now()
            batch.save()
    except (_Rejected, ImportFileError, ValidationError, PermissionDenied):
        batch.status = ImportStatus.FAILED
        batch.file_error = _(
            "Der Import wurde nicht übernommen: die Daten haben sich seit der Prüfung geändert. "
            "Bitte laden Sie die Datei neu hoch."
        )
        batch.processed_rows = batch.total_rows
        batch.finished_at = timezone.now()
        batch.save()
    import_file_delete(batch)
    return batch


def import_batch_abandon(*, batch_id: int) -> None:
    """The check or the apply could not finish even after several attempts (workers lost): say so.

    Nothing was taken: the apply writes all rows in one transaction with the batch's status, so a batch still
    running has written nothing.
    """
    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None or batch.status not in {ImportStatus.CHECKING, ImportStatus.RUNNING}:
        return
    with translation.override(batch.language):
        message = (
            _(
                "Die Prüfung wurde abgebrochen, weil der Hintergrunddienst ausgefallen ist. Bitte laden Sie die "
                "Datei neu hoch."
            )
            if batch.status == ImportStatus.CHECKING
            else _(
                "Die Übernahme wurde abgebrochen, weil der Hintergrunddienst ausgefallen ist; es wurde nichts "
                "übernommen. Bitte laden Sie die Datei neu hoch."
            )
        )
    ImportBatch.objects.filter(pk=batch.pk, status=batch.status).update(
        status=ImportStatus.FAILED, file_error=message, finished_at=timezone.now()
    )


def _write(*, actor: User, batch: ImportBatch, plan: Planned, on_progress: Any = None) -> None:
    unit = actor.unit
    if unit is None:
        raise PermissionDenied
    steps = max(len(plan.create) + len(plan.register) + len(plan.renumber), 1)
    for start in range(0, len(plan.create), CHUNK_SIZE):
        if on_progress is not None:
            on_progress(start / steps)
        rows = plan.create[start : start + CHUNK_SIZE]
        clients_import_batch(
            actor=actor,
            source=f"import:{batch.public_id}",
            first_row_number=rows[0].row,
            rows=[
                ClientImportRow(
                    ahv_number=r.ahv_number,
                    first_name=r.first_name,
                    last_name=r.last_name,
                    date_of_birth=r.date_of_birth,
                    sex=r.sex,
                    municipality=r.municipality,
                    registrations=(
                        RegistrationImportRow(
                            unit=unit, registered_on=r.registered_on, external_case_number=r.external_case_number
                        ),
                    ),
                    street=r.contact["street"],
                    house_number=r.contact["house_number"],
                    postal_code=r.contact["postal_code"],
                    town=r.contact["town"],
                    phone=r.contact["phone"],
                    email=r.contact["email"],
                    languages=tuple(r.contact["languages"]),
                )
                for r in rows
            ],
        )
    if on_progress is not None:
        on_progress(len(plan.create) / steps)
    clients = Client.objects.in_bulk([client_id for _r, client_id in plan.register])
    for row, client_id in plan.register:
        registration_create(
            actor=actor,
            client=clients[client_id],
            unit=unit,
            registered_on=row.registered_on,
            external_case_number=row.external_case_number,
        )
    for row, registration_id, old in plan.renumber:
        registration = Registration.objects.get(pk=registration_id)
        registration.external_case_number = row.external_case_number
        registration.full_clean(exclude=["client", "institution", "unit", "recorded_by"])
        registration.save(update_fields=["external_case_number"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            client_id=registration.client_id,
            object_type="registration",
            object_id=registration.pk,
            basis=AuditBasis.REGISTRATION,
            details={"fields": ["external_case_number"], "old": old, "import": str(batch.public_id)},
        )


def rejected_rows_csv(batch: ImportBatch) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([_("Zeile"), _("Spalte"), _("Grund")])
    if batch.file_error:
        writer.writerow(["", "", batch.file_error])
    for item in batch.errors:
        writer.writerow([item["row"], item["column"], item["message"]])
    return out.getvalue()
