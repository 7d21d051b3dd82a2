"""Imports are bounded: a file too large, a zip bomb dressed as XLSX or a cell of 200 MB is
refused before it can take a worker's memory; stored cells, error messages and the number of
stored errors are capped, so the job's page stays small; uploads are private (0600) and
deleted when the job ends."""

from __future__ import annotations

import csv
import os
import stat
import zipfile
from io import BytesIO

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from accountability.choices import ImportStatus
from accountability.models import ImportJob
from accountability.services.legacy_import import import_job_create, import_job_run
from governance.errors import ValidationFailed
from requests_app.models import ServiceRequest
from tests.factories import make_plan

HEADER = ["requester", "title", "answer.details", "answer.model", "estimated_cost",
          "submitted_at", "status", "external_id"]
ROW = ["alice", "Laptop", "New joiner", "13-inch standard", "1200", "2026-02-02 10:00", "open"]
MB = 1024 * 1024


@pytest.fixture
def plan(org):
    return make_plan(org, items=("laptop",), sponsor=org.irene)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _xlsx(rows) -> bytes:
    data = tablib.Dataset(headers=HEADER)
    for row in rows:
        data.append(row)
    return data.export("xlsx")


def _with_huge_cell(cell_bytes: int) -> bytes:
    """A real workbook whose sheet's second row has one inline-string cell of
    ``cell_bytes`` characters: a few hundred KB compressed."""
    source = zipfile.ZipFile(BytesIO(_xlsx([[*ROW, "T-1"]])))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, source.read(info))
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://'
                        b'schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                        b'<row r="1">')
            for n, name in enumerate(HEADER):
                sheet.write(f'<c r="{chr(65 + n)}1" t="inlineStr"><is><t>{name}</t></is></c>'
                            .encode())
            sheet.write(b'</row><row r="2"><c r="A2" t="inlineStr"><is><t>alice</t></is></c>'
                        b'<c r="B2" t="inlineStr"><is><t>')
            chunk = b"A" * MB
            for _ in range(cell_bytes // MB):
                sheet.write(chunk)
            sheet.write(b"</t></is></c></row></sheetData></worksheet>")
    return out.getvalue()


def _no_parsing(monkeypatch):
    import openpyxl

    def refuse(*args, **kwargs):
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def _job_for(org, path, *, actor=None):
    job = import_job_create(actor=actor or org.olivia, item=org.item["laptop"],
                            upload=SimpleUploadedFile(path.name, path.read_bytes()))
    return import_job_run(job_id=job.pk)


def test_an_xlsx_with_one_200_mb_cell_is_refused_before_parsing_and_its_page_is_small(
        org, tmp_path, client, monkeypatch):
    # Given a 200 MB cell in a workbook of a few hundred KB (the report's 204 KB file)
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(_with_huge_cell(200 * MB))
    assert path.stat().st_size < 400 * 1024
    _no_parsing(monkeypatch)

    # When it is imported
    job = _job_for(org, path)

    # Then it is refused without opening the workbook, saying why, and nothing is imported
    assert job.status == ImportStatus.REJECTED
    assert "uncompressed" in job.message or "compress" in job.message, job.message
    assert not ServiceRequest.objects.filter(external_key__startswith="legacy:").exists()
    client.force_login(org.olivia)
    page = client.get(reverse("plans:import_job", args=[job.pk]))
    assert page.status_code == 200 and len(page.content) < 100_000


def test_a_highly_compressed_xlsx_is_refused_by_its_ratio(org, tmp_path, settings,
                                                            monkeypatch):
    # A 30 MB sheet (under the size limit) packed at more than 100:1, as the 307 KB file was
    settings.SRM_IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = 1024 * MB
    path = tmp_path / "crafted.xlsx"
    path.write_bytes(_with_huge_cell(30 * MB))
    _no_parsing(monkeypatch)

    job = _job_for(org, path)

    assert job.status == ImportStatus.REJECTED
    assert "compression ratio" in job.message, job.message


def test_a_long_cell_within_the_limits_is_reported_capped_not_stored(org, tmp_path, client,
                                                                      settings):
    # Given limits that let the workbook be parsed, and one cell longer than a cell may be
    settings.SRM_IMPORT_XLSX_MAX_RATIO = 100_000
    settings.SRM_IMPORT_MAX_CELL_CHARS = 5_000
    path = tmp_path / "long.xlsx"
    path.write_bytes(_with_huge_cell(2 * MB))

    job = _job_for(org, path)

    # Then the row is refused with a short message that names the column
    assert job.status == ImportStatus.REJECTED
    assert job.errors == [[2, "title is longer than 5,000 characters"]], str(job.errors)[:300]
    client.force_login(org.olivia)
    page = client.get(reverse("plans:import_job", args=[job.pk]))
    assert len(page.content) < 100_000


def test_a_csv_cell_longer_than_the_limit_rejects_the_file_with_its_line(org, tmp_path,
                                                                          settings):
    settings.SRM_IMPORT_MAX_CELL_CHARS = 1_000
    path = tmp_path / "long.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerow([*ROW, "T-1"])
        writer.writerow(["alice", "x" * 300_000, *ROW[2:], "T-2"])

    job = _job_for(org, path)

    assert job.status == ImportStatus.REJECTED
    assert job.message == "Line 3: a cell is longer than 1,000 characters. Nothing was imported."
    assert not ServiceRequest.objects.filter(external_key__startswith="legacy:").exists()


def test_a_40_mb_csv_is_refused_by_the_command_line_before_it_is_read(org, tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", newline="") as handle:
        handle.write(",".join(HEADER) + "\n")
        line = ",".join([*ROW, "T-{}"]) + "\n"
        n = 0
        while handle.tell() < 40 * MB:
            handle.write(line.format(n))
            n += 1

    with pytest.raises(CommandError, match="larger than the 20 MB"):
        call_command("import_legacy", str(path), "--item", "laptop", "--no-progress")
    assert not ServiceRequest.objects.filter(external_key__startswith="legacy:").exists()


def test_an_upload_over_the_limit_is_refused_while_it_streams_and_queues_nothing(
        org, plan, client, settings):
    settings.SRM_IMPORT_MAX_BYTES = 1 * MB
    client.force_login(org.olivia)
    body = (",".join(HEADER) + "\n").encode() + b"x" * (MB + 1)
    response = client.post(reverse("plans:import", args=[plan.pk]), {
        "file": SimpleUploadedFile("big.csv", body), "item": org.item["laptop"].pk})
    # Stopped at the limit while it was read (kit.uploads), before the form saw it.
    assert response.status_code == 413
    assert "“big.csv” is larger than 1.0\xa0MB" in response.content.decode()
    assert not ImportJob.objects.exists()
    with pytest.raises(ValidationFailed) as refused:
        import_job_create(actor=org.olivia, item=org.item["laptop"],
                          upload=SimpleUploadedFile("big.csv", body))
    assert refused.value.code == "import_too_large"


def test_errors_are_kept_up_to_the_limit_and_each_message_is_short(org, tmp_path, settings,
                                                                    client):
    # Given 3,000 bad rows whose requester names are 900 characters long
    settings.SRM_IMPORT_MAX_ERRORS = 100
    path = tmp_path / "bad.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(3_000):
            writer.writerow(["ghost" + "g" * 900, *ROW[1:], f"T-{n}"])

    job = _job_for(org, path)

    assert job.status == ImportStatus.REJECTED
    assert job.error_count == 3_000 and len(job.errors) == 100
    assert max(len(message) for _line, message in job.errors) <= 300
    assert job.message.startswith("3000 of 3000 rows have errors")
    client.force_login(org.olivia)
    page = client.get(reverse("plans:import_job", args=[job.pk])).content.decode()
    assert "3,000 bad rows in all; the first 100 are shown" in page
    assert len(page) < 100_000


def test_the_upload_is_private_and_deleted_when_the_job_is_done(org, tmp_path):
    path = tmp_path / "good.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerow([*ROW, "T-1"])
    job = import_job_create(actor=org.olivia, item=org.item["laptop"],
                            upload=SimpleUploadedFile("good.csv", path.read_bytes()))
    stored = job.file.path
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600

    job = import_job_run(job_id=job.pk)

    assert job.status == ImportStatus.DONE
    assert not job.file and not os.path.exists(stored)
