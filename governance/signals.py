"""Domain events of the organisation core, sent inside the transaction that caused them.

Layers above (the lifecycle, accountability) subscribe in their ``wiring`` module; the core
never calls them.

``calendar_corrected(department, old, since, actor, at)``
    An administrator corrected ``department``'s business calendar (working window, days,
    timezone or holidays) and asked for the delay time already posted since ``since`` to be
    measured again under the new calendar (``old`` is the ``BusinessCalendar`` it replaced).
    Without a correction date a calendar change applies from the moment it is made and this
    event is not sent.

``department_head_changed(department, old_head, new_head, actor, at)``
    ``department`` has a new head from ``at`` on (``department.head`` is already
    ``new_head``). Whoever keeps work accountable to a person moves it in the same
    transaction: the lifecycle its open steps, accountability their delay from ``at`` on.

``user_deactivated(user, actor, at)``
    ``user`` left the organisation (``user.is_active`` is already false). The lifecycle moves
    the steps accountable to them to who acts for them and ends their delegations.

``user_moved(user, old_department, new_department, actor, at)``
    ``user`` moved from ``old_department`` to ``new_department`` (either may be None;
    ``user.department`` is already the new one) and their memberships of the old one ended.
    The lifecycle puts the execution steps they had taken on there back in its queue.
"""

from django.dispatch import Signal

calendar_corrected = Signal()
department_head_changed = Signal()
user_deactivated = Signal()
user_moved = Signal()
