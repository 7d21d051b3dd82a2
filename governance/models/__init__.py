"""The organisation core's models: people, departments, memberships and the audit trail.

Every other app builds on these; this package imports no other app.
"""

from .audit import AuditEvent
from .org import Department, Membership, User

__all__ = ["AuditEvent", "Department", "Membership", "User"]
