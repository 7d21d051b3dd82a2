from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals.selectors import INBOX_SORTS, InboxFilters, delegate_candidates
from governance import limits
from governance.models import Department, User
from kit.web import DateInput, QuickSelect
from requests_app.models import CatalogItem


class DecisionForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=limits.DECISION_COMMENT)


class CompleteForm(forms.Form):
    note = forms.CharField(label=_("Note for the requester"), required=False,
                           max_length=limits.DECISION_COMMENT)


class DelegationForm(forms.Form):
    # Chosen from a search over the people one may delegate to (approvals.selectors
    # .delegate_candidates), by username; the page never lists the whole organisation.
    delegate = forms.ModelChoiceField(
        label=_("Who decides for you"), queryset=User.objects.none(), to_field_name="username",
        help_text=_("They will see and decide the approvals waiting for you."),
        error_messages={"required": _("Search for a colleague and choose them."),
                        "invalid_choice": _("Choose someone from the search results.")},
    )
    starts_on = forms.DateField(label=_("First day"), widget=DateInput())
    ends_on = forms.DateField(label=_("Last day"), widget=DateInput())
    reason = forms.CharField(label=_("Reason (optional)"), required=False,
                             max_length=limits.DELEGATION_REASON)

    def __init__(self, *args, user: User, **kwargs):
        today = timezone.localdate()
        kwargs.setdefault("initial", {"starts_on": today})
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = delegate_candidates(user)
        for name in ("starts_on", "ends_on"):
            self.fields[name].widget.attrs["min"] = today.isoformat()


SHOW = {"": None, "waiting": False, "held": True}


class InboxFilterForm(forms.Form):
    """The approvals inbox's search, filters, sort and view (all optional, all in the URL)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100, widget=forms.TextInput(
        attrs={"type": "search", "placeholder": _("Reference, title or requester")}))
    department = forms.ModelChoiceField(label=_("Requester's department"), required=False,
                                        queryset=Department.objects.none(), widget=QuickSelect,
                                        empty_label=_("Any department"), to_field_name="code")
    item = forms.ModelChoiceField(label=_("Service"), required=False, queryset=CatalogItem.objects.none(),
                                  widget=QuickSelect, empty_label=_("Any service"),
                                  to_field_name="code")
    show = forms.ChoiceField(label=_("Show"), required=False, choices=[
        ("", _("Everything")), ("waiting", _("Waiting for me")), ("held", _("On hold")),
        ("overdue", _("Overdue"))])
    min_cost = forms.DecimalField(label=_("Cost from"), required=False, min_value=0, decimal_places=2,
                                  max_digits=14)
    max_cost = forms.DecimalField(label=_("Cost up to"), required=False, min_value=0, decimal_places=2,
                                  max_digits=14)
    sort = forms.ChoiceField(label=_("Sort"), required=False,
                             choices=[(key, label) for key, (label, _order) in INBOX_SORTS.items()])
    view = forms.ChoiceField(required=False, widget=forms.HiddenInput,
                             choices=[("", _("Automatic")), ("table", _("Table")), ("cards", _("Cards"))])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.only("code", "name").order_by("name")
        self.fields["item"].queryset = (CatalogItem.objects.restrict(user, "filter")
                                        .only("code", "name").order_by("name"))

    def filters(self) -> InboxFilters:
        data = self.cleaned_data if self.is_valid() else {}
        show = data.get("show") or ""
        return InboxFilters(
            q=data.get("q") or "",
            department=data["department"].pk if data.get("department") else None,
            item=data["item"].pk if data.get("item") else None,
            held=SHOW.get(show),
            overdue=show == "overdue",
            min_cost=data.get("min_cost"),
            max_cost=data.get("max_cost"),
            sort=data.get("sort") or "due",
        )

    def narrows(self) -> bool:
        data = self.cleaned_data if self.is_valid() else {}
        return any(data.get(name) not in (None, "") for name in
                   ("q", "department", "item", "show", "min_cost", "max_cost"))
