"""Domain errors: each carries a message a person can act on and a stable ``code``.

Views map them to form errors or flash messages (``kit.web``), the API to a 4xx JSON body
(``kit.api``), through one handler each; nothing lets a domain error become a 500. The
apps raise these or their own subclasses (``governance.errors``).
"""


class DomainError(Exception):
    code = "invalid"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, field_errors: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field_errors = field_errors or {}


class ValidationFailed(DomainError):
    code = "invalid"
    status = 400


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    """The object is no longer in a state that allows the action (someone else acted first)."""

    code = "conflict"
    status = 409
