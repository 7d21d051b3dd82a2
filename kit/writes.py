"""Writing several rows' changed fields in one round trip."""

from __future__ import annotations

from django.db import DatabaseError, connection, models


def save_together(*changes: tuple[models.Model, list[str]]) -> None:
    """``instance.save(update_fields=fields)`` for each ``(instance, fields)``, in that order:
    one statement on PostgreSQL (an ``UPDATE`` per row in a ``WITH``), one each elsewhere.
    Like ``save(update_fields=…)``, raises ``DatabaseError`` when a row is not there."""
    if connection.vendor != "postgresql":
        for instance, fields in changes:
            instance.save(update_fields=fields)
        return
    quote = connection.ops.quote_name
    parts, params = [], []
    for instance, fields in changes:
        meta = instance._meta
        sets = []
        for name in fields:
            field = meta.get_field(name)
            sets.append(f"{quote(field.column)} = %s")
            params.append(field.get_db_prep_save(field.pre_save(instance, False), connection))
        params.append(meta.pk.get_db_prep_value(instance.pk, connection))
        parts.append(f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} "
                     f"WHERE {quote(meta.pk.column)} = %s RETURNING 1")
    names = [f"u{n}" for n in range(len(parts))]
    sql = ("WITH " + ", ".join(f"{name} AS ({part})" for name, part in zip(names, parts, strict=True))
           + " SELECT " + ", ".join(f"(SELECT count(*) FROM {name})" for name in names))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = cursor.fetchone()
    if not all(counts):
        raise DatabaseError("Save with update_fields did not affect any rows.")
