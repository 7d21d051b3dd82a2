"""Posting to the cost-of-delay ledger (``DelayPosting``), and the closing rule.

A quarter **closes** at the end of the ``SRM_LEDGER_CLOSE_BUSINESS_DAYS``-th business day
(Monday–Friday minus the public holidays of ``SRM_DEFAULT_COUNTRY``, in the reporting
timezone) after it ends. Overdue time that passed in a quarter still open is posted into that
quarter; time of a closed quarter (a scan that ran late, a late correction) is posted into the
quarter open at the moment of posting as an **adjustment** naming the closed one. So nothing
ever carries a closed quarter's date after it closed.

Money is computed once per risk from exact seconds and carried: each posting is the risk's
``money(total after) − money(total before)``, so its postings always sum to
``money(total seconds)`` exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from django.conf import settings

from accountability.delays import money, quarter_of, reporting_tz, seconds_of
from governance.calendar import public_holidays
from governance.periods import next_quarter, start_of


@lru_cache(maxsize=64)
def _closes_at(quarter: date, days: int, country: str, tz: str) -> datetime:
    day, counted = next_quarter(quarter), 0
    while True:
        if day.isoweekday() <= 5 and day not in public_holidays(country, "", day.year):
            counted += 1
            if counted >= days:
                return start_of(day + timedelta(days=1))
        day += timedelta(days=1)


def closes_at(quarter: date) -> datetime:
    """The moment the quarter starting ``quarter`` closes (reporting timezone)."""
    return _closes_at(quarter, max(0, settings.SRM_LEDGER_CLOSE_BUSINESS_DAYS),
                      settings.SRM_DEFAULT_COUNTRY, settings.SRM_REPORTING_TIMEZONE)


def is_closed(quarter: date, *, at: datetime) -> bool:
    return at >= closes_at(quarter)


def posting_quarter(period: date, *, at: datetime) -> date:
    """Where time that passed in ``period`` is posted at ``at``: the period itself while it
    is open, the quarter open at ``at`` once it has closed (an adjustment)."""
    return quarter_of(at, reporting_tz()) if is_closed(period, at=at) else period


@dataclass(frozen=True)
class Entry:
    """One posting to write: counts in ``quarter``, time that passed in ``period``."""

    quarter: date
    period: date
    seconds: Decimal
    amount: Decimal


def posting_quarters(at: datetime) -> Callable[[date], date]:
    """``posting_quarter(period, at=at)`` remembered per period, for the thousands of risks
    one scan posts at the same moment."""
    found: dict[date, date] = {}

    def quarter_for(period: date) -> date:
        quarter = found.get(period)
        if quarter is None:
            quarter = found[period] = posting_quarter(period, at=at)
        return quarter

    return quarter_for


def entries(*, increments: dict[date, int], seconds_before: Decimal, amount_before: Decimal,
            per_day: Decimal, day_seconds: int, at: datetime,
            quarter_for: Callable[[date], date] | None = None,
            ) -> tuple[list[Entry], Decimal, Decimal]:
    """The postings for new overdue time (``{period: business µs}``, oldest first) of a risk
    that has posted ``seconds_before`` and ``amount_before`` so far; returns them and the
    risk's totals after. ``quarter_for`` is ``posting_quarters(at)`` when the caller posts
    many risks at ``at``."""
    out = []
    seconds, amount = seconds_before, amount_before
    for period, us in increments.items():
        if not us:
            continue
        piece = seconds_of(us)
        seconds += piece
        total = money(seconds, per_day=per_day, day_seconds=day_seconds)
        quarter = quarter_for(period) if quarter_for else posting_quarter(period, at=at)
        out.append(Entry(quarter, period, piece, total - amount))
        amount = total
    return out, seconds, amount
