"""The demo organisation: departments, people, paths, catalog items and KPIs.

Used by ``manage.py seed_demo`` and by tests that want a realistic organisation. Every
function is idempotent: running it again finds what exists and creates only what is missing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accountability.choices import Channel
from accountability.models import ChangePlan
from accountability.services.plans import (
    plan_create,
    plan_go_live,
    workflow_add,
    workflow_retire,
)
from approvals.choices import Responsible, StepKind
from approvals.models import ApprovalPath, StepTemplate
from demo.logins import DEMO_LOGINS, DEMO_PASSWORD  # noqa: F401 - where tests import them
from governance.choices import MembershipRole
from governance.models import Department, Membership, User
from kpis.choices import Direction, Measure
from kpis.models import OutcomeKPI
from requests_app.models import CatalogItem

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
# code, name, department, path, KPI, target hours, cost of delay per day, extra fields, typical
# cost (low, high: never less than four business days of its cost of delay; None: no money)
ITEMS = [
    ("laptop", "New laptop", "IT", "Head and finance approval, then fulfilment",
     "Laptop delivery cycle time", 40, 150,
     [{"name": "model", "label": "Model", "type": "choice", "required": True,
       "choices": ["13-inch standard", "15-inch performance", "Developer workstation"]},
      {"name": "needed_by", "label": "Needed by", "type": "date", "required": False}], (1200, 4500)),
    ("software", "Software licence", "IT", "Head and finance approval, then fulfilment",
     "IT requests on time", 24, 80,
     [{"name": "product", "label": "Product", "type": "text", "required": True},
      {"name": "seats", "label": "Seats", "type": "integer", "required": True, "min": 1, "max": 500}],
     (650, 18000)),
    ("access", "System access", "IT", "Head approval, then fulfilment", "IT requests on time", 8, 200,
     [{"name": "system", "label": "System", "type": "text", "required": True},
      {"name": "read_only", "label": "Read-only is enough", "type": "boolean"}], None),
    ("phone", "Mobile phone", "IT", "Head and finance approval, then fulfilment",
     "IT requests on time", 24, 60, [], (480, 1500)),
    ("onboarding", "New starter onboarding", "HR", "Head approval, then fulfilment",
     "Time to productive new hire", 40, 400,
     [{"name": "starter_name", "label": "Starter's name", "type": "text", "required": True},
      {"name": "start_date", "label": "Start date", "type": "date", "required": True},
      {"name": "email", "label": "Starter's private email", "type": "email"}], None),
    ("training", "Training course", "HR", "Head and finance approval, then fulfilment",
     "Time to productive new hire", 40, 50,
     [{"name": "course", "label": "Course", "type": "text", "required": True}], (400, 6500)),
    ("desk-move", "Desk move", "FAC", "Fulfilment only", "Workplace fixes on time", 16, 40, [], None),
    ("repair", "Office repair", "FAC", "Fulfilment only", "Workplace fixes on time", 8, 120,
     [{"name": "room", "label": "Room", "type": "text", "required": True}], None),
    ("purchase", "Purchase of goods", "PRO", "Purchase with legal review",
     "Purchasing cost per request", 80, 250,
     [{"name": "supplier", "label": "Preferred supplier", "type": "text"}], (2000, 60000)),
    ("contract", "Contract review", "LEG", "Head approval, then fulfilment",
     "Contract review backlog", 40, 300,
     [{"name": "counterparty", "label": "Counterparty", "type": "text", "required": True}], None),
    ("campaign", "Campaign budget", "MKT", "Head and finance approval, then fulfilment",
     "Campaign launches per week", 24, 500,
     [{"name": "channel", "label": "Channel", "type": "choice", "required": True,
       "choices": ["Online", "Print", "Event"]}], (4000, 40000)),
    ("expenses", "Expense reimbursement", "FIN", "Head approval, then fulfilment",
     "Expense reimbursement on time", 24, 30, [], (240, 2800)),
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
    password = None  # hashed once for everyone: a strong hash takes a noticeable moment
    for username, first, last, dept, role, ops in PEOPLE:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com",
                      "department": departments[dept], "is_ops_leader": ops},
        )
        if created:
            password = password or make_password(DEMO_PASSWORD)
            user.password = password
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(
            user=user, department=departments[dept],
            defaults={"role": role or MembershipRole.MEMBER},
        )
    if not User.objects.filter(username="admin").exists():
        admin = User.objects.create_superuser("admin", "admin@example.com", None,
                                              first_name="Ada", last_name="Admin")
        admin.password = password or make_password(DEMO_PASSWORD)
        admin.save(update_fields=["password"])
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
    # Live since before the demo's history begins (five quarters).
    go_live = timezone.now() - timedelta(days=500)
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
