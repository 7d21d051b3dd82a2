"""Deciding an approval by replying to its e-mail (docs/email-decisions.md).

- ``address``: the per-step reply address ``approvals+<token>@SRM_REPLY_DOMAIN`` the
  "waiting for your decision" e-mail carries as its ``Reply-To``; the token is signed and
  names the step, the approver it was sent to and the step's version.
- ``parse``: what a reply says (approve, reject with a reason, a question), read from the
  first line the person wrote above the quoted mail; whether it is an auto-reply; what the
  receiving server's ``Authentication-Results`` say about it. Pure functions.
- ``imap``: polling a mailbox (Celery beat) and filing each message as processed or failed.
- ``webhook``: mail a provider POSTs (django-anymail's inbound signal).

Both doors feed one service, ``accountability.services.replies.inbound_reply_process``,
which decides through the approval services with the person who replied as the actor.
"""
