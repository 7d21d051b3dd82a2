"""Every page of the demo, for the tests that visit them all (headers, CSP, fuzzing).

The list is derived from the URL configuration, like tests/web/test_every_view_restricts.py,
so a new page is visited without anyone adding it here."""

from __future__ import annotations

import re

from django.test import Client

from approvals.models import Step
from tests.factories import make_plan, make_workflow
from tests.web.test_every_view_restricts import walk

# One person of each role of the demo: requester, department head, finance head (and
# approver), IT agent, ops leader, administrator.
ROLES = ("alice", "hank", "fiona", "ivan", "olivia", "admin")

# Third-party pages a person meets (the API docs, the admin's start page) and the 404 page.
EXTRA = ("/api/docs/", "/admin/", "/accounts/login/", "/no-such-page/")


def demo_objects(org, submit) -> dict:
    """Objects for every kind of URL parameter: a request on its first step, a plan with a
    legacy workflow. Returns the values to fill into routes."""
    request = submit(cost="6000")
    plan = make_plan(org)
    make_workflow(org, plan)
    step = Step.objects.filter(request=request).order_by("order").first()
    return {"reference": request.reference, "pk": step.pk, "plan_id": plan.pk,
            "item_code": "laptop", "code": "MKT", "step_id": step.pk}


def _fill(route: str, values: dict) -> str | None:
    url = "/" + route
    if "(?P" in url or "^" in url or "\\" in url:
        return None
    for name in re.findall(r"<(?:\w+:)?(\w+)>", url):
        if name not in values:
            return None
        url = re.sub(rf"<(?:\w+:)?{name}>", str(values[name]), url)
    return url


def urls(values: dict, *, api: bool = True) -> list[str]:
    """Every URL of ours that a GET can reach with these values (API routes when ``api``)."""
    found = []
    for route, _callback in walk():
        if route.startswith("admin/") or route.startswith("api/schema") or route == "api/docs/":
            continue
        if not api and route.startswith("api/"):
            continue
        url = _fill(route, values)
        if url is not None and url not in found:
            found.append(url)
    return found + [u for u in EXTRA if u not in found]


def html_pages(user, values: dict) -> list[str]:
    """The URLs that answer ``user``'s GET with an HTML page (any status but 405)."""
    client = Client()
    client.force_login(user)
    found = []
    for url in urls(values, api=False):
        if url.startswith("/accounts/logout"):
            continue
        response = client.get(url)
        if response.status_code != 405 and response["Content-Type"].startswith("text/html"):
            found.append(url)
    return found
