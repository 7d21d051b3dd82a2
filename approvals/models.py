from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals.choices import (
    CHANNEL_PHRASES,
    DECISIONS,
    STEP_DECIDED_STATES,
    STEP_MACHINE,
    DecisionChannel,
    Responsible,
    StepAction,
    StepKind,
    StepState,
)
from approvals.conditions import budget_below_reserve
from approvals.roles import role_ids
from governance.models import User
from governance.states import can_transition
from kit.rules import RestrictedQuerySet


class ApprovalPath(models.Model):
    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    description = models.TextField(blank=True, verbose_name=_("description"))

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StepTemplate(models.Model):
    path = models.ForeignKey(
        ApprovalPath,
        on_delete=models.CASCADE,
        related_name="templates",
        verbose_name=_("path"),
    )
    order = models.PositiveSmallIntegerField(verbose_name=_("order"))
    name = models.CharField(max_length=120, verbose_name=_("name"))
    kind = models.CharField(max_length=16, choices=StepKind.choices, verbose_name=_("kind"))
    responsible = models.CharField(
        max_length=20,
        choices=Responsible.choices,
        verbose_name=_("responsible"),
    )
    department = models.ForeignKey(
        "governance.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Only for “a named department”."),
        verbose_name=_("department"),
    )
    min_cost = models.DecimalField(
        _("applies from estimated cost"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("The step applies only when the estimated cost is at or above this amount "
        "(a finance approval). Empty: always applies."),
    )
    budget_reserve_percent = models.DecimalField(
        _("applies below budget reserve (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("The step (also) applies when the request would take its cost centre's "
        "remaining budget for the quarter below this share of the budget (0: below zero). "
        "Empty: no budget condition."),
    )
    ola_hours = models.DecimalField(
        _("OLA (business hours)"),
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25"))],
    )
    allow_department_approvers = models.BooleanField(
        default=False,
        help_text=_("Members with the approver role may decide, not only the head."),
        verbose_name=_("allow department approvers"),
    )

    class Meta:
        ordering = ["path", "order"]
        constraints = [
            models.UniqueConstraint(fields=["path", "order"], name="step_template_order_unique"),
            models.CheckConstraint(
                condition=Q(responsible=Responsible.DEPARTMENT, department__isnull=False)
                | (~Q(responsible=Responsible.DEPARTMENT) & Q(department__isnull=True)),
                name="step_template_department_iff_named",
            ),
            models.CheckConstraint(condition=Q(ola_hours__gt=0), name="step_template_ola_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.path} · {self.order}. {self.name}"

    def clean(self) -> None:
        if self.responsible == Responsible.DEPARTMENT and not self.department_id:
            raise ValidationError({"department": _("Name the department responsible for this step.")})
        if self.responsible != Responsible.DEPARTMENT and self.department_id:
            raise ValidationError(
                {"department": _("Leave empty unless the step belongs to a named department.")}
            )
        if self.kind == StepKind.EXECUTION and self.responsible == Responsible.REQUESTER_HEAD:
            raise ValidationError(
                {"responsible": _("Execution is done by a department's agents, not by a head.")}
            )

    def applies_to(self, estimated_cost: Decimal | None, *, request=None) -> bool:
        """Whether the step applies to a request costing ``estimated_cost``: always without a
        condition; else when the cost reaches ``min_cost`` or (given the ``request``) would
        take its cost centre's remaining budget below ``budget_reserve_percent``."""
        if self.min_cost is None and self.budget_reserve_percent is None:
            return True
        if self.min_cost is not None and estimated_cost is not None \
                and estimated_cost >= self.min_cost:
            return True
        return (self.budget_reserve_percent is not None and request is not None
                and budget_below_reserve(request, estimated_cost, self.budget_reserve_percent))


class StepQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> StepQuerySet:
        """Steps ``user`` may see (``view``), decide (``decide``) or work on (``work``).

        ``view`` is the request's rule, reached through the ``request`` relation:
        requests_app.models imports this module, so this one does not import it back."""
        if action == "view":
            requests = self.model._meta.get_field("request").related_model.objects
            return self.filter(request__in=requests.restrict(user, "view"))
        if action == "decide":
            return self.decidable_by(user)
        if action == "work":
            return self.workable_by(user)
        raise ValueError(f"Unknown action {action!r}")

    def decidable_by(self, user, *, separate: bool = True) -> StepQuerySet:
        """Active approval steps ``user`` may decide: as the head, as a delegate, or as an
        approver of the department where the template allows; never on their own request,
        and (``separate``) never a second approval step of one request
        (``approvals.services.separation``: not when ``user``, or the head they would decide
        for as a delegate, decided another one). ``separate=False``: those too, for the
        inbox to say why they are set aside."""
        if not user.is_authenticated:
            return self.none()
        steps, set_aside = self._decidable(user)
        if not separate:
            return steps
        for reason in set_aside:
            steps = steps.exclude(reason)
        return steps

    def decision_counts(self, user) -> tuple[int, int, int]:
        """(waiting, on hold, set aside) in one statement and one pass over the steps of
        ``decidable_by(user, separate=False)``: of those ``decidable_by(user)`` keeps, the
        ones not on hold and the ones on hold; the rest are set aside. The same conditions
        as ``decidable_by``, counted together instead of three passes over the same rows."""
        if not user.is_authenticated:
            return 0, 0, 0
        steps, set_aside = self._decidable(user)
        kept = Q()
        for reason in set_aside:
            kept &= ~reason
        counts = steps.aggregate(
            every=Count("pk"),
            waiting=Count("pk", filter=kept & Q(on_hold_since__isnull=True)),
            held=Count("pk", filter=kept & Q(on_hold_since__isnull=False)))
        return (counts["waiting"], counts["held"],
                counts["every"] - counts["waiting"] - counts["held"])

    def _decidable(self, user) -> tuple[StepQuerySet, list[Q]]:
        """The steps ``user`` would decide, and the conditions that set one of them aside
        (separation of duties), for ``decidable_by`` and ``decision_counts``."""
        roles = role_ids(user)
        delegators = roles.active_delegators
        waiting = Step.objects.filter(kind=StepKind.APPROVAL, state=StepState.ACTIVE).order_by()
        if roles.loaded and not roles.approver_of:
            # Only as the head or their delegate: one indexed lookup of a few heads' steps.
            steps = self.filter(kind=StepKind.APPROVAL, state=StepState.ACTIVE,
                                accountable_head__in=[user.pk, *delegators])
        else:
            heads = ([user.pk, *delegators] if roles.loaded else
                     User.objects.filter(pk=user.pk).order_by().values("pk").union(delegators,
                                                                                   all=True))
            # Each branch picks its steps from its own index and the union of their ids is
            # a primary-key lookup. An OR of the branches cannot use an index at all:
            # PostgreSQL then read every active step (~300 ms at 200,000) even for a head
            # with nothing waiting, on every page the navigation counts the inbox for.
            as_head = waiting.filter(accountable_head__in=heads).values("pk")
            as_approver = waiting.filter(
                template__allow_department_approvers=True,
                accountable_department__in=roles.approver_of,
            ).values("pk")
            steps = self.filter(
                pk__in=as_head.union(as_approver, all=True),
                kind=StepKind.APPROVAL,
                state=StepState.ACTIVE,
            )
        steps = steps.exclude(request__requester=user)
        decided = Step.objects.filter(request=OuterRef("request"), kind=StepKind.APPROVAL,
                                      state__in=DECISIONS, decided_outside=False)
        by_user = decided.filter(Q(decided_by=user) | Q(acted_for=user))
        set_aside = [Q(Exists(by_user))]
        if not roles.loaded or delegators:
            by_head = decided.filter(Q(decided_by=OuterRef("accountable_head"))
                                     | Q(acted_for=OuterRef("accountable_head")))
            set_aside.append(Q(accountable_head__in=delegators) & ~Q(accountable_head=user)
                             & Exists(by_head))
        return steps, set_aside

    def workable_by(self, user) -> StepQuerySet:
        """Active execution steps of the departments where ``user`` is an agent."""
        if not user.is_authenticated:
            return self.none()
        agent_of = role_ids(user).agent_of
        if not agent_of and isinstance(agent_of, tuple):
            return self.none()
        return self.filter(
            kind=StepKind.EXECUTION, state=StepState.ACTIVE, accountable_department__in=agent_of
        )

    def overdue(self, now=None) -> StepQuerySet:
        """Active steps past their due time; a step on hold has its clock stopped, so it is
        not overdue while it waits for the requester."""
        return self.filter(
            state=StepState.ACTIVE, due_at__lt=now or timezone.now(), on_hold_since__isnull=True
        )


_STEP_STATE_LABELS = dict(StepState.choices)


class Step(models.Model):
    # The foreign keys below without an index of their own have one that leads with them:
    # ``step_order_unique`` (request, order), ``step_dept_state`` (department, state) and
    # ``step_head_state`` (head, state). A step's every change of state writes each index.
    request = models.ForeignKey(
        "requests_app.ServiceRequest", on_delete=models.CASCADE, related_name="steps",
        verbose_name=_("request"), db_index=False,
    )
    template = models.ForeignKey(
        StepTemplate,
        on_delete=models.PROTECT,
        related_name="steps",
        verbose_name=_("template"),
    )
    # Copied from the template at submission, so history survives later edits of the path.
    order = models.PositiveSmallIntegerField(verbose_name=_("order"))
    name = models.CharField(max_length=120, verbose_name=_("name"))
    kind = models.CharField(max_length=16, choices=StepKind.choices, verbose_name=_("kind"))
    ola_hours = models.DecimalField(max_digits=7, decimal_places=2, verbose_name=_("OLA hours"))
    state = models.CharField(
        max_length=16,
        choices=StepState.choices,
        default=StepState.PENDING,
        verbose_name=_("state"),
    )
    accountable_department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, related_name="steps",
        verbose_name=_("accountable department"), db_index=False,
    )
    accountable_head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accountable_steps",
        verbose_name=_("accountable head"),
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_steps",
        verbose_name=_("assignee"),
    )
    activated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("activated at"))
    due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("due at"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("decided by"),
    )
    acted_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The head a delegate decided for."),
        verbose_name=_("acted for"),
    )
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    decided_outside = models.BooleanField(
        _("decided outside the tool"),
        default=False,
        help_text=_("An ops leader recorded a decision taken by email, phone or in a meeting: "
        "counted as a bypass of the tool."),
    )
    on_hold_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Set while the step waits for the requester's answer: its clock is stopped."),
        verbose_name=_("on hold since"),
    )
    channel = models.CharField(
        _("channel of the decision"),
        max_length=16,
        choices=DecisionChannel.choices,
        blank=True,
        default="",
        help_text=_("Where the decision was taken: the page, an e-mail link, an e-mail reply or "
                    "the API. Empty while undecided, for execution steps and for decisions "
                    "recorded as taken outside the tool."),
    )

    objects = StepQuerySet.as_manager()

    class Meta:
        ordering = ["request", "order"]
        constraints = [
            models.UniqueConstraint(fields=["request", "order"], name="step_order_unique"),
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(state=StepState.ACTIVE),
                name="step_one_active_per_request",
            ),
            models.CheckConstraint(
                condition=Q(state__in=StepState.values), name="step_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=StepState.ACTIVE)
                | Q(activated_at__isnull=False, due_at__isnull=False),
                name="step_active_has_due_time",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=["", *DecisionChannel.values]), name="step_channel_valid"
            ),
        ]
        indexes = [
            # The delay scan and "overdue" filters read active steps by due time.
            models.Index(
                fields=["due_at"], condition=Q(state=StepState.ACTIVE), name="step_active_due"
            ),
            # The board counts open and overdue steps per department from this index alone.
            models.Index(
                fields=["accountable_department", "due_at"], condition=Q(state=StepState.ACTIVE),
                name="step_active_dept_due",
            ),
            # The work queue (and its badge): active execution steps of a department by due
            # time, without reading the department's approvals.
            models.Index(
                fields=["accountable_department", "due_at"],
                condition=Q(state=StepState.ACTIVE, kind=StepKind.EXECUTION),
                name="step_work_queue",
            ),
            models.Index(fields=["accountable_head", "state"], name="step_head_state"),
            models.Index(fields=["accountable_department", "state"], name="step_dept_state"),
            models.Index(fields=["state", "completed_at"], name="step_state_completed"),
            models.Index(
                fields=["completed_at"], condition=Q(decided_outside=True), name="step_bypass"
            ),
        ]

    def __str__(self) -> str:
        # As get_state_display() writes it, without building the choices' dict on each call
        # (every step's audit event names it).
        return f"{self.name} ({_STEP_STATE_LABELS.get(self.state, self.state)})"

    # --- What may happen (for the UI; services re-check under a lock) ---------------------
    STATE_MACHINE = STEP_MACHINE

    @property
    def is_active(self) -> bool:
        return self.state == StepState.ACTIVE

    @property
    def is_approval(self) -> bool:
        return self.kind == StepKind.APPROVAL

    @property
    def is_decided(self) -> bool:
        """Approved, rejected or done: someone decided or did it (``decided_by``)."""
        return self.state in STEP_DECIDED_STATES

    @property
    def is_done(self) -> bool:
        return self.state == StepState.DONE

    @property
    def is_cancelled(self) -> bool:
        return self.state == StepState.CANCELLED

    @property
    def is_skipped(self) -> bool:
        return self.state == StepState.SKIPPED

    @property
    def is_overdue(self) -> bool:
        return (self.is_active and self.on_hold_since is None and self.due_at is not None
                and self.due_at < timezone.now())

    @property
    def is_on_hold(self) -> bool:
        return self.on_hold_since is not None

    @property
    def channel_phrase(self) -> str:
        """``via e-mail link`` / ``by e-mail reply`` / ``via the API``, said after who decided;
        empty for the page (the default) and for steps without a channel."""
        return str(CHANNEL_PHRASES.get(self.channel, ""))

    def can_decide(self, user) -> bool:
        """``restrict(user, "decide")`` holds this step. Asked once per step object, user
        and state (a page asks it for the decision buttons and the conversation panel)."""
        if not (self.is_approval and self.is_active and user.is_authenticated):
            return False
        request = self._state.fields_cache.get("request")
        if request is not None and request.requester_id == user.pk:
            return False  # the rule never lets anyone decide on their own request
        return self._asked("decide", user, lambda: Step.objects.decidable_by(user))

    def can_work(self, user) -> bool:
        """``restrict(user, "work")`` holds this step (remembered as ``can_decide``)."""
        if self.is_approval or not self.is_active or not user.is_authenticated:
            return False
        return self._asked("work", user, lambda: Step.objects.workable_by(user))

    # Each answers exactly what its service (approvals.services) accepts from ``user`` now:
    # the move from the state machine, who may act from the step's rules, then the
    # action's own condition. The services check the same under the row lock.
    def can_approve(self, user) -> bool:
        return can_transition(self, StepState.APPROVED) and self.can_decide(user)

    def can_reject(self, user) -> bool:
        return can_transition(self, StepState.REJECTED) and self.can_decide(user)

    def can_hold(self, user) -> bool:
        """Ask the requester a question: the decider of an approval, an agent of an
        execution step, while no question is open."""
        if self.is_on_hold:
            return False
        return self.can_decide(user) if self.is_approval else self.can_work(user)

    def can_claim(self, user) -> bool:
        """Take on an execution step nobody has taken yet."""
        return self.assignee_id is None and self.can_work(user)

    def can_take_over(self, user) -> bool:
        """Take over an execution step a colleague has taken (explicit and audited)."""
        return self.assignee_id is not None and self.assignee_id != user.pk and self.can_work(user)

    def can_complete(self, user) -> bool:
        """Mark an execution step done: one nobody has taken, or one's own."""
        return (can_transition(self, StepState.DONE) and self.assignee_id in (None, user.pk)
                and self.can_work(user))

    def allowed_actions(self, user) -> list[str]:
        """The ``StepAction`` values ``user`` may do now, in their declared order."""
        checks = {
            StepAction.APPROVE: self.can_approve, StepAction.REJECT: self.can_reject,
            StepAction.HOLD: self.can_hold, StepAction.CLAIM: self.can_claim,
            StepAction.TAKE_OVER: self.can_take_over, StepAction.COMPLETE: self.can_complete,
        }
        return [str(action) for action, check in checks.items() if check(user)]

    def _asked(self, action: str, user, allowed) -> bool:
        answers = self.__dict__.setdefault("_srm_answers", {})
        key = (action, user.pk, self.state, self.on_hold_since)
        if key not in answers:
            answers[key] = allowed().filter(pk=self.pk).exists()
        return answers[key]


def steps_remember_answers(steps, user, *, read_through: str | None = None) -> None:
    """Ask ``restrict(user, "decide")`` and ``restrict(user, "work")`` about a page of steps
    at once, so each step's ``can_*`` reads the answer instead of asking once per row (the
    inbox, the work queue, the API's lists). ``read_through``: the rule the page was read
    through (``"decide"``, ``"work"``), which has answered for its rows already."""
    steps = [s for s in steps if s.is_active]
    if not steps or not user.is_authenticated:
        return
    ids = [s.pk for s in steps]
    found = {}
    for rule, rows in (("decide", Step.objects.decidable_by), ("work", Step.objects.workable_by)):
        kind = StepKind.APPROVAL if rule == "decide" else StepKind.EXECUTION
        if not any(s.kind == kind for s in steps):
            continue  # the other kind's can_* answers without asking
        found[rule] = (set(ids) if rule == read_through
                       else set(rows(user).filter(pk__in=ids).values_list("pk", flat=True)))
    for step in steps:
        answers = step.__dict__.setdefault("_srm_answers", {})
        for rule, allowed in found.items():
            answers[(rule, user.pk, step.state, step.on_hold_since)] = step.pk in allowed


class DelegationQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> DelegationQuerySet:
        """Delegations ``user`` may see (given or received; ops leaders all) or ``end``
        (the ones they gave)."""
        if action not in {"view", "end"}:
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        if action == "end":
            return self if user.is_superuser else self.filter(delegator=user)
        if user.is_superuser or user.is_ops_leader:
            return self
        return self.filter(Q(delegator=user) | Q(delegate=user))

    def active(self, on=None) -> DelegationQuerySet:
        day = on or timezone.localdate()
        return self.filter(starts_on__lte=day, ends_on__gte=day, ended_at__isnull=True)


class Delegation(models.Model):
    """While active, ``delegate`` may decide the approvals waiting for ``delegator``."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_given",
        verbose_name=_("delegator"),
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_received",
        verbose_name=_("delegate"),
    )
    starts_on = models.DateField(verbose_name=_("starts on"))
    ends_on = models.DateField(verbose_name=_("ends on"))
    reason = models.CharField(max_length=200, blank=True, verbose_name=_("reason"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))

    objects = DelegationQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="delegation_dates_ordered"
            ),
            models.CheckConstraint(
                condition=~Q(delegator=models.F("delegate")), name="delegation_not_to_self"
            ),
        ]
        indexes = [models.Index(fields=["delegate", "starts_on", "ends_on"])]

    def __str__(self) -> str:
        return f"{self.delegator} → {self.delegate} ({self.starts_on} – {self.ends_on})"

    @property
    def is_active(self) -> bool:
        today = timezone.localdate()
        return self.ended_at is None and self.starts_on <= today <= self.ends_on



class StepHoldQuerySet(RestrictedQuerySet):
    def open(self) -> StepHoldQuerySet:
        return self.filter(answered_at__isnull=True, cancelled_at__isnull=True)

    def restrict(self, user, action: str = "view") -> StepHoldQuerySet:
        """Holds are seen by whoever sees their step (the question is part of the timeline)."""
        if action != "view":
            raise ValueError(f"Unknown action {action!r}")
        return self.filter(step__in=Step.objects.restrict(user, "view"))


class StepHold(models.Model):
    """A "more information needed" hold: the step waits for the requester's answer and its clock is
    stopped. The time on hold, in the accountable department's business time, is recorded in
    ``business_hours`` when the hold ends, and the step's due time moves by that much."""

    step = models.ForeignKey(
        Step,
        on_delete=models.CASCADE,
        related_name="holds",
        verbose_name=_("step"),
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("asked by"),
    )
    question = models.TextField(verbose_name=_("question"))
    question_comment = models.OneToOneField(
        "requests_app.Comment", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="hold_asked",
        verbose_name=_("question comment"),
    )
    started_at = models.DateTimeField(verbose_name=_("started at"))
    remind_at = models.DateTimeField(
        help_text=_("When the requester is reminded."),
        verbose_name=_("remind at"),
    )
    expires_at = models.DateTimeField(
        help_text=_("When the request is cancelled if unanswered."),
        verbose_name=_("expires at"),
    )
    reminded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reminded at"))
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answered at"))
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("answered by"),
    )
    answer = models.TextField(blank=True, verbose_name=_("answer"))
    answer_comment = models.OneToOneField(
        "requests_app.Comment", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="hold_answered",
        verbose_name=_("answer comment"),
    )
    cancelled_at = models.DateTimeField(
        null=True, blank=True,
        help_text=_("Ended without an answer: the limit passed or the step closed meanwhile."),
        verbose_name=_("cancelled at"),
    )
    business_hours = models.DecimalField(
        _("business hours on hold"), max_digits=10, decimal_places=4, null=True, blank=True,
        help_text=_("Set when the hold ends; time charged to the requester, not the department."),
    )

    objects = StepHoldQuerySet.as_manager()

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["step"], condition=Q(answered_at__isnull=True, cancelled_at__isnull=True),
                name="step_hold_one_open_per_step",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(cancelled_at__isnull=True),
                name="step_hold_answered_or_cancelled",
            ),
        ]
        indexes = [
            # The hold scan reads open holds by their limits.
            models.Index(fields=["expires_at"], condition=Q(answered_at__isnull=True,
                         cancelled_at__isnull=True), name="step_hold_open_expiry"),
            models.Index(fields=["remind_at"], condition=Q(answered_at__isnull=True,
                         cancelled_at__isnull=True, reminded_at__isnull=True),
                         name="step_hold_open_remind"),
        ]

    def __str__(self) -> str:
        return f"Hold on step {self.step_id} since {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None and self.cancelled_at is None

    def business_hours_until(self, end) -> Decimal:
        """Business time from the start of the hold to ``end`` in the accountable department's
        calendar, in hours to 4 decimals (a third of a second)."""
        calendar = self.step.accountable_department.calendar
        seconds = Decimal(int(calendar.between(self.started_at, end).total_seconds()))
        return (seconds / 3600).quantize(Decimal("0.0001"))
