"""Security headers, cookie flags and the trusted proxy, set once for every response.

Flask-Talisman writes the Content-Security-Policy (scripts only from this site: the pages have
no inline script; styles may be inline attributes), frame-ancestors 'none' with
X-Frame-Options, nosniff, Referrer-Policy no-referrer and the session cookie's Secure flag.
Answers that can carry patient data are ``Cache-Control: no-store``: every page and API answer
except static files and calendar feeds, which set their own (a feed needs its ETag kept).
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
#: Blueprints whose answers set their own caching (feeds: private, revalidated by ETag).
OWN_CACHING = frozenset({"feeds"})

talisman = Talisman()


def secure_cookies(app: Flask) -> bool:
    """SESSION_COOKIE_SECURE when set; otherwise on whenever the clinic is served over https."""
    setting = app.config.get("SESSION_COOKIE_SECURE")
    if setting is not None:
        return bool(setting)
    return str(app.config.get("BASE_URL", "")).startswith("https://")


def init_app(app: Flask) -> None:
    secure = secure_cookies(app)
    app.config["SESSION_COOKIE_SECURE"] = secure
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the proxy in front; it redirects
        strict_transport_security=secure,
        session_cookie_secure=secure,
        session_cookie_http_only=True,
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="no-referrer",
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )
    proxies = int(app.config.get("TRUSTED_PROXIES", 0))
    if proxies:
        # Client address and scheme from the proxies in front, and only from that many.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )
    app.after_request(no_store)


def no_store(response: Response) -> Response:
    if request.endpoint == "static" or request.blueprint in OWN_CACHING:
        return response
    if request.endpoint and request.endpoint.startswith("swagger_ui."):
        return response
    if (
        "Cache-Control" not in response.headers
        or "no-store" not in response.headers["Cache-Control"]
    ):
        response.headers["Cache-Control"] = "no-store"
    return response
