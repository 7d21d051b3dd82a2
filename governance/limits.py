"""Every length limit of SRM's text input, in one place, with the one check the services use.

The services enforce them (``checked_text``: a ``ValidationFailed`` with code
``text_too_long`` naming the field); forms and serializers derive their ``max_length`` from
the same constants, so the portal and the API accept exactly the same input; templates read
them as ``{{ limits.DECISION_COMMENT }}`` (the context processor ``limits`` below) for their
``maxlength`` attributes.
"""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kit.errors import ErrorCode, ValidationFailed

TITLE = 200                    # a request's title (the column's length)
DECISION_COMMENT = 5_000       # approve / reject comment, completion note, outside-decision reason
CANCEL_REASON = 2_000          # why a request is cancelled
DELEGATION_REASON = 200        # why a delegation is given (the column's length)
CONVERSATION_TEXT = 10_000     # a comment, an internal note, a hold's question or answer
NAME = 200                     # a change plan's or legacy workflow's name (the column's length)
PLAN_DESCRIPTION = 5_000       # what a change plan is for

ALL = {
    "TITLE": TITLE,
    "DECISION_COMMENT": DECISION_COMMENT,
    "CANCEL_REASON": CANCEL_REASON,
    "DELEGATION_REASON": DELEGATION_REASON,
    "CONVERSATION_TEXT": CONVERSATION_TEXT,
    "NAME": NAME,
    "PLAN_DESCRIPTION": PLAN_DESCRIPTION,
}


def checked_text(value: str | None, *, limit: int, field: str, what: str) -> str:
    """``value`` stripped, or ``ValidationFailed`` when it is longer than ``limit``."""
    text = (value or "").strip()
    if len(text) > limit:
        raise ValidationFailed(
            _("Keep the %(what)s under %(limit)s characters (it has %(length)s).") % {
                "what": what, "limit": _count(limit), "length": _count(len(text))},
            code=ErrorCode.TEXT_TOO_LONG,
            field_errors={field: [_("At most %(limit)s characters.") % {"limit": _count(limit)}]},
        )
    return text


def _count(number: int) -> str:
    return number_format(number, force_grouping=True)


def limits(request) -> dict:
    """Template context processor: ``{{ limits.CANCEL_REASON }}`` …"""
    return {"limits": ALL}
