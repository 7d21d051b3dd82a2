"""The cost-of-delay ledger: every change in a delay risk's cost is an append-only posting.

A posting counts in ``quarter`` (the reporting quarter whose figures it belongs to) and
measures overdue time that passed in ``period``. They are the same quarter except for an
**adjustment**: a correction to a quarter that had already closed when it was posted, which
counts in the open quarter and names the closed one in ``period``. Nothing is ever updated or
deleted (on PostgreSQL a trigger refuses it, as for the audit trail); every cost-of-delay
figure on a page, export or API is a sum of postings. See docs/accountability.md, "The
cost-of-delay ledger".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class PostingReason(models.TextChoices):
    SCAN = "scan", _("Delay scan")
    CLOSE = "close", _("Step closed")
    CORRECTION = "correction", _("Correction")
    REATTRIBUTION = "reattribution", _("Head changed")
    OPENING = "opening", _("Opening balance")


class DelayPostingQuerySet(models.QuerySet):
    def adjustments(self) -> DelayPostingQuerySet:
        return self.exclude(quarter=F("period"))

    def accruals(self) -> DelayPostingQuerySet:
        return self.filter(quarter=F("period"))


class DelayPosting(models.Model):
    risk = models.ForeignKey("accountability.DelayRisk", on_delete=models.PROTECT,
                             related_name="postings", verbose_name=_("risk"))
    department = models.ForeignKey(
        "governance.Department", on_delete=models.PROTECT, related_name="+",
        help_text=_("The accountable department the cost is charged to."),
        verbose_name=_("department"),
    )
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text=_("The head accountable while the time passed."),
        verbose_name=_("head"),
    )
    quarter = models.DateField(
        help_text=_("First day of the quarter the posting counts in."),
        verbose_name=_("quarter"),
    )
    period = models.DateField(
        help_text=_("First day of the quarter in which the overdue time passed (an earlier, "
                  "closed quarter on an adjustment)."),
        verbose_name=_("period"),
    )
    seconds = models.DecimalField(_("business seconds"), max_digits=18, decimal_places=6)
    amount = models.DecimalField(max_digits=14, decimal_places=2, verbose_name=_("amount"))
    posted_at = models.DateTimeField(verbose_name=_("posted at"))
    reason = models.CharField(
        max_length=16,
        choices=PostingReason.choices,
        verbose_name=_("reason"),
    )
    note = models.CharField(max_length=200, blank=True, verbose_name=_("note"))

    objects = DelayPostingQuerySet.as_manager()

    class Meta:
        ordering = ["posted_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quarter__gte=F("period")),
                                   name="delay_posting_adjusts_backwards_only"),
        ]
        indexes = [
            models.Index(fields=["quarter", "department"], name="posting_quarter_dept"),
            models.Index(fields=["risk", "period"], name="posting_risk_period"),
        ]

    def __str__(self) -> str:
        return f"risk {self.risk_id} {self.quarter}: {self.amount}"

    @property
    def is_adjustment(self) -> bool:
        return self.quarter != self.period
