from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from approvals.models import Step
from approvals.selectors import capabilities
from kit.web import serves


@login_required
@serves(why="a redirect to where the person's work is")
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to where their work is: decisions first, then work, else the portal."""
    user = request.user
    caps = capabilities(user)
    if caps.may_approve and Step.objects.restrict(user, "decide").exists():
        return redirect("approvals:inbox")
    if caps.agent and Step.objects.restrict(user, "work").exists():
        return redirect("work:queue")
    return redirect("portal:catalog")
