"""Fuzzing: no input makes SRM answer 500.

As each role of the demo, every form of every page (its fields found in the HTML the person
is served, CSRF token and hidden fields included) and every parameter and body property of
every API operation (found in the OpenAPI schema) receives hostile values one field at a
time: random Unicode (astral, right-to-left, combining marks), NUL and other control
characters, overlong text, lone surrogates, extreme numbers and dates, markup. Every answer
must be below 500.

The run is reproducible: a fixed seed (``SRM_FUZZ_SEED``, default 16) and, in CI, one round
of values (a few hundred requests per role, well under two minutes in all). A longer run:
``SRM_FUZZ_ROUNDS=20 pytest tests/security/test_fuzz.py`` (each round draws new values for
every field, and also sends every field of a form fuzzed at once).
"""

from __future__ import annotations

import json
import os
import random
import re
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tests.security.pages import ROLES, demo_objects, urls

SEED = int(os.environ.get("SRM_FUZZ_SEED", "16"))
ROUNDS = int(os.environ.get("SRM_FUZZ_ROUNDS", "1"))

# Forms whose submission would end the session being fuzzed, or change who it belongs to.
SKIP_ACTIONS = ("/accounts/logout/", "/accounts/password_change/", "/accounts/login/")


# --- Values ------------------------------------------------------------------------------------
def _random_unicode(rng: random.Random, length: int) -> str:
    ranges = [(0x20, 0x7E), (0xA0, 0x2FF), (0x300, 0x36F), (0x590, 0x6FF), (0x2000, 0x206F),
              (0x4E00, 0x4FFF), (0xFE00, 0xFE0F), (0xFFF0, 0xFFFF), (0x1F300, 0x1F6FF),
              (0x10000, 0x10FFFF)]
    out = []
    for _ in range(length):
        low, high = rng.choice(ranges)
        out.append(chr(rng.randint(low, high)))
    return "".join(out)


def fuzz_value(rng: random.Random, *, json_body: bool = False) -> object:
    """One hostile value. In a JSON body also lone surrogates and values of the wrong type."""
    kinds = [
        lambda: _random_unicode(rng, rng.randint(1, 40)),
        lambda: "a\x00b",
        lambda: "\x00",
        lambda: "".join(chr(rng.randint(1, 31)) for _ in range(rng.randint(1, 8))) + "x",
        lambda: "line\r\nInjected-Header: 1\x1b[31m\x7f\x85\u2028",
        lambda: "x" * rng.choice([256, 1_001, 20_001, 300_000]),
        lambda: _random_unicode(rng, 5_000),
        lambda: rng.choice(["9999999999.995", "-1", "0", "1e309", "NaN", "-0.0", "١٢٣",
                            "99999999999999999999999999", "0x10", "1,5", "€ 12", "Infinity"]),
        lambda: rng.choice(["0000-00-00", "9999-12-31", "2026-02-30", "31/12/2026",
                            "-000001-01-01", "2026-13-01T25:61:61Z"]),
        lambda: rng.choice(["<script>alert(1)</script>", "' OR 1=1 --", "{{7*7}}", "%00",
                            "../../etc/passwd", "=HYPERLINK(\"http://x\")", "SR-2026-000001",
                            "", " ", "\u202eevil"]),
    ]
    if json_body:
        kinds += [
            lambda: "a\ud800b",
            lambda: rng.choice([None, True, 12, -1, 1e308, [], {}, ["x"], {"a": "\x00"},
                                [[[[[]]]]], 2**70]),
        ]
    return rng.choice(kinds)()


# --- Forms of a page ---------------------------------------------------------------------------
class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get")
                          .lower(), "fields": {}, "names": []}
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if name not in form["names"]:
                form["names"].append(name)
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            form["fields"].setdefault(name, a.get("value") or ("on" if kind == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
            form["names"].append(name)
        elif tag == "option" and self._select:
            if self._select not in form["fields"] or "selected" in a:
                form["fields"][self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            form["names"].append(name)
            form["fields"][name] = ""

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str, url: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    found = []
    for form in parser.forms:
        action = urljoin(url, form["action"]) if form["action"] else url
        form["action"] = urlsplit(action).path + (f"?{urlsplit(action).query}"
                                                  if urlsplit(action).query else "")
        if form["names"] and not form["action"].startswith(SKIP_ACTIONS):
            found.append(form)
    return found


# --- The runs ----------------------------------------------------------------------------------
class Failures(list):
    def check(self, response, what: str) -> None:
        if response.status_code >= 500:
            self.append(f"{response.status_code} {what}")


def _send_form(client: Client, form: dict, data: dict, failures: Failures) -> None:
    what = f"{form['method'].upper()} {form['action']} {_short(data)}"
    if form["method"] == "post":
        response = client.post(form["action"], data)
    else:
        response = client.get(form["action"].split("?")[0], data)
    failures.check(response, what)


def _short(data) -> str:
    text = json.dumps(data, ensure_ascii=True, default=str)
    return text if len(text) < 300 else text[:300] + "…"


def fuzz_pages(client: Client, user, values: dict, rng: random.Random) -> tuple[int, Failures]:
    failures, sent, seen = Failures(), 0, set()
    for url in urls(values, api=False):
        if url.startswith(SKIP_ACTIONS):
            continue
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        for form in forms_of(response.content.decode(), url):
            key = (form["method"], re.sub(r"\d+", "N", form["action"]), tuple(form["names"]))
            if key in seen:
                continue  # the same form on another row or page
            seen.add(key)
            for round_ in range(ROUNDS):
                for name in form["names"]:
                    if name == "csrfmiddlewaretoken":
                        continue
                    data = {**form["fields"], name: fuzz_value(rng)}
                    _send_form(client, form, data, failures)
                    sent += 1
                if round_:  # longer runs: everything at once too
                    data = {**form["fields"], **{n: fuzz_value(rng) for n in form["names"]
                                                 if n != "csrfmiddlewaretoken"}}
                    _send_form(client, form, data, failures)
                    sent += 1
    return sent, failures


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema.get("components", {}).get("schemas", {})

    def properties(body: dict) -> list[str]:
        content = body.get("content", {}).get("application/json", {}).get("schema", {})
        if "$ref" in content:
            content = components[content["$ref"].rsplit("/", 1)[1]]
        return list(content.get("properties", {}))

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            params = [(p["name"], p["in"]) for p in operation.get("parameters", [])]
            yield method, path, params, properties(operation.get("requestBody", {}))


def fuzz_api(client: Client, values: dict, rng: random.Random) -> tuple[int, Failures]:
    failures, sent = Failures(), 0
    real = {"reference": values["reference"], "id": values["pk"], "code": "laptop",
            "uuid": "00000000-0000-0000-0000-000000000000"}
    for method, path, params, body in _operations():
        def url(path_values, query=None, path=path):
            out = re.sub(r"\{(\w+)\}", lambda m: str(path_values.get(m.group(1), "x")), path)
            return out + ("?" + urlencode(query) if query else "")

        for _ in range(ROUNDS):
            # Each path parameter fuzzed (encoded into the path), the others real.
            for name, where in params:
                value = str(fuzz_value(rng))[:2_000]
                if where == "path":
                    target = url({**real, name: value.replace("/", "%2F")})
                    query = None
                elif where == "query":
                    target, query = url(real), {name: value}
                else:
                    continue
                if method == "get":
                    response = client.get(target, query)
                else:
                    response = client.post(target, json.dumps({}), content_type="application/json")
                failures.check(response, f"{method.upper()} {target} {_short(query)}")
                sent += 1
            # Each body property fuzzed, then all of them, in JSON (raw: lone surrogates too).
            if method != "get" and body:
                for name in [*body, None]:
                    data = ({name: fuzz_value(rng, json_body=True)} if name
                            else {n: fuzz_value(rng, json_body=True) for n in body})
                    raw = json.dumps(data, ensure_ascii=True)
                    response = client.post(url(real), raw, content_type="application/json")
                    failures.check(response, f"POST {url(real)} {_short(data)}")
                    sent += 1
    return sent, failures


@pytest.mark.postgres
@pytest.mark.parametrize("who", ROLES)
def test_no_input_on_any_page_or_endpoint_is_a_500(org, submit, who):
    rng = random.Random(f"{SEED}-{who}")
    values = demo_objects(org, submit)
    user = getattr(org, who)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    pages_sent, page_failures = fuzz_pages(client, user, values, rng)
    api_sent, api_failures = fuzz_api(client, values, rng)
    failures = page_failures + api_failures
    print(f"{who}: {pages_sent} form posts, {api_sent} API calls")
    assert pages_sent >= 15 and api_sent >= 50, (pages_sent, api_sent)
    assert not failures, f"{len(failures)} answers ≥ 500 (seed {SEED}):\n" + "\n".join(
        failures[:40])
