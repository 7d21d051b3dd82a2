"""The arithmetic of a delay, without the database: the memoised clock agrees with the
calendar, accruals add up, and the money is rounded half-up to cents."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from accountability.delays import OverdueClock, figures, money, risk_level
from governance.calendar import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
CALENDARS = [
    BusinessCalendar(timezone="Europe/Berlin", country="DE"),
    BusinessCalendar(timezone="America/New_York", day_start=time(8, 30), day_end=time(17, 30),
                     country="US"),
    BusinessCalendar(timezone="Asia/Dubai", workdays=frozenset({1, 2, 3, 4, 7}), country=""),
]
moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31),
).map(lambda d: d.replace(tzinfo=BERLIN))


@settings(max_examples=300, deadline=None)
@given(calendar=st.sampled_from(CALENDARS), until=moments, starts=st.lists(moments, max_size=8))
def test_the_memoised_clock_agrees_with_the_calendar(calendar, until, starts):
    clock = OverdueClock(calendar, until)
    for start in sorted(starts, reverse=True) + starts:
        assert clock.since(start) == calendar.between(start, until)


@settings(max_examples=200, deadline=None)
@given(due=moments, length=st.integers(min_value=0, max_value=400 * 24 * 60),
       per_day=st.decimals(min_value=0, max_value=100000, places=2))
def test_accruals_add_up_to_the_exposure_and_never_go_negative(due, length, per_day):
    calendar = CALENDARS[0]
    until = due + timedelta(minutes=length)
    f = figures(clock=OverdueClock(calendar, until), due_at=due, ola_hours=Decimal("8"),
                per_day=per_day, day_hours=calendar.day_hours, reporting_tz=BERLIN)
    assert sum(h for _, h, _ in f.accruals) == f.overdue_hours
    assert sum(a for _, _, a in f.accruals) == f.exposure
    assert all(h >= 0 and a >= 0 for _, h, a in f.accruals)
    assert all(q.day == 1 and q.month in (1, 4, 7, 10) for q, _, _ in f.accruals)


def test_money_is_rounded_half_up_to_cents():
    # 1 h of a 8 h day at EUR 0.20 a day is 0.025 → 0.03 (banker's rounding would give 0.02).
    assert money(Decimal("1.00"), per_day=Decimal("0.20"), day_hours=Decimal("8")) == Decimal("0.03")


def test_levels_at_their_thresholds():
    eight, day = Decimal("8"), Decimal("8")
    assert risk_level(overdue_hours=Decimal("0.01"), ola_hours=eight, day_hours=day) == 1
    assert risk_level(overdue_hours=Decimal("4.00"), ola_hours=eight, day_hours=day) == 2
    assert risk_level(overdue_hours=Decimal("8.00"), ola_hours=eight, day_hours=day) == 3
    long_ola = Decimal("40")
    assert risk_level(overdue_hours=Decimal("24.00"), ola_hours=long_ola, day_hours=day) == 2
    assert risk_level(overdue_hours=Decimal("24.01"), ola_hours=long_ola, day_hours=day) == 3


def test_a_past_quarter_keeps_its_figures_as_the_delay_goes_on():
    calendar = CALENDARS[0]
    due = datetime(2026, 9, 28, 12, 0, tzinfo=BERLIN)
    early = figures(clock=OverdueClock(calendar, datetime(2026, 10, 1, 10, 0, tzinfo=BERLIN)),
                    due_at=due, ola_hours=Decimal("8"), per_day=Decimal("333.33"),
                    day_hours=calendar.day_hours, reporting_tz=BERLIN)
    later = figures(clock=OverdueClock(calendar, datetime(2026, 11, 20, 16, 0, tzinfo=BERLIN)),
                    due_at=due, ola_hours=Decimal("8"), per_day=Decimal("333.33"),
                    day_hours=calendar.day_hours, reporting_tz=BERLIN)
    assert early.accruals[0] == later.accruals[0]
    assert early.accruals[0][0] == date(2026, 7, 1)
