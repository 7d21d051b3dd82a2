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
    verb = step.get_state_display().lower()
    if step.decided_by_id == person.pk:
        role = f"as delegate of {step.acted_for}" if step.acted_for_id else (
            "as head" if step.accountable_head_id == person.pk else "as approver")
        return f"{verb} “{step.name}” {role}"
    return f"had “{step.name}” {verb} on their behalf by {step.decided_by}"


def require_separate_decider(*, actor: User, step: Step, acted_for: User | None) -> None:
    """Refuse (403 ``separation_of_duties``) when ``actor``, or the head they decide for,
    already decided another approval step of ``step``'s request."""
    for person in (actor, acted_for):
        if person is None:
            continue
        earlier = earlier_decision_of(person, step)
        if earlier is not None:
            who = "You" if person.pk == actor.pk else str(person)
            raise NotAllowed(
                f"{who} already {describe_decision(earlier, person)} on "
                f"{step.request.reference}; nobody decides two approval steps of one request, "
                f"so someone else decides “{step.name}”.",
                code="separation_of_duties",
            )


def set_aside_reasons(steps, user: User) -> list[tuple[Step, str]]:
    """``(step, why)`` for approvals ``user`` may not decide because of this rule, for the
    inbox: "You already approved “Head approval” as head on SR-…"."""
    reasons = []
    for step in steps:
        earlier = earlier_decision_of(user, step)
        if earlier is not None:
            why = f"You already {describe_decision(earlier, user)}"
        else:  # as a delegate: the head they would decide for took part already
            head = step.accountable_head
            earlier = earlier_decision_of(head, step) if head is not None else None
            why = (f"{head}, whom you stand in for, already {describe_decision(earlier, head)}"
                   if earlier is not None else "Someone on this request already decided")
        reasons.append((step, f"{why}; someone else decides “{step.name}”."))
    return reasons
