"""Amounts of money as people type them: one parser for the portal, the API and the import.

An amount means what the person typed, or it is refused. Two ways of writing an amount are
known, and each form reads one of them (its *format*):

- ``1,250.00`` — a comma groups thousands, a point separates the cents (English);
- ``1.250,00`` — a point groups thousands, a comma separates the cents (German and most of
  continental Europe).

Every format accepts plain digits (``1250``), a point before at most two decimals
(``1250.00``) and the full English form with both separators (``1,250.00``): none of them can
mean anything else. A form in the comma format also accepts its own ``1.250,00``, ``1250,5``
and ``6.500`` (six thousand five hundred). What could mean two amounts is refused, naming the
format expected: ``6,500`` in a comma form (six and a half, or six thousand five hundred?),
``6.500`` in an English form. So is anything else: separators in the wrong order or in the
wrong places, more than two decimals, exponents, underscores, signs other than a leading
minus (which the range then refuses), digits other than 0–9, control characters.

Which format a form reads: the person's language (the first language of the browser's or
client's ``Accept-Language``) when it is one SRM knows, otherwise the organisation's country
(``SRM_DEFAULT_COUNTRY``). Amounts are whole cents from 0 to 9,999,999,999.99; the value is
rounded to cents before the range is checked, so nothing the column cannot hold reaches it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation.trans_real import parse_accept_lang_header

from governance.errors import ValidationFailed
from kit.errors import ErrorCode

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")


@dataclass(frozen=True)
class MoneyFormat:
    """How a form writes amounts: ``decimal`` separates the cents, ``group`` thousands."""

    code: str
    decimal: str
    group: str
    accepted: tuple[tuple[re.Pattern, str, str], ...]  # (pattern, its group, its decimal)

    @property
    def example(self) -> str:
        return f"1{self.group}250{self.decimal}00"

    @property
    def examples(self) -> str:
        """What the field expects, for help texts and error messages."""
        if self.code == "en":
            return _("1250, 1250.00 or 1,250.00")
        return _("1250, 1250,00 or 1.250,00 (1,250.00 is understood too)")

    def format(self, amount: Decimal) -> str:
        """``amount`` written the way this format reads it (``6.500,00``)."""
        whole, cents = f"{amount:,.2f}".split(".")
        return f"{whole.replace(',', self.group)}{self.decimal}{cents}"


def _patterns(*sources: tuple[str, str, str]) -> tuple[tuple[re.Pattern, str, str], ...]:
    return tuple((re.compile(rf"\A{source}\Z"), group, decimal)
                 for source, group, decimal in sources)


# [0-9], never \d: \d also matches Arabic-Indic, Devanagari, fullwidth … digits.
_PLAIN_POINT = r"[0-9]+(?:\.[0-9]{1,2})?"                        # 1250, 1250.5, 1250.00
_GROUPED_POINT = r"[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?"  # 1,250 1,250.00
_POINT_CENTS = r"[0-9]+\.[0-9]{1,2}"                              # 1250.00 (no grouping)
_GROUPED_POINT_CENTS = r"[1-9][0-9]{0,2}(?:,[0-9]{3})+\.[0-9]{1,2}"  # 1,250.00 (both)
_PLAIN_COMMA = r"[0-9]+(?:,[0-9]{1,2})?"                         # 1250, 1250,5 1250,00
_GROUPED_COMMA = r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+(?:,[0-9]{1,2})?"  # 6.500 1.250,00

ENGLISH = MoneyFormat("en", ".", ",", _patterns(
    (_PLAIN_POINT, "", "."), (_GROUPED_POINT, ",", ".")))
CONTINENTAL = MoneyFormat("de", ",", ".", _patterns(
    (_PLAIN_COMMA, "", ","), (_GROUPED_COMMA, ".", ","), (_POINT_CENTS, "", "."),
    (_GROUPED_POINT_CENTS, ",", ".")))
FORMATS = {f.code: f for f in (ENGLISH, CONTINENTAL)}

# Languages and countries that write 1.250,00. Any other reads 1,250.00. (Switzerland writes
# 1'250.00, and neither of SRM's formats groups with spaces: those read the English format,
# whose plain forms they share.)
_COMMA_LANGUAGES = {"de", "nl", "it", "es", "pt", "da", "id", "tr", "el", "hr", "sl", "sr",
                    "ro", "vi", "is", "fr", "nb", "no", "sv", "fi", "pl", "cs", "sk", "hu"}
_POINT_LANGUAGES = {"en", "ja", "zh", "ko", "th", "he", "hi", "ms", "ga"}
_COMMA_COUNTRIES = {"DE", "AT", "NL", "BE", "IT", "ES", "PT", "DK", "LU", "ID", "TR", "GR",
                    "HR", "SI", "RS", "RO", "VN", "IS", "BR", "AR", "CL", "CO", "FR", "NO",
                    "SE", "FI", "PL", "CZ", "SK", "HU"}


def money_format(*, language: str | None = None) -> MoneyFormat:
    """The format of a form for someone speaking ``language`` (a language tag such as
    ``de-AT``); without a known language, the organisation's country decides."""
    primary = (language or "").split("-")[0].lower()
    if primary in _COMMA_LANGUAGES:
        return CONTINENTAL
    if primary in _POINT_LANGUAGES:
        return ENGLISH
    return CONTINENTAL if settings.SRM_DEFAULT_COUNTRY.upper() in _COMMA_COUNTRIES else ENGLISH


def money_format_for(request) -> MoneyFormat:
    """The format of the forms a web or API request fills: the language the person saved on
    their profile, else the first language of the request's ``Accept-Language``."""
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated and getattr(user, "language", ""):
        return money_format(language=user.language)
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "") if request is not None else ""
    languages = [lang for lang, _q in parse_accept_lang_header(header[:255]) if lang != "*"]
    return money_format(language=languages[0] if languages else None)


def _refusal(field: str, label: str, problem: str, fmt: MoneyFormat) -> ValidationFailed:
    message = _("%(problem)s Write the amount like %(examples)s.") % {
        "problem": problem, "examples": fmt.examples}
    return ValidationFailed(_("The %(label)s: %(message)s") % {"label": label, "message": message},
                            code=ErrorCode.INVALID_COST,
                            field_errors={field: [message]})


def _range_refusal(field: str, label: str, fmt: MoneyFormat) -> ValidationFailed:
    low, high = fmt.format(Decimal(0)), fmt.format(MAX_AMOUNT)
    bounds = {"label": label, "low": low, "high": high}
    return ValidationFailed(_("The %(label)s must be between %(low)s and %(high)s.") % bounds,
                            code=ErrorCode.INVALID_COST,
                            field_errors={field: [_("Must be between %(low)s and %(high)s.") % bounds]})


def _shown(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}…"


def _problem(text: str, fmt: MoneyFormat) -> str:
    """Why ``text`` (ASCII digits and separators that match no form) is refused, in words."""
    separators = [c for c in text if c in ".,"]
    last = max(text.rfind("."), text.rfind(","))
    head, tail = (text[:last], text[last + 1:]) if last >= 0 else (text, "")
    if fmt is ENGLISH and len(set(separators)) == 2 and separators[-1] == ",":
        return _("“%(text)s” has its separators in the wrong order for this form.") % {
            "text": _shown(text)}
    if (separators == [fmt.decimal] and len(tail) == 3
            and re.match(r"\A[1-9][0-9]{0,2}\Z", head)):
        return _("“%(text)s” is ambiguous: in this form “%(decimal)s” separates the cents, "
                 "and three digits follow it. For thousands write %(plain)s "
                 "or %(grouped)s; for cents use at most two decimals.") % {
            "text": _shown(text), "decimal": fmt.decimal, "plain": f"{head}{tail}",
            "grouped": f"{head}{fmt.group}{tail}"}
    if len(tail) > 2 and text.count(text[last]) == 1 and text[last] in (fmt.decimal, "."):
        return _("“%(text)s” has more than two decimals; amounts are in whole cents.") % {
            "text": _shown(text)}
    return _("“%(text)s” is not an amount this form can read.") % {"text": _shown(text)}


def parse_money(value: Any, *, fmt: MoneyFormat | None = None, field: str = "estimated_cost",
                label: str = gettext_lazy("estimated cost")) -> Decimal | None:
    """The amount ``value`` states, in cents, or ``None`` when it is empty.

    ``value`` is what a form or a client sent: text (read in ``fmt``, by default the
    organisation's), or a JSON or spreadsheet number. Raises ``ValidationFailed`` (code
    ``invalid_cost``, the message under ``field``) for anything it cannot read for sure or
    outside 0 – 9,999,999,999.99."""
    fmt = fmt or money_format()
    if value is None:
        return None
    if isinstance(value, bool):
        raise _refusal(field, label, _("Yes/no is not an amount."), fmt)
    if isinstance(value, (int, float, Decimal)):
        # Numbers from JSON or a spreadsheet cell have no separators to misread.
        try:
            amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        except (InvalidOperation, ValueError):
            amount = Decimal("NaN")
        if not amount.is_finite():
            raise _refusal(field, label, _("That is not a finite number."), fmt)
        if amount.as_tuple().exponent < -2 and amount != amount.quantize(CENT, ROUND_HALF_UP):
            raise _refusal(field, label, _("%(value)s has more than two decimals; amounts are "
                                           "in whole cents.") % {"value": value}, fmt)
        return _in_range(amount, field, label, fmt)
    if not isinstance(value, str):
        raise _refusal(field, label, _("That is not an amount."), fmt)
    text = _without_currency(value.strip(" \t\r\n"))
    if not text:
        return None
    negative = text.startswith("-")
    body = text[1:] if negative else text
    if not body.isascii() or not body.isprintable():
        raise _refusal(field, label,
                       _("Use the digits 0–9 and the separators “.” and “,” only."), fmt)
    if any(c not in "0123456789.," for c in body):
        raise _refusal(field, label, _("“%(text)s” is not an amount: no letters, spaces, "
                                       "signs, exponents or underscores.") % {
            "text": _shown(text)}, fmt)
    for pattern, group, decimal in fmt.accepted:
        if pattern.match(body):
            digits = body.replace(group, "") if group else body
            amount = Decimal(digits.replace(decimal, "."))
            break
    else:
        raise _refusal(field, label, _problem(body, fmt), fmt)
    return _in_range(-amount if negative else amount, field, label, fmt)


def _without_currency(text: str) -> str:
    """``6.500,00 €``, ``€6,500.00`` or ``6500 EUR`` → the number: the organisation's currency
    written before or after it (any other currency is refused as letters)."""
    code = settings.SRM_REPORTING_CURRENCY.upper()
    for mark in (code, _SYMBOLS.get(code, code)):
        if text.upper().endswith(mark):
            return text[: -len(mark)].rstrip(" \u00a0")
        if text.upper().startswith(mark):
            return text[len(mark):].lstrip(" \u00a0")
    return text


_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


def _in_range(amount: Decimal, field: str, label: str, fmt: MoneyFormat) -> Decimal:
    # Compared before rounding as well: quantize() cannot hold 40 digits.
    if amount == 0:
        return Decimal("0.00")  # never -0.00
    if amount < 0 or amount > MAX_AMOUNT + 1:
        raise _range_refusal(field, label, fmt)
    amount = amount.quantize(CENT, ROUND_HALF_UP)
    if amount > MAX_AMOUNT:
        raise _range_refusal(field, label, fmt)
    return amount
