"""The approvals inbox, the work queue and delegations.

Every action fetches its step through ``Step.objects.restrict(user, "view")`` — a step you
cannot see is a 404 — and lets the service decide whether *you* may act on it, so the answer
is precise: "only Hank can decide" (403), "already approved by Hank" (409). With htmx the
row is swapped in place; as a plain form POST the person lands back on the list.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from approvals.cards import attach_card_facts
from approvals.choices import DecisionChannel
from approvals.forms import CompleteForm, DecisionForm, DelegationForm, InboxFilterForm
from approvals.models import Delegation, Step, steps_remember_answers
from approvals.selectors import (
    capabilities,
    delegate_candidates,
    inbox_counts,
    inbox_filtered,
    inbox_heading_counts,
    people_matching,
    set_aside_for,
    work_queue_for,
)
from approvals.services import (
    delegation_create,
    delegation_end,
    step_approve,
    step_claim,
    step_complete,
    step_reject,
    step_take_over,
)
from approvals.services.separation import set_aside_reasons
from governance.errors import AlreadyDecided, DomainError, NotAllowed
from kit.navigation import counted
from kit.web import domain_error_response, is_htmx, safe_next, serves
from requests_app.money import money_format_for

PAGE_SIZE = 25
# The inbox: cards up to this many items, a compact table above (either on request).
CARD_VIEW_UP_TO = 10
TABLE_PAGE_SIZE = 50
# Bulk decisions: at most this many items at once (one page of the table).
BULK_LIMIT = TABLE_PAGE_SIZE
# Approvals set aside by separation of duties, listed below the inbox with the reason.
SET_ASIDE_SHOWN = 10
_ROW = ("request__item", "request__requester", "request__requester_department",
        "request__current_step__accountable_head", "request__current_step__accountable_department",
        "accountable_department", "accountable_head", "assignee", "decided_by", "acted_for")


def _visible_step(request: HttpRequest, pk: int) -> Step:
    return get_object_or_404(Step.objects.restrict(request.user, "view").select_related(*_ROW),
                             pk=pk)


def _fresh(step: Step) -> Step:
    return Step.objects.select_related(*_ROW).get(pk=step.pk)


class _CountedPaginator(Paginator):
    """A paginator told its count (the inbox counted it with the heading's numbers)."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count


def _page_of(request, steps, *, size: int = PAGE_SIZE, count: int | None = None,
             read_through: str | None = None):
    """A page of ``steps``: the page's ids first (the visibility rule and the order, on the
    step table's own indexes), then those rows with everything they show. One query joining
    the six related tables to the rule let PostgreSQL plan the joins before the narrowing
    filter: ~600 ms for a head's inbox at 200,000 active steps, 35 ms in two steps."""
    ids = steps.values_list("pk", flat=True)
    paginator = (Paginator(ids, size) if count is None
                 else _CountedPaginator(ids, size, count=count))
    page = paginator.get_page(request.GET.get("page"))
    found = Step.objects.select_related(*_ROW).in_bulk(list(page.object_list))
    page.object_list = [found[pk] for pk in page.object_list if pk in found]
    # Each row's actions: the rule the page was read through answered already.
    steps_remember_answers(page.object_list, request.user, read_through=read_through)
    if read_through == "decide":  # the inbox: what other layers know (one query per page)
        attach_card_facts(page.object_list)
    return page


_SAMPLE_PK, _SAMPLE_REFERENCE = 2147483647, "SR-0000-000000"


def _around(viewname: str, sample) -> tuple[str, str]:
    """A URL with one argument as what comes before and after it, reversed once."""
    before, after = reverse(viewname, args=[sample]).split(str(sample))
    return before, after


def attach_row_urls(steps) -> None:
    """``step.urls``: the links of an inbox table row, from one reversal per kind of link
    for the whole page (fifty rows reversed 250 URLs, a tenth of the table's rendering)."""
    detail, approve, reject = (_around("portal:request_detail", _SAMPLE_REFERENCE),
                               _around("approvals:approve", _SAMPLE_PK),
                               _around("approvals:reject", _SAMPLE_PK))
    for step in steps:
        pk = str(step.pk)
        # As reverse() quotes its arguments (references are letters, digits and dashes).
        reference = quote(step.request.reference, safe=RFC3986_SUBDELIMS + "/~:@")
        step.urls = {"request": f"{detail[0]}{reference}{detail[1]}",
                     "approve": f"{approve[0]}{pk}{approve[1]}",
                     "reject": f"{reject[0]}{pk}{reject[1]}"}


def _list_page(request, *, template: str, steps, status: int = 200,
               read_through: str | None = None) -> HttpResponse:
    return render(request, template,
                  {"page": _page_of(request, steps, read_through=read_through)}, status=status)


# --- Approvals inbox -------------------------------------------------------------------------
def _render_inbox(request: HttpRequest, status: int = 200, *, bulk_error: str = "") -> HttpResponse:
    user = request.user
    form = InboxFilterForm(request.GET or None, user=user)
    waiting, held, set_aside = inbox_heading_counts(user)
    counted(request, "approvals:inbox", waiting)  # the badge: the same count
    view = form.cleaned_data.get("view") if form.is_valid() else ""
    view = view or ("table" if waiting + held > CARD_VIEW_UP_TO else "cards")
    page = _page_of(request, inbox_filtered(user, form.filters()),
                    size=TABLE_PAGE_SIZE if view == "table" else PAGE_SIZE,
                    count=None if form.narrows() else waiting + held, read_through="decide")
    if view == "table":
        attach_row_urls(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    keep = query.copy()
    for name in ("sort", "view"):
        keep.pop(name, None)
    return render(request, "approvals/inbox.html", {
        "page": page, "form": form, "waiting": waiting, "held": held, "view": view,
        "narrowed": form.narrows(), "query": query.urlencode(), "keep": keep.urlencode(),
        "sort": form.filters().sort, "results": request.session.pop("bulk_results", None),
        "bulk_error": bulk_error, "bulk_limit": BULK_LIMIT,
        "may_delegate": capabilities(request.user).may_delegate,
        # Separation of duties: what they would decide but may not, and why (a few).
        "set_aside": set_aside_reasons(
            set_aside_for(user).select_related("request")[:SET_ASIDE_SHOWN], user)
        if set_aside else [],
        "set_aside_count": set_aside,
    }, status=status)


def _row(request, step: Step, *, status: int = 200, **extra) -> HttpResponse:
    """One inbox or work-queue row, with the navigation's counts (and, in the inbox, its
    heading's) sent out-of-band."""
    template = "approvals/partials/step_row.html"
    if step.is_approval:
        attach_card_facts([step])
        extra["waiting"], extra["held"] = inbox_counts(request.user)
        counted(request, "approvals:inbox", extra["waiting"])
        if request.POST.get("as") == "table":
            template = "approvals/partials/inbox_table_row.html"
            attach_row_urls([step])
    return render(request, template, {"step": step, "oob_nav": True, **extra}, status=status)


@login_required
@serves(Step)
def inbox(request: HttpRequest) -> HttpResponse:
    return _render_inbox(request)


def _act(request: HttpRequest, pk: int, *, act, page, row, success: str, back: str,
         row_context=lambda exc: {}) -> HttpResponse:
    """Fetch the visible step, let the service act, answer as a row (htmx) or a redirect."""
    step = _visible_step(request, pk)
    try:
        act(step)
    except DomainError as exc:
        extra = row_context(exc)
        return domain_error_response(
            request, exc, page=lambda status: page(request, status),
            row=lambda error, status: row(request, _fresh(step), status=status, error=error,
                                          **extra),
        )
    step = _fresh(step)
    if is_htmx(request):
        return row(request, step)
    messages.success(request, success % {"reference": step.request.reference, "step": step.name})
    return redirect(safe_next(request, reverse(back)))


def _decide(request: HttpRequest, pk: int, *, action, name: str, done: str,
            **extra) -> HttpResponse:
    """``name``: the form that failed is opened again (``approve`` / ``reject``); ``extra``
    goes to the service (``over_budget_reason``)."""
    form = DecisionForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else request.POST.get("comment", "")
    return _act(
        request, pk, act=lambda step: action(actor=request.user, step=step, comment=comment,
                                             channel=DecisionChannel.PAGE, **extra),
        page=_render_inbox, row=_row, success=done, back="approvals:inbox",
        row_context=lambda exc: {
            "comment": comment, "failed": name,
            "field_errors": exc.field_errors.get("comment", []),
            "over_budget_reason": extra.get("over_budget_reason", ""),
            "over_budget_errors": exc.field_errors.get("over_budget_reason", [])},
    )


@login_required
@require_POST
@serves(Step)
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    # Over budget: the decider ticks the confirmation and says why; without the tick the
    # reason is not passed, so the service refuses with what is left.
    reason = (request.POST.get("over_budget_reason", "")
              if request.POST.get("over_budget") else "")
    return _decide(request, pk, action=step_approve, name="approve",
                   done=_("%(reference)s: %(step)s approved."),
                   over_budget_reason=reason)


@login_required
@require_POST
@serves(Step)
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, action=step_reject, name="reject",
                   done=_("%(reference)s: %(step)s rejected."))


def _bulk_outcome(request: HttpRequest, step: Step, action, comment: str) -> tuple[str, str]:
    """(outcome, words) of one item of a bulk decision, decided exactly as one at a time."""
    try:
        action(actor=request.user, step=step, comment=comment, channel=DecisionChannel.PAGE)
    except AlreadyDecided as exc:
        return "already_decided", exc.message
    except NotAllowed as exc:
        return "not_allowed", exc.message
    except DomainError as exc:
        return "refused", exc.message
    return "done", ""


@login_required
@require_POST
@serves(Step)
def bulk_decide(request: HttpRequest) -> HttpResponse:
    """Approve (or reject, with one reason) the selected items, each through ``step_approve``
    / ``step_reject`` in its own transaction: every rule applies and each leaves its audit
    event; what one item refuses does not stop the others. The results wait in the session
    for the inbox the person is sent back to."""
    action = request.POST.get("action")
    comment = request.POST.get("comment", "")
    try:
        ids = list(dict.fromkeys(int(pk) for pk in request.POST.getlist("step")))
    except ValueError:
        ids = []
    error = ""
    if action not in {"approve", "reject"}:
        error = gettext("Choose to approve or to reject the selected items.")
    elif not ids:
        error = gettext("Select the items to decide first.")
    elif len(ids) > BULK_LIMIT:
        error = gettext("Decide at most %(limit)s items at once.") % {"limit": BULK_LIMIT}
    elif action == "reject" and not comment.strip():
        error = gettext("Say why you reject them: each requester reads the reason.")
    if error:
        messages.error(request, error)
        return _render_inbox(request, status=400, bulk_error=error)
    decide, done = (step_approve, "approved") if action == "approve" else (step_reject, "rejected")
    found = Step.objects.restrict(request.user, "view").select_related("request").in_bulk(ids)
    results = []
    for pk in ids:
        step = found.get(pk)
        if step is None:
            outcome, words = "not_found", gettext("Not found, or not yours to see.")
        else:
            outcome, words = _bulk_outcome(request, step, decide, comment)
        results.append({
            "step": pk, "reference": step.request.reference if step else "",
            "title": step.request.title if step else "",
            "outcome": outcome, "done": done if outcome == "done" else "", "words": words,
        })
    request.session["bulk_results"] = results
    decided = sum(r["outcome"] == "done" for r in results)
    summary = (gettext("%(decided)s of %(total)s approved.") if action == "approve"
               else gettext("%(decided)s of %(total)s rejected."))
    messages.success(request, summary % {"decided": decided, "total": len(results)})
    return redirect(safe_next(request, reverse("approvals:inbox")))


# --- Work queue ------------------------------------------------------------------------------
def _render_queue(request: HttpRequest, status: int = 200) -> HttpResponse:
    return _list_page(request, template="approvals/work_queue.html",
                      steps=work_queue_for(request.user), status=status, read_through="work")


@login_required
@serves(Step)
def work_queue(request: HttpRequest) -> HttpResponse:
    return _render_queue(request)


def _work(request: HttpRequest, pk: int, *, act, done: str) -> HttpResponse:
    note = request.POST.get("note", "")
    actual_cost = request.POST.get("actual_cost", "")
    return _act(request, pk, act=act, page=_render_queue, row=_row, success=done,
                back="work:queue",
                row_context=lambda exc: {"note": note, "actual_cost": actual_cost})


@login_required
@require_POST
@serves(Step)
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    return _work(request, pk, act=lambda step: step_claim(actor=request.user, step=step),
                 done=_("%(reference)s: %(step)s is now yours."))


@login_required
@require_POST
@serves(Step)
def take_over(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _work(request, pk, act=lambda step: step_take_over(actor=request.user, step=step,
                                                              reason=reason),
                 done=_("%(reference)s: %(step)s is now yours (taken over)."))


@login_required
@require_POST
@serves(Step)
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    form = CompleteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else request.POST.get("note", "")
    # The actual cost is the service's to read (requests_app.money), in this reader's format.
    actual_cost = request.POST.get("actual_cost")
    return _work(request, pk, act=lambda step: step_complete(
        actor=request.user, step=step, note=note, actual_cost=actual_cost,
        money=money_format_for(request)), done=_("%(reference)s: %(step)s is done."))


# --- Delegations -----------------------------------------------------------------------------
def _render_delegations(request: HttpRequest, form: DelegationForm, status: int = 200):
    user = request.user
    visible = Delegation.objects.restrict(user).select_related("delegator", "delegate")
    who = (request.GET.get("who") or request.POST.get("who") or "")[:100]
    people = people_matching(delegate_candidates(user), who)
    chosen = form["delegate"].value() if form.is_bound else None
    if chosen and not any(p.username == chosen for p in people):
        people = [*delegate_candidates(user).filter(username=chosen)
                  .select_related("department"), *people]
    context = {"form": form, "who": who, "people": people, "chosen": chosen,
               "may_delegate": capabilities(user).may_delegate}
    if is_htmx(request) and request.method == "GET":
        return render(request, "approvals/partials/delegate_results.html", context)
    return render(request, "approvals/delegations.html", {
        **context,
        "given": visible.filter(delegator=user).order_by("-starts_on")[:20],
        "received": visible.filter(delegate=user, ended_at__isnull=True).order_by("-starts_on")[:20],
    }, status=status)


@login_required
@serves(Delegation)
def delegations(request: HttpRequest) -> HttpResponse:
    """Delegations given and received; heads, deputies and approvers delegate theirs here, to
    someone found by a search over the people they may choose (``?who=``; htmx asks for the
    results alone)."""
    user = request.user
    form = DelegationForm(request.POST or None, user=user)
    if request.method != "POST":
        return _render_delegations(request, form)
    if not capabilities(user).may_delegate:
        raise PermissionDenied(gettext("You have no approvals to delegate: heads, deputies and "
                                       "approvers delegate theirs."))
    if not form.is_valid():
        return _render_delegations(request, form, status=400)
    data = form.cleaned_data
    try:
        created = delegation_create(actor=user, delegate=data["delegate"],
                                    starts_on=data["starts_on"], ends_on=data["ends_on"],
                                    reason=data["reason"])
    except DomainError as exc:
        return domain_error_response(
            request, exc, form=form,
            page=lambda status: _render_delegations(request, form, status))
    messages.success(request, gettext("%(delegate)s decides for you from %(starts)s to %(ends)s.") % {
        "delegate": created.delegate, "starts": date_format(created.starts_on, "d M"),
        "ends": date_format(created.ends_on, "d M Y")})
    return redirect("approvals:delegations")


@login_required
@require_POST
@serves(Delegation)
def delegation_stop(request: HttpRequest, pk: int) -> HttpResponse:
    delegation = get_object_or_404(Delegation.objects.restrict(request.user), pk=pk)
    try:
        delegation_end(actor=request.user, delegation=delegation)
    except DomainError as exc:
        return domain_error_response(
            request, exc,
            page=lambda status: _render_delegations(
                request, DelegationForm(user=request.user), status))
    messages.success(request, gettext("%(delegate)s no longer decides for you.") % {
        "delegate": delegation.delegate})
    return redirect("approvals:delegations")
