from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.utils import timezone

from governance.choices import AuditVerb
from governance.models import AuditEvent, User
from kit.writes import write_together

# The events written while ``audit_collect`` is open (a preview lists them before it rolls
# back): None when nobody collects.
_collected: ContextVar[list[AuditEvent] | None] = ContextVar("audit_collected", default=None)


@contextmanager
def audit_collect() -> Iterator[list[AuditEvent]]:
    """Collect every event ``audit_record`` / ``audit_save`` writes inside the block, in order
    (``governance.services.preview``: what a change would do, read before it is undone)."""
    events: list[AuditEvent] = []
    token = _collected.set(events)
    try:
        yield events
    finally:
        _collected.reset(token)


def _note(events: list[AuditEvent]) -> None:
    collected = _collected.get()
    if collected is not None:
        collected.extend(events)


def audit_record(
    *,
    actor: User | None,
    verb: AuditVerb | str,
    target: models.Model,
    from_state: str = "",
    to_state: str = "",
    correlation: str = "",
    on_behalf_of: User | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one audit event. Call it inside the transaction that made the change."""
    event = audit_build(
        actor=actor, verb=verb, target=target, from_state=from_state, to_state=to_state,
        correlation=correlation, on_behalf_of=on_behalf_of, data=data, at=at,
    )
    event.save()
    _note([event])
    return event


def audit_save(events: list[AuditEvent], *,
               updates: Sequence[tuple[models.Model, list[str]]] = (),
               inserts: Sequence[Sequence[models.Model]] = ()) -> list[AuditEvent]:
    """Append events built by ``audit_build`` in one statement, in the order given (their
    ids follow that order, as one ``audit_record`` after the other would give them).
    ``updates`` and ``inserts``: the change they record, written in the same statement
    (``kit.writes.write_together``; on SQLite one statement each, before the events)."""
    if not updates and not inserts:
        if len(events) == 1:
            events[0].save()
        elif events:
            AuditEvent.objects.bulk_create(events)
    else:
        write_together(updates=updates, inserts=[*inserts, events])
    _note(events)
    return events


_STATE_CHARS = AuditEvent._meta.get_field("to_state").max_length


def audit_build(
    *,
    actor: User | None,
    verb: AuditVerb | str,
    target: models.Model,
    from_state: str = "",
    to_state: str = "",
    correlation: str = "",
    on_behalf_of: User | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """An unsaved audit event, for writers that save many at once with ``bulk_create``.
    ``verb`` must be an ``AuditVerb`` (a string is checked against it: ``ValueError``)."""
    verb = AuditVerb(verb)
    return AuditEvent(
        created_at=at or timezone.now(),
        actor=actor,
        on_behalf_of=on_behalf_of,
        verb=verb,
        content_type=ContentType.objects.get_for_model(target),
        object_id=str(target.pk),
        object_repr=str(target)[:200],
        correlation=correlation,
        # A state is short, but some events name a person here, and a username (up to 150
        # characters, a directory's e-mail-like names) may not fit: its start is kept, the
        # whole name is in ``data``.
        from_state=from_state[:_STATE_CHARS],
        to_state=to_state[:_STATE_CHARS],
        data=data or {},
    )


# --- The chain -------------------------------------------------------------------------------
@dataclass
class ChainCheck:
    """What ``audit_chain_verify`` found: ``broken`` is empty when every link holds."""

    events: int = 0
    chains: int = 0
    broken: list[str] = field(default_factory=list)
    # SHA-256 over every chain's last hash, in correlation order: one value to note down
    # outside the database (a backup manifest, a log) and compare later.
    head: str = ""
    supported: bool = True

    @property
    def ok(self) -> bool:
        return self.supported and not self.broken


_WALK = """
SELECT t.id, t.correlation, t.chain_seq, t.prev_hash, t.hash,
       governance_audit_digest(t.prev_hash, t)
FROM governance_auditevent t
ORDER BY t.correlation, t.chain_seq NULLS FIRST, t.id
"""


# Each chain's head (its last link as the trigger wrote it) against its last remaining event.
_HEADS = """
SELECT h.correlation, h.seq, e.last_seq
FROM governance_auditchainhead h
LEFT JOIN (SELECT correlation, max(chain_seq) AS last_seq FROM governance_auditevent
           GROUP BY correlation) e ON e.correlation = h.correlation
WHERE e.last_seq IS DISTINCT FROM h.seq
ORDER BY h.correlation
"""


def audit_chain_verify(*, limit_broken: int = 20) -> ChainCheck:
    """Walk every correlation's chain in order (a server-side cursor: constant memory) and
    name the links that do not hold: an event whose content no longer matches its hash
    (edited), whose ``prev_hash`` is not the previous event's hash, whose position skips (an
    event deleted in the middle), or a chain shorter than its head says (events deleted from
    its end). PostgreSQL only: the embedded SQLite keeps no chain."""
    check = ChainCheck()
    if connection.vendor != "postgresql":
        check.supported = False
        return check
    heads = hashlib.sha256()
    chain, expected_seq, last_hash = None, 0, ""

    def close_chain() -> None:
        if chain is not None:
            heads.update(f"{chain}\0{last_hash}\n".encode())

    with connection.chunked_cursor() as cursor:
        cursor.execute(_WALK)
        while rows := cursor.fetchmany(2000):
            for pk, correlation, seq, prev_hash, stored, recomputed in rows:
                check.events += 1
                if correlation != chain:
                    close_chain()
                    chain, expected_seq, last_hash = correlation, 1, ""
                    check.chains += 1
                else:
                    expected_seq += 1
                where = f"event #{pk} (chain “{correlation or '(none)'}”, link {seq})"
                problem = None
                if seq is None:
                    problem = f"{where} is not chained"
                elif seq != expected_seq:
                    problem = (f"{where}: link {expected_seq} is missing (an event was "
                               "deleted)")
                elif prev_hash != last_hash:
                    problem = f"{where} does not point at the previous link"
                elif recomputed != stored:
                    problem = f"{where} was changed after it was written"
                if problem and len(check.broken) < limit_broken:
                    check.broken.append(problem)
                if seq is not None:
                    expected_seq = seq
                last_hash = stored
    close_chain()
    check.head = heads.hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(_HEADS)
        for correlation, head_seq, last_seq in cursor.fetchall():
            if len(check.broken) < limit_broken:
                check.broken.append(
                    f"chain “{correlation or '(none)'}” ends at link {last_seq or 0} but was "
                    f"written up to link {head_seq} (events were deleted from its end)")
    return check
