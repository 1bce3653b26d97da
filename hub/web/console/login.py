"""Logging in and out of the staff console.

The login form has no session yet, so its CSRF token is a double-submit cookie: a random value
set as a cookie and repeated in the form; a site that cannot read or set the hub's cookies
cannot make both match. That blocks login CSRF (someone logging your browser into their
account). Failures all say the same thing, and take as long, whether or not the user exists.
"""

from __future__ import annotations

import logging
import re
import secrets

from aiohttp import web

from hub.store import audit
from hub.store import staff as staff_store
from hub.web.console.auth import (
    clear_session_cookie,
    csrf_failure,
    current_session,
    foreign_origin,
    safe_next,
    set_session_cookie,
    tokens_match,
)
from hub.web.console.keys import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SECURE_LOGIN_CSRF_COOKIE,
    SESSION,
    SESSION_COOKIE,
    STAFF,
)
from hub.web.console.page import see_other
from hub.web.keys import HUB, SETTINGS
from hub.web.ratelimit import client_address, rate_limited
from hub.web.render import render_html

log = logging.getLogger(__name__)

LOGIN_ATTEMPTS = 10          # per client address...
LOGIN_WINDOW = 5 * 60        # ...per this many seconds
WRONG = "The username or password is wrong."
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def _csrf_cookie_name(request: web.Request) -> str:
    return LOGIN_CSRF_COOKIE if request.app[SETTINGS].dev else SECURE_LOGIN_CSRF_COOKIE


def _login_page(request: web.Request, token: str, next_path: str, *, status: int = 200,
                error: str | None = None, username: str = "") -> web.Response:
    response = render_html(request, "console/login.html", status=status, csrf_token=token,
                           next_path=next_path, error=error, username=username)
    _set_csrf_cookie(response, request, token)
    return response


def _set_csrf_cookie(response: web.StreamResponse, request: web.Request, token: str,
                     max_age: int | None = None) -> None:
    response.set_cookie(_csrf_cookie_name(request), token, path="/", httponly=True,
                        samesite="Strict", secure=not request.app[SETTINGS].dev, max_age=max_age)


async def login_form(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    if await current_session(request) is not None:
        return see_other(next_path)
    token = request.cookies.get(_csrf_cookie_name(request), "")
    if not _TOKEN.match(token):  # keep a valid one, so two open tabs both work
        token = secrets.token_urlsafe(32)
    return _login_page(request, token, next_path)


@rate_limited("login", capacity=LOGIN_ATTEMPTS, per_seconds=LOGIN_WINDOW)
async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    expected = request.cookies.get(_csrf_cookie_name(request), "")
    if foreign_origin(request) or not tokens_match(form.get(CSRF_FIELD), expected):
        return csrf_failure(request)
    next_path = safe_next(form.get("next"))
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    if not username.strip() or not password:
        return _login_page(request, expected, next_path, status=400, username=username,
                           error="Enter your username and your password.")
    hub, settings = request.app[HUB], request.app[SETTINGS]
    staff = await staff_store.authenticate(hub.db, username, password)
    if staff is None:
        log.warning("failed console login from %s", client_address(request))
        return _login_page(request, expected, next_path, status=400, username=username,
                           error=WRONG)
    # A new session id every login, and the browser's old one gone: no session fixation.
    token, _ = await staff_store.start_session(
        hub.db, staff, lifetime=settings.session_max_hours * 3600,
        idle=settings.session_idle_minutes * 60,
        user_agent=request.headers.get("User-Agent", ""),
        replaces=request.cookies.get(SESSION_COOKIE))
    await audit.record(hub.db, staff.id, "staff.login", staff.username,
                       {"address": client_address(request)})
    response = see_other(next_path)
    set_session_cookie(response, request, token)
    _set_csrf_cookie(response, request, "", max_age=0)
    return response


async def logout(request: web.Request) -> web.Response:
    """POST only, with the CSRF token (checked by the middleware): a link could log you out."""
    hub, staff = request.app[HUB], request[STAFF]
    await staff_store.end_session(hub.db, request[SESSION].id)
    await audit.record(hub.db, staff.id, "staff.logout", staff.username)
    response = see_other("/console/login")
    clear_session_cookie(response, request)
    return response
