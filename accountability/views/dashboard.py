"""Accountability board, department pages and handoff view. Views translate: scope check,
call the selectors in ``accountability``, render."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accountability.board import (
    FLOW_WINDOW,
    decisions_by_channel,
    delay_cost_by_head,
    oldest_delays,
)
from accountability.budget_report import budget_watch
from accountability.figures import (
    board_lines,
    board_moments,
    department_split,
    department_trend,
    handoff_heatmap,
    stamps,
    stored_handoff_pairs,
)
from accountability.models import DelayRisk
from accountability.scope import (
    department_ids_in_scope,
    department_in_scope,
    departments_in_scope,
    departments_shown,
    may_see_accountability,
    sees_everything,
    shown_of,
)
from governance.models import Department
from kit.web import serves
from requests_app.models import ServiceRequest

BOTTLENECK_BARS = 10
HANDOFFS_PER_PAGE = 50


def require_accountability(user) -> None:
    if not may_see_accountability(user):
        raise PermissionDenied(_("The dashboards are for ops leaders and department heads."))


def request_link(user, *, reference: str, pk: int) -> str:
    """The request's page: the portal's when it exists, else the admin's for staff, else ''."""
    try:
        return reverse("portal:request_detail", args=[reference])
    except NoReverseMatch:
        pass
    if user.is_staff:
        try:
            return reverse("admin:requests_app_servicerequest_change", args=[pk])
        except NoReverseMatch:
            return ""
    return ""


def _money(value) -> float:
    return float(value or 0)


# The board's figures as rendered are kept this long at most; their key moves with every
# refresh of the stored figures (the open work's every minute), so entries are short-lived.
FIGURES_CACHE_SECONDS = 300


def figures_key(*, shown: list[tuple], moments: dict, everything: bool) -> str:
    """Everything the board's charts and bottleneck list show, as one cache key: each
    department in scope with what the page shows of it (``scope.departments_shown``: code,
    name, head), the moments of the stored figures (each refresh of a family moves its
    moment, in the transaction that writes the figures), the language and timezone they are
    written in, and the settings the text names. Read before the figures are, so rendered
    figures are never older than their key says."""
    parts = (get_language(), timezone.get_current_timezone_name(), everything,
             sorted((key, moment.isoformat()) for key, moment in moments.items()), shown,
             settings.SRM_REPORTING_CURRENCY, settings.SRM_FIGURES_REFRESH_SECONDS,
             FLOW_WINDOW.days)
    return "board-figures:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _figures_context(lines, as_of) -> dict:
    top = lines[:BOTTLENECK_BARS]
    currency = settings.SRM_REPORTING_CURRENCY
    # Two questions, two charts, from the table's own lines: where does delay cost most (one
    # unit, money), and how late is the work of each department (counts, one panel each on
    # one shared scale so the panels compare).
    exposure_chart = {
        "type": "bar", "horizontal": True, "unit": currency,
        "labels": [ln.department.name for ln in top],
        "datasets": [{"label": gettext("Current exposure"), "data": [_money(ln.exposure) for ln in top]}],
    }
    levels = [gettext("L1"), gettext("L2"), gettext("L3")]
    overdue_chart = {
        "type": "bar", "integer": True, "labels": levels,
        "max": max([max(ln.risks_by_level.values(), default=0) for ln in top] + [1]),
        "multiples": [{"title": ln.department.name,
                       "data": [ln.risks_by_level.get(level, 0) for level in (1, 2, 3)]}
                      for ln in top],
    }
    return {
        "lines": lines, "exposure_chart": exposure_chart, "overdue_chart": overdue_chart,
        "flow_days": FLOW_WINDOW.days, "as_of": as_of, "currency": currency,
        "refresh_minutes": max(1, settings.SRM_FIGURES_REFRESH_SECONDS // 60),
    }


@login_required
@require_GET
@serves(Department)
def board(request: HttpRequest) -> HttpResponse:
    require_accountability(request.user)
    everything = sees_everything(request.user)
    # One moment for the page: the budget lines read the quarter the board just made fresh.
    now = timezone.now()
    # The charts and the bottleneck list are rendered once per change of what they show:
    # the key is read first (the departments as shown, the stored figures' moments), then,
    # when nothing is kept under it, the figures.
    shown = departments_shown(request.user)
    moments = board_moments(now=now)
    key = figures_key(shown=shown, moments=moments, everything=everything)
    figures = cache.get(key)
    if figures is None:
        departments = list(departments_in_scope(request.user))
        lines, as_of = board_lines(departments, everything=everything, now=now, moments=moments)
        context = _figures_context(lines, as_of)
        figures = render_to_string("accountability/partials/board_figures.html", context)
        # Kept only when the departments read are those the key names (a rename between
        # the two reads, later undone, must not bring these rows back under the old key).
        if shown_of(departments) == shown:
            cache.set(key, figures, FIGURES_CACHE_SECONDS)
    ids = [row[0] for row in shown]
    return render(request, "accountability/dashboard_board.html", {
        "figures": mark_safe(figures),  # noqa: S308 - rendered by our own template above
        "flow_days": FLOW_WINDOW.days, "currency": settings.SRM_REPORTING_CURRENCY,
        "channels": decisions_by_channel(ids, everything=everything),
        # Budgets: cost centres forecast to overrun this quarter, approvals over budget.
        "budget_watch": budget_watch(ids, everything=everything, now=now),
    })


@login_required
@require_GET
@serves(Department, ServiceRequest, DelayRisk)
def department(request: HttpRequest, code: str) -> HttpResponse:
    require_accountability(request.user)
    dept = department_in_scope(request.user, code)
    now = timezone.now()
    known = stamps(now=now)
    lines, as_of = board_lines([dept], now=now, live_open_work=True, known=known)
    line = lines[0]
    trend, _ = department_trend(dept, now=now, known=known)
    split, _ = department_split(dept, now=now, known=known)
    delays = list(oldest_delays(dept, user=request.user))
    by_head = delay_cost_by_head(dept, now=now)
    for risk in delays:
        risk.link = request_link(request.user, reference=risk.request.reference,
                                 pk=risk.request_id)
    weeks = [w.week.isoformat() for w in trend]
    exposure_chart = {
        "type": "line", "unit": settings.SRM_REPORTING_CURRENCY, "labels": weeks,
        "datasets": [{"label": gettext("Exposure of delays detected"),
                      "data": [_money(w.exposure_detected) for w in trend]}],
    }
    breached_chart = {
        "type": "bar", "integer": True, "labels": weeks,
        "datasets": [{"label": gettext("Steps past their OLA"), "data": [w.steps_breached for w in trend]}],
    }
    return render(request, "accountability/dashboard_department.html", {
        "department": dept, "line": line, "trend": trend, "delays": delays,
        "split": split, "exposure_chart": exposure_chart, "breached_chart": breached_chart,
        "by_head": by_head, "flow_days": FLOW_WINDOW.days, "as_of": as_of,
        "currency": settings.SRM_REPORTING_CURRENCY,
    })


@login_required
@require_GET
@serves(Department)
def handoffs(request: HttpRequest) -> HttpResponse:
    require_accountability(request.user)
    pairs, as_of = stored_handoff_pairs(department_ids_in_scope(request.user),
                                        everything=sees_everything(request.user))
    page = Paginator(pairs, HANDOFFS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accountability/dashboard_handoffs.html", {
        "heatmap": handoff_heatmap(pairs), "pairs": page.object_list, "page": page, "flow_days": FLOW_WINDOW.days, "as_of": as_of,
        "currency": settings.SRM_REPORTING_CURRENCY,
    })
