"""Writes on service requests. Step actions live in ``approvals.services``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from approvals.services import request_advance, request_cancel, steps_materialise
from governance.errors import ValidationFailed
from governance.models import User
from governance.services.audit import audit_record
from requests_app.choices import RequestState, Source
from requests_app.fields import clean_answers
from requests_app.models import CatalogItem, RequestCounter, ServiceRequest

__all__ = ["request_cancel", "request_submit"]


def reference_for(*, at: datetime) -> str:
    year = at.astimezone(ZoneInfo(settings.SRM_REPORTING_TIMEZONE)).year
    return f"SR-{year}-{RequestCounter.next_value(year):06d}"


def parse_cost(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        cost = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            "Enter the estimated cost as a number, for example 1250.00.",
            code="invalid_cost",
            field_errors={"estimated_cost": ["Enter a number, for example 1250.00."]},
        ) from None
    if not cost.is_finite() or cost < 0 or cost >= Decimal("1e10"):
        raise ValidationFailed(
            "The estimated cost must be between 0 and 9,999,999,999.99.",
            code="invalid_cost",
            field_errors={"estimated_cost": ["Must be between 0 and 9,999,999,999.99."]},
        )
    return cost.quantize(Decimal("0.01"))


@transaction.atomic
def request_submit(
    *,
    actor: User,
    item: CatalogItem,
    answers: dict[str, Any],
    estimated_cost: Any = None,
    title: str = "",
    source: str = Source.PORTAL,
    external_key: str | None = None,
    at: datetime | None = None,
) -> ServiceRequest:
    """Submit a request: validate it, materialise its path into steps, activate the first.

    Raises ``ValidationFailed`` (with ``field_errors``) for anything the requester can fix.
    """
    at = at or timezone.now()
    if not item.is_published:
        raise ValidationFailed(f"“{item}” is not open for requests.", code="item_unpublished")
    if actor.department_id is None:
        raise ValidationFailed(
            "Your account has no department, so nobody can approve your request. "
            "Ask an administrator to set it.",
            code="requester_without_department",
        )
    field_errors: dict[str, list[str]] = {}
    cleaned, answer_errors = clean_answers(item.form_fields, answers)
    field_errors.update(answer_errors)
    try:
        cost = parse_cost(estimated_cost)
    except ValidationFailed as exc:
        field_errors.update(exc.field_errors)
        cost = None
    if item.asks_cost and cost is None and "estimated_cost" not in field_errors:
        field_errors["estimated_cost"] = ["State the estimated cost (0 if none)."]
    title = (title or "").strip() or item.name
    if len(title) > 200:
        field_errors["title"] = ["Keep the title under 200 characters."]
    if field_errors:
        raise ValidationFailed(
            "Some answers need attention.", code="invalid_answers", field_errors=field_errors
        )

    request = ServiceRequest.objects.create(
        reference=reference_for(at=at),
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
        due_at=item.fulfilling_department.calendar.add(at, item.target_cycle_hours),
    )
    steps_materialise(request=request, templates=list(item.path.templates.order_by("order")))
    audit_record(
        actor=actor,
        verb="request.submitted",
        target=request,
        to_state=RequestState.IN_APPROVAL,
        correlation=request.reference,
        data={"item": item.code, "estimated_cost": cost, "source": source},
        at=at,
    )
    request_advance(request=request, actor=actor, at=at)
    return request
