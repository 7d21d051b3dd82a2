"""The base classes of every API view: each reads what it serves through the models'
visibility rules (``kit.rules``), so a new endpoint cannot forget them.

- ``RestrictedViewSet`` (and ``RestrictedReadOnlyViewSet``): ``model`` and ``rule_action``;
  the queryset is ``model.objects.restrict(user, rule_action)``, so list, retrieve and every
  detail action (``get_object``) start from the rows the user may see (404 otherwise).
- ``RestrictedAPIView``: an endpoint that is not about one model's rows declares the models it
  serves (``serves = (DelayRisk, …)``) or why it serves none (``serves_why``).

With ``SRM_CHECK_RULES`` on, an endpoint that answered without asking the rule of a model it
serves is an error.

``represented`` writes a serializer's body without building its fields on every call.
"""

from __future__ import annotations

import threading

from django.core.exceptions import ImproperlyConfigured
from rest_framework import mixins, serializers, viewsets
from rest_framework.views import APIView

from kit.rules import Serving


class RuleChecked:
    """Notes the visibility rules asked while a DRF view answers, and checks them."""

    serves: tuple = ()
    serves_why: str = ""

    def served_models(self) -> tuple:
        return tuple(self.serves)

    def dispatch(self, request, *args, **kwargs):
        where = f"{type(self).__module__}.{type(self).__qualname__}"
        with Serving((), where) as served:
            response = super().dispatch(request, *args, **kwargs)
            if request.method not in ("OPTIONS", "HEAD"):
                # Asked after the view ran: a viewset knows its action only then.
                served.set_models(self.served_models(), where)
                served.check(response.status_code)
        return response


class RestrictedViewSet(RuleChecked, viewsets.GenericViewSet):
    """A viewset over ``model``'s rows that ``request.user`` may see: ``restrict(user,
    rule_action)``. ``get_queryset`` narrows and orders ``restricted()``."""

    model = None
    rule_action = "view"
    also_serves: tuple = ()
    # What ``create`` serves: a new row is the caller's own, not read through a rule.
    create_serves: tuple = ()

    def served_models(self) -> tuple:
        if self.model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} names no model")
        if getattr(self, "action", None) == "create":
            return tuple(self.create_serves)
        return (self.model, *self.also_serves)

    def restricted(self, action: str | None = None):
        return self.model.objects.restrict(self.request.user, action or self.rule_action)

    def get_queryset(self):
        return self.restricted()


class RestrictedReadOnlyViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin,
                                RestrictedViewSet):
    pass


class RestrictedAPIView(RuleChecked, APIView):
    """An endpoint that is not a viewset: ``serves`` the models it reads, or ``serves_why``."""

    def served_models(self) -> tuple:
        if not self.serves and not self.serves_why:
            raise ImproperlyConfigured(f"{type(self).__name__}: declare serves or serves_why")
        return tuple(self.serves)


_prototypes = threading.local()


def represented(serializer_class: type[serializers.Serializer], instance, *,
                context: dict) -> dict:
    """What ``serializer_class(instance, context=context).data`` gives, without building the
    serializer's fields again for every call. DRF builds a ModelSerializer's fields, and every
    nested serializer's, from the model's fields each time one is made: for a request with
    its steps and timeline that cost more than writing the body out. Each thread keeps one
    instance per serializer class with its fields built, and lends it the call's context
    (``allowed_actions`` reads the caller from it) while it writes ``instance`` out: the same
    fields, the same code, the same body."""
    prototypes = getattr(_prototypes, "by_class", None)
    if prototypes is None:
        prototypes = _prototypes.by_class = {}
    prototype = prototypes.get(serializer_class)
    if prototype is None:
        prototype = prototypes[serializer_class] = serializer_class()
    prototype._context = context
    try:
        return prototype.to_representation(instance)
    finally:
        prototype._context = {}
