"""Finding things: a reference (whole or its number), a title, a catalog item by the word
people use; only what the person may see; sortable request lists that keep their filters."""

from __future__ import annotations

from django.urls import reverse


def test_the_number_of_a_reference_finds_the_request(org, submit, as_user):
    requests = [submit(cost="100", title=f"Thing {name}") for name in ("one", "two", "three")]
    target = requests[1]
    number = str(int(target.reference.rsplit("-", 1)[1]))  # "2" of SR-2026-000002

    # One exact match: straight to the request.
    response = as_user("alice").get(reverse("portal:search"), {"q": number})
    assert response.status_code == 302 and response["Location"] == target.get_absolute_url()
    response = as_user("alice").get(reverse("portal:search"), {"q": target.reference})
    assert response["Location"] == target.get_absolute_url()


def test_titles_and_catalog_keywords_are_found(org, submit, as_user):
    submit(cost="100", title="Notebook for the trade fair")
    page = as_user("alice").get(reverse("portal:search"), {"q": "notebook"}).content.decode()
    assert "Notebook for the trade fair" in page  # a title
    assert ">New laptop</a>" in page  # the laptop's keyword "notebook"
    catalog = as_user("alice").get(reverse("portal:catalog"), {"q": "notebook"}).content.decode()
    assert "New laptop" in catalog


def test_search_shows_only_requests_the_person_may_see(org, submit, as_user):
    mine = submit(actor=org.alice, cost="100", title="Secret project laptop")
    page = as_user("carol").get(reverse("portal:search"), {"q": "Secret project"}).content.decode()
    assert mine.reference not in page and "No request you can see matches." in page
    page = as_user("hank").get(reverse("portal:search"), {"q": "Secret project"}).content.decode()
    assert mine.reference in page  # alice's head


def test_the_request_list_sorts_by_a_column_and_keeps_its_filters(org, submit, as_user):
    submit(cost="100", title="Zebra stand")
    submit(cost="100", title="Apple crate")
    alice = as_user("alice")
    newest = alice.get("/portal/requests/?state=open").content.decode()
    assert newest.index("Apple crate") < newest.index("Zebra stand")
    assert "?state=open&amp;sort=submitted" in newest  # the heading keeps the filter
    oldest = alice.get("/portal/requests/?state=open&sort=submitted").content.decode()
    assert oldest.index("Zebra stand") < oldest.index("Apple crate")
    by_reference = alice.get("/portal/requests/?sort=reference").content.decode()
    assert by_reference.index("Zebra stand") < by_reference.index("Apple crate")
    assert alice.get("/portal/requests/?sort=nonsense").status_code == 200


def test_the_list_finds_a_request_by_part_of_its_reference(org, submit, as_user):
    request = submit(cost="100", title="Only this one")
    submit(cost="100", title="Not this one")
    number = request.reference.rsplit("-", 1)[1]
    page = as_user("alice").get("/portal/requests/", {"q": number}).content.decode()
    assert "Only this one" in page and "Not this one" not in page
