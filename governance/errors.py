"""Domain errors of SRM. The base classes live in the kit (``kit.errors``) so that the web
and API adapters can turn any of them into a response; the domain's own errors are here.
"""

from kit.errors import Conflict, DomainError, ErrorCode, NotAllowed, ValidationFailed

__all__ = ["AlreadyDecided", "Conflict", "DomainError", "ErrorCode", "NotAllowed", "ValidationFailed"]


class AlreadyDecided(Conflict):
    code = ErrorCode.ALREADY_DECIDED
