"""``{% budget_row row %}``: one row of the budget report's table (a cost centre's quarter or
a quarter's total). The report shows every cost centre in every quarter it covers — with
hundreds of cost centres, thousands of cells — so a row is written here in one go instead of
resolving each cell through the template engine: the text (names, the column labels for
narrow screens) escaped, the amounts as ``|amount`` writes them in the reader's language (thousands grouped),
the labels and the decimal separator looked up once per page."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from accountability.budget_report import HEADERS

register = template.Library()

COLUMNS = ("cost_centre", "department", "budget", "committed", "actual", "released",
           "remaining", "used", "cost_of_delay", "over_budget", "forecast")


def _page(context) -> dict:
    """What every row of one rendering shares, looked up on its first row."""
    page = context.render_context.get("budget_row")
    if page is None:
        page = {"label": {key: escape(str(header))
                          for key, header in zip(COLUMNS, HEADERS[1:], strict=True)},
                "separator": get_format("DECIMAL_SEPARATOR"),
                "group": get_format("THOUSAND_SEPARATOR"),
                "total": escape(gettext("Total")), "overrun": escape(gettext("overrun"))}
        context.render_context["budget_row"] = page
    return page


@register.simple_tag(takes_context=True)
def budget_row(context, row) -> SafeString:
    page = _page(context)
    label, separator, group = page["label"], page["separator"], page["group"]
    swap = str.maketrans({",": group, ".": separator})

    def amount(value: Decimal, places: int = 2) -> str:  # 10,000.00 / 10.000,00
        return f"{value:,.{places}f}".translate(swap)

    def cell(key: str, value: str) -> str:
        return f'<td data-label="{label[key]}" class="num">{value}</td>'

    if row.department is not None:
        centre, name = escape(row.department.cost_centre), escape(row.department.name)
    else:
        centre, name = "", f"<strong>{page['total']}</strong>"
    used = "—" if row.used_percent is None else f"{amount(row.used_percent, 1)} %"
    if row.forecast is None:
        forecast = "—"
    else:
        forecast = amount(row.forecast)
        if row.overruns:
            forecast += f' <strong class="overrun-flag">{page["overrun"]}</strong>'
    return mark_safe("".join([  # noqa: S308 - every piece of text above is escaped
        '<tr class="overrun">' if row.overruns else "<tr>",
        f'<td data-label="{label["cost_centre"]}">{centre}</td>',
        f'<td data-label="{label["department"]}">{name}</td>',
        cell("budget", amount(row.budget)), cell("committed", amount(row.committed)),
        cell("actual", amount(row.actual)), cell("released", amount(row.released)),
        cell("remaining", amount(row.remaining)), cell("used", used),
        cell("cost_of_delay", amount(row.cost_of_delay)),
        cell("over_budget", str(row.over_budget)), cell("forecast", forecast),
        "</tr>",
    ]))
