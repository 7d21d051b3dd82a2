from django import template
from django.conf import settings

from requests_app.selectors_conversation import conversation_for

register = template.Library()


@register.simple_tag(takes_context=True)
def conversation_panel(context, service_request, user):
    """The data ``conversation/_panel.html`` renders, read for ``user``."""
    conversation = conversation_for(user=user, request=service_request)
    http_request = getattr(context, "request", None)
    return {
        "c": conversation,
        "next": http_request.get_full_path() if http_request is not None else "",
        "data": context.get("conversation_data") or {},
        "max_bytes": settings.SRM_ATTACHMENT_MAX_BYTES,
    }
