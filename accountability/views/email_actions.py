"""The page behind an e-mail's action links: ``/notifications/act/<token>/``.

Opening a link (GET) never decides: mail scanners, link previews and antivirus gateways open
links on their own. It shows the request's summary and one button; the POST of that button
decides, with the token in the form's body, through the same services as the approvals page
(``accountability.services.email_actions``). A link that may no longer act says why and
links to the request.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accountability.mailout.links import LinkAction
from accountability.services.email_actions import LinkProblem, email_link_check, email_link_use
from approvals.models import Step
from governance.errors import DomainError
from kit.web import serves

# The status of a page that explains why a link no longer acts.
_STATUS = {
    LinkProblem.INVALID: 400, LinkProblem.EXPIRED: 410, LinkProblem.USED: 409,
    LinkProblem.MOVED_ON: 409, LinkProblem.STALE: 409, LinkProblem.ON_HOLD: 409,
    LinkProblem.NOT_DECIDER: 403,
}


def _page(request: HttpRequest, check, *, token: str, status: int = 200, error: str = "",
          text: str = "", done=None) -> HttpResponse:
    step = check.step
    response = render(request, "accountability/notifications/act.html", {
        "check": check, "step": step, "sr": step.request if step is not None else None,
        "token": token, "action": check.token.action if check.token else "",
        "label": LinkAction.LABELS.get(check.token.action, "") if check.token else "",
        "error": error, "text": text, "done": done,
    }, status=status)
    # The token is in the address: no other site learns it from a Referer, no cache keeps it.
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
@never_cache
@serves(Step)
def email_action(request: HttpRequest, token: str) -> HttpResponse:
    check = email_link_check(token)
    return _page(request, check, token=token, status=_STATUS.get(check.problem, 200))


# No session, so no session CSRF: the person opens the link from their mail client, often in
# a browser where they are not signed in to SRM. The signed token in the POST body is what
# authorises the action, and a forged cross-site form cannot hold it without having read the
# e-mail; it decides once (EmailActionUse) and only as the person it was written to. Only
# this view is exempt; every other form keeps Django's CSRF check.
@csrf_exempt
@require_POST
@never_cache
@serves(Step)
def email_action_confirm(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("token", "")
    text = request.POST.get("text", "")
    try:
        check, result = email_link_use(token=token, text=text)
    except DomainError as exc:
        check = email_link_check(token)
        return _page(request, check, token=token, status=exc.status, error=exc.message, text=text)
    if result is None:
        return _page(request, check, token=token, status=_STATUS.get(check.problem, 409))
    check.step.refresh_from_db()
    return _page(request, check, token="", done=check.token.action)
