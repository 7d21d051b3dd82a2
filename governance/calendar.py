"""Business time: working hours in a department's timezone, minus its public holidays.

Every due time, overdue figure and exposure in SRM is measured with this one calendar
(see "Definitions" in DESIGN.md).

Business time is **real time**: every difference and sum is taken in UTC, so a working window
that contains a clock change is an hour shorter or longer than on the clock face. A working day
ending at 00:00 ends at the following midnight (00:00–00:00 every day is a round-the-clock
service desk).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# A calendar without a single working day would loop forever; ten years is far beyond any OLA.
_MAX_DAYS = 3660


@lru_cache(maxsize=256)
def public_holidays(country: str, subdiv: str, year: int) -> frozenset[date]:
    if not country:
        return frozenset()
    return frozenset(holidays.country_holidays(country, subdiv=subdiv or None, years=year).keys())


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "Europe/Berlin"
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    # ISO weekdays, Monday = 1.
    workdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    country: str = ""
    subdiv: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.timezone)

    @property
    def day_length(self) -> timedelta:
        """The nominal working day (its clock-face length; a day with a clock change inside
        its window lasts an hour more or less, but the business day stays this long)."""
        end = datetime.combine(date.min + timedelta(days=self.day_end == MIDNIGHT), self.day_end)
        return end - datetime.combine(date.min, self.day_start)

    @property
    def day_seconds(self) -> int:
        """The business day in whole seconds: the exact figure money is computed from."""
        return int(self.day_length.total_seconds())

    @property
    def day_hours(self) -> Decimal:
        """The business day in hours (exact for display; 08:00–16:20 is 8.333… h)."""
        return Decimal(self.day_seconds) / 3600

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.workdays and day not in public_holidays(
            self.country, self.subdiv, day.year
        )

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working window of ``day`` as aware datetimes, or None on a day off."""
        if not self.is_working_day(day):
            return None
        return _window(self.tz, day, self.day_start, self.day_end)

    def add(self, start: datetime, hours: Decimal | float | int | timedelta) -> datetime:
        """The moment ``hours`` (or a ``timedelta``) of business time after ``start``, in the
        calendar's timezone."""
        left = hours if isinstance(hours, timedelta) else _exact(hours)
        if left <= timedelta(0):
            return start
        cursor = start.astimezone(UTC)
        day = start.astimezone(self.tz).date()
        for _ in range(_MAX_DAYS):
            bounds = self.window(day)
            if bounds:
                begin = max(cursor, bounds[0])
                if begin < bounds[1]:
                    available = bounds[1] - begin
                    if available >= left:
                        return (begin + left).astimezone(self.tz)
                    left -= available
            day += timedelta(days=1)
        raise ValueError("The calendar has no working time within ten years.")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (zero when end is not after start), in real
        elapsed time."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        day, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        while day <= last:
            bounds = self.window(day)
            if bounds:
                begin, finish = max(start, bounds[0]), min(end, bounds[1])
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total

    def hours_between(self, start: datetime, end: datetime) -> Decimal:
        return Decimal(int(self.between(start, end).total_seconds())) / 3600


MIDNIGHT = time(0)


def _exact(hours: Decimal | float | int) -> timedelta:
    """Hours as a timedelta, exact to the microsecond (no binary float in between)."""
    micro = (Decimal(str(hours)) * 3_600_000_000).to_integral_value()
    return timedelta(microseconds=int(micro))


@lru_cache(maxsize=65536)
def _window(tz: ZoneInfo, day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """A working window in UTC, so that subtracting its ends gives the real time between them
    (aware datetimes sharing one ``ZoneInfo`` subtract on the clock face)."""
    finish = datetime.combine(day + timedelta(days=1), MIDNIGHT, tz) if end == MIDNIGHT \
        else datetime.combine(day, end, tz)
    return datetime.combine(day, start, tz).astimezone(UTC), finish.astimezone(UTC)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
