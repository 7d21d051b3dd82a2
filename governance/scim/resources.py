"""People and departments as SCIM resources, and SCIM resources as the facts the directory
services take (``governance.services.directory``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from scim2_models import (
    Email,
    EnterpriseUser,
    GroupMember,
    GroupMembership,
    Meta,
    Name,
)

from governance.errors import ValidationFailed
from governance.models import Department, User
from governance.scim.schema import (
    DepartmentExtension,
    DepartmentReference,
    PersonReference,
    ScimGroup,
    ScimUser,
)
from governance.services.directory import (
    UNSET,
    DepartmentFacts,
    PersonFacts,
    department_for_name,
)


def _url(request, name: str, pk: int) -> str:
    return request.build_absolute_uri(reverse(name, args=[pk]))


def _leader(pk: int | None, request) -> PersonReference | None:
    if pk is None:
        return None
    return PersonReference(value=str(pk), ref=_url(request, "scim:user", pk))


def _emails(user: User) -> list[Email] | None:
    """Every address as the directory sent them, while the one SRM uses (the primary, else
    the first) is still the person's; else the person's one address."""
    sent = (user.directory_attributes or {}).get("emails") or []
    chosen = next((e for e in sent if e.get("primary")), sent[0] if sent else None)
    if chosen and (chosen.get("value") or "").lower() == (user.email or "").lower():
        return [Email.model_validate(e) for e in sent]
    return [Email(value=user.email, primary=True, type="work")] if user.email else None


def _enterprise(user: User) -> EnterpriseUser | None:
    """The enterprise extension as the directory sent it; its ``department`` is the home
    department's name when the directory sent none, or when the person moved in SRM since."""
    kept = user.directory_attributes or {}
    sent = kept.get("enterprise")
    department = user.department.name if user.department_id else None
    if sent is None:
        return EnterpriseUser(department=department) if department else None
    data = dict(sent)
    if kept.get("department_id") != user.department_id:
        data["department"] = department
    extension = EnterpriseUser.model_validate(data)
    return extension if extension.model_dump(exclude={"schemas"}, exclude_none=True) else None


def user_resource(user: User, request) -> ScimUser:
    resource = ScimUser(
        id=str(user.pk),
        user_name=user.username,
        external_id=user.external_id or None,
        name=Name(given_name=user.first_name or None, family_name=user.last_name or None)
        if user.first_name or user.last_name else None,
        display_name=str(user),
        active=user.is_active,
        emails=_emails(user),
        groups=[GroupMembership(value=str(m.department_id), display=m.department.name,
                                type="direct")
                for m in user.memberships.all()] or None,
        meta=Meta(resource_type="User", created=user.date_joined,
                  last_modified=user.date_joined,
                  location=_url(request, "scim:user", user.pk)),
    )
    if (extension := _enterprise(user)) is not None:
        resource[EnterpriseUser] = extension
    return resource


def group_resource(department: Department, request, *, members: bool = True) -> ScimGroup:
    resource = ScimGroup(
        id=str(department.pk),
        display_name=department.name,
        external_id=department.external_id or None,
        members=[GroupMember(value=str(m.user_id), display=str(m.user), type="User",
                             ref=_url(request, "scim:user", m.user_id))
                 for m in department.memberships.all()] or None if members else None,
        meta=Meta(resource_type="Group", location=_url(request, "scim:group", department.pk)),
    )
    resource[DepartmentExtension] = DepartmentExtension(
        code=department.code,
        cost_centre=department.cost_centre or None,
        parent=DepartmentReference(value=str(department.parent_id),
                                   ref=_url(request, "scim:group", department.parent_id))
        if department.parent_id else None,
        head=_leader(department.head_id, request),
        deputy=_leader(department.deputy_id, request),
    )
    return resource


def _invalid(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid", field_errors={field: [message]})


def _id(reference) -> str | None:
    """The id a reference names: its ``value``, else the last part of its ``$ref``."""
    if reference is None:
        return None
    if reference.value:
        return reference.value
    return str(reference.ref).rstrip("/").rsplit("/", 1)[-1] if reference.ref else None


def _person(reference, field: str) -> User | None:
    value = _id(reference)
    if value in (None, ""):
        return None
    try:
        return User.objects.get(pk=int(value), is_superuser=False)
    except (ValueError, User.DoesNotExist):
        raise _invalid(f"No person with the id “{value}”.", field) from None


def person_facts(resource: ScimUser) -> PersonFacts:
    """The facts of a User: its primary (else first) e-mail is the person's address, and
    every address is kept as sent; the enterprise extension is kept as sent, its
    ``department`` moving the person when it names an SRM department (one SRM does not know
    is kept, the home department staying as it is)."""
    email = ""
    emails = [e.model_dump(mode="json", exclude_none=True) for e in resource.emails or []]
    if resource.emails:
        chosen = next((e for e in resource.emails if e.primary), resource.emails[0])
        email = chosen.value or ""
    extension = resource[EnterpriseUser]
    department = UNSET
    kept: dict = {"emails": emails, "enterprise": None}
    if extension is not None:
        kept["enterprise"] = extension.model_dump(mode="json", exclude_none=True,
                                                  exclude={"schemas"})
        # The manager's displayName is the service provider's to fill (RFC 7643 §4.3).
        (kept["enterprise"].get("manager") or {}).pop("displayName", None)
    if extension is not None and extension.department:
        department = department_for_name(extension.department, unknown_ok=True)
        if department is None:
            department = UNSET
            kept["department_unknown"] = extension.department
    name = resource.name
    return PersonFacts(
        username=resource.user_name or "",
        external_id=resource.external_id or "",
        first_name=(name.given_name if name else None) or "",
        last_name=(name.family_name if name else None) or "",
        email=email,
        active=resource.active is not False,
        department=department,
        directory_attributes=kept,
    )


def department_facts(resource: ScimGroup, *, members: bool = True) -> DepartmentFacts:
    ids = UNSET
    if members:
        ids = set()
        for member in resource.members or []:
            if member.type == "Group" or "/Groups/" in str(member.ref or ""):
                # Its id could be a person's too: never read a department as one.
                raise _invalid(_("A department's members are people; “%(value)s” is a "
                                 "group (place departments with their parent).")
                               % {"value": member.value}, "members")
            try:
                ids.add(int(member.value))
            except (TypeError, ValueError):
                raise _invalid(f"No person with the id “{member.value}”.", "members") from None
    facts = DepartmentFacts(name=resource.display_name or "",
                            external_id=resource.external_id or "", members=ids)
    extension = resource[DepartmentExtension]
    if extension is not None:
        facts.code = extension.code or ""
        facts.cost_centre = extension.cost_centre or ""
        parent = _id(extension.parent)
        if parent:
            try:
                facts.parent = Department.objects.get(pk=int(parent))
            except (ValueError, Department.DoesNotExist):
                raise _invalid(f"No department with the id “{parent}”.", "parent") from None
        else:
            facts.parent = None
        facts.head_user = _person(extension.head, "head") or UNSET
        facts.deputy = _person(extension.deputy, "deputy")
    return facts
