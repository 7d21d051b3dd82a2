"""The glossary at /help/ and the terms on the pages that link to it with a short definition."""

from __future__ import annotations

import re

from django.utils.html import escape

from srm.glossary import GLOSSARY, TERMS

WORDS = {"ola", "levels", "exposure", "accrued", "p90", "value-realisation", "bypass"}


def test_the_glossary_defines_every_term_the_pages_use(org, as_user):
    assert {term.key for term in GLOSSARY} == WORDS
    page = as_user("alice").get("/help/").content.decode()
    for key in WORDS:
        assert f'id="{key}"' in page
        assert escape(TERMS[key].long)[:40] in page
    assert "Business hours" in str(TERMS["ola"].short)


def test_the_glossary_is_for_signed_in_people(client, db):
    response = client.get("/help/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _terms(html: str) -> dict[str, str]:
    """{anchor: tooltip} of every glossary link on a page."""
    return dict(re.findall(r'<a class="term" href="/help/#([\w-]+)"><abbr title="([^"]+)">', html))


def test_the_board_and_kpis_explain_their_jargon_where_it_appears(org, as_user):
    board = _terms(as_user("olivia").get("/dashboard/").content.decode())
    assert {"levels", "exposure", "accrued", "p90", "ola"} <= set(board)
    assert board["exposure"].startswith("Cost of a delay so far")
    department = _terms(as_user("hank").get("/dashboard/departments/MKT/").content.decode())
    assert {"levels", "exposure", "accrued", "p90", "ola"} <= set(department)
    kpis = _terms(as_user("alice").get("/kpis/").content.decode())
    assert "value-realisation" in kpis


def test_every_page_links_the_glossary_from_the_menu_and_footer(org, as_user):
    page = as_user("alice").get("/portal/").content.decode()
    assert page.count('href="/help/"') == 2
