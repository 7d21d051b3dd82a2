"""Separation of duties across levels: no person decides more than one approval step of the
same request, whether as head, deputy, approver or delegate.

Two places hold the rule. Building a path (``approvals.services.paths``) never puts one
person on two approval steps: the later step goes to the next who may stand in (the
department's deputy, else the head above), or the submission is refused naming what to
configure. Deciding (``step_approve``, ``step_reject``, and a question from the decider,
``step_hold``) calls ``require_separate_decider`` after the decider check, because the
organisation moves (a delegation, an approver role, a head change). ``Step.objects.restrict(
user, "decide")`` leaves out the same steps, and PostgreSQL refuses a second decision by one
person on one request (trigger ``approvals_step_separation_of_duties``, approvals 0008).
A decision an ops leader records as taken outside the tool is not a decision of theirs and
counts for nobody."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from approvals.choices import DECISIONS, StepKind
from approvals.models import Step
from governance.errors import NotAllowed
from governance.models import User


def decided_steps(request_id: int):
    """The approval steps of a request that someone decided in the tool."""
    return Step.objects.filter(request_id=request_id, kind=StepKind.APPROVAL,
                               state__in=DECISIONS, decided_outside=False)


def earlier_decision_of(person: User, step: Step) -> Step | None:
    """The other approval step of ``step``'s request that ``person`` decided, or on whose
    behalf a delegate decided it; None when there is none. Read from the request's steps
    when the lock loaded them (``_lock(with_pending=True)``)."""
    loaded = step.request.__dict__.get("_srm_steps") if Step.request.is_cached(step) else None
    if loaded is not None:
        return next((s for s in loaded if s.pk != step.pk and s.kind == StepKind.APPROVAL
                     and s.state in DECISIONS and not s.decided_outside
                     and person.pk in (s.decided_by_id, s.acted_for_id)), None)
    return (decided_steps(step.request_id).exclude(pk=step.pk)
            .filter(Q(decided_by=person) | Q(acted_for=person))
            .select_related("acted_for", "decided_by").order_by("order").first())


def describe_decision(step: Step, person: User) -> str:
    """``approved “Head approval” as head`` / ``… as delegate of Fiona Fischer`` / ``… for
    you (by Hank Hughes, your delegate)``: how ``person`` took part in ``step``'s decision."""
    names = {"verb": step.get_state_display().lower(), "step": step.name,
             "head": step.acted_for, "decider": step.decided_by}
    if step.decided_by_id == person.pk:
        if step.acted_for_id:
            return _("%(verb)s “%(step)s” as delegate of %(head)s") % names
        if step.accountable_head_id == person.pk:
            return _("%(verb)s “%(step)s” as head") % names
        return _("%(verb)s “%(step)s” as approver") % names
    return _("had “%(step)s” %(verb)s on their behalf by %(decider)s") % names


def require_separate_decider(*, actor: User, step: Step, acted_for: User | None) -> None:
    """Refuse (403 ``separation_of_duties``) when ``actor``, or the head they decide for,
    already decided another approval step of ``step``'s request."""
    for person in (actor, acted_for):
        if person is None:
            continue
        earlier = earlier_decision_of(person, step)
        if earlier is not None:
            names = {"person": person, "decision": describe_decision(earlier, person),
                     "reference": step.request.reference, "step": step.name}
            raise NotAllowed(
                (_("You already %(decision)s on %(reference)s; nobody decides two approval "
                   "steps of one request, so someone else decides “%(step)s”.")
                 if person.pk == actor.pk else
                 _("%(person)s already %(decision)s on %(reference)s; nobody decides two "
                   "approval steps of one request, so someone else decides “%(step)s”.")) % names,
                code="separation_of_duties",
            )


def set_aside_reasons(steps, user: User) -> list[tuple[Step, str]]:
    """``(step, why)`` for approvals ``user`` may not decide because of this rule, for the
    inbox: "You already approved “Head approval” as head on SR-…"."""
    reasons = []
    for step in steps:
        earlier = earlier_decision_of(user, step)
        if earlier is not None:
            why = _("You already %(decision)s") % {"decision": describe_decision(earlier, user)}
        else:  # as a delegate: the head they would decide for took part already
            head = step.accountable_head
            earlier = earlier_decision_of(head, step) if head is not None else None
            why = (_("%(head)s, whom you stand in for, already %(decision)s") % {
                "head": head, "decision": describe_decision(earlier, head)}
                if earlier is not None else _("Someone on this request already decided"))
        reasons.append((step, _("%(why)s; someone else decides “%(step)s”.") % {
            "why": why, "step": step.name}))
    return reasons
