"""Rendering console pages: the layout's navigation, the CSRF field, error pages, redirects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from markupsafe import Markup, escape

from hub.web.console.keys import CSRF_FIELD, SESSION, STAFF
from hub.web.render import render_html


@dataclass(frozen=True)
class NavLink:
    label: str
    path: str
    role: str = "helper"  # the least role that sees the link


# The console's navigation, in order. Add a link when its page exists.
NAV: tuple[NavLink, ...] = (
    NavLink("Home", "/console/"),
    NavLink("Events", "/console/events"),
    NavLink("Volunteers", "/console/volunteers"),
    NavLink("Needs", "/console/needs"),
    NavLink("Neighbours' needs", "/console/neighbour-needs"),
    NavLink("Neighbours", "/console/neighbours"),
)


def csrf_field(token: str) -> Callable[[], Markup]:
    """`{{ csrf_field() }}` in a template: the hidden input every console form needs."""
    field = Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token))
    return lambda: field


def render_console(request: web.Request, template: str, *, status: int = 200,
                   **context: Any) -> web.Response:
    """Render a page for the logged-in staff member, with what `console/base.html` uses:
    `staff`, `nav`, `csrf_token` and `csrf_field()`."""
    staff, session = request[STAFF], request[SESSION]
    nav = [link for link in NAV if staff.has_role(link.role)]
    return render_html(request, template, status=status, staff=staff, nav=nav,
                       current_path=request.path, csrf_token=session.csrf_secret,
                       csrf_field=csrf_field(session.csrf_secret), **context)


def console_error(request: web.Request, status: int, message: str, *, title: str,
                  headers: Mapping[str, str] | None = None) -> web.Response:
    """An HTML error page, also for POSTs (the app's error middleware answers those in JSON)."""
    response = render_html(request, "console/error.html", status=status, title=title,
                           message=message, signed_in=STAFF in request)
    response.headers.update(headers or {})
    return response


def see_other(location: str) -> web.Response:
    """303: after a form, the browser GETs `location` (a refresh does not resend the form)."""
    return web.Response(status=303, headers={"Location": location})
