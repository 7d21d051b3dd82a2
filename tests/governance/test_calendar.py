"""Due times are counted in the accountable department's business hours and holidays."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from governance.calendar import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
DE = BusinessCalendar(timezone="Europe/Berlin", country="DE")


def test_hours_inside_one_day():
    start = datetime(2026, 11, 24, 10, 0, tzinfo=BERLIN)  # Tuesday
    assert DE.add(start, 4) == datetime(2026, 11, 24, 14, 0, tzinfo=BERLIN)


def test_friday_afternoon_runs_into_monday():
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=BERLIN)
    # 2 h left on Friday, the other 6 h on Monday from 09:00.
    assert DE.add(friday, 8) == datetime(2026, 11, 30, 15, 0, tzinfo=BERLIN)


def test_submitted_on_a_saturday_starts_on_monday_morning():
    saturday = datetime(2026, 11, 28, 11, 0, tzinfo=BERLIN)
    assert DE.add(saturday, 1) == datetime(2026, 11, 30, 10, 0, tzinfo=BERLIN)


def test_public_holiday_is_not_business_time():
    # 24 and 25 December 2026: Thursday is a working day, Friday the 25th is Christmas Day,
    # the 26th falls on a Saturday.
    christmas_eve = datetime(2026, 12, 24, 16, 0, tzinfo=BERLIN)
    assert DE.add(christmas_eve, 2) == datetime(2026, 12, 28, 10, 0, tzinfo=BERLIN)


def test_subdivision_holidays_apply():
    # Epiphany (6 January) is a holiday in Bavaria, not in Berlin.
    bavaria = BusinessCalendar(timezone="Europe/Berlin", country="DE", subdiv="BY")
    start = datetime(2027, 1, 5, 16, 0, tzinfo=BERLIN)
    assert bavaria.add(start, 2) == datetime(2027, 1, 7, 10, 0, tzinfo=BERLIN)
    assert DE.add(start, 2) == datetime(2027, 1, 6, 10, 0, tzinfo=BERLIN)


def test_timezone_of_the_department_decides_the_working_window():
    new_york = BusinessCalendar(timezone="America/New_York", country="US")
    # 15:00 UTC on a Tuesday is 10:00 in New York: 4 hours later is 14:00 there.
    start = datetime(2026, 11, 24, 15, 0, tzinfo=ZoneInfo("UTC"))
    due = new_york.add(start, 4)
    assert due.astimezone(ZoneInfo("America/New_York")).time() == time(14, 0)
    # Thanksgiving (Thursday 26 November 2026) is skipped in New York.
    late = datetime(2026, 11, 25, 16, 0, tzinfo=ZoneInfo("America/New_York"))
    assert new_york.add(late, 2).astimezone(ZoneInfo("America/New_York")) == datetime(
        2026, 11, 27, 10, 0, tzinfo=ZoneInfo("America/New_York")
    )


def test_between_counts_only_business_time_and_inverts_add():
    start = datetime(2026, 11, 27, 15, 0, tzinfo=BERLIN)  # Friday
    end = DE.add(start, Decimal("13.5"))
    assert DE.hours_between(start, end) == Decimal("13.5")
    assert DE.between(end, start) == timedelta(0)
    # A whole weekend contributes nothing.
    assert DE.between(
        datetime(2026, 11, 28, 0, 0, tzinfo=BERLIN), datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)
    ) == timedelta(0)


def test_daylight_saving_change_keeps_local_working_hours():
    # Clocks go back on Sunday 25 October 2026; Monday still starts at 09:00 local time.
    friday = datetime(2026, 10, 23, 16, 0, tzinfo=BERLIN)
    assert DE.add(friday, 2) == datetime(2026, 10, 26, 10, 0, tzinfo=BERLIN)
    assert DE.day_hours == Decimal(8)
