"""The demo's requests: five quarters of history and a working week that looks lived-in.

Every request goes through the real services with the clock set back (``at=``), and the
whole history is played in time order: submissions, decisions, agents taking work on and
finishing it, and the delay scan at the moments beat would have run it (just after a step
fell due, when its delay reached level 2 and 3, at every quarter end), so each scan sees the
organisation exactly as it was then. Hence:

- overdue time is posted to the cost-of-delay ledger in the quarter in which it passed,
  closed quarters included, never as a late adjustment;
- a delay's "late since" is the minute its step fell due, its escalations are dated when
  they happened, and its exposure is what that many business hours cost;
- decisions, hand-overs and submissions happen inside working hours; agents take work on
  some time after it arrives, so waiting and working time are both real.

The open work at the end is a normal week: most of it within its OLA, some due soon, a few
steps overdue at each level (``OVERDUE_NOW``), none for more than ``MAX_OVERDUE_HOURS``
business hours. The notifications of the past are in everyone's list, their e-mails sent at
the time (nothing is queued for the worker): starting the product e-mails only what happens
from then on.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import F, Max
from django.test.utils import override_settings
from django.utils import timezone

from accountability.delays import risk_level
from accountability.models import EmailStatus, Notification
from accountability.services.notifications import DELIVER_TASK
from accountability.services.risks import flag_delays
from accountability.services.risks import logger as scan_log
from approvals.choices import StepKind, StepState
from approvals.models import Step
from approvals.services import request_cancel, step_approve, step_claim, step_complete, step_reject
from demo.logins import DEMO_LOGINS
from demo.organisation import ITEMS
from governance.calendar import BusinessCalendar
from governance.choices import MembershipRole
from governance.errors import DomainError
from governance.models import Department, Membership, User
from governance.periods import last_quarters, next_quarter, start_of
from operations.models import OutboxTask
from requests_app.models import CatalogItem, ServiceRequest
from requests_app.services import request_submit

# The history covers the current quarter and this many before it, so every quarter of the
# report's default view (four) is complete.
HISTORY_QUARTERS = 4
RECENT = timedelta(days=14)  # the last two weeks are busy: the product is in daily use
RECENT_SHARE = 0.35
# How late a step finishes, as a multiple of its OLA: most well inside it, a tail late.
LATENESS = [((0.15, 0.5), 40), ((0.5, 0.9), 35), ((0.9, 1.2), 12), ((1.2, 1.6), 8),
            ((1.6, 2.5), 5)]
# Nobody leaves a step overdue for longer than this (business hours): four working days.
MAX_OVERDUE_HOURS = 32
# How many of the steps open now are overdue, per level.
OVERDUE_NOW = {1: 2, 2: 2, 3: 2}
# The change plan moved laptops and phones into SRM this long ago; before, few came through.
PLAN_ITEMS, PLAN_LIVE = {"laptop", "phone"}, timedelta(days=60)
TYPICAL_COSTS = {code: cost for code, *_rest, cost in ITEMS}
SCAN_AFTER = timedelta(minutes=1)  # beat's delay scan runs every minute


def history_start(now: datetime) -> date:
    """The first day of the demo's history: HISTORY_QUARTERS quarters before this one."""
    return last_quarters(HISTORY_QUARTERS + 1, until=now)[0]


def quarter_ends(first: datetime, last: datetime) -> list[datetime]:
    """The ends of the reporting quarters after ``first`` up to ``last``, oldest first."""
    ends, quarter = [], last_quarters(1, until=first)[0]
    while (end := start_of(next_quarter(quarter))) < last:
        ends.append(end)
        quarter = next_quarter(quarter)
    return ends


@dataclass
class _Plan:
    submitted: datetime
    item: CatalogItem
    requester: User
    cost: Decimal
    fate: str  # "ok", "reject" (at an approval) or "cancel" (by the requester)


@dataclass
class _World:
    now: datetime
    rng: random.Random
    calendars: dict[int, BusinessCalendar]
    agents: dict[int, list[User]]
    overdue_quota: dict[int, int] = field(default_factory=lambda: dict(OVERDUE_NOW))
    showcase: set[int] = field(default_factory=set)  # heads among the demo logins
    queue: list = field(default_factory=list)
    scans: set[datetime] = field(default_factory=set)
    counter: itertools.count = field(default_factory=itertools.count)
    created: int = 0

    def at(self, when: datetime, action: str, payload=None) -> None:
        heapq.heappush(self.queue, (when, next(self.counter), action, payload))

    def scan_at(self, when: datetime) -> None:
        when = when.replace(second=0, microsecond=0) + SCAN_AFTER
        if when < self.now and when not in self.scans:
            self.scans.add(when)
            self.at(when, "scan")


def seed_history(count: int, *, seed: int = 7, now: datetime | None = None) -> int:
    """Create ``count`` requests over the demo's history, played in time order through the
    services, then the delay scan of ``now``. Returns the number of requests created."""
    now = (now or timezone.now()).replace(microsecond=0)
    rng = random.Random(seed)
    items = list(CatalogItem.objects.filter(is_published=True)
                 .select_related("fulfilling_department"))
    heads = set(Department.objects.exclude(head=None).values_list("head_id", flat=True))
    requesters = list(User.objects.filter(is_superuser=False, department__isnull=False)
                      .exclude(pk__in=heads).exclude(is_ops_leader=True)
                      .select_related("department").order_by("pk"))
    agents: dict[int, list[User]] = {}
    for m in (Membership.objects.filter(role=MembershipRole.AGENT).select_related("user")
              .order_by("pk")):
        agents.setdefault(m.department_id, []).append(m.user)
    world = _World(now=now, rng=rng, agents=agents,
                   calendars={d.pk: d.calendar for d in Department.objects.all()},
                   showcase=set(User.objects.filter(username__in=[u for u, _ in DEMO_LOGINS])
                                .values_list("pk", flat=True)) & heads)
    calendar = next(iter(world.calendars.values()), BusinessCalendar())
    for when in _submission_times(rng, count, start_of(history_start(now)), now, calendar):
        world.at(when, "submit", _plan(rng, when, now, items, requesters))
    for end in quarter_ends(start_of(history_start(now)), now):
        world.scans.add(end)
        world.at(end, "scan")
    first_outbox = OutboxTask.objects.aggregate(last=Max("pk"))["last"] or 0
    first_notification = Notification.objects.aggregate(last=Max("pk"))["last"] or 0
    # Nothing is published while the past is written (the worker is not running yet), and
    # the past's delay scans are not news for the log.
    with override_settings(SRM_OUTBOX_PUBLISH="beat"), _quiet(scan_log):
        while world.queue:
            when, _n, action, payload = heapq.heappop(world.queue)
            _ACTIONS[action](world, when, payload)
        world.created += seed_waiting_for_demo_heads(now=now)
        flag_delays(now=now)
    # The past's notifications stay in everyone's list; their e-mails went out at the time,
    # so the worker's first minute is not a flood of old news, and their delivery tasks have
    # nothing left to do.
    Notification.objects.filter(pk__gt=first_notification, email_status=EmailStatus.PENDING
                                ).update(email_status=EmailStatus.SENT,
                                         email_sent_at=F("created_at"), attempts=1)
    OutboxTask.objects.filter(pk__gt=first_outbox, task=DELIVER_TASK).delete()
    return world.created


@contextmanager
def _quiet(logger: logging.Logger):
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


# --- The plan: when, what, who -----------------------------------------------------------
def _submission_times(rng: random.Random, count: int, start: datetime, now: datetime,
                      calendar: BusinessCalendar) -> list[datetime]:
    """``count`` moments in working hours: a share in the busy last weeks, the rest more
    and more frequent from the start of the history (adoption)."""
    recent_from = now - RECENT
    times = []
    for i in range(count):
        if i < round(count * RECENT_SHARE):
            rough = recent_from + (now - recent_from) * rng.random()
        else:
            rough = start + (recent_from - start) * rng.random() ** 0.6
        times.append(_working_moment(rng, rough, calendar, start, now))
    return sorted(times)


def _working_moment(rng: random.Random, rough: datetime, calendar: BusinessCalendar,
                    start: datetime, now: datetime) -> datetime:
    """A moment inside the working window of ``rough``'s day (or the nearest working day
    before it), not before ``start`` and not after ``now``."""
    day = rough.astimezone(calendar.tz).date()
    for _ in range(30):
        window = calendar.window(day)
        if window is not None:
            begin, end = max(window[0], start), min(window[1], now)
            if begin < end:
                return (begin + (end - begin) * rng.random()).replace(microsecond=0)
        day -= timedelta(days=1)
    return now - timedelta(minutes=5)


def _plan(rng: random.Random, when: datetime, now: datetime, items: list[CatalogItem],
          requesters: list[User]) -> _Plan:
    weights = [0.15 if item.code in PLAN_ITEMS and when < now - PLAN_LIVE else 1.0
               for item in items]
    item = rng.choices(items, weights=weights)[0]
    r = rng.random()
    fate = "cancel" if r < 0.03 else "reject" if r < 0.09 else "ok"
    return _Plan(submitted=when, item=item, requester=rng.choice(requesters),
                 cost=_cost_for(TYPICAL_COSTS.get(item.code), rng), fate=fate)


def _cost_for(spec, rng: random.Random) -> Decimal:
    if spec is None:
        return Decimal("0")
    low, high = spec
    # Cheap ones are common, expensive ones rare; about a third cross the finance threshold.
    return Decimal(round(low + (high - low) * rng.random() ** 2, -1 if high < 10000 else -2))


def _answers_for(item: CatalogItem, rng: random.Random, when: datetime) -> dict:
    answers = {}
    for spec in item.form_fields:
        kind = spec["type"]
        if kind == "textarea":
            answers[spec["name"]] = rng.choice(
                ["Needed for the new project team.", "Replacement: the old one broke.",
                 "Requested by the client for the Q3 launch.", "Part of the annual plan."])
        elif kind == "text":
            answers[spec["name"]] = rng.choice(["Atlas", "Nimbus", "Room 2.14", "Contoso", "Acme"])
        elif kind == "choice":
            answers[spec["name"]] = rng.choice(spec["choices"])
        elif kind == "integer":
            answers[spec["name"]] = rng.randint(1, 20)
        elif kind == "date":
            answers[spec["name"]] = (when + timedelta(days=rng.randint(7, 40))).date().isoformat()
        elif kind == "email":
            answers[spec["name"]] = "starter@example.org"
        elif kind == "boolean":
            answers[spec["name"]] = rng.random() < 0.5
    return answers


# --- Playing it ----------------------------------------------------------------------------
def _submit(world: _World, when: datetime, plan: _Plan) -> None:
    try:
        request = request_submit(
            actor=plan.requester, item=plan.item,
            answers=_answers_for(plan.item, world.rng, when), estimated_cost=plan.cost, at=when,
        )
    except DomainError:
        return
    world.created += 1
    _next_step(world, request.pk, plan.fate)


def _next_step(world: _World, request_id: int, fate: str) -> None:
    """Decide how the request's active step goes and put its moments on the timeline."""
    step = (Step.objects.filter(request_id=request_id, state=StepState.ACTIVE)
            .select_related("accountable_department").first())
    if step is None:
        return
    rng, calendar = world.rng, world.calendars[step.accountable_department_id]
    ola = float(step.ola_hours)
    lateness = _lateness(rng, ola)
    elapsed = _hours(calendar.between(step.activated_at, world.now))  # business hours so far
    if elapsed > ola:
        # Overdue now if still open: only as many as a normal week has, none for long.
        level = risk_level(overdue_hours=Decimal(str(elapsed - ola)), ola_hours=step.ola_hours,
                           day_hours=calendar.day_hours)
        if (world.overdue_quota.get(level, 0) > 0 and elapsed - ola <= MAX_OVERDUE_HOURS
                and rng.random() < 0.5):
            world.overdue_quota[level] -= 1
            lateness = max(lateness, elapsed / ola + rng.uniform(0.2, 1.0))
        elif lateness * ola > elapsed:
            lateness = rng.uniform(min(0.3, elapsed / ola * 0.9), elapsed / ola * 0.99)
    elif (step.kind == StepKind.APPROVAL and step.accountable_head_id in world.showcase
          and rng.random() < 0.6):
        # The heads one signs in as in the demo have decisions waiting, within their OLA.
        lateness = max(lateness, rng.uniform(elapsed / ola, 1.0))
    finish = calendar.add(step.activated_at, lateness * ola).replace(microsecond=0)
    done = finish < world.now
    if step.kind == StepKind.EXECUTION and world.agents.get(step.accountable_department_id):
        # Waiting until an agent takes it on, then working on it.
        taken = calendar.add(step.activated_at, lateness * ola * rng.uniform(0.15, 0.6))
        if taken < world.now:
            world.at(taken.replace(microsecond=0), "claim", (step.pk, request_id, fate))
    if lateness > 1:
        # The scan notices the delay as beat would have (and, in the last weeks, each
        # escalation too; earlier ones are measured when the step closes).
        due = step.due_at
        escalations = (0.5 * ola, min(ola, float(calendar.day_hours) * 3))
        for overdue in (0, *(escalations if due > world.now - RECENT else ())):
            moment = calendar.add(due, overdue)
            if moment < finish:
                world.scan_at(moment)
    if done:
        world.at(finish, "close", (step.pk, request_id, fate))


def _lateness(rng: random.Random, ola: float) -> float:
    (low, high), = rng.choices([span for span, _ in LATENESS], weights=[w for _, w in LATENESS])
    return min(rng.uniform(low, high), 1 + MAX_OVERDUE_HOURS / ola)


def _hours(span: timedelta) -> float:
    return span.total_seconds() / 3600


def _claim(world: _World, when: datetime, payload) -> None:
    step_id, _request_id, _fate = payload
    step = Step.objects.filter(pk=step_id, state=StepState.ACTIVE, assignee=None).first()
    team = world.agents.get(step.accountable_department_id) if step else None
    if step is None or not team:
        return
    with suppress(DomainError):
        step_claim(actor=world.rng.choice(team), step=step, at=when)


def _close(world: _World, when: datetime, payload) -> None:
    step_id, request_id, fate = payload
    step = (Step.objects.filter(pk=step_id, state=StepState.ACTIVE)
            .select_related("accountable_head", "assignee").first())
    if step is None:
        return
    rng = world.rng
    try:
        if fate == "cancel" and rng.random() < 0.5:
            request = ServiceRequest.objects.select_related("requester").get(pk=request_id)
            request_cancel(actor=request.requester, request=request,
                           reason=rng.choice(CANCEL_REASONS), at=when)
            return
        if step.kind == StepKind.APPROVAL:
            if fate == "reject" and rng.random() < 0.7:
                step_reject(actor=step.accountable_head, step=step,
                            comment=rng.choice(REJECT_REASONS), at=when)
                return
            step_approve(actor=step.accountable_head, step=step, comment="", at=when)
        else:
            agent = step.assignee or rng.choice(world.agents[step.accountable_department_id])
            step_complete(actor=agent, step=step, note=rng.choice(DONE_NOTES), at=when)
    except DomainError:
        # Nobody may decide it (separation of duties): the requester withdraws it.
        request = ServiceRequest.objects.select_related("requester").get(pk=request_id)
        request_cancel(actor=request.requester, request=request,
                       reason="Asked for it another way.", at=when)
        return
    _next_step(world, request_id, fate)


def _scan(world: _World, when: datetime, _payload) -> None:
    flag_delays(now=when)


_ACTIONS = {"submit": _submit, "claim": _claim, "close": _close, "scan": _scan}

CANCEL_REASONS = ["No longer needed.", "Solved another way.", "The project was stopped."]
REJECT_REASONS = ["Not in this quarter's budget.", "Please use the standard model.",
                  "We already have a licence for this; ask IT."]
DONE_NOTES = ["Done.", "Delivered and set up.", "Done; the details are in the ticket.",
              "Handed over in person."]


def seed_waiting_for_demo_heads(*, now: datetime, at_least: int = 2, seed: int = 11) -> int:
    """Make sure each head among the demo logins finds decisions waiting when they sign in:
    people of their department ask for something small this morning, until ``at_least``
    approvals wait for them. The history leaves that to chance (how many of its approvals are
    still within their OLA depends on the hour it is played at). Returns how many requests it
    submitted."""
    rng = random.Random(seed)
    items = [item for item in CatalogItem.objects.filter(is_published=True).order_by("code")
             if TYPICAL_COSTS.get(item.code)]
    submitted = 0
    for department in (Department.objects.filter(
            head__username__in=[u for u, _ in DEMO_LOGINS]).select_related("head")
            .order_by("code")):
        head = department.head
        people = list(User.objects.filter(department=department, is_active=True)
                      .exclude(pk=head.pk).order_by("username"))
        if not people or not items:
            continue
        waiting = Step.objects.filter(state=StepState.ACTIVE, kind=StepKind.APPROVAL,
                                      accountable_head=head).count()
        for attempt in range(4 * at_least):
            if waiting >= at_least:
                break
            item = rng.choice(items)
            when = now - timedelta(minutes=30 + 7 * attempt)
            try:
                request = request_submit(
                    actor=rng.choice(people), item=item, answers=_answers_for(item, rng, when),
                    estimated_cost=Decimal(TYPICAL_COSTS[item.code][0]), at=when)
            except DomainError:
                continue
            submitted += 1
            waiting += request.steps.filter(state=StepState.ACTIVE, kind=StepKind.APPROVAL,
                                            accountable_head=head).count()
    return submitted
