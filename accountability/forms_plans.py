from __future__ import annotations

from django import forms
from django.utils import timezone

from accountability.models import ChangePlan
from approvals.choices import StepState
from kit.web import DateInput


class JustificationForm(forms.Form):
    justification = forms.CharField(
        label="Justification (ops leaders only, when conditions fail)", required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the plan's audit trail with every unmet condition.",
    )


class NoteForm(forms.Form):
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))


class RetireForm(forms.Form):
    evidence = forms.CharField(label="Evidence", widget=forms.Textarea(attrs={"rows": 2}),
                               help_text="The mailbox closed, the sheet made read-only…")
    on = forms.DateField(label="Retired on", required=False,
                         widget=DateInput())

    def clean_on(self):
        return self.cleaned_data["on"] or timezone.localdate()


class OutsideDecisionForm(forms.Form):
    outcome = forms.ChoiceField(label="Decision", choices=[
        (state, StepState(state).label) for state in (StepState.APPROVED, StepState.REJECTED)])
    reason = forms.CharField(
        label="Where and by whom was it decided?", widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example “approved by Hank by email on 3 March”. Counted as a bypass.",
    )


class ImportForm(forms.Form):
    file = forms.FileField(label="Tracker export (.csv or .xlsx)")
    item = forms.ModelChoiceField(label="Catalog item", queryset=None)
    workflow = forms.ModelChoiceField(label="Legacy workflow it replaces", queryset=None,
                                      required=False)
    dry_run = forms.BooleanField(label="Dry run: check every row, import nothing",
                                 required=False)

    def __init__(self, *args, plan: ChangePlan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = plan.items.order_by("name")
        self.fields["workflow"].queryset = plan.workflows.order_by("name")
