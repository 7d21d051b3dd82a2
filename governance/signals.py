"""Domain events of the organisation core, sent inside the transaction that caused them.

Layers above (accountability) subscribe in their ``wiring`` module; the core never calls them.

``calendar_corrected(department, old, since, actor, at)``
    An administrator corrected ``department``'s business calendar (working window, days,
    timezone or holidays) and asked for the delay time already posted since ``since`` to be
    measured again under the new calendar (``old`` is the ``BusinessCalendar`` it replaced).
    Without a correction date a calendar change applies from the moment it is made and this
    event is not sent.
"""

from django.dispatch import Signal

calendar_corrected = Signal()
