"""Budgets per cost centre and quarter, and the commitment ledger that spends them.

A ``Budget`` is what a cost centre (a department, named by its ``cost_centre`` code) may
spend in one calendar quarter (cut in the reporting timezone), in the reporting currency.
Its key is (department, quarter): setting or importing it again replaces the amount.

The **commitment ledger** (``CommitmentPosting``) is append-only like the cost-of-delay
ledger: nothing is updated or deleted (on PostgreSQL a trigger refuses it). A request's last
approval **commits** its estimated cost; its fulfilment posts the **actual** cost and
**releases** the commitment; a rejection or cancellation releases it. Postings count in
``quarter`` and belong to the budget quarter ``period`` that funds the request (the quarter of
the commitment); once ``period`` has closed, a late posting counts in the open quarter as an
**adjustment** naming it. Every figure is a sum of postings:

    remaining = budget − committed − actual + released

See docs/budgets.md.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from governance.choices import MembershipRole
from governance.models import Department
from governance.models.org import accountability_scope_ids
from kit.rules import RestrictedQuerySet


def is_finance_controller(user) -> bool:
    """Finance controllers set and import budgets: superusers, and the head, deputy and
    approvers of the finance department (``SRM_FINANCE_DEPARTMENT``). Cached on the user."""
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_srm_finance_controller", None)
    if cached is None:
        code = settings.SRM_FINANCE_DEPARTMENT
        cached = user.is_superuser or Department.objects.filter(
            Q(head=user) | Q(deputy=user)
            | Q(memberships__user=user, memberships__role=MembershipRole.APPROVER),
            code=code,
        ).exists()
        user._srm_finance_controller = cached
    return cached


def sees_all_budgets(user) -> bool:
    return bool(user.is_authenticated and (user.is_ops_leader or is_finance_controller(user)))


class BudgetQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> BudgetQuerySet:
        """``view``: ops leaders and finance controllers every budget; a head or deputy the
        budgets of the departments on their board (they and all below); nobody else any.
        ``change``: finance controllers."""
        if action not in {"view", "change"}:
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        if action == "change":
            return self if is_finance_controller(user) else self.none()
        if sees_all_budgets(user):
            return self
        return self.filter(department_id__in=accountability_scope_ids(user))


class Budget(models.Model):
    department = models.ForeignKey("governance.Department", on_delete=models.PROTECT,
                                    related_name="budgets",
                                    help_text=_("The cost centre (a department) it funds."))
    quarter = models.DateField(help_text=_("First day of the calendar quarter."))
    amount = models.DecimalField(max_digits=14, decimal_places=2,
                                 validators=[MinValueValidator(0)])
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    objects = BudgetQuerySet.as_manager()

    class Meta:
        ordering = ["-quarter", "department__name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "quarter"], name="budget_key_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.quarter}: {self.amount}"


class CommitmentKind(models.TextChoices):
    COMMIT = "commit", _("Committed")
    ACTUAL = "actual", _("Actual")
    RELEASE = "release", _("Released")


class CommitmentReason(models.TextChoices):
    APPROVED = "approved", _("Last approval")
    FULFILLED = "fulfilled", _("Fulfilled")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class CommitmentPostingQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "view") -> CommitmentPostingQuerySet:
        """The postings of the budgets one sees (``Budget`` ``view``)."""
        if action != "view":
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        if sees_all_budgets(user):
            return self
        return self.filter(department_id__in=accountability_scope_ids(user))

    def adjustments(self) -> CommitmentPostingQuerySet:
        return self.exclude(quarter=F("period"))


class CommitmentPosting(models.Model):
    request = models.ForeignKey("requests_app.ServiceRequest", on_delete=models.PROTECT,
                                related_name="commitment_postings")
    department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, related_name="+",
        help_text=_("The requester's department: the cost centre that pays."),
    )
    kind = models.CharField(max_length=8, choices=CommitmentKind.choices)
    quarter = models.DateField(help_text=_("First day of the quarter the posting counts in."))
    period = models.DateField(
        help_text=_("First day of the budget quarter that funds the request (an earlier, "
                    "closed quarter on an adjustment)."),
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    posted_at = models.DateTimeField()
    reason = models.CharField(max_length=12, choices=CommitmentReason.choices)
    over_budget_reason = models.TextField(
        blank=True,
        help_text=_("Why the approval went over the remaining budget (commitments only)."),
    )

    objects = CommitmentPostingQuerySet.as_manager()

    class Meta:
        ordering = ["posted_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quarter__gte=F("period")),
                                   name="commitment_adjusts_backwards_only"),
            models.CheckConstraint(condition=Q(amount__gte=0),
                                   name="commitment_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["quarter", "department"], name="commitment_quarter_dept"),
            models.Index(fields=["request", "kind"], name="commitment_request_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.quarter}: {self.amount}"

    @property
    def is_adjustment(self) -> bool:
        return self.quarter != self.period
