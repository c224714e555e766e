"""Who a request comes from and which address the hub answers as.

Behind a reverse proxy the connection comes from the proxy: every client would share
its address (and one client's failed sign-ins would lock out everyone), and the scheme
would be http. `TRUST_PROXY = N` (`FLASK_TRUST_PROXY=1` for the README's nginx) says N
proxies stand in front: werkzeug's ProxyFix then takes the client's address and scheme
from the values the nearest N of them appended to X-Forwarded-For and X-Forwarded-Proto;
whatever a client wrote there itself comes earlier and is ignored. Set it only when the
hub is reachable through those proxies alone, or any client could claim any address.

Absolute URLs (feeds, sitemap, robots.txt, OAI-PMH, the API's `url` fields, invitation
links) are built from the request's Host, which the client writes. With `PUBLIC_URL`
(`HUB_PUBLIC_URL=https://hub.example.org`) every request is seen as addressed to that
URL instead, whatever Host it claims; a shared installation must set it. Without it (a
laptop) links follow the Host the browser used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class PublicAddress:
    """WSGI middleware: every request is seen as addressed to the public URL (scheme,
    host and port, and path prefix), so that no URL the hub builds names another host."""

    def __init__(self, app: WSGIApp, public_url: str) -> None:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"PUBLIC_URL must be an http or https URL, not {public_url!r}")
        self.app = app
        self.scheme = parts.scheme
        self.host = parts.netloc
        self.server_name = parts.hostname
        self.port = str(parts.port or (443 if parts.scheme == "https" else 80))
        self.prefix = parts.path.rstrip("/")

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        environ["wsgi.url_scheme"] = self.scheme
        environ["HTTP_HOST"] = self.host
        environ["SERVER_NAME"] = self.server_name
        environ["SERVER_PORT"] = self.port
        if self.prefix:
            environ["SCRIPT_NAME"] = self.prefix
            path = environ.get("PATH_INFO", "")
            if path.startswith(self.prefix + "/") or path == self.prefix:
                environ["PATH_INFO"] = path[len(self.prefix) :]
        return self.app(environ, start_response)


def proxies_in_front(app: Flask) -> int:
    """How many proxies the hub trusts (TRUST_PROXY: a number, or true for one)."""
    value = app.config.get("TRUST_PROXY") or 0
    return int(value)


def init_app(app: Flask) -> None:
    public_url = (app.config.get("PUBLIC_URL") or "").strip()
    if public_url:
        public = PublicAddress(app.wsgi_app, public_url)
        app.wsgi_app = public  # type: ignore[method-assign]
        # The same address for links built outside a request (commands).
        app.config["SERVER_NAME"] = public.host
        app.config["PREFERRED_URL_SCHEME"] = public.scheme
        app.config["APPLICATION_ROOT"] = public.prefix or "/"
    hops = proxies_in_front(app)
    if hops:
        # Outermost, so that PublicAddress sees the client's own address and scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
        if not public_url:
            log.warning(
                "TRUST_PROXY is set but HUB_PUBLIC_URL is not: absolute links are built "
                "from the Host header that clients send"
            )
