from django import forms

from kit.web import DateInput


class MeasurementForm(forms.Form):
    period_start = forms.DateField(
        label="Week (any day in it)", widget=DateInput(),
        help_text="The value is recorded for the Monday-to-Sunday week containing this day.",
    )
    value = forms.DecimalField(label="Value", max_digits=14, decimal_places=2)
