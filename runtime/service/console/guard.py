"""Who may use the console: an access token when the server listens beyond loopback, and
checks that a form was posted from the console itself (cross-site request forgery).

The session cookie holds a random value that every form repeats in a hidden field; a POST
whose field differs, whose ``Origin`` is another site, or whose ``Sec-Fetch-Site`` says
``cross-site`` is refused. A cross-site page can neither read the cookie nor set it, so it
cannot repeat it.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

from aiohttp import web

__all__ = ["SESSION_COOKIE", "TOKEN_COOKIE", "check_access", "check_post", "is_loopback", "session"]

SESSION_COOKIE = "asl_console_session"
TOKEN_COOKIE = "asl_console_token"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address) reaches this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_access(request: web.Request, token: str | None) -> web.StreamResponse | None:
    """None when the request may go on; else the answer to give. A right ``?token=`` is
    kept in a cookie and the browser sent to the same address without it."""
    if token is None:
        return None
    given = request.query.get("token")
    if given is not None and hmac.compare_digest(given, token):
        kept = {k: v for k, v in request.query.items() if k != "token"}
        answer = web.Response(
            status=303, headers={"Location": str(request.rel_url.with_query(kept))}
        )
        answer.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/console")
        return answer
    if hmac.compare_digest(request.cookies.get(TOKEN_COOKIE, ""), token):
        return None
    return web.Response(
        status=401,
        text="This console needs the access token asl serve printed: open it with ?token=...",
    )


def session(request: web.Request) -> tuple[str, bool]:
    """The session's CSRF value, and whether it is new (to be set as a cookie)."""
    known = request.cookies.get(SESSION_COOKIE)
    if known:
        return known, False
    return secrets.token_urlsafe(24), True


def check_post(request: web.Request, csrf_field: str) -> str | None:
    """Why a form post is refused, or None when it came from the console's own page."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return "cross-site request"
    origin = request.headers.get("Origin")
    if origin is not None and (origin == "null" or urlsplit(origin).netloc != request.host):
        return "request from another origin"
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf_field):
        return "missing or wrong CSRF token"
    return None
