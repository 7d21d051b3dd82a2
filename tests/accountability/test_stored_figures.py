"""The accountability pages' stored figures: the same numbers as the live computation, fresh
within their age, recomputed when stale, settled quarters left alone, concurrent readers
computing once, and the refresh job wired into the beat schedule."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from accountability import figures
from accountability.board import (
    department_lines,
    handoff_pairs,
    waiting_and_working,
    weekly_trend,
)
from accountability.figures import (
    board_lines,
    department_split,
    department_trend,
    refresh_figures,
    refresh_open_work,
    report_from_figures,
    stored_handoff_pairs,
)
from accountability.models import FiguresStamp, QuarterFigures
from accountability.report import quarterly_report
from approvals.services import step_approve
from governance.models import Department
from governance.periods import last_quarters
from tests.factories import active_step

ACCESS = {"details": "CRM access for the campaign.", "system": "CRM"}


@pytest.fixture
def long_lived(settings):
    settings.SRM_FIGURES_MAX_AGE = settings.SRM_FIGURES_OPEN_MAX_AGE = 3600
    return settings


def test_the_stored_figures_equal_the_live_computation(org, board_history):
    now = board_history
    departments = list(Department.objects.order_by("pk"))
    counts = refresh_figures(now=now)

    assert counts["flow"] >= 3 and counts["weeks"] >= 2 and counts["handoffs"] == 2
    stored_lines, as_of = board_lines(departments, now=now, everything=True)
    assert as_of == now
    assert stored_lines == department_lines(departments, now=now, everything=True)
    it = org.dept["IT"]
    assert department_trend(it, now=now)[0] == weekly_trend(it, now=now)
    split, _ = department_split(it, now=now)
    live = waiting_and_working(it, now=now)
    assert [(r["request__item"], r["steps"]) for r in split] == [
        (r["request__item"], r["steps"]) for r in live]
    assert [round(r["waiting_hours"], 6) for r in split] == [
        round(r["waiting_hours"], 6) for r in live]
    pairs, _ = stored_handoff_pairs(set(), now=now, everything=True)

    def key(p):
        return (p.from_department.code, p.to_department.code, p.count, p.median_dwell_hours)

    assert [key(p) for p in pairs] == [key(p) for p in handoff_pairs(set(), now=now,
                                                                     everything=True)]
    report, _ = report_from_figures(departments, quarters=4, now=now)
    assert report == quarterly_report(departments, quarters=4, now=now)


def test_a_head_reads_only_the_departments_in_scope_from_the_stored_figures(org, board_history):
    refresh_figures(now=board_history)
    marketing = [org.dept["MKT"]]

    lines, _ = board_lines(marketing, now=board_history)
    pairs, _ = stored_handoff_pairs({org.dept["MKT"].pk}, now=board_history)

    assert [ln.department.code for ln in lines] == ["MKT"]
    assert lines[0].steps_completed == 4
    assert list(pairs) == []  # Marketing gives work to IT and Finance but receives none


def test_open_work_is_recounted_every_minute_and_the_flow_every_few(
        org, submit, board_history, long_lived):
    now = timezone.now()
    refresh_figures(now=now)

    def board(at):
        return {ln.department.code: ln
                for ln in board_lines(list(Department.objects.all()), now=at)[0]}

    before = board(now)
    request = submit(item="access", cost="0", answers=ACCESS)
    step_approve(actor=org.hank, step=active_step(request))
    later = now + timedelta(minutes=1)

    # Read as stored until the jobs run; a department page counts its open work at once.
    assert board(later)["IT"].open_steps == before["IT"].open_steps
    page, _ = board_lines([org.dept["IT"]], now=later, live_open_work=True)
    assert page[0].open_steps == before["IT"].open_steps + 1
    # The every-minute job recounts open work; finished steps join the flow at the next
    # refresh of the flow figures.
    refresh_open_work(now=later)
    assert board(later)["IT"].open_steps == before["IT"].open_steps + 1
    assert board(later)["MKT"].steps_completed == before["MKT"].steps_completed
    refresh_figures(now=later)
    assert board(later)["MKT"].steps_completed == before["MKT"].steps_completed + 1


def test_stale_figures_are_recomputed_before_the_page_answers(org, submit, long_lived):
    now = timezone.now()
    refresh_figures(now=now)
    request = submit(item="access", cost="0", answers=ACCESS)
    step_approve(actor=org.hank, step=active_step(request))

    much_later = now + timedelta(seconds=django_settings.SRM_FIGURES_MAX_AGE + 60)
    lines, as_of = board_lines([org.dept["MKT"]], now=much_later)

    assert as_of == much_later
    assert lines[0].steps_completed == 1


def test_a_settled_quarter_is_never_recomputed_until_a_full_rebuild(org, submit):
    now = timezone.now()
    old = last_quarters(3, until=now)[0]  # ended more than a week ago
    report_from_figures([org.dept["MKT"]], quarters=3, now=now)
    QuarterFigures.objects.update_or_create(
        quarter=old, department=org.dept["MKT"], defaults={"submitted": 999})

    blocks, _ = report_from_figures([org.dept["MKT"]], quarters=3, now=now)

    assert blocks[-1].quarter == old and blocks[-1].rows[0].submitted == 999
    refresh_figures(everything=True)
    blocks, _ = report_from_figures([org.dept["MKT"]], quarters=3, now=now)
    assert blocks[-1].rows[0].submitted == 0


def test_the_current_quarter_is_recomputed_when_its_figures_are_stale(org, submit, long_lived):
    now = timezone.now()
    report_from_figures([org.dept["MKT"]], quarters=1, now=now)
    submit()

    blocks, _ = report_from_figures([org.dept["MKT"]], quarters=1, now=now)
    assert blocks[0].rows[0].submitted == 0  # fresh: read as stored
    later = now + timedelta(hours=2)
    blocks, as_of = report_from_figures([org.dept["MKT"]], quarters=1, now=later)
    assert (blocks[0].rows[0].submitted, as_of) == (1, later)


def test_the_refresh_job_runs_on_the_beat_and_as_a_command(org, submit, capsys):
    job = django_settings.CELERY_BEAT_SCHEDULE["refresh-figures"]
    assert job["task"] == "accountability.tasks.refresh_figures"
    assert job["schedule"] == float(django_settings.SRM_FIGURES_REFRESH_SECONDS)
    minute = django_settings.CELERY_BEAT_SCHEDULE["refresh-open-work"]
    assert (minute["task"], minute["schedule"]) == ("accountability.tasks.refresh_open_work", 60.0)
    submit()

    call_command("refresh_figures", "--all")

    out = capsys.readouterr().out
    assert "Stored figures:" in out and "quarters" in out
    assert QuarterFigures.objects.filter(submitted=1).count() == 1
    assert FiguresStamp.objects.filter(key="flow").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_readers_of_stale_figures_compute_them_once(org, submit, settings,
                                                               monkeypatch):
    settings.SRM_FIGURES_MAX_AGE = settings.SRM_FIGURES_OPEN_MAX_AGE = 3600
    submit()
    now = timezone.now()
    computed = []
    real = figures._store_flow

    def counting(moment):
        computed.append(moment)
        real(moment)

    monkeypatch.setitem(figures.STORES, "flow", counting)
    monkeypatch.setattr(figures, "_store_flow", counting)
    barrier = threading.Barrier(6)
    results, errors = [], []

    def read() -> None:
        try:
            barrier.wait(timeout=10)
            lines, as_of = board_lines(list(Department.objects.all()), now=now)
            results.append(sum(ln.open_steps for ln in lines))
        except Exception as exc:  # reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    assert results == [1] * 6
    assert len(computed) == 1


def test_money_in_the_stored_report_keeps_its_cents(org, submit):
    request = submit(cost="6000.50")
    step_approve(actor=org.hank, step=active_step(request))
    step_approve(actor=org.felix, step=active_step(request))
    refresh_figures()

    blocks, _ = report_from_figures(list(Department.objects.all()), quarters=1)

    assert blocks[0].total.approved_spend == Decimal("6000.50")


def test_the_handoff_view_pages_through_many_pairs_slowest_first(client, org, long_lived):
    from accountability.models import HandoffFigures

    refresh_figures()
    departments = list(Department.objects.order_by("pk"))
    HandoffFigures.objects.bulk_create(
        HandoffFigures(from_department=a, to_department=b, count=1,
                       median_dwell_hours=Decimal(n))
        for n, (a, b) in enumerate((a, b) for a in departments for b in departments if a != b))
    total = HandoffFigures.objects.count()
    assert total > 50
    client.force_login(org.olivia)

    first = client.get("/dashboard/handoffs/", secure=True)
    second = client.get("/dashboard/handoffs/?page=2", secure=True)

    dwell = [p.median_dwell_hours for p in first.context["pairs"]]
    assert len(dwell) == 50 and dwell == sorted(dwell, reverse=True)
    assert dwell[0] == total - 1
    assert "Faster →" in first.content.decode()
    assert len(second.context["pairs"]) == total - 50
    assert max(p.median_dwell_hours for p in second.context["pairs"]) < dwell[-1]
