"""One style for numbers, money, dates and times in each language: a year on every absolute
date, the 24-hour clock, thousands grouped, the currency where the language puts it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import timezone, translation

from requests_app.money import CONTINENTAL, money_format_for

BERLIN = ZoneInfo("Europe/Berlin")
AT = datetime(2026, 11, 9, 17, 41, tzinfo=BERLIN)


def _render(language: str, source: str, **context) -> str:
    with translation.override(language):
        return Template("{% load srm %}" + source).render(Context(context))


@pytest.mark.parametrize(("language", "money", "amount", "number", "integer"), [
    ("en", "€6,500.00", "1,234,567.50", "2", "12,345"),
    ("de", "6.500,00\u00a0€", "1.234.567,50", "2", "12.345"),
])
def test_numbers_and_money_in_each_language(language, money, amount, number, integer):
    assert _render(language, "{{ v|money }}", v=Decimal("6500")) == money
    assert _render(language, "{{ v|amount }}", v=Decimal("1234567.5")) == amount
    assert _render(language, "{{ v|number }}", v=Decimal("2.00")) == number
    assert _render(language, "{{ v }}", v=12345) == integer
    # An id in an attribute is never grouped.
    assert _render(language, '<tr id="step-{{ v|unlocalize }}">', v=12345) == '<tr id="step-12345">'


def test_money_keeps_its_sign_and_names_a_currency_without_a_symbol():
    assert _render("en", "{{ v|money }}", v=Decimal("-4700")) == "-€4,700.00"
    assert _render("de", "{{ v|money:'CHF' }}", v=Decimal("1250.5")) == "1.250,50\u00a0CHF"
    assert _render("en", "{{ v|money:'CHF' }}", v=Decimal("1250.5")) == "CHF\u00a01,250.50"
    assert _render("de", "{{ v|money }}", v=None) == "—"


@pytest.mark.parametrize(("language", "datetime_text", "date_text", "long_text"), [
    ("en", "9 Nov 2026, 17:41", "9 Nov 2026", "9 Nov 2026, 17:41"),
    ("de", "09.11.2026, 17:41", "09.11.2026", "9. November 2026, 17:41"),
])
def test_dates_carry_the_year_and_times_the_24_hour_clock(language, datetime_text, date_text,
                                                           long_text):
    with translation.override(language), timezone.override(BERLIN):
        html = _render(language, "{% when at %}|{% when at 'date' %}|{% when at 'j M, H:i' %}",
                       at=AT)
        long = _render(language, '{{ at|date:"DATETIME_FORMAT" }}', at=AT)
    shown = [part.split(">")[1].split("<")[0] for part in html.split("|")]
    # A page's own format ("j M, H:i": no year) is read as the style it asks for.
    assert shown == [datetime_text, date_text, datetime_text]
    assert long == long_text
    assert "p.m." not in html and "PM" not in html


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_time_s_title_names_the_long_form_and_the_timezone(language):
    day = AT.date()
    with translation.override(language), timezone.override(BERLIN):
        html = _render(language, "{% when at 'time' %}|{% when day 'date' %}|{% when nothing %}",
                       at=AT, day=day, nothing=None)
        expected = _render(language, '{{ at|date:"DATETIME_FORMAT" }} {{ at|date:"T" }}|'
                           '{{ at|date:"TIME_FORMAT" }}|{{ day|date:"DATE_FORMAT" }}|'
                           '{{ day|date:"SHORT_DATE_FORMAT" }}', at=AT, day=day).split("|")
    assert html.split("|") == [
        f'<time datetime="{AT.isoformat()}" title="{expected[0]}">{expected[1]}</time>',
        f'<time datetime="{day.isoformat()}" title="{expected[2]}">{expected[3]}</time>',
        "—"]
    assert expected[0].endswith(" CET")


@pytest.mark.django_db
def test_a_german_page_shows_german_money_and_dates(org, submit):
    request = submit(actor=org.alice, cost="6500")
    hank = Client(HTTP_ACCEPT_LANGUAGE="en")
    org.hank.language = "de"
    org.hank.save(update_fields=["language"])
    hank.force_login(org.hank)
    inbox = hank.get("/approvals/").content.decode()
    assert request.reference in inbox
    assert "6.500,00\u00a0€" in inbox and "6,500.00" not in inbox
    alice = Client(HTTP_ACCEPT_LANGUAGE="en")
    alice.force_login(org.alice)
    assert "€6,500.00" in alice.get(request.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_a_german_session_reads_german_amounts_whatever_the_browser(org, rf):
    org.alice.language = "de"
    request = rf.post("/", HTTP_ACCEPT_LANGUAGE="en-US")
    request.user = org.alice
    assert money_format_for(request) is CONTINENTAL
