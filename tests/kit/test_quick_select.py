"""kit.web.QuickSelect: a filter's long <select> reads exactly as Django's own widget writes it."""

from __future__ import annotations

import re

import pytest
from django import forms

from kit.web import QuickSelect

CHOICES = [("", "Any department"), ("FIN", "Finance & Control"), ("IT", 'IT "Ops" <core>'),
           ("Sites", [("BER", "Berlin"), ("MUC", "München")]), (7, "Seven")]


def _same(html: str) -> str:
    """Markup as the browser reads it: whitespace between tags does not matter."""
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize("value", [None, "", "IT", "MUC", "7", "nobody"])
def test_it_writes_what_djangos_select_writes(value):
    attrs = {"id": "id_department", "required": True, "aria-invalid": "true"}
    quick = QuickSelect(choices=CHOICES).render("department", value, attrs)
    django = forms.Select(choices=CHOICES).render("department", value, attrs)

    assert _same(quick) == _same(django)


def test_the_chosen_option_is_selected_and_names_are_escaped():
    html = QuickSelect(choices=CHOICES).render("department", "IT", {"id": "d"})

    assert '<option value="IT" selected>IT &quot;Ops&quot; &lt;core&gt;</option>' in html
    assert html.count(" selected") == 1
    assert "Finance &amp; Control" in html
    assert '<optgroup label="Sites">' in html


class _Filters(forms.Form):
    department = forms.ChoiceField(choices=CHOICES, required=False, widget=QuickSelect)


def test_a_bound_form_keeps_the_choice_and_validates_as_before():
    form = _Filters({"department": "BER"})

    assert form.is_valid() and form.cleaned_data["department"] == "BER"
    assert '<option value="BER" selected>Berlin</option>' in str(form["department"])
    assert not _Filters({"department": "nowhere"}).is_valid()
