"""The arithmetic of a delay, with no database: overdue business time, level, exposure and
its split into reporting quarters (DESIGN.md, "Definitions").

Every figure is derived from whole seconds of business time so that the scan, the
resolution on close and any report agree to the cent:

- ``overdue_hours`` = business seconds ÷ 3600, rounded half-up to 0.01 h;
- ``exposure`` = ``overdue_hours`` ÷ ``day_hours`` × cost of delay per day, rounded half-up to
  cents — computed from the stored, rounded hours, so a risk row can be checked by hand;
- accruals cut the overdue period at quarter starts (reporting timezone) and take the
  difference of the *cumulative* rounded figures, so the quarters always add up exactly to
  the risk's hours and exposure, and a quarter that has passed never changes again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from governance.calendar import BusinessCalendar

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def hours_of(seconds: int | float) -> Decimal:
    return (Decimal(int(seconds)) / 3600).quantize(CENT, ROUND_HALF_UP)


def money(hours: Decimal, *, per_day: Decimal, day_hours: Decimal) -> Decimal:
    if not day_hours:
        return ZERO
    return (hours * per_day / day_hours).quantize(CENT, ROUND_HALF_UP)


def risk_level(*, overdue_hours: Decimal, ola_hours: Decimal, day_hours: Decimal) -> int:
    """1 once past due; 2 at a further LEVEL2 fraction of the OLA; 3 at the LEVEL3 fraction
    or beyond LEVEL3_BUSINESS_DAYS business days."""
    if (
        overdue_hours >= ola_hours * settings.SRM_RISK_LEVEL3_OLA_FRACTION
        or overdue_hours > day_hours * settings.SRM_RISK_LEVEL3_BUSINESS_DAYS
    ):
        return 3
    if overdue_hours >= ola_hours * settings.SRM_RISK_LEVEL2_OLA_FRACTION:
        return 2
    return 1


class OverdueClock:
    """Business time from any earlier moment up to ``until``, in one calendar.

    Whole days between are memoised (a running sum from ``until`` backwards) and so are the
    working windows, so timing 20,000 overdue steps costs one walk over the distinct days
    involved plus a few operations per step. Gives exactly ``calendar.between(start, until)``
    (tests/accountability/test_delay_arithmetic.py checks it).
    """

    def __init__(self, calendar: BusinessCalendar, until: datetime):
        self.calendar = calendar
        self._quarters: dict[ZoneInfo, date] = {}
        self._tz = calendar.tz
        self.until = until.astimezone(self._tz)
        self.today = self.until.date()
        self._windows: dict[date, tuple[datetime, datetime] | None] = {}
        self._from_midnight: dict[date, timedelta] = {}
        self._lowest = self.today

    def quarter(self, tz: ZoneInfo) -> date:
        """The quarter ``until`` falls in, in ``tz``."""
        if tz not in self._quarters:
            self._quarters[tz] = quarter_of(self.until, tz)
        return self._quarters[tz]

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        try:
            return self._windows[day]
        except KeyError:
            window = self._windows[day] = self.calendar.window(day)
            return window

    def _within(self, day: date, start: datetime, end: datetime) -> timedelta:
        """Business time of ``day`` between ``start`` and ``end`` (local datetimes)."""
        window = self._window(day)
        if window is None:
            return _NOTHING
        begin, finish = max(start, window[0]), min(end, window[1])
        return finish - begin if finish > begin else _NOTHING

    def _since_midnight_of(self, day: date) -> timedelta:
        """Business time from local midnight starting ``day`` (≤ today) to ``until``."""
        cache = self._from_midnight
        if not cache:
            cache[self.today] = self._within(
                self.today, datetime.combine(self.today, time(0), self._tz), self.until)
        if day < self._lowest:
            running, cursor = cache[self._lowest], self._lowest
            while cursor > day:
                cursor -= _ONE_DAY
                window = self._window(cursor)
                if window:
                    running += window[1] - window[0]
                cache[cursor] = running
            self._lowest = day
        return cache[day]

    def since(self, start: datetime) -> timedelta:
        if start >= self.until:
            return _NOTHING
        local = start.astimezone(self._tz)
        day = local.date()
        if day == self.today:
            return self._within(day, local, self.until)
        # The rest of the start's day (its window ends before midnight), then whole days.
        return self._within(day, local, self.until) + self._since_midnight_of(day + _ONE_DAY)


_NOTHING = timedelta(0)
_ONE_DAY = timedelta(days=1)


def quarter_of(moment: datetime, tz: ZoneInfo) -> date:
    local = moment.astimezone(tz)
    return date(local.year, 3 * ((local.month - 1) // 3) + 1, 1)


def next_quarter(start: date) -> date:
    return date(start.year + 1, 1, 1) if start.month == 10 else date(start.year, start.month + 3, 1)


@dataclass(frozen=True)
class Figures:
    overdue_hours: Decimal
    exposure: Decimal
    level: int
    # (quarter start, hours, amount), oldest first; quarters with nothing in them left out.
    accruals: tuple[tuple[date, Decimal, Decimal], ...]


def figures(
    *,
    clock: OverdueClock,
    due_at: datetime,
    ola_hours: Decimal,
    per_day: Decimal,
    day_hours: Decimal,
    reporting_tz: ZoneInfo,
) -> Figures:
    """Everything a risk shows, for a delay from ``due_at`` to the clock's ``until``."""
    total = clock.since(due_at)
    overdue_hours = hours_of(total.total_seconds())
    exposure = money(overdue_hours, per_day=per_day, day_hours=day_hours)
    level = risk_level(overdue_hours=overdue_hours, ola_hours=ola_hours, day_hours=day_hours)
    accruals = []
    quarter = quarter_of(due_at, reporting_tz)
    last = clock.quarter(reporting_tz)
    hours_before = amount_before = ZERO
    while True:
        if quarter == last:
            cumulative_hours = overdue_hours
        else:
            boundary = datetime.combine(next_quarter(quarter), time(0), reporting_tz)
            cumulative_hours = hours_of((total - clock.since(boundary)).total_seconds())
        cumulative_amount = money(cumulative_hours, per_day=per_day, day_hours=day_hours)
        hours, amount = cumulative_hours - hours_before, cumulative_amount - amount_before
        if hours or amount:
            accruals.append((quarter, hours, amount))
        hours_before, amount_before = cumulative_hours, cumulative_amount
        if quarter == last:
            break
        quarter = next_quarter(quarter)
    return Figures(overdue_hours, exposure, level, tuple(accruals))


def reporting_tz() -> ZoneInfo:
    return ZoneInfo(settings.SRM_REPORTING_TIMEZONE)
