"""The portal: catalog, submit, my requests, a request's page, cancel. Views translate;
``requests_app.services`` / ``approvals.services`` decide; ``kit.web`` maps their refusals."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from approvals.models import Step
from approvals.roles import PreparedForPerson
from approvals.selectors import away_cover
from governance.errors import DomainError
from governance.models import AuditEvent
from kit.web import domain_error_response, serves
from requests_app.choices import REQUEST_STATE_GROUPS
from requests_app.forms import (
    CancelForm,
    RequestFilterForm,
    answers_from,
    approval_thresholds,
    submit_form_class,
)
from requests_app.models import CatalogItem, ServiceRequest
from requests_app.money import money_format_for
from requests_app.search import catalog_matches, requests_found, requests_matching
from requests_app.selectors_conversation import with_conversation_presence
from requests_app.services import request_cancel, request_submit

PAGE_SIZE = 20

# The request list's sortable columns: name -> (label, ordering); "-" first: descending.
REQUEST_SORTS = {
    "-submitted": (_("Newest first"), ("-submitted_at", "-id")),
    "submitted": (_("Oldest first"), ("submitted_at", "id")),
    "due": (_("Due first"), (F("due_at").asc(nulls_last=True), "-id")),
    "reference": (_("Reference"), ("reference",)),
    "state": (_("State"), ("state", "-submitted_at", "-id")),
}


@login_required
@serves(CatalogItem)
def catalog(request: HttpRequest) -> HttpResponse:
    items = CatalogItem.objects.restrict(request.user).select_related("fulfilling_department")
    query = request.GET.get("q", "").strip()
    if query:
        items = items.filter(catalog_matches(query))
    items = items.order_by("fulfilling_department__name", "name")
    return render(request, "requests_app/catalog.html", {"items": items, "query": query})


@login_required
@serves(CatalogItem)
def submit(request: HttpRequest, item_code: str) -> HttpResponse:
    item = get_object_or_404(
        CatalogItem.objects.restrict(request.user, "request").select_related(
            "fulfilling_department", "path"),
        code=item_code,
    )
    money = money_format_for(request)

    def submit_form(**kwargs):
        # Built only for a page to show: a submission that goes through needs no form (nor
        # the path's cost thresholds its help text states, one query).
        thresholds = approval_thresholds(item, money) if item.asks_cost else []
        return submit_form_class(item, money, thresholds)(**kwargs)

    def page(form, status=200):
        return render(request, "requests_app/submit.html", {"item": item, "form": form},
                      status=status)

    if request.method != "POST":
        return page(submit_form())
    try:
        created = request_submit(
            actor=request.user, item=item, answers=answers_from(item, request.POST),
            estimated_cost=request.POST.get("estimated_cost"), title=request.POST.get("title", ""),
            money=money,
        )
    except DomainError as exc:
        refused = submit_form(data=request.POST)
        return domain_error_response(request, exc, form=refused,
                                     page=lambda status: page(refused, status))
    step = created.current_step
    if created.estimated_cost is None:
        done = gettext("%(reference)s submitted.") % {"reference": created.reference}
    else:
        done = gettext("%(reference)s submitted with an estimated cost of %(amount)s %(currency)s.") % {
            "reference": created.reference, "amount": money.format(created.estimated_cost),
            "currency": settings.SRM_REPORTING_CURRENCY}
    if step:
        done += " " + gettext("%(head)s (%(department)s) decides next.") % {
            "head": step.accountable_head, "department": step.accountable_department}
    messages.success(request, done)
    return redirect("portal:request_detail", reference=created.reference)


class _CountedPaginator(Paginator):
    """A paginator told its count (already computed through the cheaper shape)."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


# "All requests I can see": up to this many, the page's rows come from the rule's listing
# shape (a union of indexed ids, cost ~ the number visible); beyond it from the default shape,
# which walks the newest requests and finds a page's worth quickly when many are visible.
# EXPLAIN ANALYZE at 100,000 requests: a department head seeing 18,500: 448 ms listing
# shape vs 6 ms default; an employee seeing 1: 28 ms vs 209 ms.
LISTING_SHAPE_UP_TO = 1000


# What a row of the list shows, and only that: not the item, nor every column of the people
# named (a person's row carries their directory attributes as JSON).
_ROW_RELATED = ("requester", "accountable_department", "current_step__accountable_head")
_ROW_SHOWN = (
    "reference", "title", "state", "submitted_at", "due_at", "closed_at", "requester_id",
    "current_step_id", "accountable_department_id",
    "requester__first_name", "requester__last_name", "requester__username",
    "accountable_department__name",
    "current_step__name", "current_step__on_hold_since", "current_step__accountable_head_id",
    "current_step__accountable_head__first_name", "current_step__accountable_head__last_name",
    "current_step__accountable_head__username",
)


def attach_request_urls(requests) -> None:
    """``request.url``: each row's link to the request's page, from one reversal for the
    whole page instead of one per row and link."""
    sample = "SR-0000-000000"
    before, after = reverse("portal:request_detail", args=[sample]).split(sample)
    for row in requests:
        # As reverse() quotes its arguments (references are letters, digits and dashes).
        row.url = f"{before}{quote(row.reference, safe=RFC3986_SUBDELIMS + '/~:@')}{after}"


@login_required
@serves(ServiceRequest)
def my_requests(request: HttpRequest) -> HttpResponse:
    filters = RequestFilterForm(request.GET or None, user=request.user)
    values = filters.cleaned_data if filters.is_valid() else {}

    def narrowed(requests):
        state = values.get("state")
        if state in REQUEST_STATE_GROUPS:
            requests = requests.filter(state__in=REQUEST_STATE_GROUPS[state][1])
        elif state:
            requests = requests.filter(state=state)
        if values.get("item"):
            requests = requests.filter(item=values["item"])
        if values.get("q"):
            requests = requests_matching(requests, values["q"])
        return requests.select_related(*_ROW_RELATED).only(*_ROW_SHOWN).order_by(
            *REQUEST_SORTS.get(values.get("sort") or "", REQUEST_SORTS["-submitted"])[1])

    if values.get("scope") != "all":
        # The rule's own shape for a requester's requests: one indexed condition.
        requests = narrowed(ServiceRequest.objects.restrict(request.user, mine=True))
        paginator = Paginator(requests, PAGE_SIZE)
    else:
        # Everything the person may see, counted through the rule's listing shape; the rows
        # through whichever shape is cheaper for that many (same rule, same rows).
        listing = narrowed(ServiceRequest.objects.restrict(request.user, listing=True))
        count = listing.count()
        requests = (listing if count <= LISTING_SHAPE_UP_TO
                    else narrowed(ServiceRequest.objects.restrict(request.user)))
        paginator = _CountedPaginator(requests, PAGE_SIZE, count=count)
    page = paginator.get_page(request.GET.get("page"))
    attach_request_urls(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    keep = query.copy()
    keep.pop("sort", None)
    return render(request, "requests_app/my_requests.html", {
        "page": page, "filters": filters, "query": query.urlencode(), "keep": keep.urlencode(),
        "sort": values.get("sort") or "-submitted",
        "scope_all": values.get("scope") == "all",
    })


SEARCH_LIMIT = 20
# The search box among what a person sees: up to this many requests, among their ids (the
# rule's branches, each from its index); beyond it the matches are read newest first with
# the rule on each row. EXPLAIN ANALYZE at 100,000 requests, "mark" (8 % of titles): an
# employee who sees 3 walked the newest requests for 794 ms, among their ids 0.4 ms; the ops
# leader (sees all) 0.7 ms newest first.
SEARCH_AMONG_UP_TO = 1000


@login_required
@serves(ServiceRequest, CatalogItem)
def search(request: HttpRequest) -> HttpResponse:
    """The navigation's search box: requests the person may see, by reference (whole or
    its number: ``301``) or title, the exact reference first; and catalog items by name,
    description or keyword."""
    query = request.GET.get("q", "").strip()[:100]
    visible = ServiceRequest.objects.restrict(request.user)
    catalog = CatalogItem.objects.restrict(request.user)
    requests, items = [], []
    if query:
        ids = ServiceRequest.objects.visible_ids(request.user)
        among = [] if ids is None else [row["pk"] for row in ids[:SEARCH_AMONG_UP_TO + 1]]
        if ids is not None and len(among) <= SEARCH_AMONG_UP_TO:
            visible = visible.filter(pk__in=set(among))
        requests = requests_found(requests_matching(visible, query).select_related(
            "item", "requester", "current_step__accountable_head"), query, limit=SEARCH_LIMIT)
        items = list(catalog.filter(catalog_matches(query))
                     .select_related("fulfilling_department").order_by("name")[:SEARCH_LIMIT])
        if len(requests) == 1 and not items and requests[0].reference.lower().endswith(
                query.lower().zfill(6)):
            return redirect(requests[0].get_absolute_url())
    return render(request, "requests_app/search.html", {
        "query": query, "requests": requests, "items": items, "limit": SEARCH_LIMIT,
    })


def _request_with_access(user, reference: str):
    return (with_conversation_presence(ServiceRequest.objects.restrict_with_access(user))
            .select_related("item", "requester", "requester_department")
            .filter(reference=reference))


# Compiled once per shape of person: building the rule's statement cost more CPU than
# running it.
_request_for_person = PreparedForPerson(_request_with_access)


def _visible_request(request: HttpRequest, reference: str) -> ServiceRequest:
    """Fetch-and-authorise: what the viewer may not see does not exist (404)."""
    try:
        return _request_for_person.get(request.user, reference)
    except ServiceRequest.DoesNotExist:
        raise Http404(f"No {ServiceRequest._meta.object_name} matches the given query.") from None


def _render_detail(request: HttpRequest, sr: ServiceRequest, *, status: int = 200,
                   cancel_form: CancelForm | None = None) -> HttpResponse:
    # Prefetched onto the request, so the conversation panel finds the active step there.
    prefetch_related_objects([sr], Prefetch("steps", queryset=Step.objects.select_related(
        "accountable_department", "accountable_head", "decided_by", "acted_for", "assignee",
    ).order_by("order")))
    steps = list(sr.steps.all())
    active = next((s for s in steps if s.is_active), None)
    user = request.user
    request_actions = sr.allowed_actions(user)
    context = {
        "sr": sr,
        "steps": steps,
        "active_step": active,
        "away": away_cover(active.accountable_head) if active is not None and active.is_approval
        else None,
        "answers": [
            (spec.get("label") or spec["name"], sr.answers.get(spec["name"]), spec["type"])
            for spec in sr.item.form_fields if spec["name"] in sr.answers
        ],
        "audit_events": AuditEvent.objects.restrict(user, about=sr)
        .select_related("actor", "on_behalf_of").order_by("created_at", "id"),
        # Only for someone offered the cancel button (the form is shown to no one else).
        "cancel_form": cancel_form or (CancelForm() if "cancel" in request_actions else None),
        # What this person may do, from the models' can_* (the services' own rules).
        "request_actions": request_actions,
        "step_actions": active.allowed_actions(user) if active is not None else [],
    }
    return render(request, "requests_app/request_detail.html", context, status=status)


@login_required
@serves(ServiceRequest, AuditEvent)
def request_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return _render_detail(request, _visible_request(request, reference))


@login_required
@require_POST
@serves(ServiceRequest)
def cancel(request: HttpRequest, reference: str) -> HttpResponse:
    sr = _visible_request(request, reference)
    form = CancelForm(request.POST)
    # Too long is the service's to refuse (one limit, governance.limits), not to drop.
    reason = form.cleaned_data["reason"] if form.is_valid() else request.POST.get("reason", "")
    try:
        request_cancel(actor=request.user, request=sr, reason=reason)
    except DomainError as exc:
        return domain_error_response(
            request, exc, page=lambda status: _render_detail(request, sr, status=status,
                                                             cancel_form=form))
    messages.success(request, gettext("%(reference)s is cancelled. Nobody needs to act on it "
                                      "any more.") % {"reference": sr.reference})
    return redirect(reverse("portal:request_detail", kwargs={"reference": sr.reference}))


