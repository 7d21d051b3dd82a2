"""Model instances from hand-written statements, for the hot paths whose statements are
built once per process instead of through the ORM's query compiler on every call (building
a query with its joins costs more CPU than running it). The values go through the same
converters the ORM applies, so the instances are those a queryset would give."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from django.db import connection, models


def select_columns(model: type[models.Model], alias: str) -> str:
    """Every concrete column of ``model`` from the table aliased ``alias``, in field order
    (the order ``instance_from`` reads them)."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


def width(model: type[models.Model]) -> int:
    return len(model._meta.concrete_fields)


@lru_cache(maxsize=64)
def _converters(model: type[models.Model], vendor: str) -> tuple:
    table = model._meta.db_table
    found = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((index, tuple(converters), column))
    return tuple(found)


def instance_from(model: type[models.Model], values: Sequence) -> models.Model:
    """``model``'s instance from its concrete columns' values (``select_columns``), as read
    from the database."""
    converters = _converters(model, connection.vendor)
    if converters:
        values = list(values)
        for index, functions, column in converters:
            value = values[index]
            for convert in functions:
                value = convert(value, column, connection)
            values[index] = value
    return model.from_db(connection.alias, None, values)
