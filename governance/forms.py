from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("Where the token is used, e.g. “Nightly export to the "
                                       "finance warehouse”."))
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1,
                              help_text=_("The token stops working after this many days."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        days = self.fields["days"]
        days.initial = settings.SRM_API_TOKEN_DAYS
        days.widget.attrs["max"] = settings.SRM_API_TOKEN_MAX_DAYS
        days.validators.append(MaxValueValidator(settings.SRM_API_TOKEN_MAX_DAYS))
