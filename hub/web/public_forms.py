"""CSRF protection for the public forms people fill in without an account (RSVP, volunteer
sign-up): a double-submit cookie, as on the console's login form.

The page sets a random token as a cookie (`SameSite=Strict`, `__Host-` outside development)
and repeats it in a hidden field; a submission counts only if both match and the browser does
not say it came from another site. A site that can neither read nor set the hub's cookies
cannot make them match.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiohttp import web

from hub.web.console.auth import foreign_origin, tokens_match
from hub.web.console.keys import CSRF_FIELD
from hub.web.keys import SETTINGS

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def cookie_name(request: web.Request, name: str) -> str:
    """`name`, or `__Host-name` when the hub is served over https."""
    return name if request.app[SETTINGS].dev else f"__Host-{name}"


def form_token(request: web.Request, name: str) -> str:
    """The browser's token if it has a valid one (so two open tabs both work), else a new one."""
    token = request.cookies.get(cookie_name(request, name), "")
    return token if _TOKEN.match(token) else secrets.token_urlsafe(32)


def set_form_cookie(response: web.StreamResponse, request: web.Request, name: str,
                    token: str) -> None:
    response.set_cookie(cookie_name(request, name), token, path="/", httponly=True,
                        samesite="Strict", secure=not request.app[SETTINGS].dev)


def form_is_genuine(request: web.Request, form: Any, name: str) -> bool:
    """True if the form carries the token its cookie holds and comes from the hub's own pages."""
    expected = request.cookies.get(cookie_name(request, name), "")
    return not foreign_origin(request) and tokens_match(form.get(CSRF_FIELD), expected)
