"""Importing a legacy tracker export: all rows checked first, nothing imported from a bad
file, the same file twice creates nothing new, CSV and XLSX alike."""

import csv
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import tablib
from django.core.management import CommandError, call_command
from django.utils import timezone

from accountability.choices import ImportStatus
from accountability.services.legacy_import import import_job_create, import_job_run, legacy_import
from approvals.choices import StepState
from approvals.models import Step
from governance.models import AuditEvent
from requests_app.choices import RequestState, Source
from requests_app.models import ServiceRequest
from tests.factories import make_plan, make_workflow

BERLIN = ZoneInfo("Europe/Berlin")
HEADER = ["requester", "title", "answer.details", "answer.model", "estimated_cost",
          "submitted_at", "status", "external_id", "closed_at"]
GOOD = [
    ["alice", "Laptop for Sam", "New joiner", "13-inch standard", "1200", "2026-02-02 10:00",
     "fulfilled", "T-1", "2026-02-06 15:00"],
    ["bob@example.com", "Big laptop", "Video editing", "Developer workstation", "7500",
     "2026-03-02", "in_progress", "T-2", ""],
    ["alice", "", "Spare", "13-inch standard", "900", "2026-03-10T09:30:00+01:00", "open", "T-3",
     ""],
    ["bob", "Too expensive", "Gaming", "15-inch performance", "8000", "2026-01-12 11:00",
     "rejected", "T-4", "2026-01-13"],
    ["alice", "Changed mind", "Oops", "13-inch standard", "800", "2026-01-20 11:00", "cancelled",
     "T-5", "2026-01-21 10:00"],
]


def write_csv(tmp_path, rows, header=HEADER, name="tracker.csv"):
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def imported():
    return ServiceRequest.objects.filter(source=Source.LEGACY_IMPORT)


def by_key(key):
    return ServiceRequest.objects.get(external_key=f"legacy:laptop:{key}")


def states(request):
    return {s.name: s.state for s in request.steps.all()}


def test_a_good_csv_back_fills_requests_with_their_dates_and_steps(org, tmp_path):
    path = write_csv(tmp_path, GOOD)

    report = legacy_import(path=path, item=org.item["laptop"], actor=org.olivia)

    assert (report.ok, report.total, report.imported, report.skipped) == (True, 5, 5, 0)
    assert imported().count() == 5

    done = by_key("T-1")
    assert done.state == RequestState.FULFILLED and done.title == "Laptop for Sam"
    assert done.submitted_at == datetime(2026, 2, 2, 10, 0, tzinfo=BERLIN)
    assert done.closed_at == datetime(2026, 2, 6, 15, 0, tzinfo=BERLIN)
    assert done.reference.startswith("SR-2026-")
    assert done.requester_department == org.dept["MKT"]
    assert states(done) == {"Head approval": StepState.APPROVED,
                            "Finance approval": StepState.SKIPPED, "Fulfilment": StepState.DONE}
    for step in done.steps.exclude(state=StepState.SKIPPED):
        assert done.submitted_at <= step.activated_at < step.completed_at <= done.closed_at
        assert step.due_at is not None
    assert done.steps.get(name="Head approval").decided_by == org.hank

    working = by_key("T-2")  # 7500 ≥ finance threshold: both approvals recorded
    assert working.state == RequestState.IN_PROGRESS
    assert states(working) == {"Head approval": StepState.APPROVED,
                               "Finance approval": StepState.APPROVED,
                               "Fulfilment": StepState.ACTIVE}
    assert working.current_step == working.steps.get(name="Fulfilment")
    assert working.accountable_department == org.dept["IT"]
    assert working.closed_at is None

    waiting = by_key("T-3")
    assert waiting.state == RequestState.IN_APPROVAL and waiting.title == "New laptop"
    assert waiting.current_step.name == "Head approval"
    assert waiting.current_step.accountable_head == org.hank

    rejected = by_key("T-4")
    assert rejected.state == RequestState.REJECTED
    assert states(rejected) == {"Head approval": StepState.REJECTED,
                                "Finance approval": StepState.CANCELLED,
                                "Fulfilment": StepState.CANCELLED}
    assert rejected.closed_at == datetime(2026, 1, 13, 17, 0, tzinfo=BERLIN)

    cancelled = by_key("T-5")
    assert cancelled.state == RequestState.CANCELLED
    assert states(cancelled)["Head approval"] == StepState.CANCELLED

    events = AuditEvent.objects.filter(verb="request.imported")
    assert events.count() == 5
    assert events.get(correlation=done.reference).actor == org.olivia


def test_imported_open_steps_are_overdue_so_the_delay_scan_counts_them(org, tmp_path):
    legacy_import(path=write_csv(tmp_path, GOOD), item=org.item["laptop"])
    overdue = Step.objects.overdue().filter(request__source=Source.LEGACY_IMPORT)
    assert {s.request.external_key for s in overdue} == {"legacy:laptop:T-2", "legacy:laptop:T-3"}


def test_a_file_with_bad_rows_imports_nothing_and_reports_every_bad_row(org, tmp_path):
    org.felix.department = None
    org.felix.save()
    bad = [
        GOOD[0],
        ["nobody", "x", "d", "13-inch standard", "100", "2026-01-05", "open", "B-1", ""],
        ["alice", "x", "d", "Tablet", "100", "2026-01-05", "open", "B-2", ""],
        ["alice", "x", "d", "13-inch standard", "lots", "2026-01-05", "open", "B-3", ""],
        ["alice", "x", "d", "13-inch standard", "100", "05/01/2026", "open", "B-4", ""],
        ["alice", "x", "d", "13-inch standard", "100", "2026-01-05", "lost", "B-5", ""],
        ["alice", "x", "d", "13-inch standard", "100", "2026-01-05", "open", "T-1", ""],
        ["alice", "x", "d", "13-inch standard", "100", "2026-01-05", "fulfilled", "B-7",
         "2026-01-01"],
        ["felix", "x", "d", "13-inch standard", "100", "2026-01-05", "open", "B-8", ""],
        ["alice", "x", "d", "13-inch standard", "100", "2026-01-05", "open", "", ""],
        ["alice", "x", "d", "13-inch standard", "100", "2026-01-05", "open", "B-10",
         "2026-01-06"],
    ]
    report = legacy_import(path=write_csv(tmp_path, bad), item=org.item["laptop"])

    assert imported().count() == 0
    errors = {e.line: e.message for e in report.errors}
    assert sorted(errors) == list(range(3, 13))
    assert "no account" in errors[3]
    assert errors[4].startswith("model:")
    assert errors[5].startswith("estimated_cost:")
    assert "05/01/2026" in errors[6] and "not a date" in errors[6]
    assert "“lost” is not one of" in errors[7]
    assert "also on line 2" in errors[8]
    assert "before the submission" in errors[9]
    assert "has no department" in errors[10]
    assert "external_id" in errors[11]
    assert "no closing date" in errors[12]


def test_a_missing_column_is_reported_on_line_one(org, tmp_path):
    header = [h for h in HEADER if h != "status"]
    path = write_csv(tmp_path, [row[:6] + row[7:] for row in GOOD], header=header)
    job = import_job_create(actor=org.olivia, item=org.item["laptop"], original_name=path.name)
    job = import_job_run(job_id=job.pk, path=path)
    assert job.status == ImportStatus.REJECTED
    assert "no column status (line 1)" in job.message
    assert imported().count() == 0


def test_importing_the_same_file_again_creates_nothing_new(org, tmp_path):
    path = write_csv(tmp_path, GOOD)
    legacy_import(path=path, item=org.item["laptop"])
    first = set(imported().values_list("reference", flat=True))

    more = write_csv(tmp_path, [*GOOD, ["alice", "New", "d", "13-inch standard", "100",
                                        "2026-03-01", "open", "T-6", ""]], name="more.csv")
    report = legacy_import(path=more, item=org.item["laptop"])

    assert (report.imported, report.skipped) == (1, 5)
    assert imported().count() == 6
    assert first < set(imported().values_list("reference", flat=True))


def test_answers_may_come_as_one_json_column(org, tmp_path):
    header = ["requester", "answers", "estimated_cost", "submitted_at", "status", "external_id"]
    rows = [["alice", '{"details": "From JSON", "model": "13-inch standard", '
             '"needed_by": "2026-02-01"}', "100", "2026-01-05", "open", "J-1"],
            ["alice", '["not", "an object"]', "100", "2026-01-05", "open", "J-2"]]
    report = legacy_import(path=write_csv(tmp_path, rows, header=header), item=org.item["laptop"])
    assert [str(e) for e in report.errors] == [
        "line 3: answers must be a JSON object keyed by field name"]

    legacy_import(path=write_csv(tmp_path, rows[:1], header=header), item=org.item["laptop"])
    assert by_key("J-1").answers == {"details": "From JSON", "model": "13-inch standard",
                                     "needed_by": "2026-02-01"}


def test_an_xlsx_export_imports_like_a_csv(org, tmp_path):
    data = tablib.Dataset(headers=HEADER)
    data.append(["alice", "From Excel", "Spreadsheet era", "13-inch standard", 1250.5,
                 datetime(2026, 2, 3, 14, 30), "fulfilled", "X-1", datetime(2026, 2, 5, 9, 0)])
    data.append(["bob", "", "Dates as cells", "13-inch standard", 300,
                 datetime(2026, 2, 4), "open", 42, None])
    path = tmp_path / "tracker.xlsx"
    path.write_bytes(data.export("xlsx"))

    report = legacy_import(path=path, item=org.item["laptop"])

    assert (report.ok, report.imported) == (True, 2)
    done = by_key("X-1")
    assert done.estimated_cost == pytest.approx(1250.5)
    assert done.submitted_at == datetime(2026, 2, 3, 14, 30, tzinfo=BERLIN)
    assert by_key("42").state == RequestState.IN_APPROVAL


def test_an_xlsx_with_bad_rows_reports_sheet_row_numbers(org, tmp_path):
    data = tablib.Dataset(headers=HEADER)
    data.append(GOOD[0])
    data.append(["ghost", "", "d", "13-inch standard", 1, "2026-01-05", "open", "G-1", None])
    path = tmp_path / "bad.xlsx"
    path.write_bytes(data.export("xlsx"))
    report = legacy_import(path=path, item=org.item["laptop"])
    assert [e.line for e in report.errors] == [3]
    assert imported().count() == 0


def test_the_command_dry_run_reports_and_imports_nothing(org, tmp_path):
    out = StringIO()
    call_command("import_legacy", str(write_csv(tmp_path, GOOD)), "--item", "laptop",
                 "--dry-run", "--no-progress", stdout=out)
    assert "Dry run: all 5 rows are valid; 5 would be imported, 0 were imported before." in \
        out.getvalue()
    assert imported().count() == 0


def test_the_command_prints_each_bad_row_and_fails(org, tmp_path):
    rows = [GOOD[0], ["nobody", "", "d", "13-inch standard", "1", "2026-01-05", "open", "N", ""]]
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 2 rows have errors; nothing was imported"):
        call_command("import_legacy", str(write_csv(tmp_path, rows)), "--item", "laptop",
                     "--dry-run", "--no-progress", stdout=out)
    assert "line 3: requester “nobody”: no account with this username or email" in out.getvalue()


def test_the_command_imports_with_a_progress_bar_and_records_the_workflow(org, tmp_path):
    plan = make_plan(org)
    workflow = make_workflow(org, plan)
    out, err = StringIO(), StringIO()
    call_command("import_legacy", str(write_csv(tmp_path, GOOD)), "--item", "laptop",
                 "--workflow", str(workflow.pk), "--actor", "olivia", stdout=out, stderr=err)
    assert "Imported 5 requests; skipped 0 imported before." in out.getvalue()
    assert "Importing" in err.getvalue() and "5/5" in err.getvalue()
    assert imported().filter(external_key__startswith=f"legacy:workflow-{workflow.pk}:").count() == 5
    assert AuditEvent.objects.filter(correlation=f"plan:{plan.pk}", verb="import.done").exists()


def test_unknown_items_and_formats_are_refused(org, tmp_path):
    with pytest.raises(CommandError, match="No catalog item"):
        call_command("import_legacy", str(write_csv(tmp_path, GOOD)), "--item", "nope")
    other = tmp_path / "tracker.txt"
    other.write_text("requester\n")
    with pytest.raises(CommandError, match=r"\.csv or \.xlsx"):
        call_command("import_legacy", str(other), "--item", "laptop")


def test_a_batch_is_imported_in_a_bounded_number_of_queries(org, tmp_path,
                                                            django_assert_max_num_queries):
    start = timezone.now() - timedelta(days=60)
    rows = [["alice", f"Row {i}", "d", "13-inch standard", str(100 + i),
             (start + timedelta(hours=i)).isoformat(), ["fulfilled", "in_progress", "open"][i % 3],
             f"Q-{i}", (start + timedelta(hours=i + 30)).isoformat() if i % 3 == 0 else ""]
            for i in range(300)]
    path = write_csv(tmp_path, rows)
    # Reference numbers come from a per-year sequence created on the year's first use
    # (RequestCounter.next_values): start each year the batch touches with one earlier
    # import, as in a running server, so only the batch's own statements are counted.
    warm_up = write_csv(tmp_path, [[*row[:7], f"W-{n}", row[8]]
                                   for n, row in enumerate((rows[0], rows[-1]))], name="warm.csv")
    assert legacy_import(path=warm_up, item=org.item["laptop"]).imported == 2
    # Statements per batch, not per row (SQLite splits big INSERTs by its parameter limit).
    with django_assert_max_num_queries(45):
        report = legacy_import(path=path, item=org.item["laptop"])
    assert report.imported == 300
    assert Step.objects.filter(request__source=Source.LEGACY_IMPORT).count() == 900 + 6
