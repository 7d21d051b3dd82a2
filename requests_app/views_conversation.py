"""Pages and endpoints of a request's conversation: comments, internal notes, attachments,
questions that put a step on hold and the requester's answers. The views only translate:
the services decide, the selectors decide what is visible (see docs/conversation.md)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from approvals.choices import DecisionChannel
from approvals.models import Step
from approvals.services import step_answer, step_hold
from governance.errors import DomainError
from kit.web import safe_next, serves
from requests_app.models import Attachment, ServiceRequest
from requests_app.services_conversation import comment_add


def _visible(user, reference: str) -> ServiceRequest:
    return get_object_or_404(ServiceRequest.objects.restrict(user), reference=reference)


def _page(request: HttpRequest, service_request: ServiceRequest, *, status: int = 200,
          data: dict | None = None) -> HttpResponse:
    return render(
        request, "conversation/page.html",
        {"sr": service_request, "conversation_data": data or {}}, status=status,
    )


def _done(request: HttpRequest, service_request: ServiceRequest, message: str) -> HttpResponse:
    messages.success(request, message)
    target = safe_next(request, reverse("portal:request_detail",
                                        args=[service_request.reference]))
    return redirect(f"{target.split('#')[0]}#conversation")


def _failed(request: HttpRequest, service_request: ServiceRequest, error: DomainError,
            data: dict) -> HttpResponse:
    """Show the conversation again with what the person typed and why it was refused."""
    messages.error(request, error.message)
    return _page(request, service_request, status=error.status, data=data)


@login_required
@require_GET
@serves(ServiceRequest)
def conversation_page(request: HttpRequest, reference: str) -> HttpResponse:
    return _page(request, _visible(request.user, reference))


@login_required
@require_POST
@serves(ServiceRequest)
def comment_create(request: HttpRequest, reference: str) -> HttpResponse:
    service_request = _visible(request.user, reference)
    internal = request.POST.get("internal") == "on"
    try:
        comment_add(actor=request.user, request=service_request, body=request.POST.get("body", ""),
                    internal=internal, files=request.FILES.getlist("files"))
    except DomainError as error:
        return _failed(request, service_request, error,
                       {"body": request.POST.get("body", ""), "internal": internal})
    return _done(request, service_request,
                 _("Internal note added. The requester does not see it.") if internal
                 else _("Comment added."))


@login_required
@require_POST
@serves(ServiceRequest, Step)
def step_hold_create(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    service_request = _visible(request.user, reference)
    step = get_object_or_404(Step.objects.restrict(request.user).filter(request=service_request),
                             pk=pk)
    try:
        step_hold(actor=request.user, step=step, question=request.POST.get("question", ""),
                  channel=DecisionChannel.PAGE)
    except DomainError as error:
        return _failed(request, service_request, error,
                       {"question": request.POST.get("question", "")})
    return _done(request, service_request,
                 _("Question sent to %(requester)s. “%(step)s” is on hold until they answer; "
                   "its clock is stopped.") % {"requester": service_request.requester,
                                               "step": step.name})


@login_required
@require_POST
@serves(ServiceRequest)
def answer_create(request: HttpRequest, reference: str) -> HttpResponse:
    service_request = _visible(request.user, reference)
    step = Step.objects.filter(request=service_request, on_hold_since__isnull=False).first()
    if step is None:
        messages.info(request, _("There is no open question on this request any more."))
        return redirect(f"{reverse('portal:request_detail', args=[service_request.reference])}#conversation")
    try:
        step_answer(actor=request.user, step=step, answer=request.POST.get("answer", ""),
                    files=request.FILES.getlist("files"))
    except DomainError as error:
        return _failed(request, service_request, error,
                       {"answer": request.POST.get("answer", "")})
    return _done(request, service_request,
                 _("Answer sent. “%(step)s” continues.") % {"step": step.name})


@login_required
@require_GET
@serves(Attachment)
def download(request: HttpRequest, uuid) -> FileResponse:
    """Stream an attachment to someone allowed to see it; anyone else gets 404."""
    attachment = get_object_or_404(Attachment.objects.restrict(request.user), uuid=uuid)
    return attachment_response(attachment)


def attachment_response(attachment: Attachment) -> FileResponse:
    """The stored file as a download that a browser never renders (also used by the API)."""
    try:
        handle = attachment.file.storage.open(attachment.file.name, "rb")
    except FileNotFoundError:
        raise Http404(_("The file is missing from storage.")) from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type)
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
