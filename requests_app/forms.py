"""The portal's forms. They render inputs and carry errors; the services decide validity."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.db import connections
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from approvals.models import StepTemplate
from governance import limits
from kit.web import QuickSelect
from requests_app.choices import REQUEST_STATE_GROUPS, RequestState
from requests_app.fields import answers_form_class
from requests_app.models import CatalogItem
from requests_app.money import MoneyFormat


def approval_thresholds(item: CatalogItem, money: MoneyFormat) -> list[str]:
    """The cost conditions of the item's path, in words: “Finance approves at 5.000,00 EUR and
    above.” — read from the step templates that decide it, one query."""
    templates = (StepTemplate.objects.filter(path_id=item.path_id, min_cost__isnull=False)
                 .select_related("department").order_by("order"))
    currency = settings.SRM_REPORTING_CURRENCY
    return [gettext("%(approver)s approves at %(amount)s %(currency)s and above.") % {
        "approver": t.department.name if t.department else t.name,
        "amount": money.format(t.min_cost), "currency": currency} for t in templates]


def submit_form_class(item: CatalogItem, money: MoneyFormat,
                      thresholds: list[str] = ()) -> type[forms.Form]:
    """The item's own questions, then a title and (when the item asks) the estimated cost,
    with how to write it (``money``) and the ``thresholds`` it decides."""
    fields: dict[str, forms.Field] = {
        "title": forms.CharField(
            label=_("Short title"), required=False, max_length=limits.TITLE,
            help_text=gettext("How you will recognise it in your list. Empty: “%(name)s”.")
            % {"name": item.name},
        ),
    }
    if item.asks_cost:
        # Text, not a number field: the service parses and explains ("for example 1250.00").
        fields["estimated_cost"] = forms.CharField(
            label=gettext("Estimated cost (%(currency)s)")
            % {"currency": settings.SRM_REPORTING_CURRENCY},
            help_text=" ".join([gettext("Your best estimate; 0 if none. Write it like "
                                        "%(examples)s.") % {"examples": money.examples},
                                *thresholds]),
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        )
    return type("SubmitForm", (answers_form_class(item.form_fields),), fields)


def answers_from(item: CatalogItem, data) -> dict:
    """The answers as the requester typed them, for the service to validate."""
    return {spec["name"]: data[spec["name"]] for spec in item.form_fields if spec["name"] in data}


class ListSelect(forms.Select):
    """A ``<select>`` built in Python instead of one template include per option: the same
    markup, for long flat lists (the filter's few hundred services) where Django's per-option
    templates were half of the page's rendering time. Choices that can say what they offer
    (``_ServiceChoices``) are written out once per set of options and then reused."""

    def render(self, name, value, attrs=None, renderer=None):
        if self.allow_multiple_selected:
            return super().render(name, value, attrs, renderer)
        wanted = self.format_value(value)
        written = getattr(self.choices, "written", None)
        if written is not None and len(wanted) <= 1:
            options = written(_options_html)
        else:
            choices = [choice for choice in self.choices]  # not list(): len() would COUNT(*)
            options = _options_html(choices)
        if options is None:
            return super().render(name, value, attrs, renderer)  # option groups
        # The first option whose value was chosen is marked, as Django's template does.
        starts = [(options.find(start), start) for start in
                  {f'<option value="{conditional_escape(chosen)}">' for chosen in wanted}]
        found = min(((at, start) for at, start in starts if at >= 0), default=None)
        if found is not None:
            at, start = found
            options = f'{options[:at]}{start[:-1]} selected>{options[at + len(start):]}'
        return format_html('<select name="{}"{}>{}</select>', name,
                           flatatt(self.build_attrs(self.attrs, attrs)),
                           mark_safe(options))  # each part escaped in _options_html


    def use_required_attribute(self, initial):
        if getattr(self.choices, "written", None) is None:
            return super().use_required_attribute(initial)
        # Django's answer reads the first choice, i.e. lists them all (a statement): the
        # first of these is the empty choice when the field has one.
        return (forms.Widget.use_required_attribute(self, initial)
                and self.choices.field.empty_label is not None)


def _options_html(choices) -> str | None:
    """The ``<option>``s of flat ``choices``, none selected; None for option groups."""
    options = []
    for option_value, label in choices:
        if isinstance(label, (list, tuple)):
            return None
        option_value = "" if option_value is None else str(option_value)
        options.append(f'<option value="{conditional_escape(option_value)}">'
                       f'{conditional_escape(label)}</option>')
    return "".join(options)


# The service filter's options as written out, by the empty choice's label (the reader's
# language) and every option's value and label as the database listed them. Each process
# keeps its own: the key is what the options show, read afresh on every view, so whichever
# worker wrote them they are what writing them again would give.
_WRITTEN: dict[tuple[str, str], str] = {}
_WRITTEN_KEPT = 64


class _ServiceChoices(forms.models.ModelChoiceIterator):
    """The services a list's filter offers (``CatalogItem.objects.filter_listing``: the
    catalog's ``filter`` rule, one JSON text read in one statement), written out once per
    listing: a few hundred options were most of the filter's cost on every view."""

    def _pairs(self, listed: str) -> list[tuple[str, str]]:
        pairs = json.loads(listed)
        if connections[CatalogItem.objects.db].vendor != "postgresql":
            pairs.sort()  # in name order, as SQLite's binary collation sorts
        head = [] if self.field.empty_label is None else [("", self.field.empty_label)]
        return head + [(code, name) for name, code in pairs]

    def __iter__(self):
        yield from self._pairs(CatalogItem.objects.filter_listing(self.field.user))

    def written(self, write) -> str | None:
        """The options as ``write(choices)`` writes them, kept under what they show."""
        listed = CatalogItem.objects.filter_listing(self.field.user)
        key = (str(self.field.empty_label or ""), listed)
        options = _WRITTEN.get(key)
        if options is None:
            options = write(self._pairs(listed))
            if len(_WRITTEN) >= _WRITTEN_KEPT:
                _WRITTEN.clear()
            _WRITTEN[key] = options
        return options


class _ServiceField(forms.ModelChoiceField):
    """A service chosen by its code, among those the catalog's ``filter`` rule offers the
    person (``user``, set by the form); the rule is built only to check a choice."""

    iterator = _ServiceChoices
    user = None

    def to_python(self, value):
        if value not in self.empty_values:
            self.queryset = CatalogItem.objects.restrict(self.user, "filter").only("code", "name")
        return super().to_python(value)


class RequestFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False,
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "placeholder": _("Reference (or its number) or title")}))
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("Any state")),
                                       *[(key, label) for key, (label, _states) in
                                         REQUEST_STATE_GROUPS.items()],
                                       *RequestState.choices],
                              widget=QuickSelect)
    item = _ServiceField(label=_("Service"), required=False, empty_label=_("Any service"),
                         queryset=CatalogItem.objects.none(), to_field_name="code",
                         widget=ListSelect)
    scope = forms.ChoiceField(label=_("Show"), required=False, choices=[
        ("mine", _("Requests I made")), ("all", _("All requests I can see"))], widget=QuickSelect)
    # Set by the column headings (requests_app.views.REQUEST_SORTS).
    sort = forms.ChoiceField(required=False, widget=forms.HiddenInput, choices=[
        ("-submitted", _("Newest first")), ("submitted", _("Oldest first")), ("due", _("Due first")),
        ("reference", _("Reference")), ("state", _("State"))])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].user = user


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False,
                             max_length=limits.CANCEL_REASON)
