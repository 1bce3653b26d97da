"""Volunteers' data: the staff JSON API (under /api/v1/, staff token) and the volunteer's own
private link (/me/{token}) to see, correct, export and delete what the hub keeps.

Handlers are thin: parse, call one service function, shape the answer. A bad field is
answered 400 with `{"error": ..., "field": ...}` and nothing is stored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from federation.errors import ValidationError
from hub.store import volunteers as store
from hub.store.volunteers import Volunteer
from hub.volunteers import service
from hub.volunteers.model import parse_district
from hub.volunteers.service import Actor, check_json, training_json, volunteer_json
from hub.web import my_data_pages
from hub.web.events_api import field_errors
from hub.web.keys import HUB
from hub.web.render import json_response, read_json_object


async def _staff(request: web.Request) -> Actor:
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    return Actor("api", await store.api_token_id(request.app[HUB].db, token))


async def _volunteer(request: web.Request) -> Volunteer:
    return await service.require(request.app[HUB].db, request.match_info["id"])


async def _own(request: web.Request) -> Volunteer:
    return await service.by_access_token(request.app[HUB].db, request.match_info["token"])


_SELF = Actor("access_link")


def _private(data: Any, *, status: int = 200) -> web.Response:
    """A JSON answer holding personal data: no browser or proxy may keep a copy."""
    response = json_response(data, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


# Staff ---------------------------------------------------------------------------------------
@field_errors
async def list_volunteers(request: web.Request) -> web.Response:
    db = request.app[HUB].db
    district = parse_district(request.query.get("district") or None)
    status = request.query.get("status") or None
    if status not in (None, "pending", "active"):
        raise ValidationError("status is pending or active")
    found = await service.list_for_staff(db, await _staff(request),
                                         skill=request.query.get("skill") or None,
                                         district=district, status=status)
    return _private({"items": [volunteer_json(v) for v in found]})


@field_errors
async def create_volunteer(request: web.Request) -> web.Response:
    db = request.app[HUB].db
    volunteer = await service.create(db, await read_json_object(request), await _staff(request))
    return _private(volunteer_json(volunteer), status=201)


async def get_volunteer(request: web.Request) -> web.Response:
    volunteer = await service.read(request.app[HUB].db, await _volunteer(request),
                                   await _staff(request))
    return _private(volunteer_json(volunteer))


@field_errors
async def update_volunteer(request: web.Request) -> web.Response:
    volunteer = await _volunteer(request)
    updated = await service.update(request.app[HUB].db, volunteer,
                                   await read_json_object(request), await _staff(request))
    return _private(volunteer_json(updated))


async def delete_volunteer(request: web.Request) -> web.Response:
    volunteer = await _volunteer(request)
    deleted_at = await service.delete(request.app[HUB], volunteer, await _staff(request))
    return _private({"id": volunteer.uuid, "deleted_at": service.iso(deleted_at)})


async def export_volunteer(request: web.Request) -> web.Response:
    volunteer = await _volunteer(request)
    return _private(await service.export(request.app[HUB].db, volunteer,
                                              await _staff(request)))


async def approve_volunteer(request: web.Request) -> web.Response:
    volunteer = await _volunteer(request)
    approved = await service.approve(request.app[HUB], volunteer, await _staff(request))
    return _private(volunteer_json(approved))


async def create_access_link(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    volunteer = await _volunteer(request)
    token, expires_at = await service.access_link(hub.db, volunteer, await _staff(request))
    return _private({"url": f"{hub.settings.base_url}/me/{token}",
                          "expires_at": service.iso(expires_at)}, status=201)


@field_errors
async def record_check(request: web.Request) -> web.Response:
    volunteer = await _volunteer(request)
    check = await service.record_check(request.app[HUB].db, volunteer,
                                       await read_json_object(request), await _staff(request))
    return _private(check_json(check, date.today()), status=201)


async def delete_check(request: web.Request) -> web.Response:
    volunteer = await _volunteer(request)
    await service.remove_check(request.app[HUB].db, volunteer, request.match_info["check"],
                               await _staff(request))
    return _private({"id": request.match_info["check"], "deleted": True})


@field_errors
async def record_training(request: web.Request) -> web.Response:
    volunteer = await _volunteer(request)
    training = await service.record_training(request.app[HUB].db, volunteer,
                                             await read_json_object(request),
                                             await _staff(request))
    return _private(training_json(training), status=201)


async def lapsing_checks(request: web.Request) -> web.Response:
    raw = request.query.get("within_days", "30")
    if not raw.isdigit() or int(raw) > 3650:
        raise ValidationError("within_days is a whole number from 0 to 3650")
    today = date.today()
    found = await store.lapsing_checks(request.app[HUB].db, int(raw), today)
    return _private({"items": [
        {**check_json(item.check, today), "volunteer": item.volunteer_uuid,
         "name": item.name, "reminder": item.status} for item in found]})


# The volunteer's own link --------------------------------------------------------------------
async def my_data(request: web.Request) -> web.Response:
    """JSON, or for browsers the page of `my_data_pages` (one URL, negotiated by Accept)."""
    volunteer = await _own(request)
    if my_data_pages.wants_html(request):
        return await my_data_pages.my_page(request, volunteer)
    response = _private(volunteer_json(volunteer))
    response.headers["Vary"] = "Accept"
    return response


@field_errors
async def correct_my_data(request: web.Request) -> web.Response:
    volunteer = await _own(request)
    updated = await service.update(request.app[HUB].db, volunteer,
                                   await read_json_object(request), _SELF)
    return _private(volunteer_json(updated))


async def export_my_data(request: web.Request) -> web.Response:
    """Everything kept, as a JSON file a browser saves (the link on the volunteer's page)."""
    response = _private(await service.export(request.app[HUB].db, await _own(request), _SELF))
    response.headers["Content-Disposition"] = 'attachment; filename="my-volunteer-data.json"'
    return response


async def delete_my_data(request: web.Request) -> web.Response:
    volunteer = await _own(request)
    deleted_at = await service.delete(request.app[HUB], volunteer, _SELF)
    return _private({"deleted_at": service.iso(deleted_at)})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/volunteers", list_volunteers)
    r.add_post("/api/v1/volunteers", create_volunteer)
    r.add_get("/api/v1/volunteers/{id}", get_volunteer)
    r.add_patch("/api/v1/volunteers/{id}", update_volunteer)
    r.add_delete("/api/v1/volunteers/{id}", delete_volunteer)
    r.add_get("/api/v1/volunteers/{id}/export", export_volunteer)
    r.add_post("/api/v1/volunteers/{id}/access-link", create_access_link)
    r.add_post("/api/v1/volunteers/{id}/approve", approve_volunteer)
    r.add_post("/api/v1/volunteers/{id}/checks", record_check)
    r.add_delete("/api/v1/volunteers/{id}/checks/{check}", delete_check)
    r.add_post("/api/v1/volunteers/{id}/training", record_training)
    r.add_get("/api/v1/checks/lapsing", lapsing_checks)
    r.add_get("/me/{token}", my_data)
    r.add_patch("/me/{token}", correct_my_data)
    r.add_delete("/me/{token}", delete_my_data)
    r.add_get("/me/{token}/export", export_my_data)
