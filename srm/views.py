from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from drf_spectacular.views import SpectacularSwaggerSplitView

from approvals.models import Step
from approvals.selectors import capabilities
from governance.services.preferences import user_language_set
from kit.web import safe_next, serves
from srm.glossary import GLOSSARY


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


# The split view serves its start-up script as a file (?script), so the CSP needs no inline one.
_swagger = SpectacularSwaggerSplitView.as_view(url_name="api-schema")


@serves(why="the API's interactive documentation: it shows no model's rows")
def api_docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI for signed-in people (a person gets the sign-in page first), or for anyone
    with ``SRM_API_DOCS_PUBLIC``."""
    if not (settings.SRM_API_DOCS_PUBLIC or request.user.is_authenticated):
        return redirect_to_login(request.get_full_path())
    return _swagger(request)


@login_required
@serves(why="the glossary: definitions only, no model's rows")
def help_page(request: HttpRequest) -> HttpResponse:
    """What the words on the pages mean (OLA, levels, exposure, …), one anchor per term."""
    return render(request, "help/glossary.html", {"glossary": GLOSSARY})


@require_POST
@serves(why="saves the person's own language; shows no model's rows")
def language_set(request: HttpRequest) -> HttpResponse:
    """The language switch: remembered in a cookie for this browser and, for a signed-in
    person, saved on their profile so pages and e-mails follow it everywhere."""
    language = request.POST.get("language", "")
    if language and language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(_("SRM does not speak this language."))
    if request.user.is_authenticated:
        user_language_set(user=request.user, language=language, actor=request.user)
    response = redirect(safe_next(request, "/"))
    if language:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language,
                            max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax",
                            secure=request.is_secure())
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
    return response
