"""A realistic enterprise-sized data set for the benchmarks, bulk-loaded.

``generate(requests=N, seed=S)`` writes an organisation of 200 departments (with heads,
parents and calendars), 50,000 people, 300 catalog items with KPIs and approval paths, then
N requests spread over the past two years with their steps, delay risks (and their postings
to the cost-of-delay ledger) and audit events, as if the services had run all along: most requests closed, the
recent and the stalled ones still open with one active step each, overdue ones carrying an
open delay risk.

It bypasses the services on purpose (1,000,000 requests through ``request_submit`` would take
hours), so it mirrors what they write: the same states, the same audit verbs, due times from
the same business calendar (``FastCalendar`` is ``BusinessCalendar`` precomputed for a date
range, checked against it in the tests). PostgreSQL is loaded with ``COPY`` from a writer
thread while the next chunk is generated; SQLite with ``executemany`` in batches. Memory is
bounded by the chunk size. Deterministic for a seed and an anchor time (``now``, rounded down
to the hour by default).
"""

from __future__ import annotations

import json
import math
import queue
import random
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connections, transaction

from accountability.models import DelayPosting, DelayRisk
from approvals.choices import DecisionChannel, Responsible, StepKind, StepState
from approvals.models import ApprovalPath, Step, StepTemplate
from governance.calendar import BusinessCalendar
from governance.models import AuditEvent, Department, Membership, User
from kpis.choices import Direction, Measure
from kpis.models import OutcomeKPI
from requests_app.choices import RequestState, Source
from requests_app.models import CatalogItem, RequestCounter, ServiceRequest

DEPARTMENTS = 200
USERS = 50_000
ITEMS = 300
KPIS = 60
CHUNK = 5_000  # requests per COPY transaction
PASSWORD = "bench"
YEARS = 2
# Which share of steps finish how late (multiple of the OLA): about one in five is late.
LATENESS = ([0.3, 0.7, 0.95, 1.5, 3.0], [30, 30, 20, 14, 6])
DAY_HOURS = 8


# --- Business time, precomputed --------------------------------------------------------------
class FastCalendar:
    """``BusinessCalendar.add``/``between`` in O(log n) over epoch seconds, for a date range.

    Working windows are listed once with the business seconds before each, so adding hours
    or measuring a span is two bisections instead of a walk over days.
    """

    def __init__(self, calendar: BusinessCalendar, first: date, last: date):
        starts, ends, cum = [], [], []
        total = 0
        day = first
        while day <= last:
            bounds = calendar.window(day)
            if bounds:
                s, e = int(bounds[0].timestamp()), int(bounds[1].timestamp())
                starts.append(s)
                ends.append(e)
                cum.append(total)
                total += e - s
            day += timedelta(days=1)
        self.starts, self.ends, self.cum = starts, ends, cum
        self.cum_end = [c + (e - s) for c, s, e in zip(cum, starts, ends, strict=True)]
        self.first = int(datetime.combine(first, time(0), calendar.tz).timestamp())
        self.last = ends[-1]

    def position(self, t: int) -> int:
        """Business seconds from the start of the range to ``t``."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        return self.cum[i] + min(t - self.starts[i], self.ends[i] - self.starts[i])

    def add(self, t: int, hours: float) -> int:
        if hours <= 0:
            return t
        if not self.first <= t < self.last:
            raise ValueError("time outside the precomputed calendar range")
        target = self.position(t) + round(hours * 3600)
        j = bisect_left(self.cum_end, target)
        return self.starts[j] + (target - self.cum[j])

    def between(self, a: int, b: int) -> int:
        """Business seconds from ``a`` to ``b`` (zero when ``b`` is not after ``a``)."""
        return max(0, self.position(b) - self.position(a)) if b > a else 0


# --- The organisation ------------------------------------------------------------------------
FIRST = ["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas",
         "Karla", "Lukas", "Mara", "Noah", "Olga", "Paul", "Rosa", "Sven", "Tara", "Uwe",
         "Vera", "Willi", "Yara", "Zoe", "Amir", "Chen", "Priya", "Mateo", "Sofia", "Kenji"]
LAST = ["Adler", "Becker", "Costa", "Dietrich", "Engel", "Fischer", "Garcia", "Hoffmann",
        "Ibrahim", "Jung", "Keller", "Lange", "Meyer", "Nowak", "Otto", "Peters", "Quast",
        "Richter", "Schulz", "Torres", "Ulrich", "Vogel", "Wagner", "Yilmaz", "Zimmer"]
FUNCTIONS = ["Sales", "Marketing", "Engineering", "Research", "Customer Service", "Logistics",
             "Production", "Quality", "Controlling", "Treasury", "Data", "Security", "Design",
             "Product", "Support", "Training", "Compliance", "Partnerships", "Field Service",
             "Analytics"]
REGIONS = ["Berlin", "Munich", "Hamburg", "Cologne", "Frankfurt", "Stuttgart", "Leipzig",
           "Dresden", "Vienna", "Zurich"]
# Shared services that own paths' named steps: code → name. The first is the root.
SERVICES = [("OPS", "Group Operations"), ("FIN", "Finance"), ("LEG", "Legal"),
            ("PRO", "Procurement"), ("IT", "IT"), ("HR", "HR"), ("FAC", "Facilities"),
            ("SEC", "Information Security")]
DIVISIONS = 12

# name → [(step, kind, responsible, named dept code, min cost, OLA hours)], weight of items
PATHS = {
    "Head approval, then fulfilment": ([
        ("Head approval", StepKind.APPROVAL, Responsible.REQUESTER_HEAD, None, None, 8),
        ("Fulfilment", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 24),
        ("Confirmation", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 8),
    ], 3),
    "Head and finance approval, then fulfilment": ([
        ("Head approval", StepKind.APPROVAL, Responsible.REQUESTER_HEAD, None, None, 8),
        ("Finance approval", StepKind.APPROVAL, Responsible.DEPARTMENT, "FIN", Decimal(5000), 16),
        ("Fulfilment", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 32),
        ("Hand-over", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 8),
    ], 3),
    "Purchase with legal review": ([
        ("Head approval", StepKind.APPROVAL, Responsible.REQUESTER_HEAD, None, None, 8),
        ("Finance approval", StepKind.APPROVAL, Responsible.DEPARTMENT, "FIN", Decimal(5000), 16),
        ("Legal review", StepKind.APPROVAL, Responsible.DEPARTMENT, "LEG", Decimal(20000), 24),
        ("Purchase order", StepKind.EXECUTION, Responsible.DEPARTMENT, "PRO", None, 24),
        ("Delivery and set-up", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 24),
        ("Asset registration", StepKind.EXECUTION, Responsible.DEPARTMENT, "FIN", None, 8),
    ], 2),
    "Access with security review": ([
        ("Head approval", StepKind.APPROVAL, Responsible.REQUESTER_HEAD, None, None, 8),
        ("Security review", StepKind.APPROVAL, Responsible.DEPARTMENT, "SEC", None, 16),
        ("Provisioning", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 16),
        ("Access check", StepKind.EXECUTION, Responsible.DEPARTMENT, "SEC", None, 8),
        ("Confirmation", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 4),
    ], 3),
    "New starter": ([
        ("Head approval", StepKind.APPROVAL, Responsible.REQUESTER_HEAD, None, None, 8),
        ("HR approval", StepKind.APPROVAL, Responsible.DEPARTMENT, "HR", None, 16),
        ("Contract", StepKind.EXECUTION, Responsible.DEPARTMENT, "HR", None, 24),
        ("Workplace", StepKind.EXECUTION, Responsible.DEPARTMENT, "FAC", None, 24),
        ("Equipment", StepKind.EXECUTION, Responsible.DEPARTMENT, "IT", None, 24),
        ("Accounts", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 8),
        ("Welcome", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 8),
    ], 2),
    "Fulfilment only": ([
        ("Fulfilment", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 16),
        ("Confirmation", StepKind.EXECUTION, Responsible.FULFILLING, None, None, 4),
    ], 1),
}


@dataclass
class Org:
    """What the request generator needs to know about the organisation, by id."""

    dept_ids: list[int] = field(default_factory=list)
    dept_code: dict[int, str] = field(default_factory=dict)
    head: dict[int, int] = field(default_factory=dict)
    head_name: dict[int, str] = field(default_factory=dict)
    parent: dict[int, int | None] = field(default_factory=dict)
    head_username: dict[int, str] = field(default_factory=dict)  # a head's user id → username
    agents: dict[int, list[int]] = field(default_factory=dict)
    requesters: list[int] = field(default_factory=list)
    user_dept: dict[int, int] = field(default_factory=dict)
    services: dict[str, int] = field(default_factory=dict)
    # item id → (code, name, fulfilling dept, target hours, cost of delay, (low, high), path)
    items: list[tuple] = field(default_factory=list)
    item_weights: list[float] = field(default_factory=list)
    # path name → [(template id, order, name, kind, responsible, dept id, min cost, OLA)]
    templates: dict[str, list[tuple]] = field(default_factory=dict)


# --- Writing rows ----------------------------------------------------------------------------
class Sink:
    """Where rows go: ``COPY`` on PostgreSQL (from a writer thread), ``executemany`` elsewhere.

    Values arrive as Python ints, strs, bools, ``None`` and epoch seconds for the columns
    named in ``times``; each backend formats them its own way."""

    def __init__(self, alias: str):
        self.alias = alias
        self.connection = connections[alias]
        self.postgres = self.connection.vendor == "postgresql"
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # Both backends store UTC; SQLite as naive text, PostgreSQL as an ISO string with offset.
    def _time(self, t: int) -> str:
        text = datetime.fromtimestamp(t, UTC).isoformat(sep=" ")
        return text if self.postgres else text[:-6]

    def start(self) -> None:
        if not self.postgres:
            return
        self._queue = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._copy_worker, name="generate-load-copy",
                                        daemon=True)
        self._thread.start()

    def write(self, batch: dict[str, tuple[list[str], set[str], list[tuple]]]) -> None:
        """Write one transaction's worth: ``{table: (columns, time columns, rows)}``."""
        if self._error:
            raise self._error
        if self._queue is not None:
            self._queue.put(batch)
            return
        with transaction.atomic(using=self.alias), self.connection.cursor() as cursor:
            for table, (columns, times, rows) in batch.items():
                if not rows:
                    continue
                marks = ", ".join(["%s"] * len(columns))
                convert = self._converters(columns, times)
                cursor.executemany(
                    f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})',
                    [tuple(c(v) for c, v in zip(convert, row, strict=True)) for row in rows],
                )

    def _converters(self, columns, times) -> list[Callable]:
        same = _identity
        if self.postgres:
            return [self._pg_time if c in times else _pg_text for c in columns]
        return [self._nullable_time if c in times else same for c in columns]

    def _nullable_time(self, v):
        return None if v is None else self._time(v)

    def _pg_time(self, v) -> str:
        return "\\N" if v is None else self._time(v)

    def close(self) -> None:
        if self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = None
        if self._error:
            raise self._error

    def _copy_worker(self) -> None:
        import psycopg

        params = self.connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        try:
            with psycopg.connect(**params) as conn:
                try:
                    conn.execute("SET session_replication_role = replica")
                    conn.commit()
                except psycopg.Error:  # not a superuser: foreign keys are checked, slower
                    conn.rollback()
                while (batch := self._queue.get()) is not None:
                    with conn.transaction(), conn.cursor() as cursor:
                        for table, (columns, times, rows) in batch.items():
                            if not rows:
                                continue
                            convert = self._converters(columns, times)
                            sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
                            with cursor.copy(sql) as copy:
                                copy.write("".join(
                                    "\t".join([c(v) for c, v in zip(convert, row, strict=True)])
                                    + "\n" for row in rows
                                ))
        except BaseException as exc:  # surfaced by the next write() / close()
            self._error = exc
            while self._queue.get() is not None:  # unblock the producer
                pass


def _identity(v):
    return v


def _pg_text(v) -> str:
    if v is None:
        return "\\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    if isinstance(v, str):
        return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return str(v)


# --- The generator ---------------------------------------------------------------------------
class Loader:
    def __init__(self, *, requests: int, seed: int, using: str, now: datetime | None,
                 progress: Callable[[int], None] | None, people: int = USERS):
        self.n = requests
        self.people = people
        self.rng = random.Random(seed)
        self.using = using
        self.progress = progress
        now = now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.now = int(now.timestamp())
        self.start = self.now - YEARS * 365 * 86400
        self.calendar = BusinessCalendar(timezone=settings.TIME_ZONE,
                                         country=settings.SRM_DEFAULT_COUNTRY)
        begin = datetime.fromtimestamp(self.start, UTC).date() - timedelta(days=7)
        # Enough room after now for the longest OLA of a step activated just now.
        self.cal = FastCalendar(self.calendar, begin, date.today() + timedelta(days=400))
        self.sink = Sink(using)
        self.reporting = ZoneInfo(settings.SRM_REPORTING_TIMEZONE)
        self.ct_request = ContentType.objects.db_manager(using).get_for_model(ServiceRequest).pk
        self.ct_step = ContentType.objects.db_manager(using).get_for_model(Step).pk
        self.quarters = self._quarter_starts(begin)

    def _next_id(self, model) -> int:
        last = model.objects.using(self.using).order_by("-pk").values_list("pk", flat=True).first()
        return (last or 0) + 1

    def _quarter_starts(self, begin: date) -> list[int]:
        starts, year, month = [], begin.year, 1
        while True:
            moment = datetime(year, month, 1, tzinfo=self.reporting)
            if moment.date() > date.today() + timedelta(days=400):
                return starts
            starts.append(int(moment.timestamp()))
            month += 3
            if month > 12:
                year, month = year + 1, 1

    # --- organisation (small: ORM bulk_create) ------------------------------------------
    def build_org(self) -> Org:
        rng, org, db = self.rng, Org(), self.using
        if Department.objects.using(db).filter(code__in=[c for c, _ in SERVICES]).exists():
            raise ValueError("This database already holds a generated organisation; "
                             "generate_load needs a freshly migrated database.")
        with transaction.atomic(using=db):
            departments = []
            for index in range(DEPARTMENTS):
                if index < len(SERVICES):
                    code, name = SERVICES[index]
                else:
                    code = f"D{index:03d}"
                    name = f"{FUNCTIONS[index % len(FUNCTIONS)]} {REGIONS[index // len(FUNCTIONS) % len(REGIONS)]}"
                    if index < len(SERVICES) + DIVISIONS:
                        name = f"{FUNCTIONS[index % len(FUNCTIONS)]} Division"
                departments.append(Department(code=code, name=name, cost_centre=f"CC-{1000 + index}"))
            departments = Department.objects.using(db).bulk_create(departments)
            root = departments[0]
            divisions = departments[len(SERVICES):len(SERVICES) + DIVISIONS]
            for index, dept in enumerate(departments[1:], 1):
                dept.parent = root if index < len(SERVICES) + DIVISIONS else rng.choice(divisions)
            # People: departments of very different sizes, a head for each.
            weights = [rng.paretovariate(1.5) for _ in departments]
            scale = (self.people - DEPARTMENTS) / sum(weights)
            sizes = [1 + int(w * scale) for w in weights]
            sizes[0] += max(0, self.people - sum(sizes))
            password = make_password(PASSWORD)
            users, joined = [], datetime.fromtimestamp(self.start, UTC) - timedelta(days=30)
            for dept, size in zip(departments, sizes, strict=True):
                for _ in range(size):
                    k = len(users) + 1
                    first, last = FIRST[k % len(FIRST)], LAST[(k // len(FIRST)) % len(LAST)]
                    users.append(User(
                        username=f"u{k:06d}", first_name=first, last_name=last,
                        email=f"u{k:06d}@example.com", password=password, department=dept,
                        date_joined=joined,
                    ))
            users[1].is_ops_leader = True
            users = User.objects.using(db).bulk_create(users, batch_size=5000)
            by_dept: dict[int, list[User]] = {}
            for user in users:
                by_dept.setdefault(user.department_id, []).append(user)
            service_ids = {dept.pk for dept in departments[:len(SERVICES)]}
            fulfilling = departments[:40]
            memberships = []
            for dept in departments:
                people = by_dept[dept.pk]
                dept.head = people[0]
                agents = set()
                if dept in fulfilling or dept.pk in service_ids:
                    agents = {u.pk for u in people[1:1 + max(1, len(people) // 10)]}
                approvers = {u.pk for u in people[1:4]} if dept.code == "FIN" else set()
                for user in people:
                    role = "agent" if user.pk in agents else "approver" if user.pk in approvers else "member"
                    memberships.append(Membership(user=user, department=dept, role=role))
                org.agents[dept.pk] = sorted(agents) or [people[0].pk]
            Membership.objects.using(db).bulk_create(memberships, batch_size=5000)
            Department.objects.using(db).bulk_update(departments, ["parent", "head"])
            heads = {dept.head_id for dept in departments}
            for dept in departments:
                org.dept_ids.append(dept.pk)
                org.dept_code[dept.pk] = dept.code
                org.head[dept.pk] = dept.head_id
                org.head_name[dept.pk] = dept.head.username
                org.parent[dept.pk] = dept.parent_id
                org.head_username[dept.head_id] = dept.head.username
            org.services = {dept.code: dept.pk for dept in departments[:len(SERVICES)]}
            for user in users:
                org.user_dept[user.pk] = user.department_id
                if user.pk not in heads and not user.is_ops_leader:
                    org.requesters.append(user.pk)

            measures = [m for m in Measure.values if m != Measure.MANUAL]
            kpis = OutcomeKPI.objects.using(db).bulk_create([
                OutcomeKPI(name=f"KPI {i:02d}: {FUNCTIONS[i % len(FUNCTIONS)]} {measures[i % len(measures)].replace('_', ' ')}",
                           unit="hours", direction=Direction.LOWER_IS_BETTER, baseline=100,
                           target=60, owner_department=fulfilling[i % len(fulfilling)],
                           measure=measures[i % len(measures)])
                for i in range(KPIS)
            ])
            paths = {}
            for name, (steps, _weight) in PATHS.items():
                path = ApprovalPath.objects.using(db).create(name=name)
                rows = StepTemplate.objects.using(db).bulk_create([
                    StepTemplate(path=path, order=order, name=step, kind=kind, responsible=resp,
                                 department_id=org.services[code] if code else None,
                                 min_cost=min_cost, ola_hours=ola,
                                 allow_department_approvers=code == "FIN")
                    for order, (step, kind, resp, code, min_cost, ola) in enumerate(steps, 1)
                ])
                paths[name] = path
                org.templates[name] = [
                    (t.pk, t.order, t.name, t.kind, t.responsible, t.department_id,
                     t.min_cost, float(t.ola_hours)) for t in rows
                ]
            path_names = list(PATHS)
            path_weights = [PATHS[p][1] for p in path_names]
            live = datetime.fromtimestamp(self.start, UTC) - timedelta(days=14)
            items = []
            for i in range(ITEMS):
                path_name = rng.choices(path_names, path_weights)[0]
                low = rng.choice([0, 50, 200, 1000, 3000])
                items.append((CatalogItem(
                    code=f"item-{i:03d}", name=f"{FUNCTIONS[i % len(FUNCTIONS)]} service {i:03d}",
                    fulfilling_department=fulfilling[i % len(fulfilling)], path=paths[path_name],
                    form_fields=[{"name": "details", "label": "What do you need?",
                                  "type": "textarea", "required": True}],
                    asks_cost=True, target_cycle_hours=rng.choice([16, 24, 40, 80]),
                    cost_of_delay_per_day=rng.choice([30, 60, 120, 250, 500]),
                    kpi=kpis[i % len(kpis)], is_published=True, published_at=live,
                ), path_name, (low, low * 20 + 2000)))
            created = CatalogItem.objects.using(db).bulk_create([item for item, _, _ in items])
            for item, (_, path_name, costs) in zip(created, items, strict=True):
                org.items.append((item.pk, item.code, item.name, item.fulfilling_department_id,
                                  float(item.target_cycle_hours), Decimal(item.cost_of_delay_per_day),
                                  costs, path_name))
            # A few popular services take most of the traffic.
            org.item_weights = [1 / (rank + 1) ** 0.8 for rank in range(ITEMS)]
        return org

    # --- requests, steps, risks, audit (streamed) ----------------------------------------
    def generate(self) -> dict[str, int]:
        org = self.build_org()
        counts = {"requests": 0, "steps": 0, "active_steps": 0, "audit_events": 0,
                  "delay_risks": 0, "open_delay_risks": 0}
        ids = {"request": self._next_id(ServiceRequest), "step": self._next_id(Step),
               "audit": self._next_id(AuditEvent), "risk": self._next_id(DelayRisk)}
        self.counters: dict[int, int] = {}
        cum_weights, total = [], 0.0
        for w in org.item_weights:
            total += w
            cum_weights.append(total)
        deferred = self._defer_indexes()
        self.sink.start()
        try:
            done = 0
            while done < self.n:
                size = min(CHUNK, self.n - done)
                batch = self._chunk(org, done, size, ids, counts, cum_weights, total)
                self.sink.write(batch)
                done += size
                if self.progress:
                    self.progress(size)
        finally:
            self.sink.close()
            self._restore_indexes(deferred)
        self._finish()
        return counts

    # Tables the load streams into: their secondary indexes are dropped for the load and built
    # again at the end (one sort per index instead of millions of B-tree insertions). Indexes
    # that back a constraint (primary keys, unique) stay, so the data is checked as it lands.
    BULK_TABLES = (ServiceRequest, Step, AuditEvent, DelayRisk, DelayPosting)

    def _defer_indexes(self) -> list[str]:
        if not self.sink.postgres:
            return []
        tables = [m._meta.db_table for m in self.BULK_TABLES]
        with self.sink.connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                FROM pg_index i
                WHERE i.indrelid = ANY(%s::regclass[])
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                """,
                [tables],
            )
            found = cursor.fetchall()
            for name, _ in found:
                cursor.execute(f"DROP INDEX {name}")
        return [definition for _, definition in found]

    def _restore_indexes(self, definitions: list[str]) -> None:
        if not definitions:
            return
        with self.sink.connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for definition in definitions:
                cursor.execute(definition)
            cursor.execute("RESET maintenance_work_mem")

    def _chunk(self, org: Org, offset: int, size: int, ids, counts, cum_weights, total):
        rng, cal, now = self.rng, self.cal, self.now
        span = self.now - 3600 - self.start
        req_rows, step_rows, audit_rows, risk_rows, accrual_rows = [], [], [], [], []
        for i in range(offset, offset + size):
            # Evenly spread, slightly denser recently (growth), in submission order.
            frac = (i + rng.random()) / self.n
            submitted = self.start + int(span * (frac ** 0.9))
            item_id, code, item_name, fulfilling, target, cod, (low, high), path_name = \
                org.items[bisect_left(cum_weights, rng.random() * total)]
            requester = rng.choice(org.requesters)
            rdept = org.user_dept[requester]
            cost = Decimal(int(low + (high - low) * rng.random() ** 3))
            year = datetime.fromtimestamp(submitted, self.reporting).year
            number = self.counters[year] = self.counters.get(year, 0) + 1
            reference = f"SR-{year}-{number:06d}"
            rid = ids["request"]
            ids["request"] += 1
            age_days = (now - submitted) / 86400
            # Stalled work: recent requests wait more often; a long tail never got finished.
            stall = 0.03 + 0.5 * math.exp(-age_days / 45)
            r = rng.random()
            fate = "cancel" if r < 0.03 else "reject" if r < 0.07 else "ok"
            source = Source.API if rng.random() < 0.25 else Source.PORTAL
            title = item_name

            def event(at, actor, verb, ct, oid, repr_, frm, to, data, reference=reference):
                audit_rows.append((ids["audit"], at, actor, None, verb, ct, str(oid), repr_[:200],
                       reference, frm, to, json.dumps(data)))
                ids["audit"] += 1

            req_repr = f"{reference} {title}"
            event(submitted, requester, "request.submitted", self.ct_request, rid, req_repr, "",
                  RequestState.IN_APPROVAL,
                  {"item": code, "estimated_cost": f"{cost}.00", "source": source})
            state, closed_at, current, acc_dept = RequestState.IN_APPROVAL, None, None, None
            clock, actor, open_ = submitted, requester, True
            steps = []
            approvers = set()  # separation of duties: nobody on two approval steps
            for tid, order, name, kind, resp, named, min_cost, ola in org.templates[path_name]:
                dept = rdept if resp == Responsible.REQUESTER_HEAD else named if named else fulfilling
                head, up = org.head[dept], dept
                applies = min_cost is None or cost >= min_cost
                if kind == StepKind.APPROVAL and applies:
                    while head in approvers and org.parent.get(up):  # the head above decides
                        up = org.parent[up]
                        head = org.head[up]
                    approvers.add(head)
                steps.append([ids["step"], tid, order, name, kind, ola, StepState.PENDING, dept,
                              head, None, None, None, None, None])
                ids["step"] += 1
                if not applies:
                    steps[-1][6] = StepState.SKIPPED
            for step in steps:
                if not open_ or step[6] != StepState.PENDING:
                    continue
                sid, _, _, name, kind, ola, _, dept, head = step[:9]
                due = cal.add(clock, ola)
                step[6], step[10], step[11] = StepState.ACTIVE, clock, due
                event(clock, actor, "step.activated", self.ct_step, sid, f"{name} (Active)",
                      StepState.PENDING, StepState.ACTIVE,
                      {"step": name, "department": org.dept_code[dept],
                       "head": org.head_username[head], "due_at": self._iso(due)})
                new_state = RequestState.IN_APPROVAL if kind == StepKind.APPROVAL else RequestState.IN_PROGRESS
                if new_state != state:
                    event(clock, actor, f"request.{new_state}", self.ct_request, rid, req_repr,
                          state, new_state, {})
                    state = new_state
                lateness = rng.choices(*LATENESS)[0]
                finish = cal.add(clock, ola * lateness)
                if finish >= now or rng.random() < stall:
                    current, acc_dept = sid, dept
                    if kind == StepKind.EXECUTION and rng.random() < 0.5:
                        step[9] = rng.choice(org.agents[dept])
                    self._risk(step, due, now, None, cod, rid, ids, risk_rows, accrual_rows, counts)
                    break
                decider = head if kind == StepKind.APPROVAL else rng.choice(org.agents[dept])
                if fate == "cancel" and rng.random() < 0.4:
                    closing, req_final, decider = StepState.CANCELLED, RequestState.CANCELLED, requester
                elif fate == "reject" and kind == StepKind.APPROVAL and rng.random() < 0.6:
                    closing, req_final = StepState.REJECTED, RequestState.REJECTED
                else:
                    closing = StepState.APPROVED if kind == StepKind.APPROVAL else StepState.DONE
                    req_final = None
                step[6], step[12], step[13] = closing, finish, decider
                if kind == StepKind.EXECUTION:
                    step[9] = decider if closing == StepState.DONE else None
                event(finish, decider, f"step.{closing}", self.ct_step, sid,
                      f"{name} ({StepState(closing).label})", StepState.ACTIVE, closing,
                      {"step": name})
                self._risk(step, due, finish, finish, cod, rid, ids, risk_rows, accrual_rows, counts)
                clock, actor = finish, decider
                if req_final:
                    open_ = False
                    event(finish, decider, f"request.{req_final}", self.ct_request, rid, req_repr,
                          state, req_final, {})
                    state, closed_at = req_final, finish
            else:
                if open_:
                    event(clock, actor, "request.fulfilled", self.ct_request, rid, req_repr, state,
                          RequestState.FULFILLED, {})
                    state, closed_at, open_ = RequestState.FULFILLED, clock, False
            if not open_:
                for step in steps:
                    if step[6] == StepState.PENDING:
                        step[6] = StepState.CANCELLED
            req_rows.append((rid, reference, title, requester, rdept, item_id,
                             json.dumps({"details": "Needed for the team's work."}), f"{cost}.00",
                             state, source, None, submitted, cal.add(submitted, target),
                             closed_at, current, acc_dept))
            for step in steps:
                sid, tid, order, name, kind, ola, st, dept, head, assignee, act, due, done, decider = step
                # A decided approval was decided on the page; nothing else has a channel.
                channel = DecisionChannel.PAGE.value if kind == StepKind.APPROVAL and decider else ""
                step_rows.append((sid, rid, tid, order, name, kind, f"{ola:.2f}", st, dept, head,
                                  assignee, act, due, done, decider, None, "", None, False,
                                  channel))
                counts["active_steps"] += st == StepState.ACTIVE
            counts["steps"] += len(steps)
        counts["requests"] += size
        counts["audit_events"] += len(audit_rows)
        return {
            ServiceRequest._meta.db_table: (REQUEST_COLUMNS, REQUEST_TIMES, req_rows),
            Step._meta.db_table: (STEP_COLUMNS, STEP_TIMES, step_rows),
            AuditEvent._meta.db_table: (AUDIT_COLUMNS, {"created_at"}, audit_rows),
            DelayRisk._meta.db_table: (RISK_COLUMNS, RISK_TIMES, risk_rows),
            DelayPosting._meta.db_table: (POSTING_COLUMNS, {"posted_at"}, accrual_rows),
        }

    def _iso(self, t: int) -> str:
        return datetime.fromtimestamp(t, UTC).isoformat()

    def _risk(self, step, due, end, resolved, cod, rid, ids, risk_rows, accrual_rows, counts):
        """A delay risk for a step that ran (or is running) past its due time."""
        overdue = self.cal.between(due, end)
        if overdue <= 0:
            return
        hours = Decimal(overdue) / 3600
        level = 1 if hours < DAY_HOURS else 2 if hours < 5 * DAY_HOURS else 3
        risk_id = ids["risk"]
        ids["risk"] += 1
        detected = due + 900
        escalated = due + DAY_HOURS * 3600 if level > 1 else None
        risk_rows.append((risk_id, step[0], rid, step[7], step[8], detected, level, escalated,
                          _money(hours), overdue, _money(cod), DAY_HOURS * 3600,
                          _money(hours / DAY_HOURS * cod), end, end, resolved,
                          "" if resolved is None else step[6]))
        counts["delay_risks"] += 1
        counts["open_delay_risks"] += resolved is None
        # One posting per quarter the delay ran through, posted as its quarter ended (as the
        # scan would have), money carried so the postings sum to the exposure.
        q = bisect_right(self.quarters, due) - 1
        seconds = amount = 0
        while q < len(self.quarters) - 1 and self.quarters[q] < end:
            part = self.cal.between(max(due, self.quarters[q]), min(end, self.quarters[q + 1]))
            if part > 0:
                seconds += part
                total = (Decimal(seconds) / (DAY_HOURS * 3600) * cod).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP)
                quarter = datetime.fromtimestamp(self.quarters[q], self.reporting).date()
                accrual_rows.append((risk_id, step[7], step[8], quarter.isoformat(),
                                     quarter.isoformat(), part, str(total - amount),
                                     min(end, self.quarters[q + 1]), "scan", ""))
                amount = total
            q += 1

    def _finish(self) -> None:
        """Sequences past the explicit ids, reference counters, fresh planner statistics."""
        conn = connections[self.using]
        models = [ServiceRequest, Step, AuditEvent, DelayRisk, DelayPosting]
        with transaction.atomic(using=self.using), conn.cursor() as cursor:
            for sql in conn.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
            for year, value in self.counters.items():
                RequestCounter.continue_after(year, value, using=self.using)
        with conn.cursor() as cursor:
            # VACUUM sets the visibility map, so the board's counts are index-only scans.
            cursor.execute("VACUUM ANALYZE" if conn.vendor == "postgresql" else "ANALYZE")


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


REQUEST_COLUMNS = ["id", "reference", "title", "requester_id", "requester_department_id",
                   "item_id", "answers", "estimated_cost", "state", "source", "external_key",
                   "submitted_at", "due_at", "closed_at", "current_step_id",
                   "accountable_department_id"]
REQUEST_TIMES = {"submitted_at", "due_at", "closed_at"}
STEP_COLUMNS = ["id", "request_id", "template_id", "order", "name", "kind", "ola_hours", "state",
                "accountable_department_id", "accountable_head_id", "assignee_id",
                "activated_at", "due_at", "completed_at", "decided_by_id", "acted_for_id",
                "comment", "on_hold_since", "decided_outside", "channel"]
STEP_TIMES = {"activated_at", "due_at", "completed_at", "on_hold_since"}
AUDIT_COLUMNS = ["id", "created_at", "actor_id", "on_behalf_of_id", "verb", "content_type_id",
                 "object_id", "object_repr", "correlation", "from_state", "to_state", "data"]
RISK_COLUMNS = ["id", "step_id", "request_id", "department_id", "head_id", "detected_at", "level",
                "escalated_at", "overdue_hours", "overdue_seconds", "cost_of_delay_per_day",
                "day_seconds", "exposure", "posted_until", "refreshed_at", "resolved_at",
                "resolution"]
RISK_TIMES = {"detected_at", "escalated_at", "posted_until", "refreshed_at", "resolved_at"}
POSTING_COLUMNS = ["risk_id", "department_id", "head_id", "quarter", "period", "seconds", "amount",
                   "posted_at", "reason", "note"]
STEP_COLUMNS = [f'"{c}"' if c == "order" else c for c in STEP_COLUMNS]


def generate(*, requests: int, seed: int = 1, using: str = "default", now: datetime | None = None,
             progress: Callable[[int], None] | None = None, people: int = USERS) -> dict[str, int]:
    """Load the organisation and ``requests`` requests into the (freshly migrated) database."""
    return Loader(requests=requests, seed=seed, using=using, now=now, progress=progress,
                  people=people).generate()
