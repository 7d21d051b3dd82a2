"""Notices about a request's lifecycle, written to the notification outbox in the same
transaction as the change (subscribed in ``accountability.wiring``; see approvals/signals.py).

- the requester hears when the request is submitted (its path and due date), at each
  approval, and when it is rejected (with the reason), fulfilled or cancelled;
- whoever decides an approval step hears that an item waits for them, with a link;
- once a step is decided, the "waiting for your decision" notices about it are done (read);
- when open approvals move to a new accountable head (a head change, a leaver), the new head
  hears what now waits for them and the old head's "waiting" notices about them are done;
- when work an agent had taken on goes back to the queue (they moved or left), the
  department's head hears what is back, and so does the agent while they can sign in.

``SRM_LIFECYCLE_NOTICES`` off (an organisation moving its history in, say) writes none of
them; questions, answers and delays are notified either way.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accountability.mailin.address import reply_address
from accountability.models import Notification, NotificationKind
from accountability.services.notifications import Draft, notifications_create
from approvals.choices import ReassignReason, ReleaseReason, StepKind, StepState
from governance.models import Department
from kit.i18n import in_language_of, money_text
from requests_app.choices import RequestState


def _enabled() -> bool:
    return settings.SRM_LIFECYCLE_NOTICES


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "D j M Y, H:i") if moment else "—"


def _money(amount) -> str:
    return money_text(amount) if amount is not None else _("not given")


def _what(request) -> str:
    item = str(request.item)
    return f"“{request.title}”" + ("" if request.title == item else f" ({item})")


def _who(step) -> str:
    head = step.accountable_head
    return f"{head} ({step.accountable_department})" if head else str(step.accountable_department)


def _waiting_draft(step, request) -> Draft | None:
    """"An item waits for you" for whoever decides the approval ``step`` (its head; a
    delegate or a department approver sees it in their inbox)."""
    if step.kind != StepKind.APPROVAL or step.accountable_head is None:
        return None
    with in_language_of(step.accountable_head):
        facts = {"reference": request.reference, "title": request.title,
                 "requester": request.requester, "department": request.requester_department,
                 "item": request.item, "cost": _money(request.estimated_cost),
                 "step": step.name, "due": _when(step.due_at)}
        subject = _("%(reference)s waits for your decision: %(title)s") % facts
        body = "\n".join([_("%(requester)s (%(department)s) asks for %(item)s: “%(title)s”.") % facts,
                          _("Estimated cost: %(cost)s.") % facts,
                          _("“%(step)s” is yours to decide by %(due)s.") % facts])
    return Draft(
        recipient=step.accountable_head,
        kind=NotificationKind.WAITING,
        subject=subject,
        body=body,
        link=request.get_absolute_url(),
        reply_to=reply_address(step, step.accountable_head) or "",
        request=request, step=step,
    )


def on_request_submitted(sender, *, request, steps, at, **kwargs) -> None:
    if not _enabled():
        return
    path = [s for s in steps if s.state != StepState.SKIPPED]
    active = next((s for s in path if s.state == StepState.ACTIVE), None)
    with in_language_of(request.requester):
        lines = [
            f"{n}. {s.name} — {_who(s)}{'  ' + _('← now') if s.state == StepState.ACTIVE else ''}"
            for n, s in enumerate(path, 1)
        ]
        now = (_("It is now with %(who)s, due %(due)s.") % {
            "who": _who(active), "due": _when(active.due_at)}
            if active else _("Nothing needed approval."))
        subject = _("%(reference)s submitted: %(title)s") % {
            "reference": request.reference, "title": request.title}
        body = (_("Your request %(what)s was submitted.") % {"what": _what(request)}
                + f" {now}\n\n" + _("Its path:") + "\n" + "\n".join(lines) + "\n\n"
                + _("Expected to be fulfilled by %(due)s.") % {"due": _when(request.due_at)})
    drafts = [Draft(
        recipient=request.requester,
        kind=NotificationKind.SUBMITTED,
        subject=subject,
        body=body,
        link=request.get_absolute_url(),
        request=request,
    )]
    if active is not None and (waiting := _waiting_draft(active, request)) is not None:
        drafts.append(waiting)
    notifications_create(drafts=drafts, at=at)


def on_step_handed_over(sender, *, step, at, **kwargs) -> None:
    if not _enabled():
        return
    if (draft := _waiting_draft(step, step.request)) is not None:
        notifications_create(drafts=[draft], at=at)


def on_step_closed(sender, *, step, at, **kwargs) -> None:
    """A decided step's "waiting" notices are done; an approval is news for the requester."""
    request = step.request
    if not _enabled() or step.state != StepState.APPROVED:
        notifications_create(drafts=[], at=at, done_about=request.get_absolute_url())
        return
    loaded = request.__dict__.get("_srm_steps")  # read with the request's lock, in order
    path = ([s for s in loaded if s.state != StepState.SKIPPED] if loaded is not None else
            list(request.steps.exclude(state=StepState.SKIPPED)
                 .select_related("accountable_head", "accountable_department")
                 .order_by("order")))
    approvals = [s for s in path if s.kind == StepKind.APPROVAL]
    level = next((n for n, s in enumerate(approvals, 1) if s.pk == step.pk), len(approvals))
    following = next((s for s in path if s.state == StepState.PENDING), None)
    with in_language_of(request.requester):
        if following is None:
            after = _("Nothing else is needed: it is fulfilled.")
        elif following.kind == StepKind.APPROVAL:
            after = _("Next: “%(step)s” by %(who)s.") % {"step": following.name,
                                                        "who": _who(following)}
        else:
            after = _("Approved in full. Next: %(department)s carries it out.") % {
                "department": following.accountable_department}
        by = (_("%(decider)s for %(principal)s") % {"decider": step.decided_by,
                                                    "principal": step.acted_for}
              if step.acted_for_id else f"{step.decided_by}")
        comment = f"\n\n“{step.comment}”" if step.comment else ""
        subject = _("%(reference)s: %(step)s approved (%(level)s of %(count)s)") % {
            "reference": request.reference, "step": step.name, "level": level,
            "count": len(approvals)}
        body = (_("%(by)s approved “%(title)s”.") % {"by": by, "title": request.title}
                + f"{comment}\n\n{after}")
    link = request.get_absolute_url()
    notifications_create(drafts=[Draft(
        recipient=request.requester,
        kind=NotificationKind.APPROVED,
        subject=subject,
        body=body,
        link=link,
        request=request,
    )], at=at, done_about=link)


_CLOSED = {
    RequestState.FULFILLED: NotificationKind.FULFILLED,
    RequestState.REJECTED: NotificationKind.REJECTED,
    RequestState.CANCELLED: NotificationKind.CANCELLED,
}


def _closed_subject(state: str) -> str:
    return {RequestState.FULFILLED: _("%(reference)s fulfilled: %(title)s"),
            RequestState.REJECTED: _("%(reference)s rejected: %(title)s"),
            RequestState.CANCELLED: _("%(reference)s cancelled: %(title)s")}[state]


def _closed_by(state: str, *, yourself: bool) -> str:
    if state == RequestState.REJECTED:
        return _("You rejected “%(title)s”.") if yourself else _("%(by)s rejected “%(title)s”.")
    return _("You cancelled “%(title)s”.") if yourself else _("%(by)s cancelled “%(title)s”.")


def on_request_closed(sender, *, request, state, actor, reason, at, **kwargs) -> None:
    if not _enabled() or state not in _CLOSED:
        return
    kind = _CLOSED[state]
    with in_language_of(request.requester):
        if state == RequestState.FULFILLED:
            body = _("%(what)s is done: %(department)s fulfilled it on %(when)s.") % {
                "what": _what(request), "department": request.item.fulfilling_department,
                "when": _when(at)}
        else:
            yourself = actor is not None and actor.pk == request.requester_id
            body = _closed_by(state, yourself=yourself) % {"by": actor or "SRM",
                                                           "title": request.title}
            if reason:
                label = _("Reason") if state == RequestState.REJECTED else _("Why")
                body += f"\n\n{label}: {reason}"
            if state == RequestState.REJECTED:
                body += "\n\n" + _("If it is still needed, answer the reason in a new request.")
        subject = _closed_subject(state) % {"reference": request.reference,
                                            "title": request.title}
    notifications_create(drafts=[Draft(
        recipient=request.requester,
        kind=kind,
        subject=subject,
        body=body,
        link=request.get_absolute_url(),
        request=request,
    )], at=at)


def on_steps_reassigned(sender, *, moves, reason, actor, at, **kwargs) -> None:
    """Open steps moved to who is accountable now: the approvals that wait are the new
    head's to decide (one notice per person, listing them); the old head's "waiting"
    notices about them are done."""
    waiting = [m for m in moves if m.step.kind == StepKind.APPROVAL
               and m.step.state == StepState.ACTIVE]
    links_by_old: dict[int, set[str]] = {}
    for move in waiting:
        if move.from_head is not None:
            links_by_old.setdefault(move.from_head.pk, set()).add(
                move.step.request.get_absolute_url())
    for old_id, links in links_by_old.items():
        Notification.objects.filter(recipient_id=old_id, kind=NotificationKind.WAITING,
                                    link__in=links).unread().update(read_at=at)
    if not _enabled() or not waiting:
        return
    by_head: dict[int, list] = {}
    for move in waiting:
        by_head.setdefault(move.to_head.pk, []).append(move)
    drafts = []
    for items in by_head.values():
        head = items[0].to_head
        count = len(items)
        with in_language_of(head):
            lines = [_("- %(reference)s “%(title)s”: %(step)s, due %(due)s (was with "
                       "%(previous)s)") % {
                "reference": m.step.request.reference, "title": m.step.request.title,
                "step": m.step.name, "due": _when(m.step.due_at),
                "previous": m.from_head or _("nobody")} for m in items]
            department = items[0].step.accountable_department
            subject = ngettext("%(count)s approval now wait for your decision (%(department)s)",
                               "%(count)s approvals now wait for your decision (%(department)s)",
                               count) % {"count": count, "department": department}
            body = (_("You are now accountable for these approvals of %(department)s "
                      "(%(reason)s):") % {"department": department,
                                          "reason": str(ReassignReason(reason).label).lower()}
                    + "\n" + "\n".join(lines))
        drafts.append(Draft(
            recipient=head,
            kind=NotificationKind.WAITING,
            subject=subject,
            body=body,
            link=reverse("approvals:inbox"),
            # One approval: a reply decides it; several: each has its own address, so none.
            reply_to=(reply_address(items[0].step, head) or "") if count == 1 else "",
            # One approval: its action links too (and its conversation).
            request=items[0].step.request if count == 1 else None,
            step=items[0].step if count == 1 else None,
        ))
    notifications_create(drafts=drafts, at=at)


def _released_for(department: Department, user):
    """Who hears that work is back in ``department``'s queue: its head, else (the head is the
    person who went, or has left) its deputy; nobody when neither can sign in."""
    for person in (department.head, department.deputy):
        if person is not None and person.is_active and person.pk != user.pk:
            return person
    return None


def on_steps_released(sender, *, user, steps, reason, actor, at, **kwargs) -> None:
    """Work ``user`` had taken on is back in its departments' queues: each department's head
    hears which (one notice per department), and ``user``, if they can still sign in (they
    moved), hears that it is no longer theirs. Sent whatever ``SRM_LIFECYCLE_NOTICES`` says:
    without it the work would wait unseen."""
    by_department: dict[int, list] = {}
    for step in steps:
        by_department.setdefault(step.accountable_department_id, []).append(step)
    departments = Department.objects.select_related("head", "deputy").in_bulk(by_department)
    queue = reverse("work:queue")
    drafts = []
    for department_id, items in by_department.items():
        department = departments[department_id]
        lines = "\n".join(f"- {s.request.reference} “{s.request.title}”: {s.name}" for s in items)
        count = len(items)
        facts = {"person": user, "department": department, "count": count}
        recipient = _released_for(department, user)
        if recipient is not None:
            with in_language_of(recipient):
                why = (_("%(person)s moved to another department") if reason == ReleaseReason.MOVED
                       else _("%(person)s left the organisation")) % facts
                drafts.append(Draft(
                    recipient=recipient,
                    kind=NotificationKind.RELEASED,
                    subject=ngettext(
                        "%(count)d work step of %(person)s back in the queue of %(department)s",
                        "%(count)d work steps of %(person)s back in the queue of %(department)s",
                        count) % facts,
                    body=(_("%(why)s. The work they had taken on is nobody's now and waits in "
                            "the queue of %(department)s for a colleague to take on:")
                          % {"why": why, "department": department} + "\n" + lines),
                    link=queue,
                    request=items[0].request if count == 1 else None,
                ))
        if user.is_active:
            with in_language_of(user):
                drafts.append(Draft(
                    recipient=user,
                    kind=NotificationKind.RELEASED,
                    subject=_("Your work in %(department)s went back to its queue") % facts,
                    body=(_("You are no longer in %(department)s, so the work you had taken "
                            "on there is no longer yours: it waits in its queue for a "
                            "colleague.") % facts + "\n" + lines),
                ))
    notifications_create(drafts=drafts, at=at)
