"""``/scim/v2/``: provisioning of people (Users) and departments (Groups) by the company's
identity provider, RFC 7643/7644.

Built on ``scim2-models`` (the SCIM payloads, filters and PATCH semantics, with the
tolerances Entra ID needs) rather than django-scim2: that library writes model fields and
calls ``save()`` from its adapters, answers a filtered list by loading every matching row
into Python to count it, and filters with raw SQL that only runs on PostgreSQL — where here
every change must go through the organisation's services (a new head takes over the open
steps, a leaver's approvals move on, each audited) and a list must stay one bounded query
with 50,000 people.

A request authenticates with an identity provider's bearer token. Every write runs in one
transaction; with the header ``X-SRM-Dry-Run: 1`` it runs and is rolled back, and the answer
lists what it would have changed (``governance.services.preview``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, ProtectedError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    InvalidSyntaxException,
    ListResponse,
    NotFoundException,
    NotImplementedException,
    PatchOp,
    SCIMException,
    UnauthorizedException,
)
from scim2_models.messages.response_parameters import ResponseParameters

from governance import tokens
from governance.choices import AuditVerb
from governance.errors import Conflict, DomainError, ValidationFailed
from governance.models import Department, Membership, User
from governance.scim import filters
from governance.scim.resources import (
    department_facts,
    group_resource,
    person_facts,
    user_resource,
)
from governance.scim.schema import (
    MAX_RESULTS,
    POLICY,
    RESOURCE_TYPES,
    SCHEMAS,
    DepartmentExtension,
    ScimGroup,
    ScimUser,
    service_provider_config,
)
from governance.services.audit import audit_record
from governance.services.directory import department_provision, person_provision
from governance.services.org import user_deactivate
from governance.services.preview import change_rows, org_preview
from kit.web import serves

CONTENT_TYPE = "application/scim+json"
DRY_RUN_HEADER = "X-SRM-Dry-Run"
PREVIEW_URN = "urn:ietf:params:scim:api:messages:srm:2.0:OrganisationChangePreview"
WHY = ("SCIM provisioning: the identity provider's bearer token may read and write the "
       "whole directory (people and departments), never requests or their steps")


def _json(doc, status: int = 200, **headers) -> HttpResponse:
    response = HttpResponse(json.dumps(doc, default=str), status=status, content_type=CONTENT_TYPE)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _error(exc: SCIMException) -> HttpResponse:
    return _json(exc.to_error().model_dump(), status=exc.status)


def _domain_error(exc: DomainError) -> HttpResponse:
    messages = [m for ms in exc.field_errors.values() for m in ms] or [exc.message]
    status = 409 if isinstance(exc, Conflict) else 400
    scim_type = "uniqueness" if isinstance(exc, Conflict) else "invalidValue"
    if exc.code in {"no_successor", "no_separate_approver", "no_accountable_head"}:
        status, scim_type = 409, "mutability"
    if exc.code in {"code_kept", "head_kept"}:
        status, scim_type = 400, "mutability"
    return _json(Error(status=status, scim_type=scim_type,
                       detail=f"{' '.join(messages)} [{exc.code}]").model_dump(), status=status)


def _provider(request: HttpRequest):
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    token = tokens.scim_token_find(secret.strip()) if scheme.lower() == "bearer" else None
    if token is None:
        raise UnauthorizedException(detail="A valid provisioning bearer token is required.")
    tokens.scim_token_used(token)
    return token.provider


def _is_dry_run(request: HttpRequest) -> bool:
    return request.headers.get(DRY_RUN_HEADER, "").strip().lower() in {"1", "true", "yes"}


def scim_view(handler: Callable) -> Callable:
    """Authenticate the provider, run the handler (a write in one transaction, or in a
    preview that is rolled back) and answer SCIM errors as SCIM error bodies."""

    @csrf_exempt
    @serves(why=WHY)
    @wraps(handler)
    def view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            request.scim_provider = _provider(request)
            with POLICY:
                if request.method in {"GET", "HEAD"}:
                    return handler(request, *args, **kwargs)
                if _is_dry_run(request):
                    return _preview(handler, request, *args, **kwargs)
                with transaction.atomic():
                    return handler(request, *args, **kwargs)
        except SCIMException as exc:
            return _error(exc)
        except ValidationError as exc:
            errors = Error.from_validation_errors(exc)
            error = errors[0] if errors else Error(status=400, detail=str(exc))
            return _json(error.model_dump(), status=int(error.status or 400))
        except DomainError as exc:
            return _domain_error(exc)

    return view


def _preview(handler, request, *args, **kwargs) -> HttpResponse:
    with org_preview() as events:
        response = handler(request, *args, **kwargs)
    resource = json.loads(response.content) if response.content else None
    return _json({"schemas": [PREVIEW_URN], "dryRun": True, "status": response.status_code,
                  "resource": resource, "changes": change_rows(events)},
                 **{DRY_RUN_HEADER: "1"})


def _body(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidSyntaxException(detail="The body is not JSON.") from None
    if not isinstance(body, dict):
        raise InvalidSyntaxException(detail="The body must be a JSON object.")
    return body


def _patch_body(request: HttpRequest) -> dict:
    """The PATCH body, with the null sub-attributes Entra ID sends in a value
    (``{"$ref": null, "value": "…"}``) left out, so they select by what they name, and its
    enterprise manager given as a bare id read as ``{"value": id}``."""
    body = _body(request)
    for operation in body.get("Operations") or []:
        value = operation.get("value") if isinstance(operation, dict) else None
        # Entra ID names the enterprise manager by its id alone: ``"value": "<User id>"``.
        path = str(operation.get("path") or "") if isinstance(operation, dict) else ""
        if isinstance(value, str) and path.lower().endswith(":user:manager"):
            operation["value"] = {"value": value}
        if isinstance(value, list):
            operation["value"] = [{k: v for k, v in item.items() if v is not None}
                                  if isinstance(item, dict) else item for item in value]
    return body


def _parameters(query, model):
    params = {k: query[k] for k in ("attributes", "excludedAttributes") if query.get(k)}
    return ResponseParameters[model].model_validate(params) if params else None


def _dump(resource, query, context: Context, model) -> dict:
    """``query``: the URL's parameters or a search's body (``attributes`` and
    ``excludedAttributes`` choose what is returned)."""
    return resource.model_dump(scim_ctx=context, response_parameters=_parameters(query, model))


def _page(query) -> tuple[int, int]:
    try:
        start = max(int(query.get("startIndex", 1)), 1)
        count = min(max(int(query.get("count", MAX_RESULTS)), 0), MAX_RESULTS)
    except ValueError:
        raise InvalidSyntaxException(detail="startIndex and count are whole numbers.") from None
    return start, count


# --- People -------------------------------------------------------------------------------
def _people():
    # Superusers are break-glass accounts of SRM itself: no directory provisions them.
    return (User.objects.filter(is_superuser=False).select_related("department")
            .prefetch_related(Prefetch("memberships",
                                       queryset=Membership.objects.select_related("department"))))


def _person(pk: str) -> User:
    try:
        return _people().get(pk=int(pk))
    except (ValueError, User.DoesNotExist):
        raise NotFoundException(detail=f"No User with the id “{pk}”.") from None


def _user_response(user: User, request, status: int = 200) -> HttpResponse:
    user = _person(user.pk)
    resource = user_resource(user, request)
    return _json(_dump(resource, request.GET, Context.RESOURCE_QUERY_RESPONSE, ScimUser),
                 status=status, Location=resource.meta.location)


def _search_query(request: HttpRequest) -> dict:
    """The query of a list: the URL's parameters, or a SearchRequest's body (``.search``)."""
    if request.method == "GET":
        return request.GET
    body = _body(request)
    query = {k: v for k, v in body.items() if k in {"filter", "startIndex", "count"}}
    for name in ("attributes", "excludedAttributes"):
        if body.get(name):
            value = body[name]
            query[name] = ",".join(value) if isinstance(value, list) else str(value)
    return query


def _list_users(request: HttpRequest) -> HttpResponse:
    query = _search_query(request)
    people = _people().order_by("pk")
    if query.get("filter"):
        people = people.filter(filters.user_filter(query["filter"]))
    start, count = _page(query)
    total = people.count()
    page = [user_resource(u, request) for u in people[start - 1:start - 1 + count]]
    listing = ListResponse[ScimUser](total_results=total, start_index=start,
                                     items_per_page=len(page), resources=page)
    return _json(_dump(listing, query, Context.SEARCH_RESPONSE, ScimUser))


@scim_view
def users_search(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _not_allowed()
    return _list_users(request)


@scim_view
def users(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _list_users(request)
    if request.method == "POST":
        resource = ScimUser.model_validate(_body(request),
                                           scim_ctx=Context.RESOURCE_CREATION_REQUEST)
        user = person_provision(provider=request.scim_provider.name,
                                facts=person_facts(resource))
        return _user_response(user, request, status=201)
    return _not_allowed()


@scim_view
def user(request: HttpRequest, pk: str) -> HttpResponse:
    person = _person(pk)
    provider = request.scim_provider.name
    if request.method == "GET":
        return _user_response(person, request)
    if request.method == "PUT":
        resource = ScimUser.model_validate(_body(request),
                                           scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
        person = person_provision(provider=provider, facts=person_facts(resource), user=person)
        return _user_response(person, request)
    if request.method == "PATCH":
        patch = PatchOp[ScimUser].model_validate(_patch_body(request),
                                                 scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        resource = user_resource(person, request)
        patch.patch(resource)
        person = person_provision(provider=provider, facts=person_facts(resource), user=person)
        return _user_response(person, request)
    if request.method == "DELETE":
        _person_remove(person, provider)
        return HttpResponse(status=204)
    return _not_allowed()


def _person_remove(person: User, provider: str) -> None:
    """A person the directory deletes: erased when SRM holds nothing of theirs yet, else they
    leave (``user_deactivate``) and stay in the history."""
    pk, username = person.pk, person.username
    try:
        with transaction.atomic():
            person.delete()
            person.pk = pk
            audit_record(actor=None, verb=AuditVerb.USER_PROVISIONED, target=person,
                         from_state="active", to_state="deleted",
                         data={"username": username, "source": "scim", "provider": provider})
            return
    except (ProtectedError, IntegrityError):
        pass
    user_deactivate(actor=None, user=User.objects.get(pk=pk), source="scim", provider=provider)


# --- Departments --------------------------------------------------------------------------
def _departments(*, members: bool = True):
    departments = Department.objects.all()
    if members:
        departments = departments.prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("user")
                     .order_by("user_id")))
    return departments


def _wants_members(query) -> bool:
    excluded = {a.strip().lower() for a in (query.get("excludedAttributes") or "").split(",")}
    return "members" not in excluded


def _department(request: HttpRequest, pk: str) -> Department:
    try:
        return _departments().get(pk=int(pk))
    except (ValueError, Department.DoesNotExist):
        raise NotFoundException(detail=f"No Group with the id “{pk}”.") from None


def _group_response(department: Department, request, status: int = 200) -> HttpResponse:
    department = _department(request, department.pk)
    resource = group_resource(department, request, members=_wants_members(request.GET))
    return _json(_dump(resource, request.GET, Context.RESOURCE_QUERY_RESPONSE, ScimGroup),
                 status=status, Location=resource.meta.location)


def _list_groups(request: HttpRequest) -> HttpResponse:
    query = _search_query(request)
    members = _wants_members(query)
    departments = _departments(members=members).order_by("pk")
    if query.get("filter"):
        matching = Department.objects.filter(filters.group_filter(query["filter"]))
        departments = departments.filter(pk__in=matching.values("pk"))
    start, count = _page(query)
    total = departments.count()
    page = [group_resource(d, request, members=members)
            for d in departments[start - 1:start - 1 + count]]
    listing = ListResponse[ScimGroup](total_results=total, start_index=start,
                                      items_per_page=len(page), resources=page)
    return _json(_dump(listing, query, Context.SEARCH_RESPONSE, ScimGroup))


@scim_view
def search(request: HttpRequest) -> HttpResponse:
    """``POST /.search`` over every resource type: not offered (RFC 7644 §3.4.3 lets a server
    answer 501), since a person and a department may share an id; search ``/Users/.search``
    or ``/Groups/.search``."""
    raise NotImplementedException(detail="Search /Users/.search or /Groups/.search.")


@scim_view
def groups_search(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _not_allowed()
    return _list_groups(request)


@scim_view
def groups(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _list_groups(request)
    if request.method == "POST":
        resource = ScimGroup.model_validate(_body(request),
                                            scim_ctx=Context.RESOURCE_CREATION_REQUEST)
        department = department_provision(provider=request.scim_provider.name,
                                          facts=department_facts(resource))
        return _group_response(department, request, status=201)
    return _not_allowed()


@scim_view
def group(request: HttpRequest, pk: str) -> HttpResponse:
    department = _department(request, pk)
    provider = request.scim_provider.name
    if request.method == "GET":
        return _group_response(department, request)
    if request.method == "PUT":
        resource = ScimGroup.model_validate(_body(request),
                                            scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
        department = department_provision(provider=provider, department=department,
                                          facts=department_facts(resource))
        return _group_response(department, request)
    if request.method == "PATCH":
        patch = PatchOp[ScimGroup].model_validate(_patch_body(request),
                                                  scim_ctx=Context.RESOURCE_PATCH_REQUEST)
        resource = group_resource(department, request)
        patch.patch(resource)
        _keeps_code_and_head(department, resource)
        department = department_provision(provider=provider, department=department,
                                          facts=department_facts(resource))
        return _group_response(department, request)
    if request.method == "DELETE":
        _department_remove(department, provider)
        return HttpResponse(status=204)
    return _not_allowed()


def _keeps_code_and_head(department: Department, resource: ScimGroup) -> None:
    """A PATCH may not remove a department's code or head (nor the extension holding them):
    requests, reports and the organisation find the department by its code, and its open
    steps and delays need someone accountable. A new head replaces the old one instead
    (RFC 7644 §3.5.2: ``mutability``)."""
    extension = resource[DepartmentExtension]
    if not (extension and extension.code):
        raise ValidationFailed(
            _("%(department)s keeps its code “%(code)s”: send another code to change it.")
            % {"department": department, "code": department.code}, code="code_kept")
    if department.head_id and not (extension and extension.head):
        raise ValidationFailed(
            _("%(department)s keeps a head: name its new head instead of removing one.")
            % {"department": department}, code="head_kept")


def _department_remove(department: Department, provider: str) -> None:
    """A department the directory deletes: only while nothing refers to it (no requests,
    steps, departments below it); otherwise refused, since its history must stay."""
    pk, code = department.pk, department.code
    try:
        with transaction.atomic():
            department.delete()
            department.pk = pk
            audit_record(actor=None, verb=AuditVerb.DEPARTMENT_PROVISIONED, target=department,
                         to_state="deleted",
                         data={"department": code, "source": "scim", "provider": provider})
    except (ProtectedError, IntegrityError):
        raise Conflict(f"{department} has requests, steps or departments below it and stays "
                       "in SRM's history: remove its members instead.",
                       code="directory_conflict") from None


# --- Discovery ----------------------------------------------------------------------------
def _not_allowed() -> HttpResponse:
    return _json(Error(status=405, detail="Method not allowed.").model_dump(), status=405)


def _listing(resources: list) -> dict:
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": len(resources), "startIndex": 1, "itemsPerPage": len(resources),
            "Resources": resources}


@scim_view
def service_provider(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return _not_allowed()
    return _json(service_provider_config().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


@scim_view
def resource_types(request: HttpRequest, pk: str | None = None) -> HttpResponse:
    if request.method != "GET":
        return _not_allowed()
    docs = {t.id: t.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE) for t in RESOURCE_TYPES}
    if pk is None:
        return _json(_listing(list(docs.values())))
    if pk not in docs:
        raise NotFoundException(detail=f"No resource type “{pk}”.")
    return _json(docs[pk])


@scim_view
def schemas(request: HttpRequest, pk: str | None = None) -> HttpResponse:
    if request.method != "GET":
        return _not_allowed()
    docs = {s.id: s.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE) for s in SCHEMAS}
    if pk is None:
        return _json(_listing(list(docs.values())))
    if pk not in docs:
        raise NotFoundException(detail=f"No schema “{pk}”.")
    return _json(docs[pk])


@scim_view
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    raise NotFoundException(detail="No such SCIM endpoint.")
