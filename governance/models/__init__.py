"""The organisation core's models: people, departments, memberships and the audit trail.

Every other app builds on these; this package imports no other app.
"""

from .audit import AuditChainHead, AuditEvent
from .org import Department, Membership, User
from .security import ApiToken, IdentityProvider, LoginLockout, ScimToken, UserSession

__all__ = ["ApiToken", "AuditChainHead", "AuditEvent", "Department", "IdentityProvider",
           "LoginLockout", "Membership", "ScimToken", "User", "UserSession"]
