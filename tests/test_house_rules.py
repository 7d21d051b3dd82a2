"""The house rules of docs/architecture.md that a reader cannot check by eye, checked here:
states are named through their choices (no status literals in views, templates, selectors or
SQL), error codes are ``ErrorCode`` members, audit verbs ``AuditVerb`` members."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings

from governance.choices import AuditVerb
from governance.services.audit import audit_build
from kit.errors import DomainError, ErrorCode

ROOT = Path(settings.BASE_DIR)
APPS = ("accountability", "approvals", "governance", "kit", "kpis", "requests_app", "srm")
STATE_VALUES = {"in_approval", "in_progress", "fulfilled", "rejected", "cancelled", "pending",
                "active", "approved", "done", "skipped", "planning", "live", "value_realized",
                "abandoned", "queued", "validating", "importing", "failed", "approval",
                "execution", "keep", "retire"}


def _python_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _templates():
    for path in sorted(ROOT.rglob("templates/**/*.html")):
        if not {".venv", "node_modules"} & set(path.parts):
            yield path


def test_templates_compare_no_state_with_a_literal():
    pattern = re.compile(r"\.(state|status|kind|decision)\s*(==|!=)\s*['\"]")
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}"
             for path in _templates()
             for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not found, "Use the model's is_*/can_* helpers or the view's actions:\n" + "\n".join(found)


def test_code_names_states_through_their_choices():
    """``state="active"``, ``status == "live"``, ``'active'`` inside SQL: all refused outside
    the choices modules (where the states are declared)."""
    found = []
    for path in _python_files():
        if path.name == "choices.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg and re.fullmatch(
                    r"(state|status|kind|decision)(__in|__exact)?", node.arg):
                values = [node.value]
            elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) \
                    and node.left.attr in {"state", "status", "kind", "decision"}:
                values = node.comparators
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and re.search(r"\b(state|status|kind)\s*(=|<>|!=|IN)\s*\(?'", node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: a state literal in SQL")
                continue
            else:
                continue
            for value in values:
                for const in ast.walk(value):
                    if isinstance(const, ast.Constant) and const.value in STATE_VALUES:
                        found.append(f"{path.relative_to(ROOT)}:{const.lineno}: {const.value!r}")
    assert not found, "Name states through their choices and groups:\n" + "\n".join(found)


def _keyword_literals(name: str) -> list[tuple[str, int, str]]:
    found = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == name \
                    and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.append((str(path.relative_to(ROOT)), node.value.lineno, node.value.value))
    return found


def test_every_error_code_in_the_code_is_an_error_code_member():
    unknown = [hit for hit in _keyword_literals("code") if hit[2] not in ErrorCode._value2member_map_]
    assert not unknown


def test_a_domain_error_with_an_unknown_code_is_a_bug():
    with pytest.raises(ValueError):
        DomainError("Nope.", code="made_up")
    assert DomainError("No.", code="not_decider").code is ErrorCode.NOT_DECIDER


def test_every_audit_verb_in_the_code_is_an_audit_verb_member():
    unknown = [hit for hit in _keyword_literals("verb") if hit[2] not in AuditVerb.values]
    assert not unknown


@pytest.mark.django_db
def test_an_audit_event_with_an_unknown_verb_is_refused(org):
    with pytest.raises(ValueError):
        audit_build(actor=None, verb="request.teleported", target=org.alice)


# --- Who decides: a head changes in one place ----------------------------------------------
# Where a department's head may be assigned: the service that moves the open steps with it,
# and the admin page, which only puts the old head back before calling that service. (A delay
# risk's own ``head`` is accountability's record, moved by ``risks_reattribute``.)
HEAD_WRITERS = {"governance/services/org.py", "governance/admin.py"}
NOT_A_DEPARTMENT = {"risk", "check"}


def _head_targets(node: ast.AST) -> list[ast.Attribute]:
    targets = []
    for target in getattr(node, "targets", []):
        targets += target.elts if isinstance(target, ast.Tuple) else [target]
    return [t for t in targets if isinstance(t, ast.Attribute) and t.attr in {"head", "head_id"}
            and not (isinstance(t.value, ast.Name) and t.value.id in NOT_A_DEPARTMENT)]


def test_a_department_head_changes_only_through_department_set_head():
    found = []
    for path in _python_files():
        name = str(path.relative_to(ROOT))
        if name in HEAD_WRITERS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            updated = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                       and node.func.attr in {"update", "update_or_create"}
                       and any(k.arg in {"head", "head_id"} for k in node.keywords))
            if (isinstance(node, ast.Assign) and _head_targets(node)) or updated:
                found.append(f"{name}:{node.lineno}")
    assert not found, "Change a head with governance.services.org.department_set_head:\n" + \
        "\n".join(found)


# --- Validation in one place --------------------------------------------------------------------
def test_portal_and_api_accept_the_same_lengths_the_services_enforce():
    from approvals.api.serializers import ApproveSerializer, CompleteSerializer, RejectSerializer
    from approvals.forms import CompleteForm, DecisionForm
    from governance import limits
    from requests_app.api.serializers import CancelSerializer
    from requests_app.forms import CancelForm

    assert (DecisionForm.base_fields["comment"].max_length
            == ApproveSerializer().fields["comment"].max_length
            == RejectSerializer().fields["comment"].max_length == limits.DECISION_COMMENT)
    assert (CompleteForm.base_fields["note"].max_length
            == CompleteSerializer().fields["note"].max_length == limits.DECISION_COMMENT)
    assert (CancelForm.base_fields["reason"].max_length
            == CancelSerializer().fields["reason"].max_length == limits.CANCEL_REASON)


@pytest.mark.django_db
def test_the_services_refuse_one_character_over_the_limit(org, submit):
    from approvals.services import request_cancel, step_approve
    from governance import limits
    from governance.errors import ValidationFailed
    from tests.factories import active_step

    request = submit()
    with pytest.raises(ValidationFailed) as refused:
        step_approve(actor=org.hank, step=active_step(request),
                     comment="x" * (limits.DECISION_COMMENT + 1))
    assert refused.value.code == ErrorCode.TEXT_TOO_LONG
    assert "comment" in refused.value.field_errors
    with pytest.raises(ValidationFailed):
        request_cancel(actor=org.alice, request=request, reason="x" * (limits.CANCEL_REASON + 1))
    request_cancel(actor=org.alice, request=request, reason="x" * limits.CANCEL_REASON)


def test_one_helper_per_adapter_concern():
    """A safe "next" URL and domain error → form errors are kit.web's, nowhere else."""
    found = [f"{path.relative_to(ROOT)}" for path in _python_files()
             if path.relative_to(ROOT).as_posix() != "kit/web.py"
             and ("url_has_allowed_host_and_scheme" in path.read_text()
                  or ".field_errors.items()" in path.read_text() and "views" in path.name)]
    assert not found
