from django import forms
from django.utils.translation import gettext_lazy as _

from kit.web import DateInput


class MeasurementForm(forms.Form):
    period_start = forms.DateField(
        label=_("Week (any day in it)"), widget=DateInput(),
        help_text=_("The value is recorded for the Monday-to-Sunday week containing this day."),
    )
    value = forms.DecimalField(label=_("Value"), max_digits=14, decimal_places=2)
