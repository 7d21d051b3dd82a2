from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accountability.choices import Channel, PlanStatus
from accountability.models import ChangePlan, LegacyWorkflow
from approvals.choices import StepState
from governance import limits
from governance.models import Department, User
from kit.web import DateInput
from requests_app.models import CatalogItem


class JustificationForm(forms.Form):
    justification = forms.CharField(
        label=_("Justification (ops leaders only, when conditions fail)"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the plan's audit trail with every unmet condition."),
    )


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class RetireForm(forms.Form):
    evidence = forms.CharField(label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 2}),
                               help_text=_("The mailbox closed, the sheet made read-only…"))
    on = forms.DateField(label=_("Retired on"), required=False,
                         widget=DateInput())

    def clean_on(self):
        return self.cleaned_data["on"] or timezone.localdate()


class OutsideDecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Decision"), choices=[
        (state, StepState(state).label) for state in (StepState.APPROVED, StepState.REJECTED)])
    reason = forms.CharField(
        label=_("Where and by whom was it decided?"), widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example “approved by Hank by email on 3 March”. Counted as a bypass."),
    )


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Tracker export (.csv or .xlsx)"))
    item = forms.ModelChoiceField(label=_("Catalog item"), queryset=None)
    workflow = forms.ModelChoiceField(label=_("Legacy workflow it replaces"), queryset=None,
                                      required=False)
    dry_run = forms.BooleanField(label=_("Dry run: check every row, import nothing"),
                                 required=False)

    def __init__(self, *args, plan: ChangePlan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = plan.items.order_by("name")
        self.fields["workflow"].queryset = plan.workflows.order_by("name")


_DATE = {"widget": DateInput()}


def sponsor_candidates(current=None):
    """Who can sponsor a plan: ops leaders and the heads and deputies of departments (and the
    plan's present sponsor, so an edit never drops them from the list)."""
    senior = Q(is_ops_leader=True) | Q(headed_departments__isnull=False) | Q(
        deputised_departments__isnull=False)
    if current is not None:
        senior |= Q(pk=current.pk)
    return User.objects.filter(senior, is_active=True).distinct().order_by(
        "first_name", "last_name", "username")


class PlanForm(forms.Form):
    """A change plan's fields; the rules (required, dates in order, active sponsor) are the
    service's: ``plan_create`` / ``plan_update`` answer with field errors."""

    name = forms.CharField(label=_("Name"), max_length=limits.NAME)
    description = forms.CharField(
        label=_("What it changes and why"), required=False, max_length=limits.PLAN_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 3}))
    sponsor = forms.ModelChoiceField(label=_("Sponsor"), queryset=User.objects.none(),
                                     help_text=_("Ops leaders, heads and deputies."))
    items = forms.ModelMultipleChoiceField(
        label=_("Catalog items it brings live"), queryset=CatalogItem.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple)
    go_live_on = forms.DateField(label=_("Go-live date"), **_DATE)
    value_target_on = forms.DateField(
        label=_("Value by"), help_text=_("When the items' outcome KPIs should reach their targets."),
        **_DATE)

    def __init__(self, *args, user, plan: ChangePlan | None = None, **kwargs):
        if plan is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": plan.name, "description": plan.description, "sponsor": plan.sponsor,
                "items": list(plan.items.all()), "go_live_on": plan.go_live_on,
                "value_target_on": plan.value_target_on}
        super().__init__(*args, **kwargs)
        self.fields["sponsor"].queryset = sponsor_candidates(plan.sponsor if plan else None)
        items = CatalogItem.objects.restrict(user, "plan")
        if plan is not None:  # a sponsor keeps the items already in scope
            items = items | CatalogItem.objects.filter(pk__in=plan.items.values("pk"))
        self.fields["items"].queryset = items.order_by("name")
        if plan is not None and plan.status != PlanStatus.PLANNING:
            self.fields["go_live_on"].disabled = True
            self.fields["go_live_on"].help_text = _("The plan is live: its go-live date is history.")


class WorkflowForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=limits.NAME,
                           help_text=_("For example “laptop approvals by e-mail to it-desk@”."))
    channel = forms.ChoiceField(label=_("Runs on"), choices=Channel.choices)
    owning_department = forms.ModelChoiceField(
        label=_("Owning department"), queryset=Department.objects.order_by("name"),
        help_text=_("Its head is accountable for retiring it and is reminded when it is late."))
    replaced_by = forms.ModelChoiceField(label=_("Replaced by"), queryset=CatalogItem.objects.none(),
                                         required=False)
    retire_by = forms.DateField(label=_("Retire by"), **_DATE)

    def __init__(self, *args, plan: ChangePlan, workflow: LegacyWorkflow | None = None, **kwargs):
        if workflow is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": workflow.name, "channel": workflow.channel,
                "owning_department": workflow.owning_department,
                "replaced_by": workflow.replaced_by, "retire_by": workflow.retire_by}
        super().__init__(*args, **kwargs)
        self.fields["replaced_by"].queryset = plan.items.order_by("name")
