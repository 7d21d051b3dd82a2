"""SCIM filters (``userName eq "bjensen"``, ``externalId eq "…"``, ``members[value eq "…"]``)
as Django ``Q`` objects, so a filtered list is one query however large the directory.

``scim2-models`` parses and checks the filter; here each attribute SRM keeps maps to a column.
An attribute SRM does not keep is refused (``invalidFilter``) rather than silently matching
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from scim2_models import InvalidFilterException, ScimFilter
from scim2_models.path.expressions import (
    CompareOperator,
    Comparison,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from scim2_models.path.visitor import FilterVisitor

from governance.scim.schema import DEPARTMENT_URN, ScimGroup, ScimUser

ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@dataclass(frozen=True)
class Column:
    field: str
    case_exact: bool = False
    kind: str = "str"  # "str", "int", "bool", "datetime"


USER_COLUMNS = {
    "id": Column("pk", kind="int"),
    "username": Column("username"),
    "externalid": Column("external_id", case_exact=True),
    "name.givenname": Column("first_name"),
    "name.familyname": Column("last_name"),
    "emails": Column("email"),
    "emails.value": Column("email"),
    "active": Column("is_active", kind="bool"),
    "meta.created": Column("date_joined", kind="datetime"),
    "meta.lastmodified": Column("date_joined", kind="datetime"),
    f"{ENTERPRISE_URN}:department".lower(): Column("department__code"),
}

GROUP_COLUMNS = {
    "id": Column("pk", kind="int"),
    "displayname": Column("name"),
    "externalid": Column("external_id", case_exact=True),
    "members": Column("memberships__user_id", kind="int"),
    "members.value": Column("memberships__user_id", kind="int"),
    f"{DEPARTMENT_URN}:code".lower(): Column("code"),
}

_LOOKUPS = {
    CompareOperator.eq: "exact", CompareOperator.co: "contains",
    CompareOperator.sw: "startswith", CompareOperator.ew: "endswith",
    CompareOperator.gt: "gt", CompareOperator.ge: "gte",
    CompareOperator.lt: "lt", CompareOperator.le: "lte",
}


class _ToQ(FilterVisitor[Q]):
    def __init__(self, columns: dict[str, Column], prefix: str = ""):
        self.columns = columns
        self.prefix = prefix

    def _column(self, attr_path) -> Column:
        name = attr_path.attr if not attr_path.sub_attr else f"{attr_path.attr}.{attr_path.sub_attr}"
        key = (f"{attr_path.uri}:{name}" if attr_path.uri else name).lower()
        if self.prefix:
            key = f"{self.prefix}.{key}"
        column = self.columns.get(key)
        if column is None:
            raise InvalidFilterException(detail=f"SRM cannot filter on “{key}”.")
        return column

    def visit_comparison(self, node: Comparison) -> Q:
        column = self._column(node.attr_path)
        value = node.value
        if column.kind == "int":
            try:
                value = int(value)
            except (TypeError, ValueError):
                return Q(pk__in=[]) if node.op != CompareOperator.ne else ~Q(pk__in=[])
        if node.op == CompareOperator.ne:
            return ~self._match(column, CompareOperator.eq, value)
        return self._match(column, node.op, value)

    @staticmethod
    def _match(column: Column, op: CompareOperator, value) -> Q:
        lookup = _LOOKUPS[op]
        if column.kind == "str" and not column.case_exact and lookup in {
                "exact", "contains", "startswith", "endswith"}:
            lookup = "i" + lookup
        return Q(**{f"{column.field}__{lookup}": value})

    def visit_present(self, node: Present) -> Q:
        column = self._column(node.attr_path)
        if column.kind == "str":
            return Q(**{f"{column.field}__gt": ""})
        return Q(**{f"{column.field}__isnull": False})

    def visit_not(self, node: Not) -> Q:
        return ~self.visit(node.expr)

    def visit_logical_expr(self, node: LogicalExpr) -> Q:
        terms = [self.visit(term) for term in node.terms]
        combined = terms[0]
        for term in terms[1:]:
            combined = combined & term if node.op == LogicalOperator.and_ else combined | term
        return combined

    def visit_value_path(self, node: ValuePath) -> Q:
        return _ToQ(self.columns, prefix=node.attr_path.attr.lower()).visit(node.val_filter)


def _parse(model, text: str):
    try:
        return ScimFilter[model](text).ast
    except InvalidFilterException:
        raise
    except (ValueError, TypeError) as exc:
        raise InvalidFilterException(detail=str(exc)) from exc


def user_filter(text: str) -> Q:
    return _ToQ(USER_COLUMNS).visit(_parse(ScimUser, text))


def group_filter(text: str) -> Q:
    return _ToQ(GROUP_COLUMNS).visit(_parse(ScimGroup, text))
