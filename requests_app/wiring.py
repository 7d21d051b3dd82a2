"""What requests add to the rest of SRM at start-up (``RequestsAppConfig.ready``): the
New request and My requests entries of the navigation."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from kit.navigation import NAV, NavEntry
from requests_app.choices import OPEN_STATES
from requests_app.models import ServiceRequest


def connect() -> None:
    NAV.append(NavEntry(label=_("New request"), url_name="portal:catalog", order=0))
    NAV.append(NavEntry(
        label=_("My requests"),
        url_name="portal:my_requests",
        count=lambda user: ServiceRequest.objects.filter(
            requester=user, state__in=OPEN_STATES
        ),
        count_label=_("open"),
        order=10,
    ))
