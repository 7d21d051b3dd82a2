"""A catalog item's form fields: their definition, and validation of a requester's answers.

The portal form, the API and the legacy import all validate answers through
``clean_answers``, so a request is accepted or refused for the same reasons everywhere.

A field is a JSON object::

    {"name": "model", "label": "Laptop model", "type": "choice", "required": true,
     "help_text": "…", "choices": ["13-inch", "15-inch"], "max_length": 200,
     "min": 0, "max": 10}
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kit.web import DateInput
from requests_app.choices import FieldType

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
_RESERVED = {"title", "estimated_cost", "csrfmiddlewaretoken", "item"}


def validate_field_specs(specs: Any) -> None:
    """Raise ``ValidationError`` unless ``specs`` is a well-formed list of field definitions."""
    if not isinstance(specs, list):
        raise ValidationError(_("Form fields must be a list of field definitions."))
    seen: set[str] = set()
    for position, spec in enumerate(specs, start=1):
        where = _("Field %(position)s") % {"position": position}
        if not isinstance(spec, dict):
            raise ValidationError(_("%(where)s must be an object with name, label and type.")
                                  % {"where": where})
        name = spec.get("name", "")
        if not isinstance(name, str) or not _NAME.match(name) or name in _RESERVED:
            raise ValidationError(
                _("%(where)s: name “%(name)s” must be lower-case letters, digits and underscores, "
                  "start with a letter, and not be one of %(reserved)s.")
                % {"where": where, "name": name, "reserved": ", ".join(sorted(_RESERVED))}
            )
        if name in seen:
            raise ValidationError(_("%(where)s: the name “%(name)s” is used twice.")
                                  % {"where": where, "name": name})
        seen.add(name)
        if spec.get("type") not in FieldType.values:
            raise ValidationError(
                _("%(where)s (%(name)s): type must be one of %(types)s.")
                % {"where": where, "name": name, "types": ", ".join(FieldType.values)}
            )
        if not str(spec.get("label", "")).strip():
            raise ValidationError(_("%(where)s (%(name)s): give it a label.")
                                  % {"where": where, "name": name})
        if spec["type"] == FieldType.CHOICE:
            choices = spec.get("choices")
            if not isinstance(choices, list) or not choices or not all(
                isinstance(c, str) and c for c in choices
            ):
                raise ValidationError(_("%(where)s (%(name)s): a choice needs a list of options.")
                                      % {"where": where, "name": name})


def form_field(spec: dict) -> forms.Field:
    """The Django form field for one field definition."""
    kind = spec["type"]
    common = {
        "label": spec.get("label") or spec["name"],
        "required": bool(spec.get("required", False)),
        "help_text": spec.get("help_text", ""),
    }
    if kind == FieldType.TEXT:
        return forms.CharField(max_length=int(spec.get("max_length", 200)), **common)
    if kind == FieldType.TEXTAREA:
        return forms.CharField(
            max_length=int(spec.get("max_length", 5000)),
            widget=forms.Textarea(attrs={"rows": 4}),
            **common,
        )
    if kind == FieldType.INTEGER:
        return forms.IntegerField(min_value=spec.get("min"), max_value=spec.get("max"), **common)
    if kind == FieldType.DECIMAL:
        return forms.DecimalField(
            min_value=_decimal_or_none(spec.get("min")),
            max_value=_decimal_or_none(spec.get("max")),
            max_digits=14,
            decimal_places=2,
            **common,
        )
    if kind == FieldType.DATE:
        return forms.DateField(widget=DateInput(), **common)
    if kind == FieldType.CHOICE:
        options = [(c, c) for c in spec["choices"]]
        if not common["required"]:
            options = [("", "—"), *options]
        return forms.ChoiceField(choices=options, **common)
    if kind == FieldType.BOOLEAN:
        return forms.BooleanField(**common)
    if kind == FieldType.EMAIL:
        return forms.EmailField(**common)
    raise ValueError(f"Unknown field type {kind!r}")


def answers_form_class(specs: list[dict]) -> type[forms.Form]:
    # Cached by the definitions' JSON: the legacy import validates 100,000 rows of one item,
    # and building the class is most of the cost. Forms deep-copy their fields, so sharing
    # the class is safe.
    return _answers_form_class(json.dumps(specs, sort_keys=True))


@lru_cache(maxsize=256)
def _answers_form_class(key: str) -> type[forms.Form]:
    specs = json.loads(key)
    return type("AnswersForm", (forms.Form,), {s["name"]: form_field(s) for s in specs})


def clean_answers(specs: list[dict], data: dict[str, Any]) -> tuple[dict, dict[str, list[str]]]:
    """Validate ``data`` against the field definitions.

    Returns ``(answers, errors)``: JSON-ready answers keyed by field name, and the error
    messages per field (empty when everything is valid). Unknown keys are errors too, so an
    integrator's typo is reported rather than silently dropped.
    """
    if not isinstance(data, dict):
        return {}, {"answers": [_("Answers must be an object keyed by field name.")]}
    form = answers_form_class(specs)(data=_as_form_data(specs, data))
    errors: dict[str, list[str]] = {}
    if not form.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
    known = {s["name"] for s in specs}
    for key in data:
        if key not in known:
            errors.setdefault(key, []).append(_("This item has no such field."))
    if errors:
        return {}, errors
    return {name: _to_json(value) for name, value in form.cleaned_data.items()}, {}


def _as_form_data(specs: list[dict], data: dict[str, Any]) -> dict[str, Any]:
    # Form data is text; JSON clients send booleans and numbers natively.
    out: dict[str, Any] = {}
    for spec in specs:
        value = data.get(spec["name"])
        if value is None:
            continue
        if spec["type"] == FieldType.BOOLEAN:
            if isinstance(value, bool):
                value = "on" if value else ""
            elif str(value).lower() in {"false", "0", "no", "off", ""}:
                value = ""
        elif not isinstance(value, (str, int, float, Decimal)):
            value = str(value)
        out[spec["name"]] = value
    return out


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
