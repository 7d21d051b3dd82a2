"""Delay risks: the accountability half of governance. Reads the lifecycle (string
references to approvals and requests); the lifecycle never imports this module."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.utils.translation import gettext_lazy as _

from governance.models.org import accountability_scope_ids
from kit.rules import RestrictedQuerySet
from requests_app.models import ServiceRequest


class DelayRiskQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> DelayRiskQuerySet:
        """The one visibility rule for delay risks.

        ``view`` — the risks one may see with what they name (the request's reference and
        title, the step, the accountable head): exactly those of the requests one may see
        (``ServiceRequest.objects.restrict``), so a risk never reveals a request whose page
        answers 404. The API, the department pages' lists, the notifications and the digests'
        lines show these.

        ``figures`` — what one's accountability numbers count: the ``view`` risks plus every
        risk of the departments on one's board (``Department.objects.restrict(user,
        "accountability")``: those one heads or deputises and all below them). The board,
        the department pages' figures and the digests' totals count these.

        Ops leaders and superusers see and count everything."""
        if action not in {"view", "figures"}:
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        # Asked first, also for those who see everything: the request rule is this rule's base.
        requests = ServiceRequest.objects.restrict(user)
        if user.is_superuser or user.is_ops_leader:
            return self
        seen = Q(request__in=requests.values("pk"))
        if action == "view":
            return self.filter(seen)
        return self.filter(seen | Q(department__in=accountability_scope_ids(user)))

    def seen_by(self, people) -> dict[int, set[int]]:
        """For each of ``people``, the ids of these risks that ``restrict(person)`` shows
        them: the one rule, asked for many readers at once in one query (a UNION of each
        reader's rule), for messages that name risks to several people."""
        people = list(people)
        if not people:
            return {}
        parts, everything = [], []
        for person in people:
            visible = self.restrict(person)
            if visible is self:
                # The rule shows them every risk (ops leaders, superusers): no branch of
                # their own, they share one that lists the risks.
                everything.append(person.pk)
            else:
                parts.append(visible.order_by().annotate(reader=Value(person.pk))
                             .values_list("reader", "pk"))
        if everything:
            parts.append(self.order_by().annotate(reader=Value(0)).values_list("reader", "pk"))
        seen: dict[int, set[int]] = {person.pk: set() for person in people}
        for reader, pk in parts[0].union(*parts[1:], all=True):
            for person in everything if reader == 0 else (reader,):
                seen[person].add(pk)
        return seen

    def open(self) -> DelayRiskQuerySet:
        return self.filter(resolved_at__isnull=True)


class DelayRisk(models.Model):
    """An active step past its due time, charged in money to the one head accountable for it.

    Opened by the delay scan when a step passes ``due_at``; its level rises as the delay
    grows; resolved (never deleted) when the step leaves the active state. Resolved risks are
    the history accountability reporting reads.
    """

    step = models.ForeignKey(
        "approvals.Step",
        on_delete=models.PROTECT,
        related_name="delay_risks",
        verbose_name=_("step"),
    )
    request = models.ForeignKey(
        "requests_app.ServiceRequest", on_delete=models.PROTECT, related_name="delay_risks",
        verbose_name=_("request"),
    )
    department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, related_name="delay_risks",
        help_text=_("The accountable department (the step's, when it moves to a new head)."),
        verbose_name=_("department"),
    )
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="delay_risks", help_text=_("The head accountable for the delay now (from ``head_since``)."),
        verbose_name=_("head"),
    )
    head_since = models.DateTimeField(
        null=True, blank=True,
        help_text=_("When ``head`` became accountable for this delay (a head change); empty: "
                  "since it was detected."),
        verbose_name=_("head since"),
    )
    previous_head = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text=_("The head accountable until ``head_since``."),
        verbose_name=_("previous head"),
    )
    # A database default too: the delay scan opens risks with one INSERT … SELECT.
    previous_heads_exposure = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), db_default=Decimal("0"),
        help_text=_("Cost of delay posted against earlier heads, up to ``head_since``."),
        verbose_name=_("previous heads exposure"),
    )
    detected_at = models.DateTimeField(verbose_name=_("detected at"))
    level = models.PositiveSmallIntegerField(default=1, verbose_name=_("level"))
    escalated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("escalated at"))
    overdue_hours = models.DecimalField(
        _("business hours overdue"), max_digits=10, decimal_places=2, default=0,
        help_text=_("For display and levels: overdue_seconds in hours, rounded to 0.01 h."),
    )
    overdue_seconds = models.DecimalField(
        _("business seconds overdue"), max_digits=18, decimal_places=6, default=0,
        help_text=_("Exact business time overdue posted so far (the sum of the risk's postings)."),
    )
    cost_of_delay_per_day = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        verbose_name=_("cost of delay per day"),
    )
    day_seconds = models.PositiveIntegerField(
        _("business day length (seconds)"),
        help_text=_("The accountable department's working day when the risk was detected, exact."),
    )
    exposure = models.DecimalField(
        max_digits=14, decimal_places=2, default=0,
        help_text=_("Cost of delay posted so far (the sum of the risk's postings)."),
        verbose_name=_("exposure"),
    )
    posted_until = models.DateTimeField(
        help_text=_("The moment up to which the overdue time has been posted to the ledger."),
        verbose_name=_("posted until"),
    )
    refreshed_at = models.DateTimeField(verbose_name=_("refreshed at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolution = models.CharField(
        max_length=16, blank=True, help_text=_("The state the step closed in (approved, done…)."),
        verbose_name=_("resolution"),
    )

    objects = DelayRiskQuerySet.as_manager()

    class Meta:
        db_table = "governance_delayrisk"
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["step"], condition=Q(resolved_at__isnull=True), name="delay_risk_one_open_per_step"
            ),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="delay_risk_level_range"),
            models.CheckConstraint(condition=Q(exposure__gte=0), name="delay_risk_exposure_not_negative"),
        ]
        indexes = [
            models.Index(fields=["department", "resolved_at"], name="risk_dept_resolved"),
            # The board's open risks and exposure per department, read from the index alone.
            models.Index(fields=["department", "level", "exposure"],
                         condition=Q(resolved_at__isnull=True), name="risk_open_dept"),
            models.Index(fields=["head", "resolved_at"], name="risk_head_resolved"),
            models.Index(fields=["detected_at"], name="risk_detected"),
            models.Index(fields=["resolved_at"], name="risk_resolved"),
        ]

    def __str__(self) -> str:
        return f"Delay L{self.level} on step {self.step_id}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def day_hours(self) -> Decimal:
        return Decimal(self.day_seconds) / 3600
