"""Business time: working hours in a department's timezone, minus its public holidays.

Every due time, overdue figure and exposure in SRM is measured with this one calendar
(see "Definitions" in DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
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
        return datetime.combine(date.min, self.day_end) - datetime.combine(date.min, self.day_start)

    @property
    def day_hours(self) -> Decimal:
        return Decimal(int(self.day_length.total_seconds())) / 3600

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.workdays and day not in public_holidays(
            self.country, self.subdiv, day.year
        )

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working window of ``day`` as aware datetimes, or None on a day off."""
        if not self.is_working_day(day):
            return None
        tz = self.tz
        return datetime.combine(day, self.day_start, tz), datetime.combine(day, self.day_end, tz)

    def add(self, start: datetime, hours: Decimal | float | int) -> datetime:
        """The moment ``hours`` of business time after ``start``."""
        left = timedelta(seconds=float(hours) * 3600)
        cursor = start.astimezone(self.tz)
        if left <= timedelta(0):
            return start
        day = cursor.date()
        for _ in range(_MAX_DAYS):
            bounds = self.window(day)
            if bounds:
                begin = max(cursor, bounds[0])
                if begin < bounds[1]:
                    available = bounds[1] - begin
                    if available >= left:
                        return begin + left
                    left -= available
            day += timedelta(days=1)
        raise ValueError("The calendar has no working time within ten years.")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (zero when end is not after start)."""
        if end <= start:
            return timedelta(0)
        start, end = start.astimezone(self.tz), end.astimezone(self.tz)
        total = timedelta(0)
        day, last = start.date(), end.date()
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


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
