"""Backups are proven by restoring them: a seeded PostgreSQL database with attachments is
backed up (pg_dump + files + manifest from one snapshot), restored into a fresh database and
a fresh storage folder, and the restored site has the same rows, the same attachment bytes
and an audit chain that verifies with the same head. A restore never lands on top of data."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from requests_app.models import Attachment, ServiceRequest
from requests_app.services_conversation import attachment_add, comment_add
from tests.chaos.stack import ROOT, database_url
from tests.requests_app.conftest import PNG, minimal_pdf

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fresh_database():
    """An empty database next to the test database; dropped afterwards."""
    made = []

    def make(suffix: str) -> str:
        name = f"{connection.settings_dict['NAME']}_{suffix}"
        with psycopg.connect(database_url().rsplit("/", 1)[0] + "/postgres",
                             autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return database_url().rsplit("/", 1)[0] + "/" + name

    yield make
    with psycopg.connect(database_url().rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        for name in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(*args, url: str, storage: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "srm.settings", "DATABASE_URL": url,
           "ATTACHMENTS_DIR": str(storage / "attachments"), "SRM_VAR_DIR": str(storage / "var")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


READ_BACK = """
import hashlib, json
from requests_app.models import Attachment, ServiceRequest
from governance.models import AuditEvent
attachment = Attachment.objects.get(uuid="{uuid}")
with attachment.file.open("rb") as f:
    data = f.read()
print(json.dumps({{"requests": ServiceRequest.objects.count(),
                  "attachments": Attachment.objects.count(),
                  "audit": AuditEvent.objects.count(),
                  "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}}))
"""


def test_a_backup_restores_into_a_fresh_database_and_storage_with_the_same_data(
        org, submit, tmp_path, fresh_database):
    # Given a site with requests, comments and attachments
    requests = [submit(), submit(item="access", cost="0",
                                 answers={"details": "CRM for the campaign.", "system": "CRM"})]
    pdf = minimal_pdf()
    attachment, = attachment_add(actor=org.alice, request=requests[0],
                                 files=[SimpleUploadedFile("quote.pdf", pdf, "application/pdf")])
    comment_add(actor=org.alice, request=requests[1], body="Screenshot attached.",
                files=[SimpleUploadedFile("screen.png", PNG, "image/png")])

    # When it is backed up
    out = StringIO()
    call_command("backup", str(tmp_path / "backup"), stdout=out)
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["tables"]["requests_app_servicerequest"] == ServiceRequest.objects.count()
    assert manifest["tables"]["requests_app_attachment"] == Attachment.objects.count() >= 2
    assert manifest["files"]["attachments"]["files"] >= 2
    audit = manifest["facts"]["audit"]
    assert audit["verified"] and audit["events"] > 0 and len(audit["head"]) == 64
    assert audit["head"] in out.getvalue()

    # ...and restored into a new database and new storage
    url = fresh_database("restored")
    storage = tmp_path / "restored"
    restored = _manage("restore", str(tmp_path / "backup"), url=url, storage=storage)
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert "match the manifest" in restored.stdout

    # Then the restored site has the same rows, the attachment's bytes and the audit chain
    check = _manage("shell", "-c", READ_BACK.format(uuid=attachment.uuid), url=url,
                    storage=storage)
    assert check.returncode == 0, check.stderr[-3000:]
    seen = json.loads(check.stdout.strip().splitlines()[-1])
    assert seen["requests"] == ServiceRequest.objects.count()
    assert seen["attachments"] == Attachment.objects.count()
    assert (seen["sha256"], seen["size"]) == (hashlib.sha256(pdf).hexdigest(), len(pdf))
    verify = _manage("verify_audit", url=url, storage=storage)
    assert verify.returncode == 0, verify.stderr
    assert f"{audit['events']} audit events" in verify.stdout and audit["head"] in verify.stdout

    # A second restore onto that data is refused, and changes nothing
    again = _manage("restore", str(tmp_path / "backup"), url=url, storage=tmp_path / "other")
    assert again.returncode == 1
    assert "is not empty" in again.stderr and "restore only into an empty database" in again.stderr
    # ...and so is one into an empty database but storage that already holds files
    empty_url = fresh_database("empty")
    into_files = _manage("restore", str(tmp_path / "backup"), url=empty_url, storage=storage)
    assert into_files.returncode == 1 and "attachments folder" in into_files.stderr
    with psycopg.connect(empty_url) as db:
        tables = db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone()[0] == 0


def test_a_backup_never_writes_into_a_folder_that_holds_something(org, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "manifest.json").write_text("{}")
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", str(tmp_path / "old"))


def test_a_tampered_dump_is_refused_before_anything_is_restored(org, tmp_path, fresh_database):
    call_command("backup", str(tmp_path / "backup"), stdout=StringIO())
    with (tmp_path / "backup" / "database.dump").open("ab") as dump:
        dump.write(b"\0")
    refused = _manage("restore", str(tmp_path / "backup"), url=fresh_database("tampered"),
                      storage=tmp_path / "fresh")
    assert refused.returncode == 1 and "SHA-256" in refused.stderr
