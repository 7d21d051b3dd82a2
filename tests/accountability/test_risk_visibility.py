"""One visibility rule for delay risks, checked for every person of the demo.

``DelayRisk.objects.restrict(user)`` (``view``): a risk is seen, with its request's reference
and title, its step and its head, exactly when its request is. ``restrict(user, "figures")``:
those plus every risk of the departments on the person's board (theirs and those below) —
counted on the board and the department pages, never listed with a request they cannot open.
The API, the board, the department pages, the notifications and the digests all agree."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accountability.board import OLDEST_DELAYED
from accountability.models import DelayRisk, Notification, NotificationKind
from accountability.scope import may_see_accountability
from accountability.services.digests import digests_send
from governance.models import Department, User
from governance.models.org import accountability_scope_ids
from requests_app.models import ServiceRequest

REFERENCE = re.compile(r"SR-\d{4}-\d{6}")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api_risk_ids(client) -> set[int]:
    ids, url = set(), "/api/v1/delay-risks/?page_size=100"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.json()
        ids |= {row["id"] for row in body["results"]}
        url = body["next"]
    return ids


@pytest.fixture
def demo(db):
    call_command("seed_demo", requests=90, verbosity=0)
    call_command("refresh_figures", verbosity=0)
    assert DelayRisk.objects.exists(), "the demo should hold delays to compare"
    return list(User.objects.filter(is_active=True).order_by("username"))


@pytest.mark.postgres
def test_api_board_pages_notifications_and_digests_follow_the_one_rule(demo):
    digests_send(now=timezone.now())
    everything = set(DelayRisk.objects.values_list("pk", flat=True))
    references = dict(ServiceRequest.objects.values_list("reference", "pk"))
    for user in demo:
        client = _client(user)
        visible_requests = set(ServiceRequest.objects.restrict(user).values_list("pk", flat=True))
        seen = set(DelayRisk.objects.restrict(user).values_list("pk", flat=True))

        # Seen exactly when the request is: never a risk of a request that answers 404
        with_visible_request = set(DelayRisk.objects.filter(request__in=visible_requests)
                                   .values_list("pk", flat=True))
        assert seen == with_visible_request, user.username
        counted = set(DelayRisk.objects.restrict(user, "figures").values_list("pk", flat=True))
        scope = accountability_scope_ids(user)
        # Counted: those plus the board's departments
        assert counted == seen | set(DelayRisk.objects.filter(department__in=scope)
                                     .values_list("pk", flat=True)), user.username

        # The API lists what the rule shows, and answers 404 for anything else
        assert _api_risk_ids(client) == seen, user.username
        hidden = sorted(everything - seen)[:3]
        for pk in hidden:
            assert client.get(f"/api/v1/delay-risks/{pk}/").status_code == 404
        for risk in DelayRisk.objects.filter(pk__in=sorted(seen)[:3]).select_related("request"):
            assert client.get(f"/api/v1/requests/{risk.request.reference}/").status_code == 200

        # The board counts what the rule counts, department by department
        board = client.get("/api/v1/accountability/departments/")
        if not may_see_accountability(user):
            assert board.status_code == 403
            continue
        lines = {line["department"]["code"]: line for line in board.json()["results"]}
        assert set(lines) == set(Department.objects.filter(pk__in=scope)
                                 .values_list("code", flat=True)), user.username
        for code, line in lines.items():
            open_counted = DelayRisk.objects.open().filter(pk__in=counted, department__code=code)
            assert line["open_risks"] == open_counted.count(), (user.username, code)

            # The department page lists the oldest open delays of the rule, with their links
            page = client.get(f"/dashboard/departments/{code}/")
            assert page.status_code == 200
            listed = [r.pk for r in page.context["delays"]]
            expected = list(DelayRisk.objects.open().filter(pk__in=seen, department__code=code)
                            .order_by("detected_at", "pk").values_list("pk", flat=True))
            assert listed == expected[:OLDEST_DELAYED], (user.username, code)
            html = page.content.decode()
            assert {references[r] for r in REFERENCE.findall(html)} <= visible_requests

    # Notifications and digests name only requests their recipient may open
    for note in Notification.objects.filter(kind__in=[
            NotificationKind.RISK_RAISED, NotificationKind.RISK_ESCALATED,
            NotificationKind.DIGEST]).select_related("recipient"):
        named = {references[r] for r in REFERENCE.findall(f"{note.subject} {note.body} {note.link}")}
        allowed = set(ServiceRequest.objects.restrict(note.recipient).filter(pk__in=named)
                      .values_list("pk", flat=True))
        assert named == allowed, (note.recipient.username, note.subject)
    assert Notification.objects.filter(kind=NotificationKind.DIGEST).exists()
