"""Security headers on every answer: a strict content policy, no sniffing, no framing.

The pages carry no inline script, inline style or event-handler attribute (the record's
JSON-LD is a data block, which a policy without 'unsafe-inline' leaves alone), so the
policy allows scripts and styles from the hub's own origin only.

Strict-Transport-Security is sent only on https. Behind a proxy that ends TLS, the hub
sees plain http unless it trusts the proxy's X-Forwarded-Proto (TRUST_PROXY, see
web/addresses.py).
"""

from __future__ import annotations

from flask import Flask
from flask import Response
from flask import request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

#: For a stored file's download (always an attachment), and any other attachment a
#: browser could render and run (HTML, SVG, XML): should a browser open it in the hub's
#: origin after all, it gets a unique origin, no script, nothing fetched.
DOWNLOAD_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"

#: Media types a browser may render as a document with script.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
    }
)

HSTS = "max-age=31536000; includeSubDomains"

#: Blueprints of the back office and of accounts: their pages show drafts, queues,
#: accounts and tokens, which no cache (shared or the browser's) may keep.
NO_STORE_BLUEPRINTS = frozenset(
    {"staff", "review", "admin", "translations", "auth", "tokens", "fixity"}
)

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)


def is_https() -> bool:
    """Whether the reader came over https: as the connection says, or a trusted proxy's
    X-Forwarded-Proto (web/addresses.py)."""
    return request.is_secure


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    for name, value in HEADERS.items():
        headers.setdefault(name, value)
    if _is_active_download(response):
        headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    else:
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if is_https():
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.blueprint in NO_STORE_BLUEPRINTS:
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


def _is_active_download(response: Response) -> bool:
    if request.endpoint == "documents.download":
        return True  # whatever its type: a stored file never runs in the hub's origin
    disposition = response.headers.get("Content-Disposition", "")
    return disposition.lower().startswith("attachment") and response.mimetype in ACTIVE_TYPES
