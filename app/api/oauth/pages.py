"""The HTML pages of the built-in sign-in (login, activation): one style, no script, strict headers.

Each page loads nothing from elsewhere and runs no script; its one style is allowed by hash in the
Content-Security-Policy, and it may not be framed.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from app.api.oauth.forms import NO_STORE

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
# The page's only style, allowed by hash in the CSP: no inline script, nothing loaded from elsewhere.
LOGIN_CSS = (
    "body{font-family:system-ui,sans-serif;background:#f4f6f8;color:#1d2733;margin:0;padding:2rem 1rem}"
    "main{max-width:24rem;margin:0 auto;background:#fff;border-radius:.5rem;padding:1.5rem 2rem}"
    "h1{font-size:1.35rem;margin:0 0 .5rem}p{line-height:1.4}"
    "label{display:block;margin:1rem 0 .25rem;font-weight:600}"
    "input{box-sizing:border-box;width:100%;padding:.6rem;font-size:1rem;border:1px solid #8a96a3}"
    "button{margin-top:1.25rem;width:100%;padding:.7rem;font-size:1rem;border:0;background:#0b5cad;"
    "color:#fff;cursor:pointer}.error{background:#fdecea;border-left:4px solid #b3261e;padding:.6rem}"
    ".muted{color:#56616d;font-size:.9rem}"
)
_CSS_HASH = "sha256-" + base64.b64encode(hashlib.sha256(LOGIN_CSS.encode()).digest()).decode()


def page(
    template: str,
    status: int,
    *,
    form_action: str = "'self'",
    headers: dict[str, str] | None = None,
    **ctx: Any,
) -> HTMLResponse:
    html = _templates.get_template(template).render(css=Markup(LOGIN_CSS), **ctx)  # noqa: S704 - a constant
    csp = (
        f"default-src 'none'; style-src '{_CSS_HASH}'; form-action {form_action}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    page_headers = {
        **NO_STORE,
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        **(headers or {}),
    }
    return HTMLResponse(html, status_code=status, headers=page_headers)
