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

The sums are **stored** as well, per cost centre and quarter (``BudgetFigures``), and for the
forecast per cost centre, catalog item and funding quarter (``CommitmentItemFigures``) and per
catalog item and funding quarter (``ItemActualFigures``), each row changed in the
transaction of the posting (or budget change) that changes it, so the
report, the inbox cards and the budget check read a row instead of summing the ledger. The
ledger stays the truth: ``services.budget_figures`` recomputes the rows from it to verify
or repair them. See docs/budgets.md.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import connection, models
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
                                    help_text=_("The cost centre (a department) it funds."),
                                    verbose_name=_("department"))
    quarter = models.DateField(
        help_text=_("First day of the calendar quarter."),
        verbose_name=_("quarter"),
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2,
                                 validators=[MinValueValidator(0)], verbose_name=_("amount"))
    updated_at = models.DateTimeField(verbose_name=_("updated at"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("updated by"))

    objects = BudgetQuerySet.as_manager()

    class Meta:
        ordering = ["-quarter", "department__name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "quarter"], name="budget_key_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.quarter}: {self.amount}"

    def save(self, *args, **kwargs) -> None:
        # The stored figures carry the budget beside what is used of it, so the budget check
        # locks and reads one row; they change with it, in the same transaction.
        super().save(*args, **kwargs)
        BudgetFigures.objects.add(department_id=self.department_id, quarter=self.quarter,
                                  budget=self.amount)

    def delete(self, *args, **kwargs):
        deleted = super().delete(*args, **kwargs)
        BudgetFigures.objects.filter(department_id=self.department_id,
                                     quarter=self.quarter).update(budget=None)
        return deleted


class CommitmentKind(models.TextChoices):
    COMMIT = "commit", _("Committed")
    ACTUAL = "actual", _("Actual")
    RELEASE = "release", _("Released")


class CommitmentReason(models.TextChoices):
    APPROVED = "approved", _("Last approval")
    FULFILLED = "fulfilled", _("Fulfilled")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


class BudgetScopedQuerySet(RestrictedQuerySet):
    """Rows of a cost centre (``department``) that follow the budgets' ``view`` rule."""

    def restrict(self, user, action: str = "view"):
        """The rows of the budgets one sees (``Budget`` ``view``)."""
        if action != "view":
            raise ValueError(f"Unknown action {action!r}")
        if not user.is_authenticated:
            return self.none()
        if sees_all_budgets(user):
            return self
        return self.filter(department_id__in=accountability_scope_ids(user))


class CommitmentPostingQuerySet(BudgetScopedQuerySet):

    def adjustments(self) -> CommitmentPostingQuerySet:
        return self.exclude(quarter=F("period"))


class CommitmentPosting(models.Model):
    # No index of its own: ``commitment_request_kind`` (request, kind) leads with it, and one
    # index fewer is one write fewer on every posting.
    request = models.ForeignKey("requests_app.ServiceRequest", on_delete=models.PROTECT,
                                related_name="commitment_postings", verbose_name=_("request"),
                                db_index=False)
    # No index of its own either: ``commitment_dept_quarter`` (department, quarter) leads with
    # it.
    department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, related_name="+",
        help_text=_("The requester's department: the cost centre that pays."),
        verbose_name=_("department"), db_index=False,
    )
    kind = models.CharField(max_length=8, choices=CommitmentKind.choices, verbose_name=_("kind"))
    quarter = models.DateField(
        help_text=_("First day of the quarter the posting counts in."),
        verbose_name=_("quarter"),
    )
    period = models.DateField(
        help_text=_("First day of the budget quarter that funds the request (an earlier, "
                    "closed quarter on an adjustment)."),
        verbose_name=_("period"),
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, verbose_name=_("amount"))
    posted_at = models.DateTimeField(verbose_name=_("posted at"))
    reason = models.CharField(
        max_length=12,
        choices=CommitmentReason.choices,
        verbose_name=_("reason"),
    )
    over_budget_reason = models.TextField(
        blank=True,
        help_text=_("Why the approval went over the remaining budget (commitments only)."),
        verbose_name=_("over budget reason"),
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
            models.Index(fields=["department", "quarter"], name="commitment_dept_quarter"),
            models.Index(fields=["request", "kind"], name="commitment_request_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.quarter}: {self.amount}"

    @property
    def is_adjustment(self) -> bool:
        return self.quarter != self.period


# --- Stored figures: the ledger's sums, kept in the posting's transaction --------------------
CENT = Decimal("0.01")
FIGURE = {"max_digits": 16, "decimal_places": 2, "default": 0}
SUMS = ("committed", "actual", "released", "over_budget")


class BudgetFiguresQuerySet(BudgetScopedQuerySet):
    def add(self, *, department_id: int, quarter, budget=None, committed=0, actual=0,
            released=0, over_budget=0, returning: bool = False):
        """Add to the cost centre's quarter (created at zero when missing) in one statement;
        with ``budget``, set it. With ``returning``, the row as it is now (on PostgreSQL the
        statement holds the row's lock until the transaction ends, like ``SELECT … FOR
        UPDATE``: concurrent postings to the same quarter wait for each other)."""
        values = {"department_id": department_id, "quarter": quarter, "budget": budget,
                  "committed": committed, "actual": actual, "released": released,
                  "over_budget": over_budget}
        changed = [f"{name} = {{t}}.{name} + EXCLUDED.{name}" for name in SUMS]
        if budget is not None:
            changed.append("budget = EXCLUDED.budget")
        row = _upsert(self.model, values, ("department_id", "quarter"), changed,
                      returning=("id", "budget", *SUMS) if returning else ())
        if row is None:
            return None
        figures = self.model(department_id=department_id, quarter=quarter)
        figures.pk, figures.budget, *sums = row
        for name, value in zip(SUMS, sums, strict=True):
            setattr(figures, name, value)
        return figures


class BudgetFigures(models.Model):
    """One cost centre's quarter: its budget (None when none is set) and the sums of the
    commitment postings counting in it, by kind, and how many commitments went over budget."""

    # Indexed by ``budget_figures_key`` (department, quarter), which leads with it.
    department = models.ForeignKey("governance.Department", on_delete=models.CASCADE,
                                   related_name="+", db_index=False)
    quarter = models.DateField(help_text=_("First day of the quarter the postings count in."))
    budget = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    committed = models.DecimalField(**FIGURE)
    actual = models.DecimalField(**FIGURE)
    released = models.DecimalField(**FIGURE)
    over_budget = models.PositiveIntegerField(default=0)

    objects = BudgetFiguresQuerySet.as_manager()

    class Meta:
        verbose_name_plural = _("budget figures")
        constraints = [models.UniqueConstraint(fields=["department", "quarter"],
                                               name="budget_figures_key")]

    def __str__(self) -> str:
        return f"budget figures of department {self.department_id}, {self.quarter}"

    @property
    def used(self):
        return self.committed + self.actual - self.released

    @property
    def remaining(self):
        return (self.budget or 0) - self.used


class CommitmentItemFiguresQuerySet(models.QuerySet):
    def add(self, *, department_id: int, item_id: int, period, in_flight) -> None:
        _upsert(self.model, {"department_id": department_id, "item_id": item_id,
                             "period": period, "in_flight": in_flight},
                ("department_id", "item_id", "period"),
                ["in_flight = {t}.in_flight + EXCLUDED.in_flight"])


class CommitmentItemFigures(models.Model):
    """Per cost centre, catalog item and funding quarter (``period``), the commitments not
    yet released: the work in flight the forecast scales."""

    # Indexed by ``commitment_item_figures_key`` (department, item, period), which leads with
    # it.
    department = models.ForeignKey("governance.Department", on_delete=models.CASCADE,
                                   related_name="+", db_index=False)
    item = models.ForeignKey("requests_app.CatalogItem", on_delete=models.CASCADE,
                             related_name="+")
    period = models.DateField(help_text=_("First day of the budget quarter that funds them."))
    in_flight = models.DecimalField(**FIGURE)

    objects = CommitmentItemFiguresQuerySet.as_manager()

    class Meta:
        verbose_name_plural = _("commitment item figures")
        constraints = [models.UniqueConstraint(fields=["department", "item", "period"],
                                               name="commitment_item_figures_key")]
        # The forecast reads one quarter's work in flight, item by item. No index names
        # ``in_flight`` (not even in a condition), so the update every commitment and release
        # makes to it is a heap-only one: no index entry is written.
        indexes = [models.Index(fields=["period", "item"], name="commitment_item_flight")]

    def __str__(self) -> str:
        return f"department {self.department_id}, item {self.item_id}, {self.period}"


class ItemActualFiguresQuerySet(models.QuerySet):
    def add(self, *, item_id: int, period, estimate, actual) -> None:
        _upsert(self.model, {"item_id": item_id, "period": period, "estimate": estimate,
                             "actual": actual}, ("item_id", "period"),
                ["estimate = {t}.estimate + EXCLUDED.estimate",
                 "actual = {t}.actual + EXCLUDED.actual"])


class ItemActualFigures(models.Model):
    """Per catalog item and funding quarter, of its requests fulfilled with a commitment
    (every cost centre's): the estimates released and the actual costs posted — the
    forecast's actual ÷ estimate ratio."""

    item = models.ForeignKey("requests_app.CatalogItem", on_delete=models.CASCADE,
                             related_name="+")
    period = models.DateField(help_text=_("First day of the budget quarter that funded them."))
    estimate = models.DecimalField(**FIGURE)
    actual = models.DecimalField(**FIGURE)

    objects = ItemActualFiguresQuerySet.as_manager()

    class Meta:
        verbose_name_plural = _("item actual figures")
        constraints = [models.UniqueConstraint(fields=["item", "period"],
                                               name="item_actual_figures_key")]

    def __str__(self) -> str:
        return f"item {self.item_id}, {self.period}"


def _upsert(model, values: dict, key: tuple[str, ...], changes: list[str], *,
            returning: tuple[str, ...] = ()):
    """``INSERT … ON CONFLICT (key) DO UPDATE SET changes [RETURNING …]`` (PostgreSQL and
    SQLite alike); ``{t}`` in a change names the table."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(name) for name in values)
    sql = (f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(values))}) "
           f"ON CONFLICT ({', '.join(quote(k) for k in key)}) DO UPDATE SET "
           + ", ".join(change.format(t=table) for change in changes))
    if returning:
        sql += " RETURNING " + ", ".join(quote(name) for name in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(values.values()))
        if not returning:
            return None
        row = cursor.fetchone()
    fields = [model._meta.get_field("id" if name == "id" else name) for name in returning]
    converted = []
    for field, value in zip(fields, row, strict=True):
        if value is not None and isinstance(field, models.DecimalField):
            # SQLite hands back floats for decimals; PostgreSQL Decimals already.
            value = Decimal(str(value)).quantize(CENT)
        converted.append(value)
    return converted
