"""Model instances from hand-written statements, for the hot paths whose statements are
built once per process instead of through the ORM's query compiler on every call (building
a query with its joins costs more CPU than running it). The values go through the same
converters the ORM applies, so the instances are those a queryset would give."""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Sequence
from datetime import date, time, timedelta
from functools import lru_cache

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, models
from django.db.models.query import MAX_GET_RESULTS

from kit.rules import note_label_asked, rules_aside


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


# --- One row through a queryset compiled once per shape ---------------------------------------
# Stand-ins for a call's values while a shape's statement is built: numbers no id reaches
# (and within every integer column's range, so no lookup refuses them), and text no value has.
_STAND_IN_NUMBER = -2_000_000_000
_STAND_IN_MARK = "\x1esrm-value-"
_STAND_IN_TEXT = _STAND_IN_MARK + "{}\x1e"
_INT32 = range(-(2**31), 2**31)


class NotPrepared(Exception):
    """Raised by a ``Prepared`` build that cannot stand in for its shape: the plain queryset
    answers for that shape."""


class Prepared:
    """``build(shape, values).get()``'s row without building and compiling the queryset on
    every call: the statement is compiled once per process for each *shape* (what changes its
    SQL text: the caller's ``shape``, and which of ``values`` are equal to which) and run again
    with the call's values where the shape's had its own.

    ``values`` is a nested tuple of ints and strings (ids, a reference, a primary key). The
    first call of a shape builds the queryset from stand-ins for them (distinct for distinct
    values, equal for equal ones: a rule that merges two equal id lists merges the stand-ins
    too), compiles it as ``get()`` would, and notes where each stand-in sits among the
    statement's parameters; a stand-in anywhere else (in the SQL text, inside a parameter) or a
    date among the parameters (a rule that reads the clock) leaves the shape to the plain
    queryset. The rows become instances through Django's own iterable, with the compiled
    statement's columns, converters and related objects. The rules the build asked
    (``kit.rules``) are noted again on every call."""

    def __init__(self, build: Callable[[Hashable, tuple], models.QuerySet], *,
                 shapes: int = 512):
        self._build = build
        self._statements: dict = {}
        self._shapes = shapes

    def get(self, shape: Hashable, values: tuple) -> models.Model:
        slots: dict = {}
        flat: list = []
        pattern = _pattern(values, slots, flat)
        if pattern is None:
            return _plain_get(self._build(shape, values))
        key = (shape, pattern)
        statement = self._statements.get(key)
        if statement is None:
            if len(self._statements) >= self._shapes:
                self._statements.clear()
            statement = self._statements[key] = self._prepare(shape, pattern, len(flat))
        if statement is _PLAIN:
            return _plain_get(self._build(shape, values))
        return statement.get(flat)

    def _prepare(self, shape: Hashable, pattern: tuple, count: int):
        stand_ins = [None] * count
        values = _stand_ins(pattern, stand_ins)
        with rules_aside() as asked:
            try:
                queryset = _as_get(self._build(shape, values))
                compiler = queryset.query.get_compiler(using=queryset.db)
                sql, params = compiler.as_sql()
            except (NotPrepared, EmptyResultSet):
                return _PLAIN
        if any(str(v) in sql for v in stand_ins):
            return _PLAIN
        slots = {v: slot for slot, v in enumerate(stand_ins)}
        marks = []
        for param in params:
            mark = _mark(param, slots)
            if mark is None:
                return _PLAIN
            marks.append(mark)
        return _Statement(queryset, compiler, sql, tuple(marks), frozenset(asked))


class _Statement:
    def __init__(self, queryset, compiler, sql: str, marks: tuple, asked: frozenset):
        self.model = queryset.model
        self.db = queryset.db
        self.compiler = compiler
        self.sql = sql
        self.marks = marks
        self.asked = asked

    def get(self, values: list) -> models.Model:
        for label, action in self.asked:
            note_label_asked(label, action)
        params = tuple(value if slot is None else values[slot] if wrap is None
                       else wrap(values[slot]) for slot, wrap, value in self.marks)
        compiler = copy.copy(self.compiler)
        compiler.connection = connections[self.db]
        compiler.as_sql = lambda *args, **kwargs: (self.sql, params)
        rows = models.QuerySet(model=self.model, query=_Compiled(compiler), using=self.db)
        num = len(rows)
        if num == 1:
            return rows[0]
        if not num:
            raise self.model.DoesNotExist(
                f"{self.model._meta.object_name} matching query does not exist.")
        raise self.model.MultipleObjectsReturned(
            f"get() returned more than one {self.model._meta.object_name} -- it returned "
            f"{num if num < MAX_GET_RESULTS else f'more than {MAX_GET_RESULTS - 1}'}!")


class _Compiled:
    """A compiled query as ``QuerySet`` iterates one: its compiler."""

    def __init__(self, compiler):
        self._compiler = compiler

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler


_PLAIN = object()  # a shape left to the plain queryset


def _as_get(queryset: models.QuerySet) -> models.QuerySet:
    """``queryset`` as ``QuerySet.get()`` reads it: unordered, at most ``MAX_GET_RESULTS``."""
    if queryset.query.can_filter() and not queryset.query.distinct_fields:
        queryset = queryset.order_by()
    else:
        queryset = queryset._chain()
    if (not queryset.query.select_for_update
            or connections[queryset.db].features.supports_select_for_update_with_limit):
        queryset.query.set_limits(high=MAX_GET_RESULTS)
    return queryset


def _plain_get(queryset: models.QuerySet) -> models.Model:
    return queryset.get()


def _pattern(values, slots: dict, flat: list):
    """``values`` with each int or string replaced by its slot (the same for equal values),
    the distinct values in ``flat``; None for a value a stand-in cannot take the place of."""
    found = []
    for value in values:
        if type(value) is tuple:
            inner = _pattern(value, slots, flat)
            if inner is None:
                return None
            found.append(inner)
            continue
        kind = type(value)
        if not ((kind is int and value in _INT32) or kind is str):
            return None
        slot = slots.get((kind, value))
        if slot is None:
            slot = slots[(kind, value)] = len(flat)
            flat.append(value)
        found.append((kind is int, slot))
    return tuple(found)


def _stand_ins(pattern: tuple, stand_ins: list) -> tuple:
    found = []
    for part in pattern:
        if not part or type(part[0]) is not bool:
            found.append(_stand_ins(part, stand_ins))
            continue
        number, slot = part
        stand_ins[slot] = _STAND_IN_NUMBER + slot if number else _STAND_IN_TEXT.format(slot)
        found.append(stand_ins[slot])
    return tuple(found)


def _mark(param, slots: dict):
    """``(slot, wrap, None)`` for a parameter that is a stand-in (``wrap``: the type the
    backend gave the value, as ``Int8``), ``(None, None, param)`` for one that is not, None
    for one that holds a stand-in or a date (the shape cannot be reused)."""
    if isinstance(param, bool) or param is None:
        return None, None, param
    if isinstance(param, int):
        slot = slots.get(int(param))
        return (None, None, param) if slot is None else (
            slot, None if type(param) is int else type(param), None)
    if isinstance(param, str):
        slot = slots.get(str.__str__(param))
        if slot is not None:
            return slot, None if type(param) is str else type(param), None
        return None if _STAND_IN_MARK in param else (None, None, param)
    if isinstance(param, (date, time, timedelta)):
        return None
    if isinstance(param, (list, tuple, set, frozenset, dict)):
        return None if any(_mark(v, slots) != (None, None, v) for v in param) else (
            None, None, param)
    return None, None, param
