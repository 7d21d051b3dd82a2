"""The organisation page for ops leaders (/governance/organisation/)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from governance.models import Department
from governance.organisation import department_members, organisation_conflicts, organisation_tree
from kit.web import serves


@login_required
@require_GET
@serves(Department)
def organisation(request: HttpRequest) -> HttpResponse:
    rows = organisation_tree(request.user)
    if not rows and not (request.user.is_superuser or request.user.is_ops_leader):
        raise PermissionDenied
    members_of, members = None, []
    code = request.GET.get("members", "")
    if code:
        members_of, members = department_members(request.user, code)
        if members_of is None:
            raise Http404
    return render(request, "governance/organisation.html", {
        "rows": rows,
        "conflicts": organisation_conflicts(request.user, rows),
        "members_of": members_of,
        "members": members,
    })
