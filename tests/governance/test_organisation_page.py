"""The organisation page (/governance/organisation/): ops leaders see the department tree with
heads, deputies, members and calendars and where each fact came from, and the conflicts to
resolve; nobody else sees it; a fixed number of queries however many departments."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.choices import IdentitySource, MembershipRole
from governance.models import Department, Membership
from governance.services.org import department_set_head

pytestmark = [pytest.mark.django_db]

URL = "/governance/organisation/"


def _conflicts(org):
    Department.objects.create(code="DATA", name="Data Office", parent=org.dept["OPS"],
                              source=IdentitySource.SCIM)
    # Hank heads Marketing and is also a member of Legal; Alice is in Marketing and Legal.
    Membership.objects.create(user=org.hank, department=org.dept["LEG"])
    Membership.objects.create(user=org.alice, department=org.dept["LEG"],
                              role=MembershipRole.MEMBER, source=IdentitySource.SCIM)


def test_an_ops_leader_sees_the_tree_the_sources_and_the_conflicts(client, org):
    _conflicts(org)
    department_set_head(actor=None, department=org.dept["IT"], head=org.ivan,
                        source=IdentitySource.SCIM, provider="Okta")
    client.force_login(org.olivia)

    response = client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("organisation:page") == URL
    rows = {row.department.code: row for row in response.context["rows"]}
    assert rows["MKT"].depth == rows["OPS"].depth + 1
    assert rows["MKT"].department.member_count == Membership.objects.filter(
        department=org.dept["MKT"]).count()
    assert "Ivan Ivanov <span class=\"muted\">(Directory (SCIM))</span>" in page
    assert "Hank Hughes <span class=\"muted\">(Local)</span>" in page
    assert "<strong>Data Office</strong> (DATA) has no head" in page
    assert "<strong>Hank Hughes</strong> heads Marketing and is also a member of Legal." in page
    assert "<strong>Alice Adams</strong> is in several departments:" in page
    assert "1 from the directory" in page
    assert 'href="?members=MKT#members"' in page


def test_the_members_of_a_department_with_their_source(client, org):
    _conflicts(org)
    client.force_login(org.olivia)

    page = client.get(URL + "?members=LEG").content.decode()

    assert "Members of Legal" in page
    assert "Alice Adams" in page and "Directory (SCIM)" in page
    assert client.get(URL + "?members=NOPE").status_code == 404


@pytest.mark.parametrize("who", ["alice", "hank", "irene", "ivan"])
def test_nobody_but_ops_leaders_sees_it(client, org, who):
    client.force_login(getattr(org, who))
    assert client.get(URL).status_code == 403
    assert Department.objects.restrict(getattr(org, who), "organisation").count() == 0


def test_signed_out_goes_to_sign_in(client, org):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_query_count_does_not_grow_with_the_organisation(client, org,
                                                            django_assert_num_queries):
    client.force_login(org.olivia)
    client.get(URL)  # warm the session and caches
    with django_assert_num_queries(PINNED) as small:
        client.get(URL + "?members=MKT")
    for n in range(30):
        department = Department.objects.create(code=f"X{n}", name=f"Extra {n}",
                                               parent=org.dept["OPS"], head=org.bob)
        Membership.objects.create(user=org.carol if n % 2 else org.dave, department=department)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(URL + "?members=MKT")
    assert len(response.context["rows"]) >= 38


# Session with its person (one statement), navigation counts, the tree (one query), the
# conflicts (one), the department and its members (two).
PINNED = 7
