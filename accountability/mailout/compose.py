"""The e-mail of a notification, or of a day's summary: plain text and HTML from one context
(templates ``accountability/notifications/email.txt`` / ``email.html``).

Each item says what it is about with the request's key facts (requester, item, cost, budget
line, when it is due) and a link to its page; a "waiting for your decision" item also has its Approve,
Reject and Ask links (``links``), made when the mail is sent, so they carry the step's version
of that moment. Headers: a Message-ID of its own per mail and, for a mail about a request,
``In-Reply-To`` / ``References`` naming the request's conversation (``message_ids``), so a mail
client shows one request's mails together; ``List-Unsubscribe`` with the preferences page;
every header made of what people typed passes ``kit.mail.header_safe``.
"""

from __future__ import annotations

from urllib.parse import urljoin

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accountability.mailout.links import LinkAction, action_url
from accountability.mailout.message_ids import (
    mail_domain,
    notification_message_id,
    request_thread_id,
)
from accountability.models import Budget
from accountability.services.budgets import current_quarter, used_in
from accountability.services.ledger import posting_quarter
from approvals.choices import StepKind, StepState
from governance.periods import quarter_label
from kit.i18n import in_language_of, money_text
from kit.mail import address, header_safe


def absolute(link: str) -> str:
    return urljoin(settings.SRM_BASE_URL.rstrip("/") + "/", link.lstrip("/")) if link else ""


def preferences_url() -> str:
    return absolute(reverse("notifications:preferences"))


def _money(amount) -> str:
    if amount is None:
        return _("not given")
    return money_text(amount)


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "D j M Y, H:i") if moment else ""


def _facts(notification) -> list[tuple[str, str]]:
    request = notification.request
    if request is None:
        return []
    facts = [
        (_("Request"), f"{request.reference} · {request.title}"),
        (_("Requested by"), f"{request.requester} ({request.requester_department})"),
        (_("Item"), str(request.item)),
        (_("Estimated cost"), _money(request.estimated_cost)),
        (_("Budget line"), _budget_line(request, deciding=notification.step is not None)),
    ]
    step = notification.step
    if step is not None and step.state == StepState.ACTIVE and step.due_at:
        facts.append((_("Decide by"), _when(step.due_at)))
    elif request.due_at and request.is_open:
        facts.append((_("Due"), _when(request.due_at)))
    return facts


def _budget_line(request, *, deciding: bool) -> str:
    """The cost centre and budget quarter the request draws on; for whoever decides it, what
    is left of that quarter's budget when one is set (docs/budgets.md)."""
    department = request.requester_department
    at = request.submitted_at or timezone.now()
    quarter = posting_quarter(current_quarter(at), at=at)
    line = f"{department.cost_centre} {department.name}, {quarter_label(quarter)}"
    if not deciding:
        return line
    budget = Budget.objects.filter(department=department, quarter=quarter).values_list(
        "amount", flat=True).first()
    if budget is None:
        return line
    return line + " · " + _("%(left)s of %(budget)s left") % {
        "left": _money(budget - used_in(department.pk, quarter)), "budget": _money(budget)}


def _actions(notification) -> list[tuple[str, str, str]]:
    """``(action, label, url)`` of a "waiting" notice whose step still waits for its
    recipient: signed for this mail, this step's version and this person."""
    step = notification.step
    if (step is None or step.kind != StepKind.APPROVAL or step.state != StepState.ACTIVE
            or notification.kind != "waiting"):
        return []
    return [(action, str(LinkAction.LABELS[action]),
             action_url(notification=notification, step=step, approver=notification.recipient,
                        action=action))
            for action in LinkAction.ALL]


def _item(notification) -> dict:
    return {
        "subject": notification.subject, "body": notification.body,
        "link": absolute(notification.link), "facts": _facts(notification),
        "actions": _actions(notification),
    }


def _render(notifications, *, heading: str = "") -> tuple[str, str]:
    context = {"items": [_item(n) for n in notifications], "heading": heading,
               "preferences": preferences_url()}
    return (render_to_string("accountability/notifications/email.txt", context),
            render_to_string("accountability/notifications/email.html", context))


def _headers(notification_ids, *, request=None, message_id: str) -> dict[str, str]:
    preferences = preferences_url()
    headers = {
        "Message-ID": message_id,
        "X-SRM-Notification": ",".join(str(pk) for pk in notification_ids),
        # Mail clients offer "unsubscribe" from it: the page where one chooses what SRM sends.
        "List-Unsubscribe": f"<{preferences}>",
        "Auto-Submitted": "auto-generated",
    }
    if request is not None:
        thread = request_thread_id(request.reference)
        headers["In-Reply-To"] = thread
        headers["References"] = thread
    return headers


def notification_email(notification) -> EmailMultiAlternatives:
    """The e-mail of one notification, in its recipient's language and timezone."""
    recipient = notification.recipient
    with in_language_of(recipient):
        text, html = _render([notification])
    message = EmailMultiAlternatives(
        subject=header_safe(f"[SRM] {notification.subject}"),
        body=text,
        to=[address(recipient.display_name, recipient.email)],
        headers=_headers([notification.pk], request=notification.request,
                         message_id=notification_message_id(notification)),
        reply_to=[notification.reply_to] if notification.reply_to else None,
    )
    message.attach_alternative(html, "text/html")
    return message


def summary_email(recipient, notifications) -> EmailMultiAlternatives:
    """The daily summary: the items that started waiting for ``recipient``'s decision,
    each with its own action links."""
    count = len(notifications)
    with in_language_of(recipient):
        subject = (_("%(count)s item waits for your decision") if count == 1
                   else _("%(count)s items wait for your decision")) % {"count": count}
        text, html = _render(notifications, heading=subject)
    message = EmailMultiAlternatives(
        subject=header_safe(f"[SRM] {subject}"),
        body=text,
        to=[address(recipient.display_name, recipient.email)],
        headers=_headers([n.pk for n in notifications],
                         message_id=f"<srm.summary.{notifications[0].pk}@{mail_domain()}>"),
    )
    message.attach_alternative(html, "text/html")
    return message
