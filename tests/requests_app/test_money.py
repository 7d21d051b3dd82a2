"""Amounts mean what the person typed, or they are refused — the same way in the portal, the
API and the import, in an English form (1,250.00) and a German one (1.250,00)."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from requests_app.models import ServiceRequest
from requests_app.money import CONTINENTAL, ENGLISH, money_format, parse_money

ORDER = "separators in the wrong order"
AMBIGUOUS = "is ambiguous"
DECIMALS = "more than two decimals"
RANGE = "Must be between"
NOT_AMOUNT = "is not an amount"
DIGITS = "Use the digits 0–9"
UNREADABLE = "is not an amount this form can read"
REQUIRED = "State the estimated cost"

# (typed, in an English form, in a German form): the amount stored, or the refusal's words.
TABLE = [
    ("1250", "1250.00", "1250.00"),
    ("01250", "1250.00", "1250.00"),
    ("1250.00", "1250.00", "1250.00"),
    ("1250.5", "1250.50", "1250.50"),
    ("1,250.00", "1250.00", "1250.00"),
    ("1,250,000.50", "1250000.50", "1250000.50"),
    ("  1250  ", "1250.00", "1250.00"),
    ("6.5", "6.50", "6.50"),
    ("0", "0.00", "0.00"),
    ("0.01", "0.01", "0.01"),
    ("9999999999.99", "9999999999.99", "9999999999.99"),
    ("1.250,00", ORDER, "1250.00"),
    ("6.500,00", ORDER, "6500.00"),
    ("1.250.000,50", ORDER, "1250000.50"),
    ("9.999.999.999,99", ORDER, "9999999999.99"),
    ("6.500", AMBIGUOUS, "6500.00"),
    ("1.250.000", UNREADABLE, "1250000.00"),
    ("6,50", UNREADABLE, "6.50"),
    ("0,01", UNREADABLE, "0.01"),
    ("1250,5", UNREADABLE, "1250.50"),
    ("6,500", "6500.00", AMBIGUOUS),
    ("1,250", "1250.00", AMBIGUOUS),
    ("1,250,000", "1250000.00", UNREADABLE),
    ("10000000000", RANGE, RANGE),
    ("-5", RANGE, RANGE),
    ("9999999999.995", DECIMALS, DECIMALS),
    ("0.004", DECIMALS, DECIMALS),
    ("1.2345", DECIMALS, DECIMALS),
    ("12.345,678", ORDER, DECIMALS),
    ("1,,250", UNREADABLE, UNREADABLE),
    ("1,2,3", UNREADABLE, UNREADABLE),
    ("1.25,00", ORDER, UNREADABLE),
    (".5", UNREADABLE, UNREADABLE),
    ("5.", UNREADABLE, UNREADABLE),
    ("1e3", NOT_AMOUNT, NOT_AMOUNT),
    ("1E3", NOT_AMOUNT, NOT_AMOUNT),
    ("5_000", NOT_AMOUNT, NOT_AMOUNT),
    ("+5", NOT_AMOUNT, NOT_AMOUNT),
    ("1 250", NOT_AMOUNT, NOT_AMOUNT),
    ("lots", NOT_AMOUNT, NOT_AMOUNT),
    ("0x10", NOT_AMOUNT, NOT_AMOUNT),
    ("١٢٥٠", DIGITS, DIGITS),           # Arabic-Indic digits
    ("１２５０", DIGITS, DIGITS),         # fullwidth digits
    # The organisation's currency before or after the number, as the pages write it.
    ("€1250", "1250.00", "1250.00"),
    ("€6,500.00", "6500.00", "6500.00"),
    ("6.500,00 €", ORDER, "6500.00"),
    ("6.500,00\u00a0€", ORDER, "6500.00"),
    ("1250 EUR", "1250.00", "1250.00"),
    ("€ €1250", DIGITS, DIGITS),
    ("$1250", NOT_AMOUNT, NOT_AMOUNT),
    ("1250\u00a0", DIGITS, DIGITS),     # a no-break space
    ("", REQUIRED, REQUIRED),
]
LANGUAGES = {"en": "en-GB,en;q=0.9", "de": "de-DE,de;q=0.9,en;q=0.5"}
FORMATS = {"en": ENGLISH, "de": CONTINENTAL}
# A German browser reads the refusals in German.
GERMAN = {ORDER: "Trennzeichen in der falschen Reihenfolge", AMBIGUOUS: "ist mehrdeutig",
          DECIMALS: "mehr als zwei Nachkommastellen", RANGE: "Muss zwischen",
          NOT_AMOUNT: "ist kein Betrag", DIGITS: "Verwenden Sie nur die Ziffern 0–9",
          UNREADABLE: "ist kein Betrag, den dieses Formular lesen kann",
          REQUIRED: "Geben Sie die geschätzten Kosten an"}


def _examples(lang: str) -> str:
    """How the form writes amounts, in its own language's words."""
    with translation.override(lang):
        return FORMATS[lang].examples

CASES = [pytest.param(typed, lang, expected[i], id=f"{lang}-{typed!r}")
         for typed, *expected in TABLE for i, lang in enumerate(LANGUAGES)]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _portal(user, typed: str, lang: str) -> tuple[str, str]:
    """("stored", amount) or ("refused", the page's words) for ``typed`` in the portal."""
    before = set(ServiceRequest.objects.values_list("pk", flat=True))
    response = _client(user).post(reverse("portal:submit", args=["laptop"]), {
        "details": "For the team.", "model": "13-inch standard", "estimated_cost": typed,
    }, headers={"Accept-Language": LANGUAGES[lang]})
    new = ServiceRequest.objects.exclude(pk__in=before)
    if response.status_code == 302:
        return "stored", str(new.get().estimated_cost)
    assert response.status_code == 400 and not new.exists()
    return "refused", html.unescape(response.content.decode())


def _api(user, typed: str, lang: str) -> tuple[str, str]:
    response = _client(user).post("/api/v1/requests/", {
        "item": "laptop", "answers": {"details": "For the team.", "model": "13-inch standard"},
        "estimated_cost": typed,
    }, content_type="application/json", headers={"Accept-Language": LANGUAGES[lang]})
    if response.status_code == 201:
        return "stored", response.json()["estimated_cost"]
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_answers"
    return "refused", body["field_errors"]["estimated_cost"][0]


@pytest.mark.parametrize(("typed", "lang", "expected"), CASES)
def test_the_portal_and_the_api_read_an_amount_alike(org, typed, lang, expected):
    portal, api = _portal(org.alice, typed, lang), _api(org.alice, typed, lang)
    if expected[0].isdigit():
        assert portal == api == ("stored", expected)
        assert ServiceRequest.objects.filter(estimated_cost=Decimal(expected)).count() == 2
        return
    # Then both refuse, with the same words, in the browser's language, which name what to
    # write instead
    assert portal[0] == api[0] == "refused"
    assert (GERMAN[expected] if lang == "de" else expected) in api[1]
    assert api[1] in portal[1]
    if expected not in (REQUIRED, RANGE):
        assert _examples(lang) in api[1]
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("bad", ["1250\x00", "12\x0050"])
def test_a_nul_in_an_amount_is_refused_by_both_and_stores_nothing(org, bad):
    for lang in LANGUAGES:
        assert _client(org.alice).post(reverse("portal:submit", args=["laptop"]), {
            "details": "x", "model": "13-inch standard", "estimated_cost": bad},
            headers={"Accept-Language": LANGUAGES[lang]}).status_code == 400
        assert _client(org.alice).post("/api/v1/requests/", {
            "item": "laptop", "answers": {"details": "x", "model": "13-inch standard"},
            "estimated_cost": bad}, content_type="application/json",
            headers={"Accept-Language": LANGUAGES[lang]}).status_code == 400
    assert not ServiceRequest.objects.exists()
    with translation.override("en"), pytest.raises(Exception, match=DIGITS):
        parse_money(bad, fmt=ENGLISH)


@pytest.mark.parametrize(("country", "amount"), [("DE", None), ("AT", None), ("US", "6500.00"),
                                                 ("GB", "6500.00")])
def test_without_a_language_the_organisations_country_decides(org, country, amount):
    with override_settings(SRM_DEFAULT_COUNTRY=country):
        response = _client(org.alice).post("/api/v1/requests/", {
            "item": "laptop", "answers": {"details": "x", "model": "13-inch standard"},
            "estimated_cost": "6,500"}, content_type="application/json")
    if amount:
        assert response.status_code == 201 and response.json()["estimated_cost"] == amount
    else:
        assert response.status_code == 400
        assert AMBIGUOUS in response.json()["field_errors"]["estimated_cost"][0]


@pytest.mark.parametrize(("language", "fmt"), [
    ("de-CH", CONTINENTAL), ("nl", CONTINENTAL), ("en-US", ENGLISH), ("ja", ENGLISH)])
def test_a_known_language_wins_over_the_country(settings, language, fmt):
    settings.SRM_DEFAULT_COUNTRY = "DE" if fmt is ENGLISH else "US"
    assert money_format(language=language) is fmt


@pytest.mark.parametrize(("number", "expected"), [
    (6000, "6000.00"), (1250.5, "1250.50"), (0, "0.00"), (9999999999.99, "9999999999.99"),
    (0.004, DECIMALS), (1e308, RANGE), (10**30, RANGE), (-1, RANGE), (True, "Enter the cost as text or a number")])
def test_json_numbers_are_read_exactly(org, number, expected):
    response = _client(org.alice).post("/api/v1/requests/", {
        "item": "laptop", "answers": {"details": "x", "model": "13-inch standard"},
        "estimated_cost": number}, content_type="application/json")
    if expected[0].isdigit():
        assert response.status_code == 201 and response.json()["estimated_cost"] == expected
    else:
        assert response.status_code == 400
        assert expected in response.json()["field_errors"]["estimated_cost"][0]


def test_the_form_shows_the_rule_and_the_format_before_submitting(org):
    english = _client(org.alice).get(reverse("portal:submit", args=["laptop"]),
                                     headers={"Accept-Language": "en-GB"}).content.decode()
    german = _client(org.alice).get(reverse("portal:submit", args=["laptop"]),
                                    headers={"Accept-Language": "de-DE"}).content.decode()
    # The finance step's real threshold, as each form writes amounts
    assert "Finance approves at 5,000.00 EUR and above." in english
    assert "Finance genehmigt ab 5.000,00 EUR." in german
    assert html.escape(_examples("en")) in english
    assert html.escape(_examples("de")) in german


def test_the_threshold_shown_is_the_one_that_decides(org):
    from approvals.models import StepTemplate

    StepTemplate.objects.filter(min_cost__isnull=False).update(min_cost=Decimal("7500"))
    page = _client(org.alice).get(reverse("portal:submit", args=["laptop"]),
                                  headers={"Accept-Language": "en"}).content.decode()
    assert "Finance approves at 7,500.00 EUR and above." in page


def test_a_german_amount_over_the_threshold_goes_to_finance_and_is_echoed(org):
    response = _client(org.alice).post(reverse("portal:submit", args=["laptop"]), {
        "details": "For the team.", "model": "13-inch standard", "estimated_cost": "6.500,00",
    }, headers={"Accept-Language": "de-DE"}, follow=True)
    request = ServiceRequest.objects.get()
    assert request.estimated_cost == Decimal("6500.00")
    assert f"{request.reference} mit geschätzten Kosten von 6.500,00 EUR eingereicht." in (
        response.content.decode())
    finance = request.steps.get(name="Finance approval")
    assert not finance.is_skipped


def test_the_import_reads_amounts_in_the_organisations_format(org, settings):
    from requests_app.services import submission_clean

    def cost(raw):
        return submission_clean(item=org.item["laptop"], requester=org.alice,
                                answers={"details": "x", "model": "13-inch standard"},
                                estimated_cost=raw, title="")[1]

    settings.SRM_DEFAULT_COUNTRY = "DE"
    assert cost("6.500") == Decimal("6500.00")
    assert cost(1250.5) == Decimal("1250.50")  # a spreadsheet's number cell
    settings.SRM_DEFAULT_COUNTRY = "US"
    assert cost("6,500") == Decimal("6500.00")
