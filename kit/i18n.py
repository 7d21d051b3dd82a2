"""The language a person reads SRM in: the one saved on their profile, else the browser's
(``Accept-Language`` or the language cookie, which ``LocaleMiddleware`` has already read),
else ``LANGUAGE_CODE``. Mail and notifications go out in the recipient's language and
timezone through ``in_language_of``.
"""

from __future__ import annotations

import contextlib
import zoneinfo
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.formats import number_format


def supported_language(code: str) -> str:
    """``code`` when SRM speaks it (``de-AT`` → ``de``), else the empty string."""
    if not code:
        return ""
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return ""


def saved_language(user: Any) -> str:
    """The language a signed-in person chose on their profile, or ``""`` to follow the browser."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return supported_language(getattr(user, "language", "") or "")


class UserLanguageMiddleware:
    """After authentication: a signed-in person's saved language wins over the browser's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = saved_language(getattr(request, "user", None))
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


@contextlib.contextmanager
def in_language_of(user: Any) -> Iterator[str]:
    """Render text for ``user`` (an e-mail, a notification) in their language and timezone:
    the saved language, else ``LANGUAGE_CODE`` (away from a request there is no browser to
    ask). Yields the language code used.

        with in_language_of(step.assignee):
            subject = render_to_string("…/subject.txt", context)
    """
    language = saved_language(user) or supported_language(settings.LANGUAGE_CODE) \
        or settings.LANGUAGE_CODE
    try:
        zone = zoneinfo.ZoneInfo(getattr(user, "timezone", "") or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    with translation.override(language), timezone.override(zone):
        yield language


# Where each language puts the currency: "€6,500.00" in English, "6.500,00 €" in German.
_CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
_SYMBOL_AFTER = {"de"}
NBSP = "\u00a0"


def amount_text(value: Decimal | int | float, *, decimals: int = 2) -> str:
    """A number in the active language, thousands grouped: ``6,500.00`` / ``6.500,00``."""
    return number_format(Decimal(value), decimals, force_grouping=True)


def money_text(value: Decimal | int | float, currency: str | None = None) -> str:
    """An amount of money with its currency placed as the active language does:
    ``€6,500.00`` in English, ``6.500,00 €`` in German; a currency without a symbol is
    written by its code (``CHF 6,500.00`` / ``6.500,00 CHF``)."""
    code = currency or settings.SRM_REPORTING_CURRENCY
    symbol = _CURRENCY_SYMBOLS.get(code, code)
    number = amount_text(value)
    negative = number.startswith("-")
    number = number.lstrip("-")
    if translation.get_language() in _SYMBOL_AFTER:
        text = f"{number}{NBSP}{symbol}"
    else:
        text = f"{symbol}{number}" if symbol != code else f"{code}{NBSP}{number}"
    return f"-{text}" if negative else text
