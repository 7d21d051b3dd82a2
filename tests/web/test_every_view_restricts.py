"""Every page and API route reads what it serves through the models' visibility rules
(``Model.objects.restrict(user, …)``), so a new page cannot forget them.

The walk: every URL pattern of the site and every API route either declares the models it
serves (``@serves(…)`` on a page, a ``kit.api_views`` base class on an endpoint), or says why
it serves none, or belongs to a third-party app listed below. The declaration is then
enforced at run time (``SRM_CHECK_RULES``, on in the tests): a page or endpoint that answers
without asking the rule of a model it serves fails whichever test requested it — and this
test requests every page and list endpoint as several people.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from accountability.models import ChangePlan
from kit.api_views import RuleChecked
from kit.rules import has_rule
from kit.web import serves
from requests_app.models import ServiceRequest

# Views of Django and of libraries: they do their own permission checks.
THIRD_PARTY = ("django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
               "drf_spectacular",
               "django.views.generic.base")


def walk(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def declaration(callback):
    """What the view declares: ("page", models, why) / ("api", models, why) / None."""
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None and issubclass(cls, RuleChecked):
        view = cls()
        try:
            models = view.served_models()
        except ImproperlyConfigured:
            return None
        return "api", models, cls.serves_why
    if hasattr(callback, "srm_serves"):
        return "page", callback.srm_serves, callback.srm_serves_why
    return None


def ours(route, callback) -> bool:
    module = getattr(callback, "__module__", "") or ""
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    module = cls.__module__ if cls is not None else module
    return not module.startswith(THIRD_PARTY)


def test_every_page_and_endpoint_declares_what_it_serves():
    undeclared = [f"{route} → {getattr(cb, '__module__', '')}.{getattr(cb, '__name__', cb)}"
                  for route, cb in walk() if ours(route, cb) and declaration(cb) is None]
    assert not undeclared, ("Declare the models served (@serves on a page, a kit.api_views "
                            "base class on an endpoint):\n" + "\n".join(undeclared))


def test_what_they_serve_has_a_rule_and_a_view_serving_nothing_says_why():
    routes = 0
    for route, callback in walk():
        if not ours(route, callback):
            continue
        routes += 1
        _kind, models, why = declaration(callback)
        assert models or why, route
        for model in models:
            assert has_rule(model), f"{route}: {model.__name__} has no restrict() rule"
    assert routes > 40


def test_the_rules_of_the_issue_exist():
    from accountability.models import DelayRisk
    from approvals.models import Step
    from governance.models import AuditEvent
    from kpis.models import OutcomeKPI
    from requests_app.models import Attachment, CatalogItem, Comment

    for model in (ServiceRequest, Step, DelayRisk, Comment, Attachment, CatalogItem, OutcomeKPI,
                  AuditEvent, ChangePlan):
        assert has_rule(model), model.__name__


@override_settings(SRM_CHECK_RULES=True)
def test_a_page_that_skips_the_rule_of_what_it_serves_is_an_error(rf, org):
    from django.http import HttpResponse

    @serves(ServiceRequest)
    def careless(request):
        return HttpResponse(", ".join(ServiceRequest.objects.values_list("reference", flat=True)))

    @serves(ServiceRequest)
    def careful(request):
        return HttpResponse(", ".join(ServiceRequest.objects.restrict(request.user)
                                      .values_list("reference", flat=True)))

    request = rf.get("/")
    request.user = org.alice
    with pytest.raises(ImproperlyConfigured, match="without asking the visibility rule"):
        careless(request)
    assert careful(request).status_code == 200


# --- Every page and list endpoint, requested as several people ---------------------------------
def _fill(route: str, values: dict) -> str | None:
    import re

    url = "/" + route
    for name in re.findall(r"<(?:\w+:)?(\w+)>", url):
        if name not in values:
            return None
        url = re.sub(rf"<(?:\w+:)?{name}>", str(values[name]), url)
    if "(?P" in url or "^" in url or "\\" in url:
        return None
    return url


@pytest.mark.parametrize("who", ["alice", "hank", "frank", "irene"])
def test_every_page_answers_each_person_through_the_rules(org, submit, client, who):
    from accountability.models import ChangePlan
    from approvals.models import Step
    from tests.factories import make_plan

    request = submit()
    plan = make_plan(org)
    step = Step.objects.filter(request=request).order_by("order").first()
    values = {"reference": request.reference, "pk": step.pk, "plan_id": plan.pk,
              "item_code": "laptop", "code": "MKT", "step_id": step.pk}
    assert ChangePlan.objects.filter(pk=plan.pk).exists()
    client.force_login(getattr(org, who))
    asked = 0
    for route, callback in walk():
        if not ours(route, callback) or route.startswith("api/v1/(?P"):
            continue
        url = _fill(route, values)
        if url is None or "download" in url:
            continue
        response = client.get(url)  # a page skipping its rule raises here (SRM_CHECK_RULES)
        assert response.status_code < 500, url
        asked += 1
    assert asked > 25
