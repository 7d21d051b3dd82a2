"""Changing a department's business calendar."""

from __future__ import annotations

from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.calendar import BusinessCalendar
from governance.choices import AuditVerb
from governance.models import Department, User
from governance.services.audit import audit_record
from governance.signals import calendar_corrected

CALENDAR_FIELDS = ("timezone", "work_start", "work_end", "work_days", "holiday_country",
                   "holiday_subdivision")


def department_calendar_changed(*, department: Department, old: BusinessCalendar, actor: User,
                                correct_from: date | None = None,
                                at: datetime | None = None) -> None:
    """Record that ``department``'s calendar (already saved) replaced ``old``.

    By default the new calendar counts from now on: delay time already posted stays as it
    was. With ``correct_from`` (a date, not in the future) the change is a correction: the
    delay time posted since the start of that day is measured again under the new calendar
    and the difference posted to the ledger (as an adjustment where the quarter has closed).
    Call inside the transaction that saved the department.
    """
    at = at or timezone.now()
    new = department.calendar
    if new == old:
        return
    since = None
    if correct_from is not None:
        since = datetime.combine(correct_from, time(0), new.tz)
        if since > at:
            raise ValidationError({"correct_from": "A correction cannot start in the future."})
    audit_record(
        actor=actor, verb=AuditVerb.DEPARTMENT_CALENDAR_CHANGED, target=department,
        data={"before": _describe(old), "after": _describe(new),
              "correct_from": correct_from.isoformat() if correct_from else None}, at=at,
    )
    if since is not None:
        calendar_corrected.send(Department, department=department, old=old, since=since,
                                actor=actor, at=at)


def _describe(calendar: BusinessCalendar) -> str:
    days = "".join(str(d) for d in sorted(calendar.workdays))
    holidays = "/".join(p for p in (calendar.country, calendar.subdiv) if p) or "no holidays"
    return (f"{calendar.timezone} {calendar.day_start:%H:%M}–{calendar.day_end:%H:%M} "
            f"days {days}, {holidays}")
