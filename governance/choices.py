from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MembershipRole(models.TextChoices):
    MEMBER = "member", _("Member")
    AGENT = "agent", _("Agent")
    APPROVER = "approver", _("Approver")


class IdentitySource(models.TextChoices):
    """Where a fact about the organisation came from: typed in SRM (local) or the company's
    directory, through single sign-on (OIDC), LDAP or SCIM provisioning. A directory fact is
    kept in step by the directory: the next sync overwrites a local edit."""

    LOCAL = "local", _("Local")
    OIDC = "oidc", _("Directory (OpenID Connect)")
    LDAP = "ldap", _("Directory (LDAP)")
    SCIM = "scim", _("Directory (SCIM)")

    @property
    def is_directory(self) -> bool:
        return self != IdentitySource.LOCAL


class LockoutScope(models.TextChoices):
    """What a sign-in lockout counts: the failures of one account, or those from one address."""

    ACCOUNT = "account", _("Account")
    ADDRESS = "address", _("Address")


class TokenStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class TokenRevokedBecause(models.TextChoices):
    """Why an API token stopped working before its expiry."""

    OWNER = "owner", _("Revoked by its owner")
    ADMINISTRATOR = "administrator", _("Revoked by an administrator")
    PASSWORD_CHANGED = "password_changed", _("The owner's password changed")
    DEACTIVATED = "deactivated", _("The owner was deactivated")
    ROTATED = "rotated", _("Replaced by a new token")


class AuditVerb(models.TextChoices):
    """Every verb an audit event can carry: ``<object>.<what happened>``. ``audit_build``
    refuses any other, so reports and timelines can rely on the list."""

    # Requests: submitted or imported, then one verb per state they move into.
    REQUEST_SUBMITTED = "request.submitted", _("Request submitted")
    REQUEST_IMPORTED = "request.imported", _("Request imported from a legacy tracker")
    REQUEST_IN_APPROVAL = "request.in_approval", _("Request awaiting approval")
    REQUEST_IN_PROGRESS = "request.in_progress", _("Request in progress")
    REQUEST_FULFILLED = "request.fulfilled", _("Request fulfilled")
    REQUEST_REJECTED = "request.rejected", _("Request rejected")
    REQUEST_CANCELLED = "request.cancelled", _("Request cancelled")
    REQUEST_ACTUAL_COST_RECORDED = "request.actual_cost_recorded", _("Actual cost recorded")
    REQUEST_BACK_TO_FINANCE = "request.back_to_finance", _(
        "Back to finance: the actual cost reaches its threshold")
    # Steps: activated, then one verb per closing state; claims and holds.
    STEP_ACTIVATED = "step.activated", _("Step activated")
    STEP_APPROVED = "step.approved", _("Step approved")
    STEP_REJECTED = "step.rejected", _("Step rejected")
    STEP_DONE = "step.done", _("Step done")
    STEP_CANCELLED = "step.cancelled", _("Step cancelled")
    STEP_CLAIMED = "step.claimed", _("Step claimed")
    STEP_TAKEN_OVER = "step.taken_over", _("Step taken over from a colleague")
    STEP_HELD = "step.held", _("Question to the requester")
    STEP_ANSWERED = "step.answered", _("Requester answered")
    STEP_HOLD_REMINDED = "step.hold_reminded", _("Requester reminded")
    STEP_HOLD_EXPIRED = "step.hold_expired", _("Question unanswered: request cancelled")
    # The conversation.
    COMMENT_ADDED = "comment.added", _("Comment added")
    NOTE_ADDED = "note.added", _("Internal note added")
    ATTACHMENT_ADDED = "attachment.added", _("Attachment added")
    # The organisation.
    DEPARTMENT_CALENDAR_CHANGED = "department.calendar_changed", _("Business calendar changed")
    DEPARTMENT_HEAD_CHANGED = "department.head_changed", _("Department head changed")
    USER_DEACTIVATED = "user.deactivated", _("User deactivated (left the organisation)")
    USER_MOVED = "user.moved", _("Person moved to another department")
    USER_PROVISIONED = "user.provisioned", _("Person created or updated by the directory")
    USER_REACTIVATED = "user.reactivated", _("Person reactivated by the directory")
    USER_LANGUAGE_CHANGED = "user.language_changed", _("Language changed")
    DEPARTMENT_PROVISIONED = "department.provisioned", _(
        "Department created or updated by the directory")
    DEPARTMENT_DEPUTY_CHANGED = "department.deputy_changed", _("Department deputy changed")
    MEMBERSHIP_ADDED = "membership.added", _("Person added to a department")
    MEMBERSHIP_REMOVED = "membership.removed", _("Person removed from a department")
    STEP_RELEASED = "step.released", _("Step back in its department's queue (the agent moved or left)")
    # An open step moved to whoever is accountable now (a head change, a leaver).
    STEP_REASSIGNED = "step.reassigned", _("Step moved to who is accountable now")
    # Delegations.
    DELEGATION_CREATED = "delegation.created", _("Delegation created")
    DELEGATION_ENDED = "delegation.ended", _("Delegation ended")
    # Delay risks and notifications.
    RISK_RAISED = "risk.raised", _("Delay risk raised")
    RISK_ESCALATED = "risk.escalated", _("Delay risk escalated")
    RISK_RESOLVED = "risk.resolved", _("Delay risk resolved")
    RISK_CORRECTED = "risk.corrected", _("Delay time measured again after a calendar correction")
    RISK_REATTRIBUTED = "risk.reattributed", _("Delay charged to a new head from the change on")
    # Budgets and the commitment ledger.
    BUDGET_SET = "budget.set", _("Budget set")
    BUDGETS_IMPORTED = "budget.imported", _("Budgets imported")
    REQUEST_OVER_BUDGET = "request.over_budget", _("Approved over the remaining budget")
    NOTIFICATION_SENT = "notification.sent", _("Notification sent")
    NOTIFICATION_PREFERENCES_CHANGED = "notification.preferences_changed", _("E-mail preferences changed")
    # Mail on the reply address: a decision by e-mail reply, a refused reply, automatic mail.
    INBOUND_MAIL_DECIDED = "inbound_mail.decided", _("Decided by e-mail reply")
    INBOUND_MAIL_REFUSED = "inbound_mail.refused", _("E-mail reply refused")
    INBOUND_MAIL_IGNORED = "inbound_mail.ignored", _("Automatic e-mail ignored")
    # Change plans, legacy workflows, imports.
    PLAN_CREATED = "plan.created", _("Change plan created")
    PLAN_CHANGED = "plan.changed", _("Change plan edited")
    PLAN_LIVE = "plan.live", _("Change plan live")
    PLAN_VALUE_REALIZED = "plan.value_realized", _("Change plan realized its value")
    PLAN_ABANDONED = "plan.abandoned", _("Change plan abandoned")
    WORKFLOW_ADDED = "workflow.added", _("Legacy workflow added to a plan")
    WORKFLOW_CHANGED = "workflow.changed", _("Legacy workflow edited")
    WORKFLOW_RETIRED = "workflow.retired", _("Legacy workflow retired")
    WORKFLOW_KEPT = "workflow.kept", _("Legacy workflow kept")
    IMPORT_QUEUED = "import.queued", _("Import queued")
    IMPORT_DONE = "import.done", _("Import done")
    IMPORT_REJECTED = "import.rejected", _("Import rejected")
    IMPORT_FAILED = "import.failed", _("Import failed")
    IMPORT_REQUEUED = "import.requeued", _("Import re-queued after its worker stopped")
    # Sign-in: an account or an address locked after repeated failed sign-ins, and unlocked
    # by an administrator.
    LOGIN_LOCKED_OUT = "login.locked_out", _("Sign-in locked after repeated failures")
    LOGIN_UNLOCKED = "login.unlocked", _("Sign-in unlocked by an administrator")
    # API tokens.
    TOKEN_CREATED = "token.created", _("API token created")
    TOKEN_REVOKED = "token.revoked", _("API token revoked")
    SCIM_TOKEN_CREATED = "scim_token.created", _("Provisioning token created")
    SCIM_TOKEN_REVOKED = "scim_token.revoked", _("Provisioning token revoked")
    # KPIs.
    KPI_MEASUREMENT_RECORDED = "kpi.measurement_recorded", _("KPI measurement recorded")

    @classmethod
    def of(cls, subject: str, state: str) -> AuditVerb:
        """The verb of ``subject`` moving into ``state`` (``AuditVerb.of("step", "done")``)."""
        return cls(f"{subject}.{state}")
