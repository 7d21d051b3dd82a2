"""Reporting periods cut in ``settings.SRM_REPORTING_TIMEZONE``: ISO weeks for KPIs,
calendar quarters for the cost report."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def reporting_tz() -> ZoneInfo:
    return ZoneInfo(settings.SRM_REPORTING_TIMEZONE)


def local_date(moment: datetime | None = None) -> date:
    return (moment or timezone.now()).astimezone(reporting_tz()).date()


def start_of(day: date) -> datetime:
    """Midnight at the start of ``day`` in the reporting timezone, as an aware datetime."""
    return datetime.combine(day, time.min, reporting_tz())


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def complete_weeks(*, until: datetime | None = None, weeks_back: int) -> list[date]:
    """The Mondays of the ``weeks_back`` complete weeks before the week containing ``until``,
    oldest first."""
    current = week_start(local_date(until))
    return [current - timedelta(weeks=n) for n in range(weeks_back, 0, -1)]


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_quarter(day: date) -> date:
    start = quarter_start(day)
    return date(start.year + (start.month == 10), (start.month + 2) % 12 + 1, 1)


def previous_quarter(day: date) -> date:
    start = quarter_start(day)
    return quarter_start(start - timedelta(days=1))


def last_quarters(count: int, *, until: datetime | None = None) -> list[date]:
    """The first days of the last ``count`` quarters, the current one included, oldest first."""
    quarters = [quarter_start(local_date(until))]
    while len(quarters) < count:
        quarters.insert(0, previous_quarter(quarters[0]))
    return quarters


def quarter_label(start: date) -> str:
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"
