"""The portal's forms. They render inputs and carry errors; the services decide validity."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from approvals.models import StepTemplate
from governance import limits
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
    templates were half of the page's rendering time."""

    def render(self, name, value, attrs=None, renderer=None):
        if self.allow_multiple_selected:
            return super().render(name, value, attrs, renderer)
        choices = [choice for choice in self.choices]  # not list(): len() would COUNT(*)
        if any(isinstance(label, (list, tuple)) for _, label in choices):
            return super().render(name, value, attrs, renderer)  # option groups
        wanted = set(self.format_value(value))
        options, found = [], False
        for option_value, label in choices:
            option_value = "" if option_value is None else str(option_value)
            selected = not found and option_value in wanted
            found = found or selected
            options.append(f'<option value="{conditional_escape(option_value)}"'
                           f'{" selected" if selected else ""}>{conditional_escape(label)}</option>')
        return format_html('<select name="{}"{}>{}</select>', name,
                           flatatt(self.build_attrs(self.attrs, attrs)),
                           mark_safe("".join(options)))  # each part escaped above


class _ListedChoices(forms.models.ModelChoiceIterator):
    """The choices read with one plain SELECT of the two columns an option shows. Django's
    iterator() would open a server-side cursor on PostgreSQL (DECLARE … WITH HOLD, FETCH,
    CLOSE: three round trips and a materialised result) and build a model instance per row,
    for a few hundred short rows (``ListSelect`` needs only the value and the label)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.queryset.values_list(self.field.to_field_name or "pk", "name")


class _ListedModelChoiceField(forms.ModelChoiceField):
    iterator = _ListedChoices


class RequestFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False,
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "placeholder": _("Reference (or its number) or title")}))
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("Any state")),
                                       *[(key, label) for key, (label, _states) in
                                         REQUEST_STATE_GROUPS.items()],
                                       *RequestState.choices])
    item = _ListedModelChoiceField(label=_("Service"), required=False, empty_label=_("Any service"),
                                  queryset=CatalogItem.objects.none(), to_field_name="code",
                                  widget=ListSelect)
    scope = forms.ChoiceField(label=_("Show"), required=False, choices=[
        ("mine", _("Requests I made")), ("all", _("All requests I can see"))])
    # Set by the column headings (requests_app.views.REQUEST_SORTS).
    sort = forms.ChoiceField(required=False, widget=forms.HiddenInput, choices=[
        ("-submitted", _("Newest first")), ("submitted", _("Oldest first")), ("due", _("Due first")),
        ("reference", _("Reference")), ("state", _("State"))])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Only what an option shows: not every item's form definition (JSON) on every list.
        self.fields["item"].queryset = (CatalogItem.objects.restrict(user, "filter")
                                        .only("code", "name").order_by("name"))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False,
                             max_length=limits.CANCEL_REASON)
