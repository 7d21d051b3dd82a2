"""Submitting a Django admin change form as a person would: every field as the page shows it,
with the changes they make (a field changed to a value, or ``None``: unticked or cleared)."""

from __future__ import annotations

from datetime import time

from django.urls import reverse


def admin_user_change(admin_client, user, **changes):
    """POST the admin's change page of ``user`` with ``changes``; the response."""
    url = reverse("admin:governance_user_change", args=[user.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {}
    for bound in form:
        value = bound.value()
        if bound.name == "password" or value is None or value is False:
            continue
        if isinstance(value, time):
            value = value.strftime("%H:%M")
        data[bound.html_name] = value
    for name in ("last_login", "date_joined"):
        if value := form[name].value():
            data[f"{name}_0"], data[f"{name}_1"] = (value.strftime("%Y-%m-%d"),
                                                    value.strftime("%H:%M:%S"))
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return admin_client.post(url, data)
