from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where the token is used, e.g. “Nightly "
                                                    "export to the finance warehouse”.")
    days = forms.IntegerField(label="Valid for (days)", min_value=1,
                              help_text="The token stops working after this many days.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        days = self.fields["days"]
        days.initial = settings.SRM_API_TOKEN_DAYS
        days.widget.attrs["max"] = settings.SRM_API_TOKEN_MAX_DAYS
        days.validators.append(MaxValueValidator(settings.SRM_API_TOKEN_MAX_DAYS))
