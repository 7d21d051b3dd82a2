"""An independent model of the cost-of-delay definitions (DESIGN.md, "Definitions";
docs/accountability.md, "The cost-of-delay ledger"), written from the text, for the property
test. It imports nothing of SRM's calendar, delay or risk code: only the standard library and
the ``holidays`` package the definitions name.

Everything is counted in whole microseconds of real (UTC) time, walking day by day; nothing
is memoised, nothing clever — slow and obviously right is the point.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from zoneinfo import ZoneInfo

import holidays as holiday_tables

US = timedelta(microseconds=1)


@cache
def _holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(holiday_tables.country_holidays(country, years=year)) if country else frozenset()


@dataclass(frozen=True)
class Calendar:
    timezone: str
    start: time
    end: time  # 00:00 = the following midnight
    workdays: frozenset[int]
    country: str = ""

    def _holiday(self, day: date) -> bool:
        return bool(self.country) and day in _holidays(self.country, day.year)

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.isoweekday() not in self.workdays or self._holiday(day):
            return None
        tz = ZoneInfo(self.timezone)
        begin = datetime(day.year, day.month, day.day, self.start.hour, self.start.minute,
                         tzinfo=tz)
        end_day = day + timedelta(days=1) if self.end == time(0) else day
        finish = datetime(end_day.year, end_day.month, end_day.day, self.end.hour,
                          self.end.minute, tzinfo=tz)
        return begin.astimezone(UTC), finish.astimezone(UTC)

    @property
    def day_seconds(self) -> int:
        end = 24 * 3600 if self.end == time(0) else self.end.hour * 3600 + self.end.minute * 60
        return end - (self.start.hour * 3600 + self.start.minute * 60)

    def business(self, a: datetime, b: datetime) -> int:
        """Business microseconds in [a, b]."""
        if b <= a:
            return 0
        tz = ZoneInfo(self.timezone)
        total = 0
        day = a.astimezone(tz).date() - timedelta(days=1)
        while day <= b.astimezone(tz).date():
            w = self.window(day)
            if w:
                lo, hi = max(a, w[0]), min(b, w[1])
                if hi > lo:
                    total += (hi - lo) // US
            day += timedelta(days=1)
        return total

    def add(self, a: datetime, us: int) -> datetime:
        """The moment ``us`` business microseconds after ``a``."""
        if us <= 0:
            return a
        tz = ZoneInfo(self.timezone)
        day = a.astimezone(tz).date()
        while True:
            w = self.window(day)
            if w and w[1] > a:
                lo = max(a, w[0])
                room = (w[1] - lo) // US
                if room >= us:
                    return lo + us * US
                us -= room
            day += timedelta(days=1)


def quarter_of(moment: datetime, tz: ZoneInfo) -> date:
    local = moment.astimezone(tz)
    return date(local.year, (local.month - 1) // 3 * 3 + 1, 1)


def quarter_end(quarter: date, tz: ZoneInfo) -> datetime:
    y, m = (quarter.year + 1, 1) if quarter.month == 10 else (quarter.year, quarter.month + 3)
    return datetime(y, m, 1, tzinfo=tz)


def closes_at(quarter: date, tz: ZoneInfo, days: int, country: str) -> datetime:
    """End of the ``days``-th Monday–Friday non-holiday after the quarter ends."""
    day = quarter_end(quarter, tz).date()
    while True:
        if day.isoweekday() <= 5 and day not in _holidays(country, day.year):
            days -= 1
            if days <= 0:
                nxt = day + timedelta(days=1)
                return datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
        day += timedelta(days=1)


def cents(seconds: Decimal, per_day: Decimal, day_seconds: int) -> Decimal:
    return (seconds * per_day / day_seconds).quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass
class Step:
    """One step's life as the definitions see it."""

    calendar: Calendar
    activated: datetime
    ola_us: int
    per_day: Decimal
    reporting: ZoneInfo
    close_days: int
    holiday_country: str
    due: datetime = None
    holds: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    posted_until: datetime | None = None
    seconds: Decimal = Decimal(0)
    amount: Decimal = Decimal("0.00")
    # (quarter, period) -> [seconds, amount]
    ledger: dict = field(default_factory=lambda: defaultdict(lambda: [Decimal(0), Decimal(0)]))
    risk: bool = False
    # Attribution: the head accountable now, and head -> [seconds, amount] charged to each.
    head: str = "head"
    by_head: dict = field(default_factory=lambda: defaultdict(lambda: [Decimal(0), Decimal(0)]))

    def __post_init__(self):
        self.due = self.calendar.add(self.activated, self.ola_us)

    @property
    def on_hold(self) -> bool:
        return bool(self.holds) and self.holds[-1][1] is None

    def hold(self, at: datetime) -> None:
        self.holds.append((at, None))

    def answer(self, at: datetime) -> None:
        started = self.holds[-1][0]
        self.holds[-1] = (started, at)
        if started < self.due:  # OLA left when the hold started: the due time moves
            self.due = self.calendar.add(self.due, self.calendar.business(started, at))

    def _counted(self, a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
        pieces, begin = [], max(a, self.due)
        for hs, he in sorted(h for h in self.holds if h[0] >= self.due):
            if hs >= b:
                break
            if hs > begin:
                pieces.append((begin, hs))
            if he is None:
                return pieces
            begin = max(begin, he)
        if b > begin:
            pieces.append((begin, b))
        return pieces

    def _post(self, until: datetime, at: datetime) -> None:
        start = self.posted_until or self.due
        parts: dict[date, int] = defaultdict(int)
        for a, b in self._counted(start, until):
            q = quarter_of(a, self.reporting)
            while a < b:
                cut = min(b, quarter_end(q, self.reporting))
                parts[q] += self.calendar.business(a, cut)
                a = cut
                q = quarter_of(cut, self.reporting)
        for period in sorted(parts):
            if not parts[period]:
                continue
            secs = Decimal(parts[period]) / 1_000_000
            self.seconds += secs
            total = cents(self.seconds, self.per_day, self.calendar.day_seconds)
            closed = at >= closes_at(period, self.reporting, self.close_days,
                                     self.holiday_country)
            quarter = quarter_of(at, self.reporting) if closed else period
            entry = self.ledger[(quarter, period)]
            entry[0] += secs
            entry[1] += total - self.amount
            charged = self.by_head[self.head]
            charged[0] += secs
            charged[1] += total - self.amount
            self.amount = total
        if any(parts.values()):
            self.posted_until = until

    def scan(self, at: datetime) -> None:
        if self.on_hold or not self.due < at:
            return
        self.risk = True
        self._post(at, at)

    def change_head(self, at: datetime, head: str) -> None:
        """Overdue time up to ``at`` stays with the head accountable while it passed; from
        ``at`` on it is the new head's. A step on hold since before its due time is not
        overdue (its clock stopped before it was late, and the due time moves later when the
        hold ends); on hold since after it, its time counts up to the hold."""
        waiting = self.on_hold and self.holds[-1][0] < self.due
        if self.due < at and not waiting:
            self._post(at, at)
        self.head = head

    def close(self, at: datetime) -> None:
        """Closing a step on hold ends the hold as an answer would (the requester's time)."""
        if self.on_hold:
            self.answer(at)
        if not self.risk and at <= self.due:
            return
        self._post(at, at)
