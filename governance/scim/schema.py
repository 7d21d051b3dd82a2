"""What SRM's SCIM service serves, in the models of ``scim2-models``: Users with the
enterprise extension, Groups (departments) with SRM's department extension, the discovery
documents, and how tolerant it is of what Entra ID and Okta send.

The mapping (docs/identity.md, "SCIM provisioning"):

- a **User** is a person: ``userName`` ↔ username, ``externalId`` ↔ the directory's id,
  ``name.givenName``/``familyName``, the primary (else first) e-mail, ``active`` (false: the
  person leaves, their approvals move on); the enterprise extension's ``department`` (a
  department's code or name) is their home department. ``groups`` lists their departments
  (read-only, as RFC 7643 has it).
- a **Group** is a department: ``displayName`` ↔ name, ``externalId``, ``members`` ↔ its
  memberships; the extension ``urn:ietf:params:scim:schemas:extension:srm:2.0:Department``
  carries ``code``, ``costCentre``, ``parent`` (the parent Group's id), ``head`` and
  ``deputy`` (User ids).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    EnterpriseUser,
    ETag,
    Extension,
    Filter,
    Group,
    Mutability,
    Patch,
    Reference,
    Required,
    ResourceType,
    Schema,
    ScimPolicy,
    ServiceProviderConfig,
    Sort,
    User,
)

DEPARTMENT_URN = "urn:ietf:params:scim:schemas:extension:srm:2.0:Department"
MAX_RESULTS = 200


class PersonReference(ComplexAttribute):
    """A person, as the enterprise extension's ``manager`` names one."""

    value: Annotated[str | None, Required.true, CaseExact.true] = None
    """The id of the User."""

    ref: Annotated[Reference["User"] | None, Required.false] = Field(  # noqa: F821, UP037
        None, serialization_alias="$ref", validation_alias="$ref")
    """The URI of the User."""

    display_name: Annotated[str | None, Mutability.read_only] = None
    """The person's name."""


class DepartmentReference(ComplexAttribute):
    value: Annotated[str | None, Required.true, CaseExact.true] = None
    """The id of the Group."""

    ref: Annotated[Reference["Group"] | None, Required.false] = Field(  # noqa: F821, UP037
        None, serialization_alias="$ref", validation_alias="$ref")
    """The URI of the Group."""

    display_name: Annotated[str | None, Mutability.read_only] = None
    """The department's name."""


class DepartmentExtension(Extension):
    """SRM's department: its code, cost centre, place in the tree and who leads it."""

    __schema__ = URN(DEPARTMENT_URN)

    code: Annotated[str | None, Mutability.read_write] = None
    """The department's short code (unique, at most 40 characters; made from the name when
    left out)."""

    cost_centre: Annotated[str | None, Mutability.read_write] = None
    """The cost centre its requests are charged to."""

    parent: Annotated[DepartmentReference | None, Mutability.read_write] = None
    """The department above it."""

    head: Annotated[PersonReference | None, Mutability.read_write] = None
    """The person who heads it: accountable for its steps and delays."""

    deputy: Annotated[PersonReference | None, Mutability.read_write] = None
    """The person who stands in for the head."""


ScimUser = User[EnterpriseUser]
ScimGroup = Group[DepartmentExtension]

RESOURCE_TYPES = [ResourceType.from_resource(ScimUser), ResourceType.from_resource(ScimGroup)]


def _published(schema: Schema, keep: dict[str, set[str] | None] | None = None, *,
               read_only: set[str] = frozenset(), required: set[str] = frozenset()) -> Schema:
    """``schema`` with only the attributes SRM keeps (and of those, the sub-attributes it
    keeps), so a provider — and a conformance checker — sends nothing that would be dropped."""
    attributes = []
    for attribute in schema.attributes:
        if keep is not None and attribute.name not in keep:
            continue
        changes: dict = {}
        subs = keep[attribute.name] if keep is not None else None
        if subs is not None and attribute.sub_attributes:
            changes["sub_attributes"] = [a for a in attribute.sub_attributes if a.name in subs]
        # "members.display": a sub-attribute SRM fills itself (the person's name).
        written = {name.split(".", 1)[1] for name in read_only
                   if name.startswith(f"{attribute.name}.")}
        if written:
            changes["sub_attributes"] = [
                a.model_copy(update={"mutability": Mutability.read_only})
                if a.name in written else a
                for a in changes.get("sub_attributes", attribute.sub_attributes)]
        if attribute.name in read_only:
            changes["mutability"] = Mutability.read_only
        if attribute.name in required:
            changes["required"] = Required.true
        attributes.append(attribute.model_copy(update=changes))
    return schema.model_copy(update={"attributes": attributes})


SCHEMAS = [
    _published(User.to_schema(), {
        "userName": None, "name": {"givenName", "familyName"}, "displayName": None,
        "active": None, "emails": {"value", "type", "primary"}, "groups": None,
    }, read_only={"displayName", "groups"}, required={"active"}),
    # The whole enterprise extension, kept as sent; its department is the home department.
    EnterpriseUser.to_schema(),
    # A member's display is the person's name as SRM knows it.
    _published(Group.to_schema(), read_only={"members.display"}),
    DepartmentExtension.to_schema(),
]

# Microsoft Entra ID sends ``"Remove"`` with the members to remove as its value, and may
# ``Add`` an e-mail through a filter nothing matches yet; unknown attributes (a provider's
# own extensions) are ignored rather than refused.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)


def service_provider_config() -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[AuthenticationScheme(
            type="oauthbearertoken", name="Bearer token",
            description="A provisioning token of the identity provider "
                        "(python manage.py create_scim_token NAME).",
            primary=True)],
    )
