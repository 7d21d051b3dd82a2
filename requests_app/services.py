"""Writes on service requests. Step actions live in ``approvals.services``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.models import Step
from approvals.services import (
    path_for_submission,
    request_cancel,
    request_start,
    steps_build,
    steps_replay,
)
from approvals.signals import request_submitted
from governance import limits
from governance.choices import AuditVerb
from governance.errors import Conflict, ValidationFailed
from governance.models import AuditEvent, Department, User
from governance.services.audit import audit_build
from requests_app.choices import LEGACY_CLOSED_STATUSES, LegacyStatus, RequestState, Source
from requests_app.fields import clean_answers
from requests_app.models import CatalogItem, RequestCounter, ServiceRequest
from requests_app.money import MoneyFormat, parse_money

__all__ = ["request_cancel", "request_import", "request_submit", "requests_import"]


def _reference_year(at: datetime) -> int:
    return at.astimezone(ZoneInfo(settings.SRM_REPORTING_TIMEZONE)).year


def reference_for(*, at: datetime) -> str:
    return reference_block(year=_reference_year(at), count=1)[0]


def reference_block(*, year: int, count: int) -> list[str]:
    """``count`` new references of ``year``, reserved in one statement."""
    return [f"SR-{year}-{n:06d}" for n in RequestCounter.next_values(year, count)]


def submission_clean(*, item: CatalogItem, requester: User, answers: dict[str, Any],
                     estimated_cost: Any, title: str, money: MoneyFormat | None = None,
                     ) -> tuple[dict, Decimal | None, str]:
    """Validate what a requester states, the same way for the portal, the API and the legacy
    import. ``money`` is how the form writes amounts (``requests_app.money``; by default the
    organisation's). Returns ``(answers, cost, title)``; raises ``ValidationFailed`` with
    ``field_errors`` for anything the requester can fix."""
    if requester.department_id is None:
        raise ValidationFailed(
            _("%(requester)s has no department, so nobody can approve the request. "
              "Ask an administrator to set it.") % {"requester": requester},
            code="requester_without_department",
        )
    field_errors: dict[str, list[str]] = {}
    cleaned, answer_errors = clean_answers(item.form_fields, answers)
    field_errors.update(answer_errors)
    try:
        cost = parse_money(estimated_cost, fmt=money)
    except ValidationFailed as exc:
        field_errors.update(exc.field_errors)
        cost = None
    if item.asks_cost and cost is None and "estimated_cost" not in field_errors:
        field_errors["estimated_cost"] = [_("State the estimated cost (0 if none).")]
    title = (title or "").strip() or item.name
    if len(title) > limits.TITLE:
        field_errors["title"] = [_("Keep the title under %(limit)s characters.")
                                 % {"limit": limits.TITLE}]
    if field_errors:
        raise ValidationFailed(
            _("Some answers need attention."), code="invalid_answers", field_errors=field_errors
        )
    return cleaned, cost, title


@dataclass(frozen=True)
class Submission:
    """What ``request_submission`` wrote, as saved: the request, its steps in order and its
    audit events in order (``None`` when the request was fulfilled at once)."""

    request: ServiceRequest
    steps: list[Step]
    events: list[AuditEvent] | None


def request_submit(**kwargs) -> ServiceRequest:
    """Submit a request (``request_submission``) and return it."""
    return request_submission(**kwargs).request


@transaction.atomic
def request_submission(
    *,
    actor: User,
    item: CatalogItem,
    answers: dict[str, Any],
    estimated_cost: Any = None,
    title: str = "",
    source: str = Source.PORTAL,
    external_key: str | None = None,
    at: datetime | None = None,
    money: MoneyFormat | None = None,
) -> Submission:
    """Submit a request: validate it, materialise its path into steps, activate the first.
    ``estimated_cost`` is read as ``money`` writes amounts (default: the organisation's).

    Raises ``ValidationFailed`` (with ``field_errors``) for anything the requester can fix.
    """
    at = at or timezone.now()
    if not item.is_published:
        raise ValidationFailed(_("“%(item)s” is not open for requests.") % {"item": item},
                               code="item_unpublished")
    if actor.department_id is None:
        raise ValidationFailed(
            _("Your account has no department, so nobody can approve your request. "
              "Ask an administrator to set it."),
            code="requester_without_department",
        )
    cleaned, cost, title = submission_clean(
        item=item, requester=actor, answers=answers, estimated_cost=estimated_cost, title=title,
        money=money,
    )
    request = ServiceRequest(
        title=title,
        requester=actor,
        requester_department_id=actor.department_id,
        item=item,
        answers=cleaned,
        estimated_cost=cost,
        state=RequestState.IN_APPROVAL,
        source=source,
        external_key=external_key,
        submitted_at=at,
    )
    # The path, the departments it touches and the fulfilling one, with their heads.
    templates, departments = path_for_submission(request)
    request.requester_department = departments[actor.department_id]
    request.due_at = departments[item.fulfilling_department_id].calendar.add(
        at, item.target_cycle_hours)
    steps = steps_build(request=request, templates=templates, departments=departments)
    # The reference last: everything that can refuse the submission has been checked. With
    # it, the request's and its steps' keys (PostgreSQL): the request is written once, with
    # its first step, by ``request_start``.
    year = _reference_year(at)
    number, keys = RequestCounter.next_with_ids(year, ids={ServiceRequest: 1, Step: len(steps)})
    request.reference = f"SR-{year}-{number:06d}"
    if keys[ServiceRequest]:
        request.pk = keys[ServiceRequest][0]
        for step, pk in zip(steps, keys[Step], strict=True):
            step.pk = pk
    else:
        request.save(force_insert=True)
    submitted = audit_build(
        actor=actor,
        verb=AuditVerb.REQUEST_SUBMITTED,
        target=request,
        to_state=RequestState.IN_APPROVAL,
        correlation=request.reference,
        data={"item": item.code, "estimated_cost": cost, "source": source},
        at=at,
    )
    events = request_start(request=request, steps=steps, actor=actor, at=at, events=[submitted])
    ordered = sorted(steps, key=lambda s: s.order)
    request_submitted.send(sender=ServiceRequest, request=request, steps=ordered, at=at)
    return Submission(request=request, steps=ordered, events=events)


# --- Back-filling from legacy trackers ------------------------------------------------------
@dataclass(frozen=True)
class ImportedRequest:
    """One validated row of a legacy tracker, ready for ``requests_import``."""

    requester: User
    answers: dict
    estimated_cost: Decimal | None
    title: str
    external_key: str
    submitted_at: datetime
    status: str
    closed_at: datetime | None


def import_clean(*, item: CatalogItem, requester: User, answers: dict[str, Any],
                 estimated_cost: Any, title: str, external_key: str, submitted_at: datetime,
                 status: str, closed_at: datetime | None = None,
                 now: datetime | None = None) -> ImportedRequest:
    """Validate one legacy record; raises ``ValidationFailed`` with what to fix."""
    now = now or timezone.now()
    cleaned, cost, title = submission_clean(
        item=item, requester=requester, answers=answers, estimated_cost=estimated_cost,
        title=title,
    )
    if status not in LegacyStatus.values:
        raise ValidationFailed(
            _("Status “%(status)s” is not one of %(statuses)s.") % {
                "status": status, "statuses": ", ".join(LegacyStatus.values)},
            code="invalid_status",
        )
    external_key = (external_key or "").strip()
    if not external_key:
        raise ValidationFailed(_("Give every record its key in the old tracker (external_id)."),
                               code="external_key_required")
    if len(external_key) > 120:
        raise ValidationFailed(_("The external key is longer than 120 characters."),
                               code="external_key_too_long")
    if submitted_at > now:
        raise ValidationFailed(_("The submission date is in the future."),
                               code="submitted_in_future")
    if status in LEGACY_CLOSED_STATUSES:
        if closed_at is not None and closed_at < submitted_at:
            raise ValidationFailed(_("The closing date is before the submission date."),
                                   code="closed_before_submitted")
        if closed_at is not None and closed_at > now:
            raise ValidationFailed(_("The closing date is in the future."),
                                   code="closed_in_future")
    elif closed_at is not None:
        raise ValidationFailed(_("A request that is %(status)s has no closing date.")
                               % {"status": status},
                               code="open_with_closed_at")
    return ImportedRequest(requester=requester, answers=cleaned, estimated_cost=cost, title=title,
                           external_key=external_key, submitted_at=submitted_at, status=status,
                           closed_at=closed_at)


@transaction.atomic
def request_import(*, actor: User | None, item: CatalogItem, requester: User,
                   answers: dict[str, Any], estimated_cost: Any, title: str, external_key: str,
                   submitted_at: datetime, status: str,
                   closed_at: datetime | None = None) -> ServiceRequest:
    """Back-fill one request from a legacy tracker, keeping its dates, with its steps in the
    states its status implies (see ``approvals.services.steps_replay``), so delays and KPIs
    count it. Raises ``Conflict`` when that external key was imported before."""
    row = import_clean(item=item, requester=requester, answers=answers,
                       estimated_cost=estimated_cost, title=title, external_key=external_key,
                       submitted_at=submitted_at, status=status, closed_at=closed_at)
    if ServiceRequest.objects.filter(external_key=row.external_key).exists():
        raise Conflict(f"{row.external_key} was imported before.", code="already_imported")
    return requests_import(actor=actor, item=item, rows=[row])[0]


@transaction.atomic
def requests_import(*, actor: User | None, item: CatalogItem, rows: list[ImportedRequest],
                    now: datetime | None = None,
                    audit_data: dict | None = None) -> list[ServiceRequest]:
    """Back-fill many validated rows of one item in a handful of statements: the requests,
    their steps (built and replayed with the lifecycle's own building blocks) and one
    ``request.imported`` audit event each, all saved in bulk. Imported requests get
    ``source=legacy_import``; no domain events are sent for history (the delay scan picks up
    imported steps that are still active and overdue on its next run)."""
    if not rows:
        return []
    now = now or timezone.now()
    departments = _departments_with_heads()
    item.fulfilling_department = departments[item.fulfilling_department_id]
    templates = list(item.path.templates.order_by("order"))
    for template in templates:
        if template.department_id:
            template.department = departments[template.department_id]

    references = _references(rows)
    requests = [
        ServiceRequest(
            reference=references[i], title=row.title, requester=row.requester,
            requester_department=departments[row.requester.department_id], item=item,
            answers=row.answers, estimated_cost=row.estimated_cost, source=Source.LEGACY_IMPORT,
            external_key=row.external_key, submitted_at=row.submitted_at,
            due_at=item.fulfilling_department.calendar.add(row.submitted_at,
                                                            item.target_cycle_hours),
        )
        for i, row in enumerate(rows)
    ]
    all_steps: list[Step] = []
    current: dict[int, Step] = {}
    for index, (request, row) in enumerate(zip(requests, rows, strict=True)):
        steps = steps_build(request=request, templates=templates, departments=departments)
        step = steps_replay(request=request, steps=steps, outcome=row.status,
                            closed_at=row.closed_at, now=now)
        if step is not None:
            current[index] = step
        all_steps.extend(steps)
    ServiceRequest.objects.bulk_create(requests)
    for step in all_steps:
        step.request_id = step.request.pk
    Step.objects.bulk_create(all_steps)
    if current:
        for index, step in current.items():
            requests[index].current_step = step
        ServiceRequest.objects.bulk_update(
            [requests[i] for i in current], ["current_step"], batch_size=1000
        )
    AuditEvent.objects.bulk_create(
        [
            audit_build(
                actor=actor, verb=AuditVerb.REQUEST_IMPORTED, target=request, to_state=request.state,
                correlation=request.reference, at=now,
                data={"item": item.code, "source": Source.LEGACY_IMPORT,
                      "external_key": request.external_key, "status": row.status,
                      "submitted_at": row.submitted_at, "closed_at": request.closed_at,
                      **(audit_data or {})},
            )
            for request, row in zip(requests, rows, strict=True)
        ],
        batch_size=1000,
    )
    return requests


def _references(rows: list[ImportedRequest]) -> list[str]:
    """A reference per row, in the year of its submission, reserved a block per year."""
    years = [_reference_year(row.submitted_at) for row in rows]
    blocks = {year: iter(reference_block(year=year, count=years.count(year)))
              for year in sorted(set(years))}
    return [next(blocks[year]) for year in years]


def _departments_with_heads() -> dict[int, Department]:
    """Every department with its head and parent loaded, so building thousands of steps
    asks the database nothing (there are tens of departments, not thousands)."""
    departments = {d.pk: d for d in Department.objects.select_related("head")}
    for department in departments.values():
        if department.parent_id:
            department.parent = departments[department.parent_id]
    return departments
