"""One visibility rule per model, and the check that pages and endpoints go through it.

Every model a page or endpoint serves has one queryset method, ``restrict(user, action)``
(NetBox's pattern), on a queryset class derived from ``RestrictedQuerySet``. Each call of a
rule is noted for the HTTP request being served. A page declares the models it serves with
``@serves(Model, …)`` (``kit.web``); an endpoint derives from the base classes of
``kit.api_views``. With ``settings.SRM_CHECK_RULES`` on (tests, development), a page or
endpoint that answered without asking the rule of a model it serves is an error, and
``tests/web/test_every_view_restricts.py`` walks every URL pattern and API route and fails on
one that declares nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

# The rules asked while serving the current HTTP request: {(model label, action)}; None when
# no page or endpoint is being served (services, tasks, the shell).
_asked: ContextVar[set[tuple[str, str]] | None] = ContextVar("srm_rules_asked", default=None)
# What the rules remember while one HTTP request is served (a person's role ids, the rules
# built from them); None elsewhere. See ``request_memo``.
_memo: ContextVar[dict | None] = ContextVar("srm_rules_memo", default=None)

# Keyword arguments of a rule whose answer may be remembered (not a model instance).
_PLAIN = (bool, int, str, type(None))


class RestrictedQuerySet(models.QuerySet):
    """The base of every queryset with a visibility rule. A subclass defines
    ``restrict(self, user, action="view", …)``; its calls are noted for ``serves``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        rule = cls.__dict__.get("restrict")
        if rule is None or getattr(rule, "_srm_noted", False):
            return

        @functools.wraps(rule)
        def restrict(self, user, action: str = "view", *args, **kw):
            asked = _asked.get()
            if asked is not None:
                asked.add((self.model._meta.label, action))
            memo = _memo.get()
            if memo is None or args or not _unnarrowed(self) \
                    or not all(isinstance(v, _PLAIN) for v in kw.values()):
                return rule(self, user, action, *args, **kw)
            # Asked of the whole table: the same rule for the same person is built once per
            # HTTP request, and each caller gets its own copy to narrow.
            key = ("rule", type(self), getattr(user, "pk", None), action,
                   tuple(sorted(kw.items())))
            built = memo.get(key)
            if built is None:
                built = memo[key] = rule(self, user, action, *args, **kw)
            return built.all()

        restrict._srm_noted = True
        cls.restrict = restrict

    def restrict(self, user, action: str = "view"):  # pragma: no cover - always overridden
        raise NotImplementedError(f"{self.model.__name__} has no visibility rule")


def _unnarrowed(queryset: models.QuerySet) -> bool:
    """``queryset`` is its model's manager's, untouched (``Model.objects.restrict(…)``)."""
    query = queryset.query
    return (not query.where and query.group_by is None and not query.annotations
            and not query.select_related and not query.order_by and not query.distinct
            and not query.extra and not query.values_select
            and not query.combinator and query.low_mark == 0 and query.high_mark is None
            and not query.select_for_update and query.deferred_loading == (frozenset(), True)
            and not queryset._prefetch_related_lookups and queryset._fields is None
            and queryset._iterable_class is models.query.ModelIterable
            and queryset._db is None and queryset._result_cache is None)


def request_memo() -> dict | None:
    """What the rules remember while the current HTTP request is served (a person's role
    ids, the rules built from them), or None when none is being served: services, tasks and
    the shell build every rule anew."""
    return _memo.get()


def note_asked(model: type[models.Model], action: str) -> None:
    """For a rule's companion that answers with ids instead of a queryset
    (``accountability.scope.department_ids_in_scope``): note the rule as asked."""
    note_label_asked(model._meta.label, action)


def note_label_asked(label: str, action: str) -> None:
    asked = _asked.get()
    if asked is not None:
        asked.add((label, action))


@contextmanager
def rules_aside() -> Iterator[set[tuple[str, str]]]:
    """Rules asked and remembered apart from the HTTP request being served (a statement built
    once for many people, from stand-ins: ``kit.reads.Prepared``): yields the rules asked
    inside, and what they remember there is forgotten on leaving."""
    asked: set[tuple[str, str]] = set()
    token, memo_token = _asked.set(asked), _memo.set({})
    try:
        yield asked
    finally:
        _memo.reset(memo_token)
        _asked.reset(token)


def has_rule(model: type[models.Model]) -> bool:
    return isinstance(model._default_manager.all(), RestrictedQuerySet)


class Serving:
    """Notes the rules asked while serving one HTTP request (a context manager)."""

    def __init__(self, models_served: Iterable[type[models.Model]], where: str):
        self.set_models(models_served, where)

    def set_models(self, models_served: Iterable[type[models.Model]], where: str) -> None:
        self.models = tuple(models_served)
        self.where = where
        for model in self.models:
            if not has_rule(model):
                raise ImproperlyConfigured(f"{where} serves {model.__name__}, which has no "
                                           "restrict() rule (derive its queryset from "
                                           "kit.rules.RestrictedQuerySet)")

    def __enter__(self) -> Serving:
        self.asked: set[tuple[str, str]] = set()
        self._token = _asked.set(self.asked)
        self._memo_token = _memo.set({})
        return self

    def __exit__(self, *exc) -> None:
        _memo.reset(self._memo_token)
        _asked.reset(self._token)

    def check(self, status_code: int) -> None:
        """An answer with a body (2xx) must have asked the rule of every model it serves; a
        redirect or an error shows no rows."""
        if not getattr(settings, "SRM_CHECK_RULES", False) or not 200 <= status_code < 300:
            return
        labels = {label for label, _ in self.asked}
        missing = [m.__name__ for m in self.models if m._meta.label not in labels]
        if missing:
            raise ImproperlyConfigured(
                f"{self.where} answered {status_code} without asking the visibility rule of "
                f"{', '.join(missing)}: read them through Model.objects.restrict(user, …)")


def rules_asked() -> frozenset[tuple[str, str]]:
    """The rules asked so far for the HTTP request being served (for tests)."""
    return frozenset(_asked.get() or ())
