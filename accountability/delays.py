"""The arithmetic of a delay, with no database: overdue business time, level, money and the
split of a stretch of overdue time into reporting quarters (DESIGN.md, "Definitions").

- Business time is counted in real elapsed time, to the microsecond (``BusinessClock``).
- The overdue time of a step is the business time from ``due_at`` to now (or completion),
  **minus the holds that started after it was due**: a hold stops the clock from the moment
  it starts and never moves time that has already passed (a hold that starts before the due
  time moves the due time instead, see ``approvals.services.due_after_hold``).
- Money is computed once, from exact seconds: a risk's cost so far is
  ``round_half_up(seconds ÷ day_seconds × cost per day, cents)``, and each posting of the
  ledger is the difference between that figure after and before it, so postings are rounded
  to cents with the remainder carried and always add up to the exact total.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings

from governance.calendar import BusinessCalendar

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MICRO = Decimal("0.000001")
_US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_DAY = timedelta(days=1)


def micros(delta: timedelta) -> int:
    """A timedelta as whole microseconds (exact, no float)."""
    return delta // timedelta(microseconds=1)


def seconds_of(us: int) -> Decimal:
    return (Decimal(us) / _US).quantize(MICRO)


def hours_of(seconds: Decimal | int) -> Decimal:
    """Hours for display and levels, rounded half-up to 0.01 h (never used for money)."""
    return (Decimal(seconds) / 3600).quantize(CENT, ROUND_HALF_UP)


def money(seconds: Decimal | int, *, per_day: Decimal, day_seconds: int) -> Decimal:
    """The cost of ``seconds`` of business time, rounded once, half-up to cents."""
    if not day_seconds:
        return ZERO
    return (Decimal(seconds) * per_day / day_seconds).quantize(CENT, ROUND_HALF_UP)


def risk_level(*, overdue_hours: Decimal, ola_hours: Decimal, day_hours: Decimal) -> int:
    """1 once past due; 2 at a further LEVEL2 fraction of the OLA; 3 at the LEVEL3 fraction
    or beyond LEVEL3_BUSINESS_DAYS business days."""
    return level_rule()(overdue_hours, ola_hours, day_hours)


def level_rule() -> Callable[[Decimal, Decimal, Decimal], int]:
    """``risk_level`` with the settings read once: ``rule(overdue_hours, ola_hours,
    day_hours)``, for a scan that levels thousands of risks."""
    level2 = settings.SRM_RISK_LEVEL2_OLA_FRACTION
    level3 = settings.SRM_RISK_LEVEL3_OLA_FRACTION
    level3_days = settings.SRM_RISK_LEVEL3_BUSINESS_DAYS

    def rule(overdue_hours: Decimal, ola_hours: Decimal, day_hours: Decimal) -> int:
        if overdue_hours >= ola_hours * level3 or overdue_hours > day_hours * level3_days:
            return 3
        if overdue_hours >= ola_hours * level2:
            return 2
        return 1

    return rule


class BusinessClock:
    """Business time of one calendar as a running count: ``at(t)`` is the business
    microseconds from the start of a fixed day to ``t``, so the business time between any two
    moments is one subtraction. Day totals are memoised, so timing many steps costs one walk
    over the distinct days involved plus a few operations per step. Agrees exactly with
    ``calendar.between`` (tests/accountability/test_delay_arithmetic.py)."""

    def __init__(self, calendar: BusinessCalendar):
        self.calendar = calendar
        self._tz = calendar.tz
        self._before: dict[date, int] = {}  # business µs from the base day to this day's start
        self._low = self._high = None
        self._windows: dict[date, tuple[datetime, datetime] | None] = {}
        # The same few moments (the scan's now, quarter starts) come back for every step.
        self._seen: dict[datetime, int] = {}

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        try:
            return self._windows[day]
        except KeyError:
            window = self._windows[day] = self.calendar.window(day)
            return window

    def _length(self, day: date) -> int:
        window = self._window(day)
        return micros(window[1] - window[0]) if window else 0

    def _day_start(self, day: date) -> int:
        before = self._before
        if self._low is None:
            before[day] = 0
            self._low = self._high = day
        while day > self._high:
            before[self._high + _ONE_DAY] = before[self._high] + self._length(self._high)
            self._high += _ONE_DAY
        while day < self._low:
            before[self._low - _ONE_DAY] = before[self._low] - self._length(self._low - _ONE_DAY)
            self._low -= _ONE_DAY
        return before[day]

    def at(self, moment: datetime) -> int:
        seen = self._seen.get(moment)
        if seen is not None:
            return seen
        day = moment.astimezone(self._tz).date()
        count = self._day_start(day)
        window = self._window(day)
        if window is not None and moment > window[0]:
            count += micros(min(moment, window[1]) - window[0])
        if len(self._seen) < 4096:
            self._seen[moment] = count
        return count

    def between(self, start: datetime, end: datetime) -> int:
        return self.at(end) - self.at(start) if end > start else 0


def counted(*, due_at: datetime, start: datetime, end: datetime,
            holds: Iterable[tuple[datetime, datetime | None]] = ()) -> list[tuple[datetime, datetime]]:
    """The stretches of ``[start, end]`` in which a step due at ``due_at`` was overdue and not
    on hold (holds are ``(started_at, ended_at or None while open)``)."""
    begin = max(start, due_at)
    pieces: list[tuple[datetime, datetime]] = []
    for hold_start, hold_end in sorted(h for h in holds if h[0] >= due_at):
        if hold_start >= end:
            break
        if hold_start > begin:
            pieces.append((begin, hold_start))
        if hold_end is None:
            return pieces
        begin = max(begin, hold_end)
    if end > begin:
        pieces.append((begin, end))
    return pieces


def quarter_of(moment: datetime, tz: ZoneInfo) -> date:
    local = moment.astimezone(tz)
    return date(local.year, 3 * ((local.month - 1) // 3) + 1, 1)


def next_quarter(start: date) -> date:
    return date(start.year + 1, 1, 1) if start.month == 10 else date(start.year, start.month + 3, 1)


def by_quarter(clock: BusinessClock, pieces: Iterable[tuple[datetime, datetime]],
               tz: ZoneInfo) -> dict[date, int]:
    """Business microseconds of ``pieces`` per reporting quarter in which they passed,
    oldest first, quarters with nothing left out."""
    found: dict[date, int] = {}
    for begin, end in pieces:
        quarter = quarter_of(begin, tz)
        while begin < end:
            boundary = _quarter_end(quarter, tz)
            cut = min(end, boundary)
            us = clock.between(begin, cut)
            if us:
                found[quarter] = found.get(quarter, 0) + us
            begin, quarter = cut, next_quarter(quarter)
    return found if len(found) < 2 else dict(sorted(found.items()))


@lru_cache(maxsize=256)
def _quarter_end(quarter: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(next_quarter(quarter), time(0), tz)


def reporting_tz() -> ZoneInfo:
    return ZoneInfo(settings.SRM_REPORTING_TIMEZONE)
