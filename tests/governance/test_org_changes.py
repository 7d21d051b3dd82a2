"""``manage.py org_changes FILE``: a head change, a move and a leaver from a CSV or JSON file,
applied together in one transaction — or, with --dry-run, listed (which steps would go to
whom) with nothing changed."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accountability.models import Notification
from approvals.choices import StepState
from governance.choices import AuditVerb
from governance.models import AuditEvent, Department, User

pytestmark = [pytest.mark.django_db]

CSV = "action,person,department\nhead,bob,MKT\nmove,carol,LEG\nleave,fiona,\n"


def _run(tmp_path, text: str, *args, name: str = "changes.csv") -> tuple[str, str]:
    path = tmp_path / name
    path.write_text(text)
    out, err = StringIO(), StringIO()
    call_command("org_changes", *args, str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _head_step(request):
    return request.steps.get(name="Head approval")


def test_the_dry_run_lists_each_move_and_changes_nothing(tmp_path, org, submit):
    mkt = submit(cost="1200")
    events, notices = AuditEvent.objects.count(), Notification.objects.count()

    out, err = _run(tmp_path, CSV, "--dry-run")

    assert f"would: Step moved to who is accountable now · {mkt.reference} “Head approval”: " \
           "hank → bob (head_changed)" in out
    assert "would: Department head changed · Marketing: hank → bob" in out
    assert "would: Person moved to another department · Carol Clark: HR → LEG" in out
    assert "would: User deactivated (left the organisation) · Fiona Fischer" in out
    assert "Nothing was changed (dry run)" in err
    assert Department.objects.get(code="MKT").head == org.hank
    assert User.objects.get(username="carol").department.code == "HR"
    assert User.objects.get(username="fiona").is_active
    assert _head_step(mkt).accountable_head == org.hank
    assert (AuditEvent.objects.count(), Notification.objects.count()) == (events, notices)


def test_the_changes_apply_together(tmp_path, org, submit):
    mkt = submit(cost="1200")
    changes = [{"action": "head", "person": "bob", "department": "MKT"},
               {"action": "move", "person": "carol", "department": "LEG"}]

    out, err = _run(tmp_path, json.dumps(changes), "--as", "olivia", name="changes.json")

    assert Department.objects.get(code="MKT").head == org.bob
    assert User.objects.get(username="carol").department.code == "LEG"
    step = _head_step(mkt)
    assert (step.state, step.accountable_head) == (StepState.ACTIVE, org.bob)
    moved = AuditEvent.objects.get(verb=AuditVerb.STEP_REASSIGNED)
    assert (moved.actor, moved.from_state, moved.to_state) == (org.olivia, "hank", "bob")
    assert "2 change(s), 1 step(s) moved, in one transaction" in err


def test_a_bad_line_is_named_and_nothing_changes(tmp_path, org):
    with pytest.raises(CommandError, match="line 3: nobody has the user name “nobody”"):
        _run(tmp_path, "action,person,department\nhead,bob,MKT\nmove,nobody,LEG\n")
    assert Department.objects.get(code="MKT").head == org.hank


def test_a_refused_change_undoes_the_others(tmp_path, org, submit):
    # Hank's own request waits for the head above him, the head of Operations.
    submit(actor=org.hank, cost="1200")
    # Nobody stands in for the head of Operations, the top of the tree: the leaver is refused,
    # and the head change before it is undone with it.
    top = Department.objects.get(code="OPS").head
    text = f"action,person,department\nhead,bob,MKT\nleave,{top.username},\n"
    Department.objects.filter(head=top).update(deputy=None)

    with pytest.raises(CommandError):
        _run(tmp_path, text)
    assert Department.objects.get(code="MKT").head == org.hank
    assert User.objects.get(pk=top.pk).is_active
