"""What an organisation change would do, without doing it: the change runs through the same
services inside a transaction that is rolled back, and every audit event it wrote — the new
head, each step that would move and to whom, each leaver, each membership — is read before
the rollback. So the preview and the real change can never disagree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from governance.choices import AuditVerb
from governance.models import AuditEvent
from governance.services.audit import audit_collect


@contextmanager
def org_preview() -> Iterator[list[AuditEvent]]:
    """Run the block's changes, collect their audit events, then undo everything (no row,
    no notification, no queued task survives: on-commit work of a rolled-back transaction
    never runs)."""
    with transaction.atomic(), audit_collect() as events:
        yield events
        transaction.set_rollback(True)


def change_rows(events: list[AuditEvent]) -> list[dict]:
    """The collected events as rows a person (or a provisioning client) reads: what happens,
    to what, from whom to whom."""
    rows = []
    for event in events:
        try:
            label = str(AuditVerb(event.verb).label)
        except ValueError:
            label = event.verb
        row = {"verb": event.verb, "what": label, "object": event.object_repr,
               "from": event.from_state, "to": event.to_state}
        if event.correlation:
            row["reference"] = event.correlation
        if event.data.get("step"):
            row["step"] = event.data["step"]
        if event.data.get("reason"):
            row["reason"] = event.data["reason"]
        rows.append(row)
    return rows


def change_line(row: dict) -> str:
    """One row as a line of text (the ``org_changes`` command prints these)."""
    subject = row["object"]
    if row.get("reference"):
        subject = f"{row['reference']} “{row.get('step', row['object'])}”"
    move = ""
    if row["from"] or row["to"]:
        move = f": {row['from'] or '—'} → {row['to'] or '—'}"
    reason = f" ({row['reason']})" if row.get("reason") else ""
    return f"{row['what']} · {subject}{move}{reason}"
