"""The words of SRM's pages that need a definition: one place for the help page's glossary
and the short definitions the pages show where a term appears (``{% term %}``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Term:
    key: str  # the anchor on /help/
    name: Promise
    short: Promise  # one sentence: the tooltip where the term appears
    long: Promise  # the glossary's paragraph


GLOSSARY: tuple[Term, ...] = (
    Term("ola", _("OLA (operational level agreement)"),
         _("Business hours a department has for a step from the moment it becomes active."),
         _("The business hours a step may take, counted from its activation in the accountable "
           "department's working hours and holidays. The step's due time is its activation "
           "plus the OLA; time on hold waiting for the requester does not count.")),
    Term("levels", _("Levels L1, L2, L3"),
         _("How late a delay is: L1 past due, L2 half the OLA overdue, L3 the whole OLA or "
           "more than three business days overdue."),
         _("A delay risk rises through three levels and never goes down: level 1 as soon as the "
           "step is past its due time; level 2 once it is overdue by half its OLA; level 3 once "
           "it is overdue by its whole OLA or by more than three business days. At level 3 the "
           "head of the parent department and the ops leaders are told.")),
    Term("exposure", _("Exposure"),
         _("Cost of a delay so far: overdue business days × the item's cost of delay per day."),
         _("What a delay has cost so far: the overdue business hours divided by the business-day "
           "length, times the catalog item's cost of delay per day, rounded to cents, in the "
           "reporting currency. Current exposure counts the delays that are still open.")),
    Term("accrued", _("Accrued"),
         _("Cost of delay posted in a period, open and resolved delays alike."),
         _("The cost of delay posted to the cost-of-delay ledger in a period: the overdue time "
           "that passed in that quarter, of delays still open and of delays already resolved. "
           "A delay spanning two quarters is split between them.")),
    Term("p90", _("Median and p90"),
         _("The 90th percentile: nine in ten steps took at most this long."),
         _("Time in step is measured from a step's activation to its decision or completion. "
           "The median is the middle value (half the steps took longer); p90 is the 90th "
           "percentile: nine steps in ten took at most this long, one in ten longer.")),
    Term("value-realisation", _("Value realisation"),
         _("A KPI meets its target for several consecutive weeks (four by default)."),
         _("An outcome KPI's value is realised from the first week from which it met its target "
           "for a number of consecutive weeks (four by default); a week without a figure breaks "
           "the run. The pages show it with the days since the service went live.")),
    Term("bypass", _("Bypass"),
         _("An approval given outside SRM (e-mail, phone, meeting) and recorded afterwards."),
         _("An approval decided outside the tool — by e-mail, phone or in a meeting — that an "
           "ops leader records afterwards with a reason. It closes the step like a decision in "
           "SRM, is written to the audit trail, and is counted on the change plan as a bypass, "
           "never silently.")),
)

TERMS = {term.key: term for term in GLOSSARY}
