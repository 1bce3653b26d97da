"""The staff console: server-rendered pages under /console/, for logged-in staff.

Adding a page (see docs in the module docstrings of `auth` and `page`):

    # hub/web/console/events.py
    async def event_list(request):                 # login is already required under /console/
        staff = request[STAFF]
        return render_console(request, "console/events.html", events=...)

    @require_role("coordinator")                   # only if helpers may not use it
    async def delete_event(request):               # POSTs are CSRF-checked before this runs
        form = await request.post()
        ...
        await audit.record(request.app[HUB].db, request[STAFF].id, "event.delete", url)
        return see_other("/console/events")

Register its routes in `add_routes` below, add a `NavLink` to `page.NAV`, and put
`{{ csrf_field() }}` inside every `<form method="post">` of its templates, which extend
`console/base.html`.
"""

from __future__ import annotations

from aiohttp import web

from hub.web.console import (
    attendees,
    events,
    login,
    matching,
    needs,
    neighbour_needs,
    neighbours,
    views,
    volunteer_records,
    volunteers,
)
from hub.web.console.auth import no_store, require_role, require_staff
from hub.web.console.keys import SESSION, STAFF
from hub.web.console.page import NAV, NavLink, console_error, render_console, see_other

__all__ = ["NAV", "SESSION", "STAFF", "NavLink", "add_routes", "console_error", "no_store",
           "render_console", "require_role", "require_staff", "see_other"]


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console", views.console_root)
    r.add_get("/console/", views.home)
    r.add_get("/console/login", login.login_form)
    r.add_post("/console/login", login.login_submit)
    r.add_post("/console/logout", login.logout)
    r.add_post("/console/posts", views.post_news)
    r.add_post("/console/followers/approve", views.approve_follower)
    r.add_post("/console/followers/reject", views.reject_follower)
    events.add_routes(app)
    attendees.add_routes(app)
    volunteers.add_routes(app)
    volunteer_records.add_routes(app)
    needs.add_routes(app)
    matching.add_routes(app)
    neighbour_needs.add_routes(app)
    neighbours.add_routes(app)
