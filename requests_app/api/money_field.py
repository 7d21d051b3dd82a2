"""The API's amount fields: text or a number passed on to the service, which reads it with
``requests_app.money.parse_money`` exactly as the portal does. In a module of their own so
both the requests' and the steps' serializers use them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field({
    "oneOf": [
        {"type": "string", "example": "1,250.00"},
        {"type": "number", "minimum": 0, "maximum": 9999999999.99},
    ],
    "nullable": True,
    "description": "Estimated cost in the reporting currency, 0 to 9,999,999,999.99, in whole "
    "cents. A number, or text read as the portal reads it: 1250, 1250.00 and 1,250.00 always; "
    "1.250,00 and 6.500 (six thousand five hundred) when the client's first Accept-Language "
    "(or, without one, the organisation's country) writes a decimal comma. Anything that could "
    "mean two amounts (6,500 there, 6.500 in English), more than two decimals, exponents, "
    "underscores or other digits than 0-9 is refused with `invalid_cost`. Required when the "
    "item asks for a cost; it decides whether finance approves.",
})
class CostField(serializers.Field):
    """Passes the stated cost on to the service, which reads it as the portal does
    (``requests_app.money``): text or a number, nothing else."""

    default_error_messages = {"invalid": _("Enter the cost as text or a number, for example "
                                           "\"1250.00\".")}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return str(value)



@extend_schema_field({
    "oneOf": [
        {"type": "string", "example": "1,250.00"},
        {"type": "number", "minimum": 0, "maximum": 9999999999.99},
    ],
    "nullable": True,
    "description": "What the request actually cost, read as `estimated_cost` is (the same "
    "formats, refused with `invalid_cost`). Required (`actual_cost_required`) when this step "
    "fulfils a request whose catalog item records the actual cost; refused "
    "(`actual_cost_not_recorded`) for other items. At or above a finance threshold the "
    "estimate stayed below, the request goes back to finance before it is fulfilled.",
})
class ActualCostField(CostField):
    """The actual cost at fulfilment, passed on like ``CostField``."""
