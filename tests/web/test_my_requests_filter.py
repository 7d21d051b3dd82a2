"""My requests: the service filter offers what the catalog offers now, however often the list
was shown before (its options are written once per set of services and kept per process)."""

from __future__ import annotations

import re

from governance.models import User
from requests_app.models import CatalogItem, ServiceRequest


def _select(page: str) -> str:
    return re.search(r'<select name="item"[^>]*>(.*?)</select>', page, re.S).group(1)


def _services(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<option value="([^"]*)"(?: selected)?>([^<]*)</option>', _select(page))


def _chosen(page: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)" selected>', _select(page))


def test_the_service_filter_follows_every_change_to_the_catalog(org, as_user):
    alice = as_user("alice")
    before = _services(alice.get("/portal/requests/").content.decode())
    assert before[0] == ("", "Any service")
    assert ("laptop", "New laptop") in before
    assert [name for _code, name in before[1:]] == sorted(name for _code, name in before[1:])

    # Renamed without a save() (no signal moves anything): the next view names it anew
    CatalogItem.objects.filter(code="laptop").update(name="A laptop")
    renamed = _services(alice.get("/portal/requests/").content.decode())
    assert ("laptop", "A laptop") in renamed
    assert ("laptop", "New laptop") not in renamed

    # Unpublished: gone from the filter of someone who never asked for it
    CatalogItem.objects.filter(code="laptop").update(is_published=False)
    assert "laptop" not in dict(_services(alice.get("/portal/requests/").content.decode()))


def test_an_unpublished_service_stays_in_the_filter_of_who_sees_a_request_for_it(
        org, submit, as_user):
    submit(actor=org.alice, item="laptop", title="Old laptop")
    CatalogItem.objects.filter(code="laptop").update(is_published=False)

    # Alice's view first: what her filter offers is not what bob's is
    mine = as_user("alice").get("/portal/requests/").content.decode()
    assert ("laptop", "New laptop") in _services(mine)
    assert "Old laptop" in mine
    assert "laptop" not in dict(_services(as_user("bob").get("/portal/requests/").content.decode()))


def test_the_chosen_service_is_marked_and_the_empty_choice_otherwise(org, submit, as_user):
    submit(actor=org.alice, item="laptop", title="Laptop for the fair")
    alice = as_user("alice")

    chosen = alice.get("/portal/requests/?item=laptop").content.decode()
    assert '<option value="laptop" selected>New laptop</option>' in chosen
    assert _chosen(chosen) == ["laptop"]
    assert "Laptop for the fair" in chosen

    unfiltered = alice.get("/portal/requests/").content.decode()
    assert '<option value="" selected>Any service</option>' in unfiltered
    assert _chosen(unfiltered) == [""]


def test_the_requesters_own_shape_of_the_rule_gives_the_rule_s_rows(org, submit):
    submit(actor=org.alice, title="Alice's")
    submit(actor=org.bob, title="Bob's")
    for person in User.objects.all():
        mine = set(ServiceRequest.objects.restrict(person, mine=True).values_list("pk", flat=True))
        ruled = set(ServiceRequest.objects.restrict(person).filter(requester=person)
                    .values_list("pk", flat=True))
        assert mine == ruled, person
    assert ServiceRequest.objects.restrict(org.alice, mine=True).count() == 1
