"""Domain events the lifecycle emits, inside the transaction that caused them.

The accountability layer (governance's delay risks, notifications) subscribes to these; the
lifecycle never calls its services. Receivers run in the same transaction, so whatever they
write commits or rolls back together with the step.

``step_activated(step, at)``
    A step became active: it has an accountable department and head and a due time.

``step_closed(step, at)``
    An active step left the active state: approved, rejected, done or cancelled.
    ``step.state`` says which.

``request_closed(request, at)``
    A request reached fulfilled, rejected or cancelled.
"""

from django.dispatch import Signal

step_activated = Signal()
step_closed = Signal()
request_closed = Signal()
