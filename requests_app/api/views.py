from __future__ import annotations

import hashlib
import json
from datetime import UTC

import django_filters
from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from approvals.api.serializers import STEP_RELATED, HoldSerializer
from approvals.models import Step
from approvals.services import step_answer
from governance.errors import Conflict
from governance.models import AuditEvent
from kit.api import BooleanFilter, FilterSet, validated
from kit.api_views import RestrictedReadOnlyViewSet, RestrictedViewSet, represented
from requests_app.api.conversation import (
    AnswerSerializer,
    CommentCreateSerializer,
    CommentSerializer,
    comments_visible,
)
from requests_app.api.serializers import (
    CancelSerializer,
    CatalogItemSerializer,
    RequestCreateSerializer,
    RequestDetailSerializer,
    RequestSerializer,
)
from requests_app.choices import RequestState, Source
from requests_app.models import CatalogItem, ServiceRequest, requests_remember_access
from requests_app.money import money_format_for
from requests_app.services import Submission, request_cancel, request_submission
from requests_app.services_conversation import comment_add


@extend_schema_view(
    list=extend_schema(summary="Published catalog items, with their form fields"),
    retrieve=extend_schema(summary="One published catalog item, with its form fields"),
)
@extend_schema(tags=["catalog"])
class CatalogItemViewSet(RestrictedReadOnlyViewSet):
    model = CatalogItem
    serializer_class = CatalogItemSerializer
    queryset = CatalogItem.objects.none()
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        return self.restricted().select_related("fulfilling_department", "kpi").order_by(
            "name", "code")


class _AwareDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time that fits the database's range once converted to UTC."""

    def clean(self, value):
        value = super().clean(value)
        if value is not None:
            # In UTC, so an exotic offset (+20:55) the database refuses never reaches it.
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                raise forms.ValidationError(
                    _("Enter a date-time between years 1 and 9999.")) from None
        return value


class _DateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _AwareDateTimeField


class RequestFilter(FilterSet):
    state = django_filters.ChoiceFilter(choices=RequestState.choices)
    item = django_filters.CharFilter(field_name="item__code", label="Catalog item code")
    department = django_filters.CharFilter(
        field_name="requester_department__code", label="Requester's department code"
    )
    accountable_department = django_filters.CharFilter(
        field_name="accountable_department__code",
        label="Code of the department whose step is active now",
    )
    submitted_after = _DateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = _DateTimeFilter(field_name="submitted_at", lookup_expr="lt")
    due_after = _DateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = _DateTimeFilter(field_name="due_at", lookup_expr="lt")
    overdue = BooleanFilter(
        method="filter_overdue", label="Open and past its due time (true), or not (false)"
    )

    class Meta:
        model = ServiceRequest
        fields = ["state", "item", "department", "accountable_department", "submitted_after",
                  "submitted_before", "due_after", "due_before", "overdue"]

    def filter_overdue(self, queryset, name, value):
        overdue = ServiceRequest.objects.overdue().values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)


_STEP_PEOPLE = tuple(name for name in STEP_RELATED if name != "request")

_NOT_MODIFIED = OpenApiResponse(description="Not modified: your copy (`If-None-Match`) is current.")
_CACHE_HEADERS = [
    OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER,
                     description="The `ETag` of your copy: 304 when it is still current."),
    OpenApiParameter("If-Modified-Since", str, OpenApiParameter.HEADER,
                     description="HTTP date of your copy (used without `If-None-Match`)."),
    OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[200, 304],
                     description="Changes whenever anything in the body changes."),
    OpenApiParameter("Last-Modified", str, OpenApiParameter.HEADER, response=[200, 304],
                     description="Time of the request's latest event."),
]


@extend_schema_view(
    list=extend_schema(summary="Requests I can see, newest first"),
    retrieve=extend_schema(
        summary="A request with its steps and timeline",
        description="Sends `ETag` and `Last-Modified`; answers 304 to a matching "
        "`If-None-Match` (or `If-Modified-Since`).",
        responses={200: RequestDetailSerializer, 304: _NOT_MODIFIED},
        parameters=_CACHE_HEADERS,
    ),
    create=extend_schema(
        request=RequestCreateSerializer, responses={201: RequestDetailSerializer},
        summary="Submit a request",
        description="Validated against the item's form fields exactly as the portal does; "
        "`field_errors` names each answer that needs attention.",
    ),
)
@extend_schema(tags=["requests"])
class RequestViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                     mixins.ListModelMixin, RestrictedViewSet):
    model = ServiceRequest
    create_serves = (CatalogItem,)  # the item is found through the catalog's rule
    serializer_class = RequestSerializer
    filterset_class = RequestFilter
    queryset = ServiceRequest.objects.none()
    lookup_field = "reference"
    lookup_value_regex = r"[-A-Za-z0-9_.]+"

    def get_queryset(self):
        return self.restricted().select_related(
            "item", "requester", "requester_department", "accountable_department",
            "current_step",
        ).order_by("-submitted_at", "-id")

    def get_serializer_class(self):
        return RequestDetailSerializer if self.action == "retrieve" else RequestSerializer

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            requests_remember_access(page, self.request.user)  # allowed_actions: one query
        return page

    def _detail_body(self, service_request: ServiceRequest) -> dict:
        return represented(RequestDetailSerializer, service_request,
                           context=self.get_serializer_context())

    def _detail(self, reference: str) -> ServiceRequest:
        queryset = self.get_queryset().prefetch_related(
            # Not the steps' request: the prefetch sets it to this one (a join less to plan).
            Prefetch("steps", Step.objects.select_related(*_STEP_PEOPLE).order_by("order")),
        )
        request = get_object_or_404(queryset, reference=reference)
        request.timeline_steps = list(request.steps.all())
        request.timeline_events = list(
            AuditEvent.objects.restrict(self.request.user, about=request)
            .select_related("actor", "on_behalf_of")
            .order_by("created_at", "id")
        )
        return request

    def retrieve(self, request: Request, reference: str) -> Response:
        service_request = self._detail(reference)
        data = self._detail_body(service_request)
        etag = '"' + hashlib.sha256(
            json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True).encode()
        ).hexdigest()[:32] + '"'
        changed = max(
            [service_request.submitted_at, *(e.created_at for e in service_request.timeline_events)]
        )
        headers = {"ETag": etag, "Last-Modified": http_date(changed.timestamp()),
                   "Cache-Control": "private, no-cache"}
        if _not_modified(request, etag, changed):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(data, headers=headers)

    def create(self, request: Request) -> Response:
        data = validated(RequestCreateSerializer, request)
        submission = request_submission(
            actor=request.user, item=data["item"], answers=data["answers"],
            estimated_cost=data["estimated_cost"], title=data["title"], source=Source.API,
            money=money_format_for(request),
        )
        created = submission.request
        body = self._detail_body(_as_read(submission) or self._detail(created.reference))
        location = reverse("api-request-detail", kwargs={"reference": created.reference})
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(request=CancelSerializer, responses=RequestDetailSerializer,
                   summary="Cancel an open request (its requester or an ops leader)")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, reference: str) -> Response:
        data = validated(CancelSerializer, request)
        service_request = self.get_object()
        request_cancel(actor=request.user, request=service_request, reason=data["reason"])
        return Response(self._detail_body(self._detail(reference)))

    @extend_schema(
        methods=["GET"], tags=["conversation"], responses=CommentSerializer(many=True),
        summary="The request's comments I may see, oldest first",
        description="Internal notes are listed only for the staff of the departments working "
        "on the request and ops leaders, never for the requester.",
    )
    @extend_schema(
        methods=["POST"], tags=["conversation"],
        request={"application/json": CommentCreateSerializer,
                 "multipart/form-data": CommentCreateSerializer},
        responses={201: CommentSerializer},
        summary="Comment on the request (or add an internal note), with optional files",
        description="JSON, or multipart with `files` to attach. Files are checked as in the "
        "portal (size, type by content); a refused file stores nothing.",
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[JSONParser, MultiPartParser])
    def comments(self, request: Request, reference: str) -> Response:
        service_request = self.get_object()
        if request.method == "GET":
            return Response(CommentSerializer(
                comments_visible(request.user, service_request), many=True
            ).data)
        data = validated(CommentCreateSerializer, request)
        comment = comment_add(actor=request.user, request=service_request, body=data["body"],
                              internal=data["internal"], files=data["files"])
        fresh = comments_visible(request.user, service_request).get(pk=comment.pk)
        return Response(CommentSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["conversation"],
        request={"application/json": AnswerSerializer, "multipart/form-data": AnswerSerializer},
        responses=HoldSerializer,
        summary="Answer the open question (the requester): the step resumes",
        description="The step's due time moves later by the business time it spent on hold.",
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, MultiPartParser])
    def answer(self, request: Request, reference: str) -> Response:
        data = validated(AnswerSerializer, request)
        service_request = self.get_object()
        step = Step.objects.filter(request=service_request, on_hold_since__isnull=False).first()
        if step is None:
            raise Conflict(_("There is no open question on %(reference)s: it was already "
                             "answered, or the request has moved on.")
                           % {"reference": service_request.reference},
                           code="no_open_question")
        hold = step_answer(actor=request.user, step=step, answer=data["answer"],
                           files=data["files"])
        return Response(HoldSerializer(hold).data)


def _as_read(submission: Submission) -> ServiceRequest | None:
    """The request just submitted, with its steps and timeline as ``_detail`` would read
    them back, from the rows the service wrote and returned (the steps with their
    departments and heads, the audit events in order); None when the request was fulfilled
    at once, so the caller reads it back."""
    if submission.events is None:
        return None
    created = submission.request
    for event in submission.events:
        event.data = _as_stored(json.loads(json.dumps(event.data, cls=DjangoJSONEncoder)))
    created.timeline_steps = submission.steps
    created.timeline_events = list(submission.events)
    return created


def _as_stored(value):
    """A JSON value in the key order the database gives it back: PostgreSQL's jsonb keeps
    an object's keys shortest first, then bytewise; SQLite keeps them as written."""
    if connection.vendor != "postgresql":
        return value
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: _as_stored(value[k]) for k in keys}
    if isinstance(value, list):
        return [_as_stored(v) for v in value]
    return value


def _not_modified(request: Request, etag: str, changed) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return etag in tags or "*" in tags
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    return since is not None and int(changed.timestamp()) <= since


