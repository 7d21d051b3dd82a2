from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import DatabaseError, connection, connections, models, transaction
from django.db.models import Count, Exists, ExpressionWrapper, OuterRef, Q, Value
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals.choices import StepState
from approvals.models import Step
from approvals.roles import role_ids
from governance.states import can_transition
from kit.rules import RestrictedQuerySet, note_asked
from requests_app.choices import OPEN_STATES, REQUEST_MACHINE, RequestAction, RequestState, Source
from requests_app.fields import validate_field_specs


class CatalogItemQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> CatalogItemQuerySet:
        """The catalog: every signed-in person sees (and may request) the published items;
        unpublished ones are the administrators' (the admin site), not any page's.
        ``filter`` (the lists' "Service" filters): the published items, and an unpublished
        one only for people who can see a request for it (it is no news to them).
        ``plan``: the items a change plan may bring live, every item for ops leaders (an
        item is often published at go-live), the published ones for a plan's other sponsors."""
        if action not in {"view", "request", "filter", "plan"}:
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        if action == "filter":
            requested = (ServiceRequest.objects.restrict(user)
                         .filter(item__is_published=False).values("item_id"))
            return self.filter(Q(is_published=True) | Q(pk__in=requested))
        if action == "plan" and (user.is_ops_leader or user.is_superuser):
            return self
        return self.filter(is_published=True)

    def filter_listing(self, user) -> str:
        """``restrict(user, "filter")`` as the lists' "Service" filters show it: one JSON
        text of ``[name, code]`` pairs in name order (in the rows' order on SQLite).

        While every item is published the rule's answer is the published items, whoever
        asks: they are read in one statement together with the number of unpublished items,
        and the requests' rule (the part of the rule that costs most to build) is asked only
        when that number is not zero, in a second statement."""
        if not user.is_authenticated:
            return "[]"
        note_asked(self.model, "filter")
        found = self.order_by().aggregate(
            listed=Cast(_ListedAsJSON("name", "code", filter=Q(is_published=True)),
                        models.TextField()),
            unpublished=Count("pk", filter=Q(is_published=False)))
        if found["unpublished"]:
            found = self.restrict(user, "filter").order_by().aggregate(
                listed=Cast(_ListedAsJSON("name", "code"), models.TextField()))
        return found["listed"] or "[]"


class _ListedAsJSON(models.Aggregate):
    """The rows' expressions as one JSON array of arrays, ordered by those expressions on
    PostgreSQL (its collation, as ``ORDER BY`` sorts them)."""

    function = "JSON_GROUP_ARRAY"
    template = "%(function)s(JSON_ARRAY(%(expressions)s))"
    output_field = models.JSONField()

    def as_postgresql(self, compiler, connection, **extra):
        ordered = self.copy()
        ordered.function = "JSON_AGG"
        ordered.template = "%(function)s(JSON_BUILD_ARRAY(%(expressions)s) ORDER BY %(expressions)s)"
        return ordered.as_sql(compiler, connection, **extra)


class CatalogItem(models.Model):
    code = models.SlugField(max_length=40, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    keywords = models.CharField(
        max_length=300, blank=True,
        help_text=_("Other words people use for it, comma separated (notebook, MacBook): the "
        "catalog search and the search box find the item by them too."),
        verbose_name=_("keywords"),
    )
    fulfilling_department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, related_name="catalog_items",
        verbose_name=_("fulfilling department"),
    )
    path = models.ForeignKey(
        "approvals.ApprovalPath", on_delete=models.PROTECT, related_name="catalog_items",
        verbose_name=_("path"),
    )
    form_fields = models.JSONField(
        default=list, blank=True, validators=[validate_field_specs],
        help_text=_('A list of {"name", "label", "type", "required", "help_text", "choices"}.'),
        verbose_name=_("form fields"),
    )
    asks_cost = models.BooleanField(
        _("asks for an estimated cost"), default=True,
        help_text=_("The requester states an estimated cost; it decides whether finance approves."),
    )
    records_actual_cost = models.BooleanField(
        _("records the actual cost"), default=False,
        help_text=_("The agent who fulfils a request states what it actually cost. At or above "
        "a finance threshold the request skipped, it goes back to finance for approval before "
        "it is fulfilled."),
    )
    target_cycle_hours = models.DecimalField(
        _("target cycle time (business hours)"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25"))],
    )
    cost_of_delay_per_day = models.DecimalField(
        _("cost of delay per business day"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    kpi = models.ForeignKey(
        "kpis.OutcomeKPI",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="catalog_items",
        verbose_name=_("outcome KPI"),
        help_text=_("The outcome this service exists for. Required before publishing."),
    )
    is_published = models.BooleanField(default=False, verbose_name=_("is published"))
    published_at = models.DateTimeField(
        _("live since"), null=True, blank=True, help_text=_("Go-live: first published.")
    )

    objects = CatalogItemQuerySet.as_manager()

    class Meta:
        ordering = ["fulfilling_department__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_published=False) | Q(kpi__isnull=False),
                name="catalog_item_published_needs_kpi",
            ),
            models.CheckConstraint(
                condition=Q(cost_of_delay_per_day__gte=0), name="catalog_item_cost_of_delay_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(target_cycle_hours__gt=0), name="catalog_item_target_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.is_published and self.published_at is None:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.is_published and not self.kpi_id:
            raise ValidationError(
                {"kpi": _("Choose the outcome KPI this item serves before publishing it.")}
            )


class RequestCounter(models.Model):
    """The last reference number handed out in a year."""

    year = models.PositiveIntegerField(primary_key=True)
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.value}"

    @classmethod
    def next_values(cls, year: int, count: int = 1) -> list[int]:
        """Reserve ``count`` reference numbers of ``year``.

        On PostgreSQL the numbers come from a per-year sequence: no row lock, so concurrent
        submissions never queue behind each other (a rolled-back submission leaves a gap in
        the numbering). Elsewhere (SQLite, which serialises writers anyway) from this table.
        """
        if connection.vendor == "postgresql":
            return cls._from_sequence(year, count)
        # One statement that both creates and increments the year's row.
        table = connection.ops.quote_name(cls._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (year, value) VALUES (%s, %s) "
                f"ON CONFLICT (year) DO UPDATE SET value = {table}.value + %s RETURNING value",
                [year, count, count],
            )
            last = cursor.fetchone()[0]
        return list(range(last - count + 1, last + 1))

    @classmethod
    def next_with_ids(cls, year: int, *, ids: dict[type[models.Model], int]
                      ) -> tuple[int, dict[type[models.Model], list[int]]]:
        """The next reference number of ``year`` and ``ids[model]`` new primary keys of each
        model, from their sequences in one statement on PostgreSQL (a submission then writes
        its request already pointing at its first step: no second write). Elsewhere the keys
        are left to the inserts (empty lists)."""
        if connection.vendor != "postgresql":
            return cls.next_values(year, 1)[0], {model: [] for model in ids}
        models_ = list(ids)
        columns = ", ".join(
            "ARRAY(SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s))"
            for _model in models_)
        params: list = [cls._sequence_name(year)]
        for model in models_:
            params += [model._meta.db_table, model._meta.pk.column, ids[model]]
        with connection.cursor() as cursor:
            # nextval is strict: NULL while the year's sequence is missing (the first of a year).
            cursor.execute(f"SELECT nextval(to_regclass(%s)), {columns}", params)
            value, *keys = cursor.fetchone()
        if value is None:
            value = cls._from_sequence(year, 1)[0]
        return value, dict(zip(models_, keys, strict=True))

    @classmethod
    def continue_after(cls, year: int, value: int, *, using: str = "default") -> None:
        """Make the next reference of ``year`` follow ``value`` (after a bulk load)."""
        cls.objects.using(using).update_or_create(year=year, defaults={"value": value})
        conn = connections[using]
        if conn.vendor == "postgresql":
            with conn.cursor() as cursor:
                # setval is strict: nothing happens while the year's sequence does not exist
                # (it will start after the counter's value when first used).
                cursor.execute("SELECT setval(to_regclass(%s), %s)",
                               [cls._sequence_name(year), value])

    @staticmethod
    def _sequence_name(year: int) -> str:
        return f"requests_app_reference_{int(year)}"

    @classmethod
    def _from_sequence(cls, year: int, count: int) -> list[int]:
        name = cls._sequence_name(year)
        with connection.cursor() as cursor:
            if count == 1:
                # The usual case, one round trip: NULL when the year's sequence is missing.
                # nextval is strict: NULL in, NULL out.
                cursor.execute("SELECT nextval(to_regclass(%s))", [name])
                value = cursor.fetchone()[0]
                if value is not None:
                    return [value]
            cls._create_sequence(cursor, name, year)
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [name, count])
            return [row[0] for row in cursor.fetchall()]

    @classmethod
    def _create_sequence(cls, cursor, name: str, year: int) -> None:
        # Numbers already handed out through this table (or by the load generator) stay used.
        start = (cls.objects.filter(year=year).values_list("value", flat=True).first() or 0) + 1
        try:
            with transaction.atomic():
                cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {int(start)}")
        except DatabaseError:
            pass  # created by a concurrent transaction a moment ago


def _any(conditions: list[Q]) -> Q:
    combined = Q()
    for condition in conditions:
        combined |= condition
    return combined


def _staff_of_request(user) -> Exists:
    """The ``internal`` rule's own part, for a row of the view rule: a step (not skipped) of
    the request accountable to a department where ``user`` is a member (any role), head or
    deputy, to ``user``, or to a head who delegated to ``user``."""
    roles = role_ids(user)
    if roles.loaded:
        departments = _in("accountable_department", roles.member_of + roles.led)
    else:
        departments = [Q(accountable_department__in=roles.member_of),
                       Q(accountable_department__in=roles.led)]
    staff = [*departments, Q(accountable_head=user), *_in("accountable_head", roles.delegators)]
    return Exists(
        Step.objects.filter(request=OuterRef("pk"))
        .exclude(state=StepState.SKIPPED)
        .filter(_any(staff))
    )


def _in(field: str, ids) -> list[Q]:
    """``field IN ids`` as a one-condition list, none when ``ids`` is a loaded empty list (a
    branch that can match nothing is left out of the SQL)."""
    if isinstance(ids, tuple):
        ids = sorted(set(ids))
        if not ids:
            return []
    return [Q(**{f"{field}__in": ids})]


class ServiceRequestQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view", *, listing: bool = False,
                 mine: bool = False) -> ServiceRequestQuerySet:
        """The one visibility rule for requests, used by every page, export and endpoint.

        Ops leaders and superusers see everything. Anyone else sees the requests they made,
        those of the departments they head or deputise, and those with a step accountable to
        a department where they are an agent or approver, to them (or to a head who has
        delegated to them), or assigned to them.

        ``listing=True`` (``view`` only) gives the same rows in the shape for listing
        everything someone may see: the union of each branch's ids, each found through its
        own index, instead of testing the rule's OR on every request (which PostgreSQL can
        only do by walking the whole table). Use the default shape when the query is
        narrowed first (a reference, a requester): it tests the rule on those rows only.

        ``mine=True`` (``view`` only): the requests ``user`` made, which the rule's first
        branch always shows them, so the other branches are not tested on them (a
        requester's list: the same rows, a plain indexed condition).
        """

        if action not in {"view", "cancel", "internal"}:
            raise ValueError(f"Unknown action {action!r}")
        if listing and action != "view":
            raise ValueError("Only the view rule has a listing shape.")
        if mine and (listing or action != "view"):
            raise ValueError("Only the view rule has the requester's own shape.")
        if not user.is_authenticated:
            return self.none()
        if mine:
            return self.filter(requester=user)
        if action == "internal":
            return self._internal_readable_by(user)
        if action == "cancel":
            base = self.filter(state__in=OPEN_STATES)
            return base if user.is_ops_leader or user.is_superuser else base.filter(requester=user)
        if user.is_superuser or user.is_ops_leader:
            return self
        own, through_steps = self._branches(user)
        if listing:
            return self.filter(pk__in=self._visible_ids(own, through_steps))
        touches = Step.objects.filter(request=OuterRef("pk")).filter(_any(through_steps))
        return self.filter(_any(own) | Exists(touches))

    def visible_ids(self, user):
        """The ids of the requests ``user`` may view, each branch of the rule from its own
        index, as one ``UNION ALL`` (an id can come more than once); ``None`` for those who
        see everything. Sliced, it stops after that many ids: a cheap "do they see more
        than N?" that the listing shape, which tests ``id IN (…)`` on the table, is not."""
        if not user.is_authenticated:
            return ServiceRequest.objects.none().values("pk")
        if user.is_superuser or user.is_ops_leader:
            return None
        return self._visible_ids(*self._branches(user))

    @staticmethod
    def _visible_ids(own: list[Q], through_steps: list[Q]):
        ids = [ServiceRequest.objects.filter(q).order_by().values("pk") for q in own]
        ids += [Step.objects.filter(q).order_by().values("request_id") for q in through_steps]
        return ids[0].union(*ids[1:], all=True)

    @staticmethod
    def _branches(user) -> tuple[list[Q], list[Q]]:
        """The rule's branches: on the request itself, and through one of its steps."""
        roles = role_ids(user)
        own = [Q(requester=user), *_in("requester_department", roles.led)]
        if roles.loaded:  # one list: one index scan
            departments = _in("accountable_department", roles.led + roles.working)
        else:
            departments = [Q(accountable_department__in=roles.led),
                           Q(accountable_department__in=roles.working)]
        through_steps = [
            *departments,
            Q(accountable_head=user),
            *_in("accountable_head", roles.delegators),
            Q(assignee=user),
        ]
        return own, through_steps

    def _internal_readable_by(self, user) -> ServiceRequestQuerySet:
        """Requests whose internal notes ``user`` may read (action ``internal``): those they
        may view where they are a member (any role) of the department accountable for one of
        its steps, head or deputy of such a department, the step's accountable head or that
        head's delegate; ops leaders and superusers for every request. Never the requester."""

        visible = self.restrict(user, "view").exclude(requester=user)
        if user.is_superuser or user.is_ops_leader:
            return visible
        return visible.filter(_staff_of_request(user))

    def restrict_with_access(self, user) -> ServiceRequestQuerySet:
        """``restrict(user)``, each row also carrying whether ``user`` may read its internal
        notes (the ``internal`` rule), found in the same statement: ``conversation_access``
        then asks the database nothing for that row (a request's page)."""
        visible = self.restrict(user)
        if not user.is_authenticated:
            return visible
        internal = ~Q(requester=user)
        if not (user.is_superuser or user.is_ops_leader):
            internal &= _staff_of_request(user)
        return visible.annotate(
            srm_access_of=Value(user.pk, output_field=models.BigIntegerField()),
            srm_reads_internal=ExpressionWrapper(internal, output_field=models.BooleanField()),
        )

    def overdue(self, now=None) -> ServiceRequestQuerySet:
        return self.filter(state__in=OPEN_STATES, due_at__lt=now or timezone.now())


class ServiceRequest(models.Model):
    reference = models.CharField(
        max_length=20,
        unique=True,
        editable=False,
        verbose_name=_("reference"),
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    # The foreign keys without an index of their own have one that leads with them:
    # ``request_requester_recent``, ``request_dept_recent``, ``request_item_submitted`` and
    # ``request_acc_dept_state``. Every change of a request writes each index.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_requests",
        verbose_name=_("requester"), db_index=False,
    )
    requester_department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, related_name="requests_made",
        verbose_name=_("requester department"), db_index=False,
    )
    item = models.ForeignKey(
        CatalogItem,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("item"),
        db_index=False,
    )
    answers = models.JSONField(default=dict, blank=True, verbose_name=_("answers"))
    estimated_cost = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        verbose_name=_("estimated cost"),
    )
    actual_cost = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("What it actually cost, stated by the agent at fulfilment (items that "
        "record it)."),
        verbose_name=_("actual cost"),
    )
    state = models.CharField(
        max_length=16, choices=RequestState.choices, default=RequestState.IN_APPROVAL,
        verbose_name=_("state"),
    )
    source = models.CharField(
        max_length=16,
        choices=Source.choices,
        default=Source.PORTAL,
        verbose_name=_("source"),
    )
    external_key = models.CharField(
        max_length=120, null=True, blank=True, unique=True,
        help_text=_("The key of the record in the system it was imported from."),
        verbose_name=_("external key"),
    )
    submitted_at = models.DateTimeField(default=timezone.now, verbose_name=_("submitted at"))
    due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("due at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    current_step = models.ForeignKey(
        "approvals.Step", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("current step"),
    )
    accountable_department = models.ForeignKey(
        "governance.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accountable_requests",
        help_text=_("The department whose step is active now."),
        verbose_name=_("accountable department"),
        db_index=False,
    )

    objects = ServiceRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=RequestState.values), name="request_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=Source.values), name="request_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(estimated_cost__isnull=True) | Q(estimated_cost__gte=0),
                name="request_cost_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(actual_cost__isnull=True) | Q(actual_cost__gte=0),
                name="request_actual_cost_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(state__in=sorted(OPEN_STATES)) | Q(closed_at__isnull=False),
                name="request_closed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["requester", "-submitted_at"], name="request_requester_recent"),
            models.Index(fields=["requester_department", "-submitted_at"], name="request_dept_recent"),
            models.Index(fields=["state", "due_at"], name="request_state_due"),
            models.Index(fields=["accountable_department", "state"], name="request_acc_dept_state"),
            models.Index(fields=["item", "submitted_at"], name="request_item_submitted"),
            models.Index(fields=["closed_at"], name="request_closed"),
            models.Index(fields=["-submitted_at", "-id"], name="request_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("portal:request_detail", args=[self.reference])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_overdue(self) -> bool:
        now = timezone.now()
        end = self.closed_at or now
        return self.due_at is not None and end > self.due_at

    STATE_MACHINE = REQUEST_MACHINE

    @property
    def audit_correlation(self) -> str:
        """The audit events of the request and its steps carry its reference."""
        return self.reference

    def audit_access(self, user) -> tuple[bool, bool]:
        """``(may see its audit trail, may see the internal notes' events)``: the request's
        ``view`` and ``internal`` rules (``AuditEvent.objects.restrict(user, about=…)``)."""
        return conversation_access(user, self)

    def can_cancel(self, user) -> bool:
        """``restrict(user, "cancel")`` for this request in memory: the requester or an ops
        leader, while the state machine allows the move to cancelled."""
        return can_transition(self, RequestState.CANCELLED) and user.is_authenticated and (
            user.pk == self.requester_id or user.is_ops_leader or user.is_superuser
        )

    def can_comment(self, user) -> bool:
        """``comment_add``: anyone who may see the request."""
        return conversation_access(user, self)[0]

    def can_note(self, user) -> bool:
        """``comment_add(internal=True)``: the request's ``internal`` rule."""
        return conversation_access(user, self)[1]

    def can_answer(self, user) -> bool:
        """``step_answer``: the requester, while the active step waits for their answer."""
        if not (user.is_authenticated and user.pk == self.requester_id and self.current_step_id):
            return False
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("steps")
        if prefetched is not None:  # a page that read the steps already
            step = next((s for s in prefetched if s.pk == self.current_step_id), None)
        else:
            step = self.current_step
        return step is not None and step.is_active and step.is_on_hold

    def allowed_actions(self, user) -> list[str]:
        """The ``RequestAction`` values ``user`` may do now (the active step's own actions
        are the step's ``allowed_actions``)."""
        checks = {
            RequestAction.CANCEL: self.can_cancel, RequestAction.COMMENT: self.can_comment,
            RequestAction.NOTE: self.can_note, RequestAction.ANSWER: self.can_answer,
        }
        return [str(action) for action, check in checks.items() if check(user)]


# --- Conversation: comments, internal notes, attachments (docs/conversation.md) ---------------
def _conversation_visible(queryset, user, action: str, *, public: Q, request=None):
    """Rows of the requests ``user`` may view; those not matching ``public`` (internal ones)
    only where ``ServiceRequest.objects.restrict(user, "internal")`` allows.

    With ``request``, only that request's rows: the two request rules are then asked about
    it once (``conversation_access``) and the rows filtered plainly, instead of nesting
    both rules in every query of the request's timeline."""
    if action != "view":
        raise ValueError(f"Unknown action {action!r}")
    if request is not None:
        view, internal = conversation_access(user, request)
        if not view:
            return queryset.none()
        rows = queryset.filter(request=request)
        return rows if internal else rows.filter(public)
    requests = ServiceRequest.objects.all()
    return queryset.filter(request__in=requests.restrict(user, "view")).filter(
        public | Q(request__in=requests.restrict(user, "internal"))
    )


def requests_remember_access(requests, user) -> None:
    """``conversation_access`` for a page of requests ``user`` was shown through the view
    rule, in one query (the API's list asks each row's ``allowed_actions``)."""
    if not requests or not user.is_authenticated:
        return
    ids = [r.pk for r in requests]
    internal = set(ServiceRequest.objects.restrict(user, "internal").filter(pk__in=ids)
                   .values_list("pk", flat=True))
    for request in requests:
        request.__dict__.setdefault("_srm_conversation_access", {})[user.pk] = (
            True, request.pk in internal)


def conversation_access(user, request: ServiceRequest) -> tuple[bool, bool]:
    """``(may view, may read internal notes)`` for ``user`` on ``request``: the request's own
    rules ``restrict(user, "view")`` and ``restrict(user, "internal")``, asked in one query
    and remembered on this ``request`` instance (one HTTP request's worth)."""
    if not user.is_authenticated:
        return False, False
    cache = request.__dict__.setdefault("_srm_conversation_access", {})
    if user.pk not in cache and user.pk == request.requester_id:
        # Both rules answer without asking: the view rule's first branch is the requester,
        # and the internal rule never lets the requester in.
        cache[user.pk] = (True, False)
    elif user.pk not in cache and request.__dict__.get("srm_access_of") == user.pk:
        # Read through ``restrict_with_access(user)``: visible, and the internal rule known.
        cache[user.pk] = (True, bool(request.srm_reads_internal))
    if user.pk not in cache:
        requests = ServiceRequest.objects.all()
        row = (
            ServiceRequest.objects.filter(pk=request.pk)
            .annotate(
                may_view=Exists(requests.restrict(user, "view").filter(pk=OuterRef("pk"))),
                may_read_internal=Exists(
                    requests.restrict(user, "internal").filter(pk=OuterRef("pk"))
                ),
            )
            .values_list("may_view", "may_read_internal")
            .first()
        )
        cache[user.pk] = (bool(row[0]), bool(row[0] and row[1])) if row else (False, False)
    return cache[user.pk]


class CommentQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view", *, request=None) -> CommentQuerySet:
        """Comments of the requests ``user`` may view; internal notes only for the staff of
        the request's accountable departments and ops leaders, never the requester.
        ``request``: only that request's comments (a timeline), read the cheap way."""
        return _conversation_visible(self, user, action, public=Q(internal=False),
                                     request=request)


class Comment(models.Model):
    """A message in a request's timeline. Internal notes are for the departments working on
    the request and ops leaders, never for the requester. ``author`` is empty for messages
    SRM writes itself (an automatic cancellation)."""

    request = models.ForeignKey(
        ServiceRequest,
        on_delete=models.CASCADE,
        related_name="comments",
        verbose_name=_("request"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("author"),
    )
    # What pages, anchors and the API call it: a random id, so the ids a requester sees do
    # not count the internal notes between their comments (the primary key would).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("UUID"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    internal = models.BooleanField(
        _("internal note"), default=False,
        help_text=_("Only the accountable departments and ops leaders see it, never the requester."),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "created_at"], name="comment_request_time")]

    def __str__(self) -> str:
        # Also the audit trail's subject, which the requester's timeline shows: no number.
        return "Internal note" if self.internal else "Comment"


def attachments_storage():
    """The storage attachments live in: ``STORAGES["attachments"]`` (never a public URL)."""
    from django.core.files.storage import storages

    return storages["attachments"]


def attachment_key(instance: Attachment, filename: str) -> str:
    """Files are stored under a random key; the person's file name is only displayed."""
    key = instance.uuid.hex
    return f"{key[:2]}/{key}"


class AttachmentQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view", *, request=None) -> AttachmentQuerySet:
        """Attachments follow their comment's visibility, or the request's when they hang on
        the request itself. ``request``: only that request's attachments."""
        return _conversation_visible(
            self, user, action, public=Q(comment__isnull=True) | Q(comment__internal=False),
            request=request,
        )


class Attachment(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("UUID"))
    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="attachments",
        verbose_name=_("request"),
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments",
        verbose_name=_("comment"),
    )
    file = models.FileField(
        storage=attachments_storage,
        upload_to=attachment_key,
        max_length=200,
        verbose_name=_("file"),
    )
    original_name = models.CharField(
        _("file name"), max_length=200, help_text=_("Sanitised; shown and offered on download.")
    )
    size = models.PositiveBigIntegerField(help_text=_("Bytes."), verbose_name=_("size"))
    content_type = models.CharField(
        max_length=120,
        help_text=_("Detected from the content."),
        verbose_name=_("content type"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "created_at"], name="attachment_request_time")]

    def __str__(self) -> str:
        return self.original_name
