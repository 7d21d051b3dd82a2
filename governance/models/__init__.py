"""Governance models, split by subject so the two layers stay visible.

``org`` and ``audit`` are the organisation core that every other app builds on; the
accountability half (delay risks, change plans) lives in its own modules.
"""

from .audit import AuditEvent
from .figures import (
    FiguresStamp,
    FlowFigures,
    HandoffFigures,
    ItemTimeFigures,
    OpenWorkFigures,
    QuarterFigures,
    WeekFigures,
)
from .notifications import EmailStatus, Notification, NotificationKind
from .org import Department, Membership, User
from .plans import ChangePlan, ImportJob, LegacyWorkflow
from .risks import DelayAccrual, DelayRisk

__all__ = [
    "AuditEvent", "ChangePlan", "DelayAccrual", "DelayRisk", "Department", "EmailStatus",
    "FiguresStamp", "FlowFigures", "HandoffFigures", "ImportJob", "ItemTimeFigures",
    "LegacyWorkflow", "Membership", "Notification", "NotificationKind", "OpenWorkFigures",
    "QuarterFigures", "User",
    "WeekFigures",
]
