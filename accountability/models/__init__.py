"""Accountability's models: delay risks and the cost-of-delay ledger, the notification
outbox, the stored figures of the board and reports, change plans, legacy workflows and
import jobs. They keep the tables they had when they lived in ``governance``."""

from .budgets import (
    Budget,
    BudgetFigures,
    CommitmentItemFigures,
    CommitmentKind,
    CommitmentPosting,
    CommitmentReason,
    ItemActualFigures,
)
from .figures import (
    FiguresStamp,
    FlowFigures,
    HandoffFigures,
    ItemTimeFigures,
    OpenWorkFigures,
    QuarterFigures,
    WeekFigures,
)
from .inbound import AnswerStatus, InboundDoor, InboundMessage, InboundOutcome, ReplyReason
from .ledger import DelayPosting, PostingReason
from .notifications import (
    ALWAYS_EMAILED,
    OPTIONAL_KINDS,
    EmailActionUse,
    EmailStatus,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from .plans import ChangePlan, ImportJob, LegacyWorkflow
from .risks import DelayRisk

__all__ = [
    "ALWAYS_EMAILED", "OPTIONAL_KINDS", "AnswerStatus", "Budget", "BudgetFigures",
    "CommitmentItemFigures", "CommitmentKind", "ItemActualFigures",
    "CommitmentPosting", "CommitmentReason", "InboundDoor", "InboundMessage",
    "InboundOutcome", "NotificationPreference", "ReplyReason",
    "ChangePlan", "DelayPosting", "DelayRisk", "EmailActionUse", "EmailStatus", "FiguresStamp",
    "FlowFigures",
    "HandoffFigures", "ImportJob", "ItemTimeFigures", "LegacyWorkflow", "Notification",
    "NotificationKind", "OpenWorkFigures", "PostingReason", "QuarterFigures", "WeekFigures",
]
