"""The admin speaks the reader's language down to its field labels: every field of every model
the admin shows (and its inlines) carries a translatable label with a German translation, so
no label falls back to the English field name."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib import admin
from django.utils import translation
from django.utils.functional import Promise

from kpis.models import OutcomeKPI


def _shown_models() -> list:
    models = set()
    for model, model_admin in admin.site._registry.items():  # noqa: SLF001 - the registry
        models.add(model)
        models.update(inline.model for inline in model_admin.inlines)
    return sorted(models, key=lambda model: model._meta.label)


def _german_catalog():
    return translation.trans_real.translation("de")._catalog  # noqa: SLF001 - the merged table


def test_every_field_the_admin_shows_has_a_german_label():
    catalog = _german_catalog()
    problems = []
    for model in _shown_models():
        for field in [*model._meta.concrete_fields, *model._meta.many_to_many]:
            if field.auto_created:
                continue
            where = f"{model._meta.label}.{field.name}"
            label = field.verbose_name
            if not isinstance(label, Promise):
                problems.append(f"{where}: verbose_name {label!r} is not marked for translation")
                continue
            msgid = label._args[0]  # noqa: SLF001 - the English of a lazy translation
            if not catalog.get(msgid):
                problems.append(f"{where}: no German for {msgid!r}")
    assert not problems, "Admin labels:\n" + "\n".join(problems)


def test_the_checker_sees_a_label_without_german():
    assert not _german_catalog().get("no such label anywhere")
    assert _german_catalog().get("baseline") == "Ausgangswert"


def _labels(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", text)).strip().rstrip(":")
            for text in re.findall(r"<label[^>]*>(.*?)</label>", page, re.S)]


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "expected"), [
    ("de", ["Name", "Beschreibung", "Einheit", "Richtung", "Ausgangswert", "Zielwert",
            "Zuständige Abteilung", "Messgröße"]),
    ("en", ["Name", "Description", "Unit", "Direction", "Baseline", "Target",
            "Owner department", "Measure"]),
])
def test_the_admin_change_form_labels_its_fields_in_the_readers_language(org, client, language,
                                                                         expected):
    org.admin.language = language
    org.admin.save(update_fields=["language"])
    client.force_login(org.admin)
    kpi = OutcomeKPI.objects.order_by("pk").first()
    page = client.get(f"/admin/kpis/outcomekpi/{kpi.pk}/change/")
    assert page.status_code == 200
    labels = _labels(page.content.decode())
    assert set(expected) <= set(labels), labels
