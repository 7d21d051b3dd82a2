"""The arithmetic of a delay, without the database: the memoised clock agrees with the
calendar, business time is real time across clock changes, money is computed once from
exact seconds and rounded half-up to cents, and postings carry the rounding remainder."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from accountability.delays import BusinessClock, by_quarter, counted, micros, money, risk_level
from accountability.services.ledger import entries
from governance.calendar import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
ROUND_THE_CLOCK = BusinessCalendar(timezone="Europe/Berlin", day_start=time(0), day_end=time(0),
                                   workdays=frozenset(range(1, 8)))
CALENDARS = [
    BusinessCalendar(timezone="Europe/Berlin", country="DE"),
    BusinessCalendar(timezone="America/New_York", day_start=time(8, 30), day_end=time(17, 30),
                     country="US"),
    BusinessCalendar(timezone="Asia/Dubai", workdays=frozenset({1, 2, 3, 4, 7}), country=""),
    ROUND_THE_CLOCK,
    BusinessCalendar(timezone="Europe/London", day_start=time(1, 0), day_end=time(3, 30),
                     workdays=frozenset(range(1, 8))),
]
moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
).map(lambda d: d.replace(tzinfo=BERLIN))


def real_business_time(calendar, start, end) -> timedelta:
    """Minute by minute in UTC: the plainest possible definition, for the property."""
    total, t = timedelta(0), start.astimezone(UTC)
    step = timedelta(minutes=1)
    while t < end:
        local = t.astimezone(calendar.tz)
        window = calendar.window(local.date())
        if window and window[0] <= t < window[1]:
            total += min(step, end - t)
        t += step
    return total


@settings(max_examples=300, deadline=None)
@given(calendar=st.sampled_from(CALENDARS), until=moments, starts=st.lists(moments, max_size=8))
def test_the_memoised_clock_agrees_with_the_calendar(calendar, until, starts):
    clock = BusinessClock(calendar)
    for start in sorted(starts, reverse=True) + starts:
        assert clock.between(start, until) == micros(calendar.between(start, until))


@settings(max_examples=60, deadline=None)
@given(calendar=st.sampled_from(CALENDARS),
       start=st.datetimes(min_value=datetime(2026, 3, 27), max_value=datetime(2026, 3, 30))
       | st.datetimes(min_value=datetime(2026, 10, 23), max_value=datetime(2026, 10, 26)),
       minutes=st.integers(min_value=0, max_value=3 * 24 * 60))
def test_business_time_is_real_elapsed_time_across_clock_changes(calendar, start, minutes):
    start = start.replace(second=0, microsecond=0, tzinfo=UTC)
    end = start + timedelta(minutes=minutes)
    assert calendar.between(start, end) == real_business_time(calendar, start, end)


def test_24_hours_round_the_clock_across_the_autumn_clock_change():
    # Issue 15: 24 h from 2026-10-25 00:09 CEST is 23:09 CET the same day (that day has 25 h).
    start = datetime(2026, 10, 25, 0, 9, tzinfo=BERLIN)
    due = ROUND_THE_CLOCK.add(start, 24)
    assert due == datetime(2026, 10, 25, 23, 9, tzinfo=BERLIN)
    assert due.utcoffset() == timedelta(hours=1)
    assert ROUND_THE_CLOCK.between(start, due) == timedelta(hours=24)
    # And the spring change: 00:00–24:00 on 29 March 2026 is 23 hours of real time.
    day = datetime(2026, 3, 29, tzinfo=BERLIN)
    assert ROUND_THE_CLOCK.between(day, datetime(2026, 3, 30, tzinfo=BERLIN)) == timedelta(hours=23)


def test_a_working_day_with_a_third_of_an_hour_is_exact():
    calendar = BusinessCalendar(day_start=time(8, 0), day_end=time(16, 20))
    assert calendar.day_seconds == 30000
    # One whole day of delay costs exactly one day's cost, not 8.33 h of a 8.333… h day.
    assert money(30000, per_day=Decimal("480.00"), day_seconds=calendar.day_seconds) == Decimal("480.00")


def test_money_is_rounded_once_half_up_to_cents():
    # 1 h of a 8 h day at EUR 0.20 a day is 0.025 → 0.03 (banker's rounding would give 0.02).
    assert money(3600, per_day=Decimal("0.20"), day_seconds=28800) == Decimal("0.03")
    # 3 h 59 min of a 8 h day at EUR 150: 74.6875 → 74.69 (hours rounded first gave 74.63).
    assert money(14340, per_day=Decimal("150"), day_seconds=28800) == Decimal("74.69")


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=12),
       per_day=st.decimals(min_value=0, max_value=100000, places=2),
       day_seconds=st.integers(min_value=60, max_value=86400))
def test_postings_carry_the_rounding_so_they_add_up_to_the_exact_total(pieces, per_day, day_seconds):
    seconds, amount, posted = Decimal(0), Decimal("0.00"), []
    at = datetime(2026, 11, 1, tzinfo=BERLIN)
    for us in pieces:
        made, seconds, amount = entries(increments={date(2026, 10, 1): us}, seconds_before=seconds,
                                        amount_before=amount, per_day=per_day,
                                        day_seconds=day_seconds, at=at)
        posted += made
    assert sum(p.seconds for p in posted) == seconds == Decimal(sum(pieces)) / 10**6
    assert sum(p.amount for p in posted) == amount == money(seconds, per_day=per_day,
                                                             day_seconds=day_seconds)


def test_a_hold_after_the_due_time_stops_the_clock_and_moves_nothing_already_passed():
    # Issue 15's history: due Mon 21 Dec 2026 17:00 (Marketing: Berlin, 9–17, German
    # holidays), on hold Tue 5 Jan 10:00, answered Thu 7 Jan 15:00, approved Fri 8 Jan 11:00.
    calendar = CALENDARS[0]
    due = datetime(2026, 12, 21, 17, 0, tzinfo=BERLIN)
    hold = (datetime(2027, 1, 5, 10, 0, tzinfo=BERLIN), datetime(2027, 1, 7, 15, 0, tzinfo=BERLIN))
    pieces = counted(due_at=due, start=due, end=datetime(2027, 1, 8, 11, 0, tzinfo=BERLIN),
                     holds=[hold])
    split = by_quarter(BusinessClock(calendar), pieces, BERLIN)
    assert {q: us // 3_600_000_000 for q, us in split.items()} == {
        date(2026, 10, 1): 56, date(2027, 1, 1): 13}


def test_levels_at_their_thresholds():
    eight, day = Decimal("8"), Decimal("8")
    assert risk_level(overdue_hours=Decimal("0.01"), ola_hours=eight, day_hours=day) == 1
    assert risk_level(overdue_hours=Decimal("4.00"), ola_hours=eight, day_hours=day) == 2
    assert risk_level(overdue_hours=Decimal("8.00"), ola_hours=eight, day_hours=day) == 3
    long_ola = Decimal("40")
    assert risk_level(overdue_hours=Decimal("24.00"), ola_hours=long_ola, day_hours=day) == 2
    assert risk_level(overdue_hours=Decimal("24.01"), ola_hours=long_ola, day_hours=day) == 3
