"""The admin pages of the models that moved to accountability: under their new label, and
old bookmarks (``/admin/governance/changeplan/…``) lead there."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_old_admin_bookmark_leads_to_the_moved_page(client, org):
    org.olivia.is_staff = org.olivia.is_superuser = True
    org.olivia.save()
    client.force_login(org.olivia)

    response = client.get("/admin/governance/delayrisk/?level=3")

    assert response.status_code == 301
    assert response["Location"] == "/admin/accountability/delayrisk/?level=3"
    assert client.get(response["Location"]).status_code == 200
    assert reverse("admin:accountability_changeplan_add") == "/admin/accountability/changeplan/add/"
    # The core's own pages did not move.
    assert client.get("/admin/governance/department/").status_code == 200
