"""The budgets page's forms: they only read input; ``services.budgets`` checks it."""

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.models import Department


class BudgetForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Cost centre"), queryset=Department.objects.none(),
        help_text=_("The department whose cost centre the budget funds."))
    quarter = forms.CharField(label=_("Quarter"), max_length=20,
                              help_text=_("For example 2027 Q1."))
    amount = forms.CharField(label=_("Amount"), max_length=40)

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments if departments is not None else \
            Department.objects.all()


class BudgetImportForm(forms.Form):
    file = forms.FileField(label=_("Finance system export (.csv or .xlsx)"))
