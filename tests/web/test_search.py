"""Finding things: a reference (whole or its number), a title, a catalog item by the word
people use; only what the person may see; sortable request lists that keep their filters."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from requests_app.models import ServiceRequest
from requests_app.search import requests_matching


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


def test_every_word_typed_finds_titles_as_a_prefix_in_any_order(org, submit, as_user):
    submit(cost="100", title="Notebook for the new laptop cart")
    submit(cost="100", title="Standing desk")
    alice = as_user("alice")
    for typed in ("note lapt", "LAPTOP notebook", "cart"):
        page = alice.get(reverse("portal:search"), {"q": typed}).content.decode()
        assert "Notebook for the new laptop cart" in page, typed
        assert "Standing desk" not in page, typed
    page = alice.get(reverse("portal:search"), {"q": "desk lapt"}).content.decode()
    assert "No request you can see matches." in page


def test_part_of_a_reference_from_its_year_on_finds_it(org, submit, as_user):
    request = submit(cost="100", title="Only this one")
    partial = request.reference.split("-", 1)[1][:-1]  # "2026-00000" of SR-2026-000001
    page = as_user("alice").get("/portal/requests/", {"q": partial}).content.decode()
    assert "Only this one" in page


def test_search_syntax_and_odd_input_never_break_the_page(org, submit, as_user):
    submit(cost="100", title="Printer toner")
    alice = as_user("alice")
    for typed in ("&", "toner | !", "'); --", ":*", "(((", "ü", "-", "SR-", "0"):
        response = alice.get(reverse("portal:search"), {"q": typed})
        assert response.status_code == 200, typed
    assert "Printer toner" in alice.get(reverse("portal:search"), {"q": "toner | !"}).content.decode()


@pytest.mark.postgres
def test_title_search_uses_its_gin_index_on_postgresql(org, submit):
    submit(cost="100", title="Notebook for the trade fair")
    query = requests_matching(ServiceRequest.objects.all(), "notebook")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "request_title_words" in plan


def test_the_reference_typed_comes_first_then_the_newest(org, submit, as_user):
    named = submit(cost="100", title="Standing desk")
    number = str(int(named.reference.rsplit("-", 1)[1]))
    older = submit(cost="100", title=f"Spare parts for order {number}")
    newer = submit(cost="100", title=f"Cables for order {number}")

    page = as_user("alice").get(reverse("portal:search"), {"q": number}).content.decode()
    assert page.index(named.reference) < page.index(newer.reference) < page.index(older.reference)


def test_the_ids_a_search_looks_among_are_what_the_rule_shows(org, submit):
    from approvals.services import step_approve

    for actor in (org.alice, org.bob, org.carol, org.dave):
        request = submit(actor=actor, cost="7500", title="Big screen")
        step_approve(actor=request.steps.get(state="active").accountable_head,
                     step=request.steps.get(state="active"))
    for person in vars(org).values():
        if not hasattr(person, "is_ops_leader"):
            continue
        ids = ServiceRequest.objects.visible_ids(person)
        seen = set(ServiceRequest.objects.restrict(person).values_list("pk", flat=True))
        if person.is_ops_leader or person.is_superuser:
            assert ids is None
        else:
            assert {row["pk"] for row in ids} == seen, person.username
