"""Writing several rows in one round trip: changed fields of saved rows, and new rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, models
from django.utils.functional import Promise


def save_together(*changes: tuple[models.Model, list[str]]) -> None:
    """``instance.save(update_fields=fields)`` for each ``(instance, fields)``, in that order:
    one statement on PostgreSQL (an ``UPDATE`` per row in a ``WITH``), one each elsewhere.
    Like ``save(update_fields=…)``, raises ``DatabaseError`` when a row is not there."""
    write_together(updates=changes)


def write_together(*, updates: Sequence[tuple[models.Model, list[str]]] = (),
                   inserts: Sequence[Sequence[models.Model]] = ()) -> None:
    """Save changed fields of rows (``updates``: ``(instance, fields)``, as
    ``save(update_fields=fields)``) and insert new rows (``inserts``: lists of unsaved
    instances of one model each, as ``bulk_create``) in one statement on PostgreSQL; one
    statement each elsewhere, in the order given. Rows of one list are inserted in their
    order, so keys drawn from a sequence follow it (an audit event's place in its chain);
    new keys are set on the instances. At most one list per model: the order of the parts of
    one statement is not defined. Raises ``DatabaseError`` when an updated row is not
    there."""
    updates = [(instance, list(fields)) for instance, fields in updates if fields]
    inserts = [list(rows) for rows in inserts if rows]
    if connection.vendor != "postgresql":
        for instance, fields in updates:
            instance.save(update_fields=fields)
        for rows in inserts:
            if len(rows) == 1:
                rows[0].save(force_insert=True)
            else:
                type(rows[0]).objects.bulk_create(rows)
        return
    if not updates and not inserts:
        return
    quote = connection.ops.quote_name
    parts, params, names = [], [], []
    for instance, fields in updates:
        meta = instance._meta
        sets = []
        for name in fields:
            field = meta.get_field(name)
            sets.append(f"{quote(field.column)} = %s")
            params.append(field.get_db_prep_save(field.pre_save(instance, False), connection))
        params.append(meta.pk.get_db_prep_value(instance.pk, connection))
        names.append(f"u{len(parts)}")
        parts.append(f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} "
                     f"WHERE {quote(meta.pk.column)} = %s RETURNING 1")
    for rows in inserts:
        sql, param = _insert(rows)
        names.append(f"i{len(parts)}")
        parts.append(sql)
        params.append(param)
    sql = ("WITH " + ", ".join(f"{name} AS ({part})" for name, part in zip(names, parts, strict=True))
           + " SELECT " + ", ".join(
               f"(SELECT count(*) FROM {name})" if name[0] == "u" else
               f"(SELECT array_agg(pk ORDER BY pk) FROM {name})" for name in names))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        written = cursor.fetchone()
    if not all(written[:len(updates)]):
        raise DatabaseError("Save with update_fields did not affect any rows.")
    for rows, keys in zip(inserts, written[len(updates):], strict=True):
        for row, pk in zip(rows, keys, strict=True):
            if row.pk is None:
                row.pk = pk
            row._state.adding, row._state.db = False, connection.alias


def _insert(rows: list[models.Model]) -> tuple[str, str]:
    """``INSERT … RETURNING`` the rows' keys, from one JSON parameter (one row per object,
    keyed by column: a handful of rows cost one parameter, not one per value); keys left
    ``None`` come from the table's sequence, in the rows' order."""
    model = type(rows[0])
    meta = model._meta
    with_pk = rows[0].pk is not None
    if any((row.pk is not None) != with_pk or type(row) is not model for row in rows):
        raise ValueError("Insert rows of one model, all with keys or all without.")
    fields = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
    for row in rows:  # a relation set to an object saved since (as bulk_create does)
        row._prepare_related_fields_for_save(operation_name="write_together")
    plan = _plan(model, with_pk)
    data = [{column: _json_ready(field, field.pre_save(row, True) if own else
                                 row.__dict__[attname])
             for field, column, attname, own in plan} for row in rows]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    source = ", ".join(f"r.{quote(f.column)}" for f in fields)
    sql = (f"INSERT INTO {table} ({columns}) SELECT {source} "
           f"FROM json_populate_recordset(NULL::{table}, %s) WITH ORDINALITY AS r "
           f"ORDER BY r.ordinality RETURNING {quote(meta.pk.column)} AS pk")
    return sql, json.dumps(data, cls=DjangoJSONEncoder)


@lru_cache(maxsize=64)
def _plan(model: type[models.Model], with_pk: bool) -> tuple:
    """``(field, column, attname, own pre_save)`` for each column an insert writes: only
    fields that set their value on save (``auto_now``) are asked for it."""
    return tuple(
        (f, f.column, f.attname, type(f).pre_save is not models.Field.pre_save
         or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
        for f in model._meta.concrete_fields if with_pk or not f.primary_key)


def _json_ready(field: models.Field, value):
    """A value as its column reads it from JSON: times exact to the microsecond (the JSON
    encoder would cut them to milliseconds), amounts as written; a JSON field's value as
    Django's own encoder writes it."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        if field.encoder not in (None, DjangoJSONEncoder):
            raise ValueError(f"{field} has its own encoder")
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    raise TypeError(f"{field}: {type(value).__name__} has no JSON form here")
