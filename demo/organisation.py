"""The demo organisation: departments, people, paths, catalog items and KPIs.

Used by ``manage.py seed_demo`` and by tests that want a realistic organisation. Every
function is idempotent: running it again finds what exists and creates only what is missing.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accountability.choices import Channel
from accountability.delays import next_quarter, quarter_of, reporting_tz
from accountability.models import ChangePlan
from accountability.services.plans import (
    plan_create,
    plan_go_live,
    workflow_add,
    workflow_retire,
)
from accountability.services.risks import flag_delays
from approvals.choices import Responsible, StepKind, StepState
from approvals.models import ApprovalPath, Step, StepTemplate
from approvals.services import request_cancel, step_approve, step_complete, step_reject
from governance.choices import MembershipRole
from governance.errors import DomainError
from governance.models import Department, Membership, User
from kpis.choices import Direction, Measure
from kpis.models import OutcomeKPI
from requests_app.models import CatalogItem
from requests_app.services import request_submit

DEMO_PASSWORD = "demo"

# code, name, cost centre, head username
DEPARTMENTS = [
    ("OPS", "Operations", "CC-1000", "oscar"),
    ("FIN", "Finance", "CC-1100", "fiona"),
    ("IT", "IT", "CC-1200", "irene"),
    ("HR", "HR", "CC-1300", "helen"),
    ("FAC", "Facilities", "CC-1400", "frank"),
    ("PRO", "Procurement", "CC-1500", "paula"),
    ("LEG", "Legal", "CC-1600", "leo"),
    ("MKT", "Marketing", "CC-1700", "hank"),
]

# username, first, last, department, role (None: plain member), ops leader
PEOPLE = [
    ("oscar", "Oscar", "Olsen", "OPS", None, False),
    ("fiona", "Fiona", "Fischer", "FIN", None, False),
    ("irene", "Irene", "Ito", "IT", None, False),
    ("helen", "Helen", "Hart", "HR", None, False),
    ("frank", "Frank", "Foster", "FAC", None, False),
    ("paula", "Paula", "Perez", "PRO", None, False),
    ("leo", "Leo", "Lang", "LEG", None, False),
    ("hank", "Hank", "Hughes", "MKT", None, False),
    ("alice", "Alice", "Adams", "MKT", None, False),
    ("bob", "Bob", "Brown", "MKT", None, False),
    ("carol", "Carol", "Clark", "HR", None, False),
    ("dave", "Dave", "Diaz", "OPS", None, False),
    ("erin", "Erin", "Evans", "LEG", None, False),
    ("ivan", "Ivan", "Ivanov", "IT", MembershipRole.AGENT, False),
    ("isaac", "Isaac", "Irwin", "IT", MembershipRole.AGENT, False),
    ("felix", "Felix", "Ford", "FIN", MembershipRole.APPROVER, False),
    ("fred", "Fred", "Fox", "FAC", MembershipRole.AGENT, False),
    ("petra", "Petra", "Price", "PRO", MembershipRole.AGENT, False),
    ("hugo", "Hugo", "Hill", "HR", MembershipRole.AGENT, False),
    ("lena", "Lena", "Lopez", "LEG", MembershipRole.AGENT, False),
    ("mia", "Mia", "Moore", "MKT", MembershipRole.AGENT, False),
    ("finn", "Finn", "Fry", "FIN", MembershipRole.AGENT, False),
    ("olivia", "Olivia", "Owens", "OPS", None, True),
]

DEMO_LOGINS = [
    ("alice", "employee, Marketing"),
    ("hank", "head of Marketing"),
    ("fiona", "head of Finance"),
    ("ivan", "agent in IT"),
    ("irene", "head of IT"),
    ("olivia", "ops leader"),
    ("admin", "superuser (Django admin)"),
]

FINANCE_THRESHOLD = Decimal("5000")

# name: [(name, kind, responsible, department code, min cost, OLA hours)]
PATHS = {
    "Head approval, then fulfilment": [
        ("Head approval", StepKind.APPROVAL, Responsible.REQUESTER_HEAD, None, None, 8),
        ("Fulfilment", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 24),
    ],
    "Head and finance approval, then fulfilment": [
        ("Head approval", StepKind.APPROVAL, Responsible.REQUESTER_HEAD, None, None, 8),
        ("Finance approval", StepKind.APPROVAL, Responsible.DEPARTMENT, "FIN", FINANCE_THRESHOLD, 16),
        ("Fulfilment", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 32),
    ],
    "Purchase with legal review": [
        ("Head approval", StepKind.APPROVAL, Responsible.REQUESTER_HEAD, None, None, 8),
        ("Finance approval", StepKind.APPROVAL, Responsible.DEPARTMENT, "FIN", FINANCE_THRESHOLD, 16),
        ("Legal review", StepKind.APPROVAL, Responsible.DEPARTMENT, "LEG", Decimal("20000"), 24),
        ("Purchase order", StepKind.EXECUTION, Responsible.DEPARTMENT, "PRO", None, 24),
        ("Delivery and set-up", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 24),
    ],
    "Fulfilment only": [
        ("Fulfilment", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 16),
    ],
}

# name, unit, direction, baseline, target, owner, measure
KPIS = [
    ("Laptop delivery cycle time", "hours", Direction.LOWER_IS_BETTER, 160, 72, "IT", Measure.MEDIAN_CYCLE_TIME),
    ("IT requests on time", "%", Direction.HIGHER_IS_BETTER, 55, 90, "IT", Measure.ON_TIME_RATE),
    ("Time to productive new hire", "hours", Direction.LOWER_IS_BETTER, 120, 48, "HR", Measure.MEDIAN_CYCLE_TIME),
    ("Workplace fixes on time", "%", Direction.HIGHER_IS_BETTER, 60, 85, "FAC", Measure.ON_TIME_RATE),
    ("Purchasing cost per request", "EUR", Direction.LOWER_IS_BETTER, 9000, 7000, "PRO", Measure.COST_PER_REQUEST),
    ("Contract review backlog", "requests", Direction.LOWER_IS_BETTER, 40, 10, "LEG", Measure.OPEN_BACKLOG),
    ("Campaign launches per week", "requests", Direction.HIGHER_IS_BETTER, 1, 3, "MKT", Measure.THROUGHPUT),
    ("Expense reimbursement on time", "%", Direction.HIGHER_IS_BETTER, 50, 95, "FIN", Measure.ON_TIME_RATE),
]

_TEXT = {"name": "details", "label": "What do you need?", "type": "textarea", "required": True,
         "help_text": "Enough for someone who has never met you to act on it."}
# code, name, department, path, KPI, target hours, cost of delay per day, extra fields, typical cost
ITEMS = [
    ("laptop", "New laptop", "IT", "Head and finance approval, then fulfilment",
     "Laptop delivery cycle time", 40, 150,
     [{"name": "model", "label": "Model", "type": "choice", "required": True,
       "choices": ["13-inch standard", "15-inch performance", "Developer workstation"]},
      {"name": "needed_by", "label": "Needed by", "type": "date", "required": False}], (1200, 9000)),
    ("software", "Software licence", "IT", "Head and finance approval, then fulfilment",
     "IT requests on time", 24, 80,
     [{"name": "product", "label": "Product", "type": "text", "required": True},
      {"name": "seats", "label": "Seats", "type": "integer", "required": True, "min": 1, "max": 500}],
     (100, 20000)),
    ("access", "System access", "IT", "Head approval, then fulfilment", "IT requests on time", 8, 200,
     [{"name": "system", "label": "System", "type": "text", "required": True},
      {"name": "read_only", "label": "Read-only is enough", "type": "boolean"}], None),
    ("phone", "Mobile phone", "IT", "Head and finance approval, then fulfilment",
     "IT requests on time", 24, 60, [], (300, 1500)),
    ("onboarding", "New starter onboarding", "HR", "Head approval, then fulfilment",
     "Time to productive new hire", 40, 400,
     [{"name": "starter_name", "label": "Starter's name", "type": "text", "required": True},
      {"name": "start_date", "label": "Start date", "type": "date", "required": True},
      {"name": "email", "label": "Starter's private email", "type": "email"}], None),
    ("training", "Training course", "HR", "Head and finance approval, then fulfilment",
     "Time to productive new hire", 40, 50,
     [{"name": "course", "label": "Course", "type": "text", "required": True}], (300, 8000)),
    ("desk-move", "Desk move", "FAC", "Fulfilment only", "Workplace fixes on time", 16, 40, [], None),
    ("repair", "Office repair", "FAC", "Fulfilment only", "Workplace fixes on time", 8, 120,
     [{"name": "room", "label": "Room", "type": "text", "required": True}], None),
    ("purchase", "Purchase of goods", "PRO", "Purchase with legal review",
     "Purchasing cost per request", 80, 250,
     [{"name": "supplier", "label": "Preferred supplier", "type": "text"}], (1000, 60000)),
    ("contract", "Contract review", "LEG", "Head approval, then fulfilment",
     "Contract review backlog", 40, 300,
     [{"name": "counterparty", "label": "Counterparty", "type": "text", "required": True}], None),
    ("campaign", "Campaign budget", "MKT", "Head and finance approval, then fulfilment",
     "Campaign launches per week", 24, 500,
     [{"name": "channel", "label": "Channel", "type": "choice", "required": True,
       "choices": ["Online", "Print", "Event"]}], (2000, 40000)),
    ("expenses", "Expense reimbursement", "FIN", "Head approval, then fulfilment",
     "Expense reimbursement on time", 24, 30, [], (20, 3000)),
]

# What people type when they look for an item (the catalog search finds these too).
KEYWORDS = {
    "laptop": "notebook, computer, MacBook, ThinkPad",
    "software": "licence, license, subscription, SaaS",
    "access": "account, login, permission, VPN",
    "phone": "mobile, smartphone, iPhone, SIM",
    "desk-move": "office move, seat, relocation",
    "repair": "broken, fix, maintenance",
    "expenses": "refund, receipt, travel costs",
}


@transaction.atomic
def seed_organisation() -> None:
    departments = {}
    for code, name, cost_centre, _head in DEPARTMENTS:
        departments[code], _ = Department.objects.get_or_create(
            code=code, defaults={"name": name, "cost_centre": cost_centre}
        )
    for username, first, last, dept, role, ops in PEOPLE:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com",
                      "department": departments[dept], "is_ops_leader": ops},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(
            user=user, department=departments[dept],
            defaults={"role": role or MembershipRole.MEMBER},
        )
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD,
                                      first_name="Ada", last_name="Admin")
    for code, _name, _cc, head in DEPARTMENTS:
        department = departments[code]
        changed = False
        if department.head_id is None:
            department.head = User.objects.get(username=head)
            changed = True
        if code != "OPS" and department.parent_id is None:
            department.parent = departments["OPS"]
            changed = True
        if changed:
            department.save()
    for name, steps in PATHS.items():
        path, created = ApprovalPath.objects.get_or_create(name=name)
        if created:
            for order, (step_name, kind, responsible, dept, min_cost, ola) in enumerate(steps, 1):
                StepTemplate.objects.create(
                    path=path, order=order, name=step_name, kind=kind, responsible=responsible,
                    department=departments[dept] if dept else None, min_cost=min_cost,
                    ola_hours=ola, allow_department_approvers=(dept == "FIN"),
                )
    kpis = {}
    for name, unit, direction, baseline, target, owner, measure in KPIS:
        kpis[name], _ = OutcomeKPI.objects.get_or_create(
            name=name,
            defaults={"unit": unit, "direction": direction, "baseline": baseline, "target": target,
                      "owner_department": departments[owner], "measure": measure},
        )
    go_live = timezone.now() - timedelta(days=200)
    for code, name, dept, path, kpi, target, cod, fields, _cost in ITEMS:
        CatalogItem.objects.get_or_create(
            code=code,
            defaults={"name": name, "keywords": KEYWORDS.get(code, ""),
                      "fulfilling_department": departments[dept],
                      "path": ApprovalPath.objects.get(name=path), "kpi": kpis[kpi],
                      "form_fields": [_TEXT, *fields], "asks_cost": True,
                      "target_cycle_hours": target, "cost_of_delay_per_day": cod,
                      "is_published": True, "published_at": go_live},
        )


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


def _cost_for(spec, rng: random.Random) -> Decimal:
    if spec is None:
        return Decimal("0")
    low, high = spec
    # Roughly a third of the costed requests go over the finance threshold.
    return Decimal(rng.randint(low, high)).quantize(Decimal("1"))


DEMO_SPAN = timedelta(days=180)  # the demo's requests are submitted over this past span


def seed_requests(count: int, *, seed: int = 7, progress=None) -> int:
    """Create ``count`` requests over the past two quarters through the real services, each
    advanced as far as its dice say: fulfilled, rejected, cancelled, or still waiting (some
    of those overdue now)."""
    rng = random.Random(seed)
    now = timezone.now()
    items = list(CatalogItem.objects.filter(is_published=True).select_related("fulfilling_department"))
    costs = {code: cost for code, *_rest, cost in ITEMS}
    heads = set(Department.objects.exclude(head=None).values_list("head_id", flat=True))
    requesters = list(User.objects.filter(is_superuser=False, department__isnull=False)
                      .exclude(pk__in=heads).exclude(is_ops_leader=True))
    agents: dict[int, list[User]] = {}
    for m in Membership.objects.filter(role=MembershipRole.AGENT).select_related("user"):
        agents.setdefault(m.department_id, []).append(m.user)
    created = 0
    for i in range(count):
        # Spread over ~180 days, denser recently; the most recent ones are still open.
        age = timedelta(hours=rng.triangular(0, DEMO_SPAN.total_seconds() / 3600, 24 * 20))
        submitted = now - age
        item = rng.choice(items)
        requester = rng.choice(requesters)
        try:
            request = request_submit(
                actor=requester, item=item, answers=_answers_for(item, rng, submitted),
                estimated_cost=_cost_for(costs[item.code], rng), at=submitted,
            )
        except DomainError:
            continue
        created += 1
        _play(request, rng, now, agents)
        if progress:
            progress(i + 1)
    return created


def quarter_ends(first: datetime, last: datetime) -> list[datetime]:
    """The ends of the reporting quarters after ``first`` up to ``last``, oldest first."""
    tz = reporting_tz()
    quarter, ends = quarter_of(first, tz), []
    while (end := datetime.combine(next_quarter(quarter), time(0), tz)) < last:
        ends.append(end)
        quarter = next_quarter(quarter)
    return ends


def _scan_quarter_ends(step, when: datetime, since: datetime) -> None:
    """Before an overdue ``step`` that lived through a quarter end closes at ``when``, run
    the delay scan at every quarter end since ``since`` up to ``when``, oldest first, as beat
    would have: overdue time is then posted in the quarter in which it passed, not as a late
    adjustment (already-posted time is skipped, so repeating a scan is cheap)."""
    if step.due_at and quarter_ends(step.due_at, when):
        for end in quarter_ends(since, when):
            flag_delays(now=end)


def _play(request, rng: random.Random, now: datetime, agents: dict[int, list[User]]) -> None:
    cancelled = rng.random() < 0.04
    while True:
        step = Step.objects.filter(request=request, state=StepState.ACTIVE).select_related(
            "accountable_head").first()
        if step is None:
            return
        # Most steps finish inside their OLA; a quarter run late, some very late.
        lateness = rng.choices([0.3, 0.8, 1.6, 3.5], weights=[45, 30, 17, 8])[0]
        when = step.activated_at + timedelta(hours=float(step.ola_hours) * lateness * 1.8)
        # Some work is simply still waiting (and, if old enough, overdue now).
        if when >= now or rng.random() < 0.09:
            return
        _scan_quarter_ends(step, when, since=now - DEMO_SPAN)
        if cancelled and rng.random() < 0.5:
            request_cancel(actor=request.requester, request=request,
                           reason="No longer needed.", at=when)
            return
        if step.kind == StepKind.APPROVAL:
            if rng.random() < 0.08:
                step_reject(actor=step.accountable_head, step=step,
                            comment="Not in this quarter's budget.", at=when)
                return
            step_approve(actor=step.accountable_head, step=step, comment="", at=when)
        else:
            team = agents.get(step.accountable_department_id)
            if not team:
                return
            step_complete(actor=rng.choice(team), step=step, note="Done.", at=when)


DEMO_PLAN = "Laptops and phones only through SRM"


def seed_change_plan(now: datetime | None = None) -> ChangePlan | None:
    """One plan in progress: live for two months, one legacy workflow retired with its
    evidence, one past its retirement date (its head is reminded), so the governance pages
    show what they are for. Made through the services, so its audit trail is the real one."""
    if ChangePlan.objects.filter(name=DEMO_PLAN).exists():
        return None
    now = now or timezone.now()
    today = timezone.localdate(now)
    olivia = User.objects.get(username="olivia")
    plan = plan_create(
        actor=olivia, name=DEMO_PLAN, sponsor=olivia,
        description="Laptop and phone requests used to be approved by e-mail to the IT desk "
                    "and tracked in Procurement's spreadsheet. From go-live they go through the "
                    "catalog only.",
        items=CatalogItem.objects.filter(code__in=["laptop", "phone"]),
        go_live_on=today - timedelta(days=60), value_target_on=today + timedelta(days=90),
        at=now - timedelta(days=90))
    laptop = CatalogItem.objects.get(code="laptop")
    mailbox = workflow_add(
        actor=olivia, plan=plan, name="Laptop approvals by e-mail to it-desk@",
        channel=Channel.EMAIL, owning_department=Department.objects.get(code="IT"),
        replaced_by=laptop, retire_by=today - timedelta(days=30))
    workflow_add(
        actor=olivia, plan=plan, name="Procurement's phone-order spreadsheet",
        channel=Channel.SPREADSHEET, owning_department=Department.objects.get(code="PRO"),
        replaced_by=CatalogItem.objects.get(code="phone"), retire_by=today - timedelta(days=10))
    plan_go_live(actor=olivia, plan=plan, at=now - timedelta(days=60),
                 justification="Pilot teams trained; the spreadsheet stays read-only until "
                               "Procurement confirms every open order is in SRM.")
    workflow_retire(actor=User.objects.get(username="irene"), workflow=mailbox,
                    on=today - timedelta(days=33),
                    evidence="it-desk@ answers with the portal link; the approval rule in the "
                             "mailbox was removed.")
    return plan
