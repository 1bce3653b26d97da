"""Coordinators record a volunteer's safer-recruitment checks, training and references on the
volunteer's page, and remove a check (after confirming).

Each form is a plain POST (CSRF-checked by the console middleware) that calls one function of
`hub.volunteers.service`, which stores the change, tells the matcher's pool and writes the
audit row. A refused form comes back on the volunteer's page, status 400, with every problem
listed and what was typed kept. Helpers get 403, as for opening the record.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from federation.errors import NotFound
from hub.events.model import FieldError
from hub.store import volunteers as store
from hub.store.volunteers import Volunteer
from hub.volunteers import service
from hub.volunteers.model import Check, check_problems, staff_record_problems, training_problems
from hub.web.console import record_forms
from hub.web.console.auth import require_role
from hub.web.console.page import console_error, render_console, see_other
from hub.web.console.volunteers import (
    console_actor,
    find_volunteer,
    no_such_volunteer,
    record_page,
)
from hub.web.keys import HUB

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
Reader = Callable[[Any], tuple[dict[str, Any], dict[str, str]]]


def _back(volunteer: Volunteer, done: str, section: str) -> web.Response:
    return see_other(f"/console/volunteers/{volunteer.uuid}?done={done}#{section}")


async def _submit(request: web.Request, read: Reader,
                  problems: Callable[[dict[str, Any]], list[FieldError]],
                  save: Callable[[Volunteer, dict[str, Any]], Any],
                  done: str, section: str) -> web.Response:
    """Read the form, save through the service, and on a FieldError bring the page back with
    every problem of the form (not only the first, which the service raised)."""
    volunteer = await find_volunteer(request)
    if volunteer is None:
        return no_such_volunteer(request)
    data, values = read(await request.post())
    try:
        await save(volunteer, data)
    except FieldError as exc:
        return await record_page(request, volunteer, status=400, values=values,
                                 errors=problems(data) or [exc])
    return _back(volunteer, done, section)


@require_role("coordinator")
async def record_check(request: web.Request) -> web.Response:
    db, actor = request.app[HUB].db, console_actor(request)
    return await _submit(
        request, record_forms.read_check_form, check_problems,
        lambda volunteer, data: service.record_check(db, volunteer, data, actor),
        "check-recorded", "checks")


@require_role("coordinator")
async def record_training(request: web.Request) -> web.Response:
    db, actor = request.app[HUB].db, console_actor(request)
    return await _submit(
        request, record_forms.read_training_form, training_problems,
        lambda volunteer, data: service.record_training(db, volunteer, data, actor),
        "training-recorded", "training")


@require_role("coordinator")
async def save_references(request: web.Request) -> web.Response:
    db, actor = request.app[HUB].db, console_actor(request)
    return await _submit(
        request, record_forms.read_references_form, staff_record_problems,
        lambda volunteer, data: service.update(db, volunteer, data, actor),
        "references-saved", "references")


# Removing a check ----------------------------------------------------------------------------
async def _find_check(request: web.Request,
                      volunteer: Volunteer) -> Check | None:
    wanted = request.match_info["check"]
    if not _UUID.match(wanted):
        return None
    found = [c for c in await store.list_checks(request.app[HUB].db, volunteer.id)
             if c.uuid == wanted]
    return found[0] if found else None


def _no_such_check(request: web.Request) -> web.Response:
    return console_error(request, 404, title="No such check",
                         message="This check is not recorded for this volunteer: it may have "
                                 "been removed already.")


@require_role("coordinator")
async def remove_check_form(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    volunteer = await find_volunteer(request)
    if volunteer is None:
        return no_such_volunteer(request)
    check = await _find_check(request, volunteer)
    if check is None:
        return _no_such_check(request)
    await service.read(hub.db, volunteer, console_actor(request))
    return render_console(
        request, "console/volunteer_check_remove.html", volunteer=volunteer,
        check={"uuid": check.uuid, "label": record_forms.check_title(check.type),
               "checked_on": check.checked_on.isoformat(),
               "renewal_on": check.renewal_on.isoformat()})


@require_role("coordinator")
async def remove_check(request: web.Request) -> web.Response:
    volunteer = await find_volunteer(request)
    if volunteer is None:
        return no_such_volunteer(request)
    try:
        await service.remove_check(request.app[HUB].db, volunteer, request.match_info["check"],
                                   console_actor(request))
    except NotFound:
        return _no_such_check(request)
    return _back(volunteer, "check-removed", "checks")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/console/volunteers/{uuid}/checks", record_check)
    r.add_get("/console/volunteers/{uuid}/checks/{check}/remove", remove_check_form)
    r.add_post("/console/volunteers/{uuid}/checks/{check}/remove", remove_check)
    r.add_post("/console/volunteers/{uuid}/training", record_training)
    r.add_post("/console/volunteers/{uuid}/references", save_references)
