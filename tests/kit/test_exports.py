"""kit.exports: every cell a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from kit.exports import dataset, safe_cell


@pytest.mark.parametrize("value", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1",
                                   '=HYPERLINK("http://x/","y")'])
def test_a_formula_becomes_text(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Legal", "-12.50", "42", "", None, 7, "a=b"])
def test_ordinary_values_are_unchanged(value):
    assert safe_cell(value) == value


def test_both_formats_carry_the_prefixed_text():
    data = dataset([["=1+1", "-3.50"]], headers=["@name", "amount"], title="t")

    rows = list(csv.reader(io.StringIO(data.export("csv"))))
    assert rows == [["'@name", "amount"], ["'=1+1", "-3.50"]]
    sheet = load_workbook(io.BytesIO(data.export("xlsx"))).active
    assert [c.value for c in sheet[2]] == ["'=1+1", "-3.50"]
    assert all(c.data_type == "s" for c in sheet[2])
