"""Volunteers in the console: new sign-ups to approve, everyone at a glance, one volunteer's
full record, and the checks due for renewal.

Helpers see the lists (names, area, skills, status), as they see attendees' names; opening a
volunteer (contact details, consents, checks), approving a sign-up and the checks page are for
coordinators. Every list, read and approval is written to the audit log, by the volunteer's
random id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from aiohttp import web

from hub.events.model import FieldError
from hub.jobs.check_reminders import reminders_sent
from hub.matching.model import check_label, concepts, language_name
from hub.store import volunteers as store
from hub.store.volunteers import Volunteer
from hub.volunteers import service
from hub.volunteers.model import check_status
from hub.web.console import record_forms
from hub.web.console.auth import require_role
from hub.web.console.event_form import field_id
from hub.web.console.keys import STAFF
from hub.web.console.page import console_error, render_console, see_other
from hub.web.console.views import when
from hub.web.keys import HUB
from hub.web.my_data_pages import data_view

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SOURCES = {"staff": "Added by staff", "web": "Web form", "fediverse": "Fediverse link"}
NOTICES = {"approved": "Approved: they can now be suggested for needs they agreed to.",
           "check-recorded": "Check recorded.", "check-removed": "Check removed.",
           "training-recorded": "Training recorded.", "references-saved": "References saved."}


def console_actor(request: web.Request) -> service.Actor:
    return service.Actor("console", staff_id=request[STAFF].id)


def row(volunteer: Volunteer) -> dict[str, Any]:
    """What the lists show of a volunteer (no contact details)."""
    p, known = volunteer.profile, concepts()
    return {"uuid": volunteer.uuid, "name": p.name, "area": p.district or "point",
            "skills": ", ".join(known[s].label if s in known else s for s in p.skills),
            "languages": ", ".join(language_name(c) for c in p.languages),
            "status": volunteer.status, "source": SOURCES[volunteer.source],
            "since": when(volunteer.created_at)}


async def volunteer_list(request: web.Request) -> web.Response:
    db, actor = request.app[HUB].db, console_actor(request)
    # Each list on its own, so a long list of volunteers never hides a sign-up.
    pending = await service.list_for_staff(db, actor, skill=None, district=None,
                                           status="pending")
    active = await service.list_for_staff(db, actor, skill=None, district=None,
                                          status="active")
    return render_console(
        request, "console/volunteers.html",
        pending=[row(v) for v in sorted(pending, key=lambda v: v.created_at)],
        active=[row(v) for v in active], shown=store.LIST_LIMIT,
        can_open=request[STAFF].is_coordinator,
        notice=NOTICES.get(request.query.get("done", "")))


async def find_volunteer(request: web.Request) -> Volunteer | None:
    raw = request.match_info["uuid"]
    return await store.get_volunteer(request.app[HUB].db, raw) if _UUID.match(raw) else None


def no_such_volunteer(request: web.Request) -> web.Response:
    return console_error(request, 404, title="No such volunteer",
                         message="This volunteer does not exist, or was deleted at their "
                                 "request.")


@require_role("coordinator")
async def volunteer_page(request: web.Request) -> web.Response:
    volunteer = await find_volunteer(request)
    if volunteer is None:
        return no_such_volunteer(request)
    return await record_page(request, volunteer,
                             notice=NOTICES.get(request.query.get("done", "")))


async def record_page(request: web.Request, volunteer: Volunteer, *, status: int = 200,
                      notice: str | None = None, values: dict[str, str] | None = None,
                      errors: Iterable[FieldError] = ()) -> web.Response:
    """A volunteer's whole record, with the forms to record checks, training and references;
    `values` and `errors` bring a refused form back as it was typed. Each showing is a read
    of the volunteer, audited."""
    hub = request.app[HUB]
    await service.read(hub.db, volunteer, console_actor(request))
    items = record_forms.error_items(errors)
    return render_console(
        request, "console/volunteer_page.html", status=status, volunteer=volunteer,
        row=row(volunteer), data=await data_view(volunteer, hub.db), notice=notice,
        **await record_forms.record_context(hub, volunteer, values or {}),
        errors=items, error_for={e["id"]: e["message"] for e in items}, field_id=field_id)


@require_role("coordinator")
async def approve(request: web.Request) -> web.Response:
    volunteer = await find_volunteer(request)
    if volunteer is None:
        return no_such_volunteer(request)
    await service.approve(request.app[HUB], volunteer, console_actor(request))
    back = "/console/volunteers" if (await request.post()).get("back") == "list" \
        else f"/console/volunteers/{volunteer.uuid}"
    return see_other(f"{back}?done=approved")


@require_role("coordinator")
async def checks_page(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    days = hub.settings.check_reminder_days
    today = date.today()
    found = await store.lapsing_checks(hub.db, days, today)
    told = await reminders_sent(hub, found)
    return render_console(request, "console/volunteer_checks.html", days=days, items=[
        {"volunteer": item.volunteer_uuid, "name": item.name,
         "check": check_label(item.check.type), "renewal_on": item.check.renewal_on.isoformat(),
         "status": "Lapsed" if check_status(item.check, today) == "lapsed" else "Due soon",
         "told": when(told[item.check.uuid]) if item.check.uuid in told else None}
        for item in found])


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/volunteers", volunteer_list)
    r.add_get("/console/volunteers/checks", checks_page)
    r.add_get("/console/volunteers/{uuid}", volunteer_page)
    r.add_post("/console/volunteers/{uuid}/approve", approve)
