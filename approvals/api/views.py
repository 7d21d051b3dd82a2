from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from approvals.api.serializers import (
    STEP_RELATED,
    ApproveSerializer,
    CompleteSerializer,
    DelegationCreateSerializer,
    DelegationSerializer,
    HoldCreateSerializer,
    HoldSerializer,
    RejectSerializer,
    StepSerializer,
    TakeOverSerializer,
)
from approvals.choices import DecisionChannel
from approvals.models import Delegation, Step, steps_remember_answers
from approvals.roles import PreparedForPerson
from approvals.services import (
    delegation_create,
    delegation_end,
    step_approve,
    step_claim,
    step_complete,
    step_hold,
    step_reject,
    step_take_over,
)
from kit.api import validated
from kit.api_views import RestrictedReadOnlyViewSet, RestrictedViewSet, represented
from requests_app.money import money_format_for

_ROLE = OpenApiParameter(
    "role", str, enum=["decide", "work"],
    description="`decide`: approvals waiting for you (as head, delegate or approver); "
    "`work`: execution steps of your departments' queues. Omitted: both.",
)


# Actions whose service starts by locking the step and reading it afresh (approvals.services.steps._lock).
_LOCKING_ACTIONS = frozenset({"approve", "reject", "complete", "claim", "take_over", "hold"})


def _visible_step(user, pk: int):
    return Step.objects.restrict(user, "view").filter(pk=pk)


# The step an action is about, found through the view rule compiled once per shape of person
# (building the rule's statement cost more CPU than running it).
_step_for_person = PreparedForPerson(_visible_step)


@extend_schema_view(
    list=extend_schema(summary="Active steps I can decide or work on", parameters=[_ROLE]),
    retrieve=extend_schema(summary="A step of a request I can see"),
)
@extend_schema(tags=["steps"])
class StepViewSet(RestrictedReadOnlyViewSet):
    model = Step
    serializer_class = StepSerializer
    queryset = Step.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        user = self.request.user
        if self.action != "list":
            # Acting on a step starts from the ones you can see: anything else is a 404; the
            # service then says whether you may decide or work it (403) or it moved on (409).
            steps = Step.objects.restrict(user, "view")
            if self.action in _LOCKING_ACTIONS:
                # The service locks the step and reads it again with what it needs; here it
                # is only found (or not: 404). Joining six tables and sorting only made
                # PostgreSQL plan the visibility rule for longer (3.0 -> 0.7 ms).
                return steps
        else:
            role = self.request.query_params.get("role")
            if role not in (None, "decide", "work"):
                raise ValidationError({"role": [_("Use decide or work.")]})
            decide = Step.objects.restrict(user, "decide").values("pk")
            work = Step.objects.restrict(user, "work").values("pk")
            if role == "decide":
                steps = Step.objects.filter(pk__in=decide)
            elif role == "work":
                steps = Step.objects.filter(pk__in=work)
            else:
                steps = Step.objects.filter(Q(pk__in=decide) | Q(pk__in=work))
        return steps.select_related(*STEP_RELATED).order_by("due_at", "id")

    def get_object(self) -> Step:
        """For an action on one step, ``get_queryset``'s (the view rule, no filters) found
        through the statement compiled for the person's shape."""
        if self.action not in _LOCKING_ACTIONS:
            return super().get_object()
        pk = int(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        try:
            step = _step_for_person.get(self.request.user, pk)
        except Step.DoesNotExist:
            raise Http404(f"No {Step._meta.object_name} matches the given query.") from None
        self.check_object_permissions(self.request, step)
        return step

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            steps_remember_answers(page, self.request.user)  # allowed_actions: two queries
        return page

    def _answer(self, step: Step) -> Response:
        fresh = Step.objects.select_related(*STEP_RELATED).get(pk=step.pk)
        return Response(represented(StepSerializer, fresh, context=self.get_serializer_context()))

    def _decided(self, step: Step) -> Response:
        """The step a decision returned: read under its lock inside the service's transaction
        and changed there (state, times, decider), with its request, department and head;
        serialised as is instead of read back (one round trip less per decision)."""
        return Response(represented(StepSerializer, step, context=self.get_serializer_context()))

    @extend_schema(request=ApproveSerializer, responses=StepSerializer,
                   summary="Approve an approval step")
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        data = validated(ApproveSerializer, request)
        return self._decided(step_approve(actor=request.user, step=self.get_object(),
                                         comment=data["comment"], channel=DecisionChannel.API,
                                         over_budget_reason=data["over_budget_reason"]))

    @extend_schema(request=RejectSerializer, responses=StepSerializer,
                   summary="Reject an approval step (a reason is required); the request ends")
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        data = validated(RejectSerializer, request)
        return self._decided(step_reject(actor=request.user, step=self.get_object(),
                                        comment=data["comment"], channel=DecisionChannel.API))

    @extend_schema(request=CompleteSerializer, responses=StepSerializer,
                   summary="Complete an execution step; the request moves on")
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str) -> Response:
        data = validated(CompleteSerializer, request)
        return self._decided(step_complete(actor=request.user, step=self.get_object(),
                                          note=data["note"], actual_cost=data["actual_cost"],
                                          money=money_format_for(request)))

    @extend_schema(request=None, responses=StepSerializer,
                   summary="Take on an execution step (assign it to yourself)")
    @action(detail=True, methods=["post"])
    def claim(self, request: Request, pk: str) -> Response:
        return self._answer(step_claim(actor=request.user, step=self.get_object()))

    @extend_schema(request=TakeOverSerializer, responses=StepSerializer,
                   summary="Take over an execution step a colleague has taken (recorded)")
    @action(detail=True, methods=["post"], url_path="take-over")
    def take_over(self, request: Request, pk: str) -> Response:
        data = validated(TakeOverSerializer, request)
        return self._answer(step_take_over(actor=request.user, step=self.get_object(),
                                           reason=data["reason"]))

    @extend_schema(request=HoldCreateSerializer, responses={201: HoldSerializer},
                   summary="Ask the requester a question: the step waits with its clock stopped")
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: str) -> Response:
        data = validated(HoldCreateSerializer, request)
        hold = step_hold(actor=request.user, step=self.get_object(), question=data["question"],
                         channel=DecisionChannel.API)
        return Response(HoldSerializer(hold).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Delegations I gave or received"),
    retrieve=extend_schema(summary="One delegation I gave or received"),
    create=extend_schema(request=DelegationCreateSerializer, responses={201: DelegationSerializer},
                         summary="Let someone decide my approvals for a period"),
)
@extend_schema(tags=["delegations"])
class DelegationViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                        mixins.ListModelMixin, RestrictedViewSet):
    model = Delegation
    create_serves = ()  # a new delegation is the caller's own
    serializer_class = DelegationSerializer
    queryset = Delegation.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return (
            self.restricted()
            .select_related("delegator", "delegate")
            .order_by("-starts_on", "-id")
        )

    def create(self, request: Request) -> Response:
        data = validated(DelegationCreateSerializer, request)
        delegation = delegation_create(actor=request.user, **data)
        return Response(DelegationSerializer(delegation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=DelegationSerializer,
                   summary="End a delegation I gave, from now on")
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str) -> Response:
        delegation = delegation_end(actor=request.user, delegation=self.get_object())
        return Response(DelegationSerializer(delegation).data)


