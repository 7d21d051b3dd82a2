"""The security headers are on every response: every page and endpoint of the demo, as each
role and signed out, error pages included."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.security.pages import ROLES, demo_objects, urls

POLICY = ("default-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'",
          "form-action 'self'")


def assert_secure_headers(response, url: str) -> None:
    csp = response.get("Content-Security-Policy", "")
    for directive in POLICY:
        assert directive in csp, f"{url}: {directive!r} missing from {csp!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, (url, csp)
    assert "script-src 'self'" in csp and "style-src 'self'" in csp, (url, csp)
    assert response.get("X-Frame-Options") == "DENY", url
    assert response.get("X-Content-Type-Options") == "nosniff", url
    assert response.get("Referrer-Policy") == "same-origin", url
    if response.get("Content-Type", "").startswith("text/html"):
        assert response.get("Cross-Origin-Opener-Policy") == "same-origin", url


@pytest.mark.parametrize("who", [*ROLES, None])
def test_every_response_carries_the_security_headers(org, submit, who):
    values = demo_objects(org, submit)
    client = Client()
    if who:
        client.force_login(getattr(org, who))
    answered = 0
    for url in urls(values):
        if url.startswith("/accounts/logout"):
            continue
        response = client.get(url)
        assert_secure_headers(response, url)
        if response.get("Content-Type", "").startswith("text/html"):
            assert b"{#" not in response.content and b"{%" not in response.content, (
                f"{url}: template syntax shown as text")
        answered += 1
    assert answered > 40


def test_error_pages_and_the_api_carry_them_too(org):
    client = Client()
    assert_secure_headers(client.get("/no-such-page/"), "404")
    client.force_login(org.alice)
    assert_secure_headers(client.get("/portal/requests/SR-1999-000001/"), "404 signed in")
    assert_secure_headers(client.get("/api/v1/requests/"), "API list")
    assert_secure_headers(client.post("/api/v1/requests/", "{", content_type="application/json"),
                          "API 400")


def test_a_page_with_an_inline_script_would_need_the_nonce(rf):
    """Any inline script must carry the response's nonce, which the policy then names."""
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    def view(request):
        return HttpResponse(f'<script nonce="{request.csp_nonce}">1</script>')

    request = rf.get("/")
    middleware = CSPMiddleware(view)
    response = middleware(request)
    nonce = str(request._csp_nonce)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert f'nonce="{nonce}"' in response.content.decode()


def test_no_page_template_has_an_inline_script_style_or_handler():
    """Scripts and styles come from static files; an inline one needs the nonce
    (``nonce="{{ request.csp_nonce }}"``). E-mail bodies are not pages and keep inline styles."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    inline = re.compile(r"<script(?![^>]*\b(?:src|nonce)=)(?![^>]*application/json)[^>]*>"
                        r"|<style(?![^>]*\bnonce=)[^>]*>|\sstyle=|\son[a-z]+=|javascript:", re.I)
    offenders = []
    for path in [*root.glob("templates/**/*.html"), *root.glob("*/templates/**/*.html")]:
        if "email" in path.name or path.name == "error_base.html" or ".venv" in path.parts or "node_modules" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if inline.search(line):
                offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_the_error_pages_style_is_allowed_by_its_hash(settings):
    import base64
    import hashlib
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "templates" / "error_base.html").read_text()
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(styles) == 1
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"], (
        "templates/error_base.html's style changed: put its new hash into CONTENT_SECURITY_POLICY")
