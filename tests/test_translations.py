"""Every word a person reads is translatable and translated: (a) the templates of the checked
directories have no visible text outside the translate tags; (b) makemessages finds no string
that the committed German catalogs lack, and no German entry is missing or fuzzy; (c) each
compiled .mo says what its .po says (make run reads the .mo and needs no gettext)."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

ROOT = Path(settings.BASE_DIR)

# Template directories whose every visible word must be in {% translate %} or
# {% blocktranslate %}. The apps' own template directories join as they are translated.
CHECKED_TEMPLATE_DIRS = [ROOT / "templates", ROOT / "requests_app" / "templates",
                         ROOT / "approvals" / "templates", ROOT / "governance" / "templates"]

# The German catalogs checked: the root one (templates/, srm/, kit/) and each app's own catalog
# once it is complete (its directory added here, beside its templates above).
CHECKED_LOCALE_DIRS = [ROOT / "locale", *(ROOT / app / "locale" for app in (
    "requests_app", "approvals", "governance", "kpis", "accountability", "operations"))]

# Not language: the product's name and the abbreviations the glossary defines.
NOT_LANGUAGE = {"SRM", "OLA", "p90", "L1", "L2", "L3"}

_SKIPPED_BLOCKS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans",
                   "comment": "endcomment", "verbatim": "endverbatim"}
_ATTRIBUTES = re.compile(r"\b(title|placeholder|aria-label|alt|data-label)\s*=\s*([\"'])(.*?)\2",
                         re.S)
_WORD = re.compile(r"[^\W\d_]{2,}")
_PLACEHOLDER = "\u2060"  # where the template engine puts a value or a tag's output


def _skeleton(source: str) -> str:
    """The template with every tag and variable replaced by a placeholder and the text of
    translate blocks and comments dropped; line breaks are kept so lines still count."""
    parts, closing = [], None
    for token in Lexer(source).tokenize():
        lines = "\n" * token.contents.count("\n")
        words = token.contents.split()
        if closing:
            if token.token_type == TokenType.BLOCK and words[:1] == [closing]:
                closing = None
            parts.append(lines)
        elif token.token_type == TokenType.TEXT:
            parts.append(token.contents)
        else:
            if token.token_type == TokenType.BLOCK and words and words[0] in _SKIPPED_BLOCKS:
                closing = _SKIPPED_BLOCKS[words[0]]
            parts.append(_PLACEHOLDER + lines)
    return "".join(parts)


def _has_words(text: str) -> bool:
    return any(word not in NOT_LANGUAGE for word in _WORD.findall(re.sub(r"&#?\w+;", " ", text)))


def untranslated(source: str) -> list[tuple[int, str]]:
    """(line, text) of every visible text outside the translate tags."""
    def blank(match: re.Match) -> str:
        return "\n" * match.group().count("\n")

    text = re.sub(r"<!--.*?-->", blank, _skeleton(source), flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", blank, text, flags=re.S | re.I)
    found = [(text.count("\n", 0, m.start()) + 1, f'{m.group(1)}="{m.group(3)}"')
             for m in _ATTRIBUTES.finditer(text) if _has_words(m.group(3))]
    text = re.sub(r"<[^>]*>", blank, text, flags=re.S)
    found += [(number, line.strip().replace(_PLACEHOLDER, "…"))
              for number, line in enumerate(text.split("\n"), 1) if _has_words(line)]
    return sorted(found)


def _templates() -> list[Path]:
    return sorted(path for folder in CHECKED_TEMPLATE_DIRS for path in folder.rglob("*")
                  if path.suffix in (".html", ".txt"))


def test_the_checker_sees_text_outside_the_tags_and_nothing_else():
    assert untranslated('{% load i18n %}<p title="{% translate \'Due\' %}">'
                        "{% translate \"Due\" %} {{ when }} SRM · p90</p>") == []
    assert untranslated("{% blocktranslate %}Due {{ when }}{% endblocktranslate %}"
                        "{# a note #}<!-- a comment --><script>let a = 'x';</script>") == []
    assert untranslated('<p>\n<a href="/x" aria-label="Open it">Due</a>\n</p>') == [
        (2, "Due"), (2, 'aria-label="Open it"')]
    assert untranslated("<td data-label=\"Cost\">{{ x }} &nbsp; overdue</td>") == [
        (1, 'data-label="Cost"'), (1, "… &nbsp; overdue")]


def test_every_visible_word_of_the_checked_templates_is_marked_for_translation():
    problems = [f"{path.relative_to(ROOT)}:{line}: {text}" for path in _templates()
                for line, text in untranslated(path.read_text(encoding="utf-8"))]
    assert not problems, "Text outside {% translate %}:\n" + "\n".join(problems)


# --- The catalogs -------------------------------------------------------------------------------

def parse_po(path: Path) -> dict[str, dict]:
    """{msgid (with its context): {"plural": bool, "strings": [...], "fuzzy": bool}} of a .po."""
    entries: dict[str, dict] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.strip().split("\n") if line and not line.startswith("#~")]
        fields: dict[str, str] = {}
        key = None
        for line in lines:
            if line.startswith("#"):
                continue
            match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line)
            if match:
                key = match.group(1)
                fields[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                fields[key] += ast.literal_eval(line)
        if not fields.get("msgid"):
            continue
        name = (fields["msgctxt"] + "\x04" if "msgctxt" in fields else "") + fields["msgid"]
        entries[name] = {
            "plural": "msgid_plural" in fields,
            "strings": [v for k, v in sorted(fields.items()) if k.startswith("msgstr")],
            "fuzzy": any(line.startswith("#,") and "fuzzy" in line for line in lines),
        }
    return entries


def _catalogs(root: Path = ROOT) -> list[Path]:
    return [root / folder.relative_to(ROOT) / "de" / "LC_MESSAGES" / "django.po"
            for folder in CHECKED_LOCALE_DIRS]


def _checked_apps() -> list[str]:
    return [folder.relative_to(ROOT).parts[0] for folder in CHECKED_LOCALE_DIRS
            if folder != ROOT / "locale"]


def test_makemessages_finds_nothing_the_catalogs_lack(tmp_path):
    """makemessages over a copy of the tree: every string of the root templates, srm/, kit/
    and each checked app must already be in its committed catalog."""
    copy = tmp_path / "tree"
    ignored = shutil.ignore_patterns(".venv", "node_modules", "static", "var", ".git", "tests",
                                     "__pycache__", "*.mo", "*.png", "*.jpg", "*.xlsx")
    shutil.copytree(ROOT, copy, ignore=ignored)
    apps = _checked_apps()
    skip = [folder.name for folder in copy.iterdir() if folder.is_dir()
            and folder.name not in {"templates", "srm", "kit", "locale", *apps}]
    # Patterns with a slash, so that templates/<app>/ is not taken for the app itself.
    ignore = [f"--ignore={name}/*.{ext}" for name in skip for ext in ("py", "html", "txt")]
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "de", "--no-obsolete",
                    *ignore], cwd=copy, check=True, capture_output=True, timeout=120)
    missing = []
    for fresh in _catalogs(copy):
        committed = ROOT / fresh.relative_to(copy)
        assert fresh.exists(), f"makemessages wrote no {committed.relative_to(ROOT)}"
        known = parse_po(committed) if committed.exists() else {}
        missing += [f"{committed.relative_to(ROOT)}: {msgid!r}"
                    for msgid in parse_po(fresh) if msgid not in known]
    assert not missing, "Run make messages and translate:\n" + "\n".join(missing)


@pytest.mark.parametrize("catalog", _catalogs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_german_entry_is_translated_and_none_is_fuzzy(catalog):
    entries = parse_po(catalog)
    assert entries
    bad = [msgid for msgid, entry in entries.items()
           if entry["fuzzy"] or not all(entry["strings"])]
    assert not bad, f"Untranslated or fuzzy in {catalog.relative_to(ROOT)}:\n" + "\n".join(bad)


@pytest.mark.parametrize("catalog", _catalogs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_compiled_catalog_says_what_the_po_says(catalog):
    compiled = catalog.with_suffix(".mo")
    assert compiled.exists(), f"{compiled.relative_to(ROOT)} is missing: run make messages"
    with compiled.open("rb") as handle:
        mo = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001 - the raw table
    for msgid, entry in parse_po(catalog).items():
        if entry["plural"]:
            got = [mo.get((msgid, n)) for n in range(len(entry["strings"]))]
        else:
            got = [mo.get(msgid)]
        assert got == [text or None for text in entry["strings"]], f"{compiled.relative_to(ROOT)} is stale for {msgid!r}"
    # No translation the .po no longer has.
    ids = {key if isinstance(key, str) else key[0] for key in mo if key}
    assert ids <= set(parse_po(catalog)), f"{compiled.relative_to(ROOT)} is stale"
