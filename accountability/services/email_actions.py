"""Deciding from an e-mail's action links (``accountability.mailout.links``).

``email_link_check`` reads a token and says whether it may still act, and if not why, in the
words the page shows; ``email_link_use`` acts: in one transaction it records the link as used
(``EmailActionUse``, one per e-mail) and calls the same service the page calls
(``step_approve`` / ``step_reject`` / ``step_hold``) as the approver the e-mail was written to,
with the channel "e-mail link" and the e-mail's Message-ID. Every rule of those services
applies (who decides now, delegations, separation of duties, a reason to reject); when one
refuses, nothing is recorded and the link stays unused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accountability.mailin.address import step_version
from accountability.mailout.links import ActionToken, LinkAction, action_token_read
from accountability.mailout.message_ids import notification_message_id
from accountability.models import EmailActionUse, Notification
from approvals.choices import DecisionChannel, StepKind, StepState
from approvals.models import Step
from approvals.services import decider_refusal, step_approve, step_hold, step_reject
from governance.models import User


class LinkProblem:
    """Why a link no longer acts (the page's heading says it; tests match on these)."""

    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"
    MOVED_ON = "moved_on"
    STALE = "stale"
    NOT_DECIDER = "not_decider"
    ON_HOLD = "on_hold"


@dataclass
class LinkCheck:
    token: ActionToken | None
    step: Step | None = None
    approver: User | None = None
    problem: str = ""
    why: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problem


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "j M Y, H:i")


def email_link_check(token: str, *, for_update: bool = False) -> LinkCheck:
    """Whether the link may act now, and if not, why. ``for_update``: inside the
    transaction that acts, the step is read under its lock by the service afterwards; here
    the notification row is locked so two clicks on one e-mail queue."""
    read = action_token_read(token)
    if read is None:
        return LinkCheck(None, problem=LinkProblem.INVALID,
                         why=_("This link is not one SRM made, or it was cut short. Open SRM "
                               "and decide from your approvals."))
    notifications = Notification.objects.select_related("recipient")
    if for_update:
        notifications = notifications.select_for_update(of=("self",))
    notification = notifications.filter(pk=read.notification_id,
                                        recipient_id=read.approver_id).first()
    approver = notification.recipient if notification is not None else None
    # The step as the approver may see it: a step they may no longer see is not theirs.
    step = None
    if approver is not None:
        step = (Step.objects.restrict(approver, "view")
                .select_related("request__requester", "request__requester_department",
                                "request__item", "accountable_head", "accountable_department",
                                "decided_by", "acted_for")
                .filter(pk=read.step_id).first())
    check = LinkCheck(read, step=step, approver=approver)
    if notification is None or step is None or not approver.is_active:
        check.problem = LinkProblem.NOT_DECIDER
        check.why = _("Who decides this approval changed since this e-mail was sent (a new "
                      "head, or a delegation that ended): it is no longer yours to see or "
                      "decide.")
        return check
    if read.expired:
        check.problem = LinkProblem.EXPIRED
        check.why = _("This link expired on %(when)s: links in e-mails work for a limited "
                      "time. Decide on the request's page.") % {"when": _when(read.expires_at)}
        return check
    use = EmailActionUse.objects.filter(notification=notification).first()
    if use is not None:
        check.problem = LinkProblem.USED
        check.why = _("This e-mail's links were already used on %(when)s (%(action)s). A link "
                      "decides once; nothing was done again.") % {
            "when": _when(use.used_at), "action": LinkAction.LABELS.get(use.action, use.action)}
        return check
    if step.state != StepState.ACTIVE or step.kind != StepKind.APPROVAL:
        check.problem = LinkProblem.MOVED_ON
        if step.is_decided and step.decided_by_id:
            check.why = _("“%(step)s” was already %(state)s by %(who)s on %(when)s.") % {
                "step": step.name, "state": step.get_state_display().lower(),
                "who": step.decided_by, "when": _when(step.completed_at)}
        else:
            check.why = _("“%(step)s” is %(state)s: it no longer waits for a decision.") % {
                "step": step.name, "state": step.get_state_display().lower()}
        return check
    if step_version(step) != read.version:
        check.problem = LinkProblem.STALE
        check.why = _("“%(step)s” started again since this e-mail was sent (on %(when)s): "
                      "this link was for the earlier round.") % {
            "step": step.name, "when": _when(step.activated_at)}
        return check
    refusal = decider_refusal(approver, step)
    if refusal:
        check.problem = LinkProblem.NOT_DECIDER
        check.why = refusal
        return check
    if read.action == LinkAction.ASK and step.is_on_hold:
        check.problem = LinkProblem.ON_HOLD
        check.why = _("“%(step)s” already waits for the requester's answer to a question.") % {
            "step": step.name}
        return check
    check.extra["notification"] = notification
    return check


@transaction.atomic
def email_link_use(*, token: str, text: str = ""):
    """Act on a link: returns ``(check, result)``; ``result`` is the decided step (or the
    hold of a question), None when the check refused (``check.why`` says why). A service's
    refusal (a reason missing, a rule) is raised as its ``DomainError``, nothing recorded."""
    check = email_link_check(token, for_update=True)
    if not check.ok:
        return check, None
    read, step, approver = check.token, check.step, check.approver
    notification = check.extra["notification"]
    try:
        with transaction.atomic():
            EmailActionUse.objects.create(notification=notification, step=step,
                                          approver=approver, action=read.action)
    except IntegrityError:  # a second click raced this one and won
        return email_link_check(token), None
    where = {"channel": DecisionChannel.EMAIL_LINK,
             "message_id": notification_message_id(notification)}
    if read.action == LinkAction.APPROVE:
        result = step_approve(actor=approver, step=step, comment=text, **where)
    elif read.action == LinkAction.REJECT:
        result = step_reject(actor=approver, step=step, comment=text, **where)
    else:
        result = step_hold(actor=approver, step=step, question=text, **where)
    return check, result
