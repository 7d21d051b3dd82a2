"""The charts of the board, department page, report, handoffs and KPIs: one question and one
unit each, their numbers the same as the tables' beside them."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from accountability.figures import refresh_figures


def _chart(html: str, data_id: str) -> dict:
    found = re.search(rf'<script id="{data_id}" type="application/json">(.*?)</script>', html, re.S)
    assert found, f"no chart data {data_id}"
    return json.loads(found.group(1))


def test_the_board_charts_exposure_in_money_and_overdue_steps_apart(org, board_history, client):
    refresh_figures(now=board_history)
    client.force_login(org.olivia)
    response = client.get("/dashboard/", secure=True)
    html = response.content.decode()
    lines = {ln.department.name: ln for ln in response.context["lines"]}

    exposure = _chart(html, "exposure-data")
    assert exposure["unit"] == "EUR" and len(exposure["datasets"]) == 1
    assert "axis" not in json.dumps(exposure)  # no second axis
    by_department = dict(zip(exposure["labels"], exposure["datasets"][0]["data"], strict=True))
    assert by_department["IT"] == 300.0 and by_department["Finance"] == 50.0
    assert all(Decimal(str(v)) == lines[k].exposure for k, v in by_department.items())

    overdue = _chart(html, "overdue-data")
    assert overdue["integer"] is True and overdue["labels"] == ["L1", "L2", "L3"]
    panels = {p["title"]: p["data"] for p in overdue["multiples"]}
    assert panels["IT"] == [0, 1, 0] and panels["Finance"] == [1, 0, 0]
    assert overdue["max"] == 1  # one scale for every panel
    assert html.count('data-chart="overdue-data"') == len(overdue["multiples"])
    # Behind the charts, the table with the same figures.
    assert 'href="#bottlenecks"' in html and 'id="bottlenecks"' in html


def test_a_heads_board_of_one_department_draws_no_single_bar(org, board_history, client):
    client.force_login(org.hank)
    html = client.get("/dashboard/", secure=True).content.decode()
    assert "exposure-data" not in html and "overdue-data" in html


def test_the_department_page_charts_money_and_counts_separately(org, board_history, client):
    client.force_login(org.olivia)
    html = client.get("/dashboard/departments/IT/", secure=True).content.decode()
    exposure, breached = _chart(html, "trend-data"), _chart(html, "breached-data")
    assert exposure["unit"] == "EUR" and len(exposure["datasets"]) == 1
    assert breached["integer"] is True and "unit" not in breached


def test_the_report_stacks_each_departments_cost_of_delay_per_quarter(org, board_history, client):
    client.force_login(org.olivia)
    response = client.get("/reports/?quarters=4", secure=True)
    html = response.content.decode()
    chart = _chart(html, "trend-data")
    blocks = response.context["blocks"]
    assert chart["stacked"] is True and chart["unit"] == "EUR"
    assert chart["labels"] == [b.label for b in reversed(blocks)]  # oldest quarter first
    it = next(d for d in chart["datasets"] if d["label"] == "IT")
    assert it["data"][-1] == float(next(r for r in blocks[0].rows if r.department.code == "IT")
                                   .cost_of_delay) > 0
    assert 'href="?quarters=4&amp;format=csv"' in html.split("trend-data")[0]
    # Twelve quarters asked for: the chart shows the last eight.
    assert len(_chart(client.get("/reports/?quarters=12", secure=True).content.decode(),
                      "trend-data")["labels"]) == 8


def test_the_handoff_heatmap_shows_the_median_wait_of_each_pair(org, board_history, client):
    refresh_figures(now=board_history)
    client.force_login(org.olivia)
    response = client.get("/dashboard/handoffs/", secure=True)
    heatmap = response.context["heatmap"]
    assert [d.code for d in heatmap.sources] == ["MKT"]
    assert {d.code for d in heatmap.targets} == {"IT", "FIN"}
    cells = {c.pair.to_department.code: c for c in heatmap.rows[0][1]}
    assert cells["IT"].pair.median_dwell_hours == Decimal("212.0")
    assert cells["FIN"].pair.median_dwell_hours == heatmap.slowest_hours
    assert cells["FIN"].level == 5 and cells["IT"].level == 5  # 212 of 239 h: the top fifth
    html = response.content.decode()
    assert 'class="num heat-5">212.0' in html and '<th scope="row">Marketing</th>' in html


def test_kpis_have_sparklines_and_a_target_band(org, client):
    from kpis.models import KPISnapshot, OutcomeKPI

    kpi = OutcomeKPI.objects.order_by("pk").first()
    monday = date.today() - timedelta(days=date.today().weekday())
    for weeks, value in ((3, "10"), (2, "12"), (1, "11")):
        start = monday - timedelta(weeks=weeks)
        KPISnapshot.objects.create(kpi=kpi, period_start=start, period_end=start + timedelta(7),
                                   value=Decimal(value), sample_size=4,
                                   computed_at=timezone.now())
    client.force_login(org.alice)
    html = client.get("/kpis/").content.decode()
    assert 'data-spark="10.00,12.00,11.00"' in html
    assert "Last 3 weeks: from 10 to 11" in html
    detail = _chart(client.get(f"/kpis/{kpi.pk}/").content.decode(), "kpi-data")
    assert detail["datasets"][0]["data"] == [10.0, 12.0, 11.0]
    band = detail["band"]
    if kpi.direction == "down":
        assert (band["low"], band["high"]) == (0.0, float(kpi.target))
    else:
        assert band["low"] == float(kpi.target) and band["high"] > band["low"]
