"""SRM's URLs plus a few views under /api/ that fail the ways Django views do (not DRF's), so the
tests can see Django's own error handlers answer with the API's error body."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from srm.urls import handler400, handler403, handler404, handler500  # noqa: F401
from srm.urls import urlpatterns as srm_urlpatterns


def forbidden(request):
    raise PermissionDenied("Only the owner may do this.")


def too_big(request):
    raise RequestDataTooBig("counted past the limit while streaming")


def broken(request):
    raise RuntimeError("a bug")


@require_POST
def post_only(request):
    return HttpResponse("ok")


def form_post(request):  # not CSRF-exempt: a session's POST without its token fails
    return HttpResponse("ok")


urlpatterns = [
    path("api/test/forbidden/", forbidden),
    path("api/test/too-big/", too_big),
    path("api/test/broken/", broken),
    path("api/test/post-only/", post_only),
    path("api/test/form/", form_post),
    path("test/forbidden/", forbidden),
    path("test/too-big/", too_big),
    *srm_urlpatterns,
]
