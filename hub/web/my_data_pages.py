"""The volunteer's own pages, on their private link: see what the hub keeps, correct it (the
sign-up form, filled in), download it, delete it.

`GET /me/{token}` is this HTML page for browsers (`Accept: text/html`) and the JSON of
`volunteers_api` for everything else; the other pages are HTML forms beside the JSON API's
`PATCH` and `DELETE`, which browsers cannot send. The link itself is the secret, so another
site cannot forge these posts; they are still refused when the browser says they come from
another site. Nothing here may be cached or indexed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from federation.errors import NotFound
from hub.matching.model import check_label, concepts, language_name
from hub.store import volunteers as store
from hub.store.volunteers import Volunteer
from hub.volunteers import form as profile_form
from hub.volunteers import service
from hub.volunteers.model import CONSENTS, check_status
from hub.web.console.auth import foreign_origin
from hub.web.keys import HUB
from hub.web.ratelimit import rate_limited
from hub.web.render import render_html
from hub.web.signup_pages import PRIVATE, form_context

SELF = service.Actor("access_link")
CONSENT_TEXT = {"match_here": "Suggest me for help requests at this hub",
                "match_neighbours": "Suggest me for help requests from neighbouring hubs",
                "contact_by_dm": "Contact me by direct message on the fediverse"}
STATUS_TEXT = {"pending": "Waiting for a coordinator to say hello: until then we don't "
                          "suggest you for anything.",
               "active": "Confirmed: we may suggest you for help requests you agreed to."}
NOTICES = {"saved": "Your changes are saved."}


def wants_html(request: web.Request) -> bool:
    return "text/html" in request.headers.get("Accept", "")


def _private(response: web.Response) -> web.Response:
    response.headers.update(PRIVATE)
    response.headers["Vary"] = "Accept"
    return response


async def _own(request: web.Request) -> Volunteer | web.Response:
    try:
        return await service.by_access_token(request.app[HUB].db, request.match_info["token"])
    except NotFound:
        return _private(render_html(
            request, "error.html", status=404, title="This link doesn't work",
            message="It is unknown or has expired (links work for 30 days, and a new one "
                    "replaces the old). Get a new one at "
                    f"{request.app[HUB].urls.base}/volunteer/link."))


def _labels(ids: tuple[str, ...]) -> list[str]:
    known = concepts()
    return [known[i].label if i in known else i for i in ids]


async def data_view(volunteer: Volunteer, db: Any) -> dict[str, Any]:
    """The profile in words, for the page."""
    p, today = volunteer.profile, date.today()
    checks = await store.list_checks(db, volunteer.id)
    return {
        "name": p.name, "email": p.email, "handle": p.handle, "phone": p.phone,
        "handle_verified": volunteer.handle_verified, "district": p.district,
        "point": f"{p.latitude}, {p.longitude}" if p.latitude is not None else None,
        "skills": _labels(p.skills), "interests": _labels(p.interests), "tags": list(p.tags),
        "languages": [language_name(c) for c in p.languages],
        "availability": [f"{profile_form.DAY_NAMES[d]}: {', '.join(parts)}"
                         for d, parts in p.availability.items()],
        "max_commitments": p.max_commitments,
        "consents": [(CONSENT_TEXT[c], p.consents.get(c, False)) for c in CONSENTS],
        "status": STATUS_TEXT[volunteer.status],
        "checks": [(check_label(c.type), check_status(c, today).replace("_", " "),
                    c.renewal_on.isoformat()) for c in checks]}


async def my_page(request: web.Request, volunteer: Volunteer) -> web.Response:
    """The HTML face of `GET /me/{token}` (volunteers_api negotiates)."""
    hub = request.app[HUB]
    return _private(render_html(
        request, "my_data.html", data=await data_view(volunteer, hub.db),
        link=f"{hub.urls.base}/me/{request.match_info['token']}",
        welcome=request.query.get("welcome") == "1", notice=NOTICES.get(request.query.get(
            "done", "")), base=f"/me/{request.match_info['token']}"))


def _edit_page(request: web.Request, context: dict[str, Any], volunteer: Volunteer, *,
               status: int = 200, problem: str | None = None) -> web.Response:
    return _private(render_html(
        request, "my_data_edit.html", status=status, problem=problem,
        action=f"/me/{request.match_info['token']}/edit",
        locked_handle=None, verified_handle=volunteer.profile.handle
        if volunteer.handle_verified else None, **context))


async def edit_form(request: web.Request) -> web.Response:
    volunteer = await _own(request)
    if isinstance(volunteer, web.Response):
        return volunteer
    return _edit_page(request, form_context(profile_form.form_values(volunteer.profile)),
                      volunteer)


def _refused(request: web.Request) -> web.Response:
    return _private(render_html(request, "error.html", status=403,
                                title="This form could not be accepted",
                                message="It was sent from another website, so nothing was "
                                        "changed."))


# Posts per client address per window: slows guessing of private links and floods.
SUBMISSIONS, WINDOW = 20, 600


@rate_limited("my-data", capacity=SUBMISSIONS, per_seconds=WINDOW)
async def edit_submit(request: web.Request) -> web.Response:
    volunteer = await _own(request)
    if isinstance(volunteer, web.Response):
        return volunteer
    if foreign_origin(request):
        return _refused(request)
    parsed = profile_form.read_form(await request.post(), volunteer.profile)
    if parsed.errors:
        return _edit_page(request, form_context(parsed.values, parsed), volunteer, status=400)
    await service.update(request.app[HUB].db, volunteer, parsed.data, SELF)
    return web.Response(status=303, headers={
        "Location": f"/me/{request.match_info['token']}?done=saved", **PRIVATE})


async def delete_confirm(request: web.Request) -> web.Response:
    volunteer = await _own(request)
    if isinstance(volunteer, web.Response):
        return volunteer
    return _private(render_html(request, "my_data_delete.html", name=volunteer.profile.name,
                                base=f"/me/{request.match_info['token']}", problem=None))


@rate_limited("my-data", capacity=SUBMISSIONS, per_seconds=WINDOW)
async def delete_submit(request: web.Request) -> web.Response:
    volunteer = await _own(request)
    if isinstance(volunteer, web.Response):
        return volunteer
    if foreign_origin(request):
        return _refused(request)
    if (await request.post()).get("confirm") != "yes":
        return _private(render_html(
            request, "my_data_delete.html", status=400, name=volunteer.profile.name,
            base=f"/me/{request.match_info['token']}",
            problem="Tick the box to confirm that you want everything deleted."))
    await service.delete(request.app[HUB], volunteer, SELF)
    return _private(render_html(request, "my_data_deleted.html"))


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/me/{token}/edit", edit_form)
    r.add_post("/me/{token}/edit", edit_submit)
    r.add_get("/me/{token}/delete", delete_confirm)
    r.add_post("/me/{token}/delete", delete_submit)
