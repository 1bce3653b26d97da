"""One place mapping typed errors to HTTP answers: JSON for APIs and servers, HTML for people."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from federation.errors import FederationError
from hub.store.db import StoreError
from hub.web.render import json_response, render_html, wants_activity_json

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
EMBEDDABLE_PATHS = frozenset({"/widget"})  # pages other sites may put in an <iframe>

_TITLES = {400: "Bad request", 401: "Not signed in", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 413: "Too large", 415: "Unsupported media type",
           429: "Too many requests", 500: "Server error", 502: "Bad gateway",
           503: "Unavailable"}


def _wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return (request.path.startswith(("/api/", "/.well-known/", "/nodeinfo/"))
            or request.path.endswith(".json")
            or request.method not in ("GET", "HEAD") or wants_activity_json(request)
            or ("json" in accept and "html" not in accept))


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    if _wants_json(request):
        return json_response({"error": message}, status=status)
    return render_html(request, "error.html", status=status,
                       title=_TITLES.get(status, "Error"), message=message)


def _route(request: web.Request) -> str:
    """The route's pattern (`/me/{token}`), never the path itself: private links are paths."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except FederationError as exc:
        return error_response(request, exc.status, exc.message)
    except StoreError as exc:
        log.error("store error on %s %s: %s", request.method, _route(request), exc)
        return error_response(request, 503, "the hub's database is unavailable; try again later")
    except web.HTTPException as exc:
        if exc.status < 400 or (exc.body is not None and exc.text != f"{exc.status}: {exc.reason}"):
            raise
        return error_response(request, exc.status, exc.reason)
    except Exception:  # a fault of ours: still answered as the caller reads answers
        log.exception("unexpected error on %s %s", request.method, _route(request))
        return error_response(request, 500, "the hub failed to handle this request; "
                                             "its log says why")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type == "text/html":
        # Only the calendar widget is meant to be shown inside other sites' pages.
        ancestors = "*" if request.path in EMBEDDABLE_PATHS else "'none'"
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' https: data:; style-src 'self' 'unsafe-inline'; "
            f"frame-ancestors {ancestors}")
    return response
