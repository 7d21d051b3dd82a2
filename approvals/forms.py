from __future__ import annotations

from django import forms
from django.utils import timezone

from governance import limits
from governance.models import User


class DecisionForm(forms.Form):
    comment = forms.CharField(label="Comment", required=False, max_length=limits.DECISION_COMMENT)


class CompleteForm(forms.Form):
    note = forms.CharField(label="Note for the requester", required=False,
                           max_length=limits.DECISION_COMMENT)


class DelegationForm(forms.Form):
    delegate = forms.ModelChoiceField(
        label="Who decides for you", queryset=User.objects.none(),
        help_text="They will see and decide the approvals waiting for you.",
    )
    starts_on = forms.DateField(label="First day", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="Last day", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="Reason (optional)", required=False,
                             max_length=limits.DELEGATION_REASON)

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("initial", {"starts_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = (
            User.objects.filter(is_active=True).exclude(pk=user.pk)
            .select_related("department").order_by("first_name", "last_name", "username")
        )
        self.fields["delegate"].label_from_instance = (
            lambda u: f"{u} · {u.department}" if u.department_id else str(u)
        )
