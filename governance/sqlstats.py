"""Portable SQL building blocks for the accountability numbers: durations in hours and
percentiles, computed in the database on PostgreSQL and SQLite alike.

Percentiles: PostgreSQL has ``percentile_cont`` (an ordered-set aggregate), so there the
median and p90 are one more column of the grouped query. SQLite has no such aggregate; there
one query numbers the values of each group with window functions and returns only the (at
most two) rows around each requested rank, and Python interpolates between them — the same
definition as ``percentile_cont`` (linear interpolation between closest ranks), bounded by
the number of groups, never by the number of rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, QuerySet, Window
from django.db.models.functions import RowNumber


class HoursBetween(Func):
    """Calendar hours from ``start`` to ``end`` as a float column."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra):  # pragma: no cover - per-vendor below
        raise NotImplementedError(f"HoursBetween is not implemented for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql_template(
            compiler, connection, "EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0", " - ", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql_template(
            compiler, connection, "((julianday(%(end)s) - julianday(%(start)s)) * 24.0)", None,
            **extra,
        )

    def as_sql_template(self, compiler, connection, template, joiner, **extra):
        start, end = self.get_source_expressions()
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        if joiner is not None:
            return template % {"expressions": f"{end_sql}{joiner}{start_sql}"}, [
                *end_params, *start_params]
        return template % {"start": start_sql, "end": end_sql}, [*end_params, *start_params]


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(p) WITHIN GROUP (ORDER BY expr)``."""

    function = "percentile_cont"
    name = "PercentileCont"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile is a fraction between 0 and 1.")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def supports_percentile_cont() -> bool:
    return connection.vendor == "postgresql"


def percentiles(
    queryset: QuerySet,
    *,
    group_by: Sequence[str],
    value,
    fractions: Iterable[float] = (0.5, 0.9),
) -> dict[tuple, dict[float, float]]:
    """``{group key tuple: {fraction: value}}`` for the values ``value`` (an expression)
    over ``queryset``, grouped by the fields ``group_by``. One query on either database;
    rows with a NULL value are left out."""
    fractions = tuple(fractions)
    group_by = list(group_by)
    qs = queryset.annotate(_v=value).filter(_v__isnull=False)
    if supports_percentile_cont():
        rows = qs.values(*group_by).order_by().annotate(
            **{f"_p{i}": PercentileCont("_v", f) for i, f in enumerate(fractions)}
        )
        return {
            tuple(row[g] for g in group_by): {
                f: row[f"_p{i}"] for i, f in enumerate(fractions)
            }
            for row in rows
        }
    partition = [F(g) for g in group_by]
    numbered = qs.annotate(
        _rn=Window(RowNumber(), partition_by=partition, order_by=F("_v").asc()),
        _n=Window(Count("pk"), partition_by=partition),
    ).values(*group_by, "_v", "_rn", "_n")
    # Keep only the rows next to a wanted rank: the filter runs in SQL (Django wraps the
    # window query in a subquery), so at most 2 × len(fractions) rows per group come back.
    wanted = _rank_rows(numbered, fractions)
    result: dict[tuple, dict[float, float]] = {}
    by_group: dict[tuple, dict[int, float]] = {}
    sizes: dict[tuple, int] = {}
    for row in wanted:
        key = tuple(row[g] for g in group_by)
        by_group.setdefault(key, {})[row["_rn"]] = row["_v"]
        sizes[key] = row["_n"]
    for key, ranks in by_group.items():
        n = sizes[key]
        result[key] = {}
        for f in fractions:
            pos = 1 + f * (n - 1)
            low, high = math.floor(pos), math.ceil(pos)
            lo_v, hi_v = ranks[low], ranks[high]
            result[key][f] = lo_v + (hi_v - lo_v) * (pos - low)
    return result


def _rank_rows(numbered: QuerySet, fractions: tuple[float, ...]) -> QuerySet:
    """Filter a window-numbered queryset to the rows at floor/ceil of each fraction's rank."""
    from django.db.models import Case, ExpressionWrapper, IntegerField, Q, Value, When
    from django.db.models.functions import Ceil, Floor

    # Django refuses OR-ed filters on window columns, so the OR lives in a CASE column and the
    # filter on that column is a plain equality.
    condition = Q()
    for f in fractions:
        pos = ExpressionWrapper(
            Value(1.0) + Value(float(f)) * (F("_n") - Value(1)), output_field=FloatField()
        )
        condition |= Q(_rn=ExpressionWrapper(Floor(pos), output_field=IntegerField()))
        condition |= Q(_rn=ExpressionWrapper(Ceil(pos), output_field=IntegerField()))
    keep = Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())
    return numbered.annotate(_keep=keep).filter(_keep=1)


def hours(value: float | None, places: int = 1) -> Decimal | None:
    """A float of hours from SQL as a rounded Decimal for display and comparison."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
