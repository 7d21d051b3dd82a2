"""Outgoing mail that lets a person act from their inbox.

- ``links``: the signed, single-use action links (Approve, Reject, Ask a question) of a
  "waiting for your decision" e-mail, and reading them back.

See docs/email-decisions.md.
"""
