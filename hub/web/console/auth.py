"""The console's gatekeeping: sessions, CSRF, roles, and no caching of its pages.

Every path under `/console/` except the login page needs a live session; every state-changing
request there also needs the session's CSRF token and, when the browser says where it came
from, to come from the hub's own origin. Pages registered under `/console/` get all of this
without doing anything.

The JSON API under `/api/` needs no CSRF check: it authenticates with a bearer token in the
`Authorization` header, which a browser never adds on its own to a cross-site request. Keep
it that way: never let the API accept the console's session cookie.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from aiohttp import web

from hub.events.media import MAX_IMAGE_BYTES
from hub.store import staff as staff_store
from hub.store.staff import Staff, StaffSession
from hub.web.console.keys import CSRF_FIELD, CSRF_HEADER, SESSION, SESSION_COOKIE, STAFF
from hub.web.console.page import console_error, see_other
from hub.web.keys import HUB, SETTINGS

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONSOLE_HOME = "/console/"
LOGIN_PATH = "/console/login"
OPEN_PATHS = frozenset({LOGIN_PATH})  # console paths that need no session
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A console form with a file (an event's banner) may be as large as the image plus its fields;
# other console requests keep the app's body limit.
UPLOAD_FORM_BYTES = MAX_IMAGE_BYTES + 1024 * 1024


def is_console(path: str) -> bool:
    return path == "/console" or path.startswith("/console/")


# Sessions ----------------------------------------------------------------------------------
async def current_session(request: web.Request) -> tuple[StaffSession, Staff] | None:
    """The request's live session and staff member, from its cookie, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    settings = request.app[SETTINGS]
    return await staff_store.find_session(
        request.app[HUB].db, token, idle=settings.session_idle_minutes * 60,
        lifetime=settings.session_max_hours * 3600)


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    settings = request.app[SETTINGS]
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_max_hours * 3600,
                        path="/", httponly=True, samesite="Lax", secure=not settings.dev)


def clear_session_cookie(response: web.StreamResponse, request: web.Request) -> None:
    response.set_cookie(SESSION_COOKIE, "", max_age=0, path="/", httponly=True, samesite="Lax",
                        secure=not request.app[SETTINGS].dev)


def safe_next(value: object) -> str:
    """Where to go after logging in: a path on this hub, never another site."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 2000:
        return CONSOLE_HOME
    # "//host" and "/\host" are other sites to a browser; control characters hide tricks.
    if value.startswith("//") or "\\" in value or any(c < " " or c == "\x7f" for c in value):
        return CONSOLE_HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith(LOGIN_PATH):
        return CONSOLE_HOME
    return value


def to_login(request: web.Request) -> web.Response:
    back = request.path_qs if request.method in ("GET", "HEAD") else CONSOLE_HOME
    return see_other(f"{LOGIN_PATH}?next={quote(back, safe='/')}")


# CSRF --------------------------------------------------------------------------------------
def foreign_origin(request: web.Request) -> bool:
    """True if the browser says the request comes from another site than the hub's own."""
    base = request.app[SETTINGS].base_url.lower()
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.rstrip("/").lower() != base
    referer = request.headers.get("Referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}".lower() != base
    return False


def tokens_match(sent: object, expected: str) -> bool:
    """Constant-time comparison of a submitted token with the expected one."""
    if not isinstance(sent, str) or not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


async def submitted_csrf_token(request: web.Request) -> object:
    """The token from the `X-CSRF-Token` header or the form's `csrf_token` field.

    This reads the form with `request.post()`, which caches it: handlers read their fields
    with `await request.post()` too (not `request.multipart()`, whose stream is spent).
    """
    return request.headers.get(CSRF_HEADER) or (await request.post()).get(CSRF_FIELD)


def with_upload_limit(request: web.Request) -> web.Request:
    """The request, allowed a banner-sized body if it is a multipart form (whose file
    `request.post()` spools to a temporary file, not to memory)."""
    if request.content_type != "multipart/form-data":
        return request
    return request.clone(client_max_size=max(request.client_max_size, UPLOAD_FORM_BYTES))


def too_large(request: web.Request) -> web.Response:
    return console_error(
        request, 413, title="The form is too large",
        message=f"An image can be at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB. Go back, "
                "choose a smaller image and send the form again.")


def csrf_failure(request: web.Request) -> web.Response:
    log.warning("refused a console %s to %s: CSRF check failed", request.method, request.path)
    return console_error(
        request, 403, title="This form could not be accepted",
        message="The form was sent without its security token, with an out-of-date one, or "
                "from another website, so nothing was changed. Go back, reload the page and "
                "try again. If you did not mean to send a form, someone may have tried to act "
                "in your name: you can ignore it.")


# Middlewares -------------------------------------------------------------------------------
@web.middleware
async def no_store(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Console pages show people's details: no browser or proxy may keep a copy."""
    if not is_console(request.path):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers["Cache-Control"] = "no-store"
        raise
    response.headers["Cache-Control"] = "no-store"
    return response


@web.middleware
async def require_staff(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Console paths need a session (except the login page), and unsafe methods its token."""
    if not is_console(request.path) or request.path in OPEN_PATHS:
        return await handler(request)
    found = await current_session(request)
    if found is None:
        return to_login(request)
    session, staff = found
    if request.method in UNSAFE_METHODS:
        request = with_upload_limit(request)
        try:
            token = None if foreign_origin(request) else await submitted_csrf_token(request)
        except web.HTTPRequestEntityTooLarge:
            return too_large(request)
        if not tokens_match(token, session.csrf_secret):
            return csrf_failure(request)
    request[SESSION], request[STAFF] = session, staff
    await staff_store.touch_session(request.app[HUB].db, session)
    return await handler(request)


# Roles -------------------------------------------------------------------------------------
def require_role(role: str) -> Callable[[Handler], Handler]:
    """Let only staff with `role` or above (a coordinator outranks a helper) use a handler."""
    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            staff = request.get(STAFF)
            if staff is None or not staff.has_role(role):
                return console_error(
                    request, 403, title="Not allowed",
                    message=f"Only a {role} can use this page. Ask a coordinator if you "
                            "need it.")
            return await handler(request)
        return checked
    return decorate
