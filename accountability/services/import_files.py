"""Reading a legacy tracker export with bounded work: the file is checked before it is parsed
(its size; for an XLSX, which is a zip, the size its parts unpack to and their compression
ratio, so a zip bomb of a few hundred KB never reaches the parser), then streamed row by row
(CSV through the csv module, XLSX through openpyxl's read-only mode) with every cell capped
at ``SRM_IMPORT_MAX_CELL_CHARS``. The limits are settings (docs/operations.md, "Imports")."""

from __future__ import annotations

import csv
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from governance.errors import ValidationFailed

REQUIRED_COLUMNS = ("requester", "submitted_at", "status", "external_id")
KNOWN_COLUMNS = {"requester", "title", "answers", "estimated_cost", "submitted_at", "status",
                 "external_id", "closed_at"}
FORMATS = {".csv", ".xlsx"}
MB = 1024 * 1024
# A zip part this small cannot hurt, whatever its ratio (XML headers compress very well).
_RATIO_FLOOR = MB


def _megabytes(size: int) -> str:
    return f"{size / MB:,.0f} MB" if size % MB == 0 else f"{size / MB:,.1f} MB"


def size_refusal(size: int) -> str | None:
    """Why a file of ``size`` bytes may not be imported (None: it may)."""
    limit = settings.SRM_IMPORT_MAX_BYTES
    if size > limit:
        return _("The file is larger than the %(limit)s an import may be; split it into "
                 "smaller files.") % {"limit": _megabytes(limit)}
    return None


def inspect_file(path: str | os.PathLike) -> None:
    """Refuse (``ValidationFailed``) a file that is too large, or an XLSX that would unpack to
    too much, before a byte of it is parsed."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValidationFailed(_("Upload a .csv or .xlsx file."), code="unknown_format")
    if refusal := size_refusal(path.stat().st_size):
        raise ValidationFailed(refusal, code="import_too_large")
    if path.suffix.lower() == ".xlsx":
        _inspect_zip(path)


def _inspect_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise ValidationFailed(_("The file is not a valid .xlsx workbook (save it again from "
                                 "your spreadsheet program, or export a CSV)."),
                               code="unreadable_file") from None
    unpacked = sum(part.file_size for part in parts)
    limit = settings.SRM_IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES
    if unpacked > limit:
        raise ValidationFailed(
            _("The workbook unpacks to %(size)s, more than the %(limit)s uncompressed an import "
              "may be; split it into smaller files.") % {"size": _megabytes(unpacked),
                                                         "limit": _megabytes(limit)},
            code="import_too_large")
    ratio_limit = settings.SRM_IMPORT_XLSX_MAX_RATIO
    for part in parts:
        if part.file_size > _RATIO_FLOOR and part.file_size > ratio_limit * max(
                part.compress_size, 1):
            raise ValidationFailed(
                _("The workbook's part %(part)s has a compression ratio above %(ratio)s:1, which "
                  "no real export has; export the data again.") % {
                    "part": part.filename[:80], "ratio": ratio_limit},
                code="import_too_large")


@dataclass(frozen=True)
class Columns:
    """The columns a file must have and may have (``prefix``: any column starting with it)."""

    required: tuple[str, ...]
    known: frozenset[str]
    prefix: str | None = None
    hint: str = "use the documented names"


LEGACY = Columns(REQUIRED_COLUMNS, frozenset(KNOWN_COLUMNS), prefix="answer.",
                 hint="use the documented names, and answer.<field> for an answer")


def read_rows(path: str | os.PathLike, *, columns: Columns = LEGACY
              ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, row)`` for each data row, streaming: the line is the CSV file's line or
    the sheet's row number. Header names are lower-cased; fully empty rows are skipped."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        yield from _read_csv(path, columns)
    elif suffix == ".xlsx":
        yield from _read_xlsx(path, columns)
    else:
        raise ValidationFailed(_("Upload a .csv or .xlsx file."), code="unknown_format")


def count_rows(path) -> int:
    return sum(1 for _ in read_rows(path))


def _header(names, columns: Columns) -> list[str]:
    header = [str(n or "").strip().lower()[:100] for n in names]
    missing = [c for c in columns.required if c not in header]
    if missing:
        raise ValidationFailed(_("The file has no column %(columns)s (line 1).")
                               % {"columns": ", ".join(missing)},
                               code="missing_columns")
    unknown = [c for c in header if c and c not in columns.known
               and not (columns.prefix and c.startswith(columns.prefix))]
    if unknown:
        raise ValidationFailed(
            _("Unknown column(s) %(columns)s (line 1): %(hint)s.") % {
                "columns": ", ".join(unknown)[:300], "hint": columns.hint},
            code="unknown_columns")
    return header


def _read_csv(path, columns: Columns) -> Iterator[tuple[int, dict[str, Any]]]:
    limit = settings.SRM_IMPORT_MAX_CELL_CHARS
    # The csv module's limit is one for the process; a longer field stops the reader.
    csv.field_size_limit(limit)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            try:
                header = _header(next(reader), columns)
            except StopIteration:
                raise ValidationFailed(_("The file is empty."), code="empty_file") from None
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                yield reader.line_num, dict(zip(header, values, strict=False))
        except csv.Error as exc:
            line = reader.line_num
            if "field larger than field limit" in str(exc):
                message, code = _("Line %(line)s: a cell is longer than %(limit)s characters.") % {
                    "line": line, "limit": f"{limit:,}"}, "cell_too_long"
            else:
                message, code = _("Line %(line)s: the file cannot be read as CSV (%(why)s).") % {
                    "line": line, "why": str(exc)[:100]}, "unreadable_file"
            raise ValidationFailed(message + " " + _("Nothing was imported."), code=code) from None
        except UnicodeDecodeError:
            raise ValidationFailed(
                _("Line %(line)s: the file is not UTF-8 text; save it as “CSV UTF-8”. Nothing "
                  "was imported.") % {"line": reader.line_num + 1},
                code="unreadable_file") from None


def _read_xlsx(path, columns: Columns) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ValidationFailed(_("The file is not a valid .xlsx workbook (save it again from "
                                 "your spreadsheet program, or export a CSV)."),
                               code="unreadable_file") from None
    try:
        rows = workbook.active.iter_rows(values_only=True)
        try:
            header = _header(next(rows), columns)
        except StopIteration:
            raise ValidationFailed(_("The file is empty."), code="empty_file") from None
        for line, values in enumerate(rows, start=2):
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            yield line, dict(zip(header, values, strict=False))
    finally:
        workbook.close()


def overlong_column(raw: dict[str, Any]) -> str | None:
    """The first column whose cell is longer than ``SRM_IMPORT_MAX_CELL_CHARS``."""
    limit = settings.SRM_IMPORT_MAX_CELL_CHARS
    for column, value in raw.items():
        if isinstance(value, str) and len(value) > limit:
            return column
    return None
