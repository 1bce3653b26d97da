"""Console pages for volunteer needs: list, post and edit (with personal-detail warnings and
a confirm step), the lifecycle buttons, and the ranked list of this hub's volunteers.

Each form is a plain POST (CSRF-checked by the console middleware) that calls one needs
service and writes one audit row. A refused form comes back with an error summary and
everything as it was typed. Private notes and the ranked list (volunteers' names) are for
coordinators; helpers see and edit the rest.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from federation.errors import NotFound
from hub.events.model import FieldError
from hub.needs import service
from hub.needs.model import KIND_LABELS, KINDS
from hub.needs.pool import candidates_for
from hub.needs.service import NeedsConfirmation, StatusConflict
from hub.needs.summary import STATUS_WORDS, summary_line
from hub.needs.warnings import DetailWarning
from hub.store import audit
from hub.store import events as event_store
from hub.store import needs as store
from hub.store.needs import LocalNeed
from hub.web.console import matching, need_form
from hub.web.console.auth import require_role
from hub.web.console.event_form import describe, field_id
from hub.web.console.keys import STAFF
from hub.web.console.page import console_error, render_console, see_other
from hub.web.keys import HUB

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LIVE = ("open", "matching", "filled")
NOTICES = {"created": "Posted: followers' servers receive it within a minute.",
           "updated": "Saved.", "open": "Back to open.",
           "matching": "Marked as finding volunteers: followers see it.",
           "filled": "Filled: followers see it, and the time to fill is recorded.",
           "closed": "Closed.", "cancelled": "Cancelled: followers' servers remove it.",
           "deleted": "Removed: followers' servers remove it."}
# The lifecycle buttons: status -> label.
MOVES = {"open": "Back to open", "matching": "Finding volunteers",
         "filled": "Mark as filled", "closed": "Close: it is done",
         "cancelled": "Cancel this need"}


def _error_items(errors: Iterable[FieldError]) -> list[dict[str, str]]:
    return [{"id": field_id(e.field), "label": need_form.label_of(e.field),
             "message": describe(e)} for e in errors]


def not_found(request: web.Request) -> web.Response:
    return console_error(request, 404, title="No such need",
                         message="This need does not exist or was removed.")


async def find_need(request: web.Request) -> LocalNeed:
    need_uuid = request.match_info["uuid"]
    if not _UUID.match(need_uuid):
        raise NotFound("no such need")
    return await service.live_need(request.app[HUB], need_uuid)


def need_path(need: LocalNeed, done: str | None = None) -> str:
    return f"/console/needs/{need.uuid}" + (f"?done={done}" if done else "")


def _posted(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d %b %Y")


# The list --------------------------------------------------------------------------------------
async def need_list(request: web.Request) -> web.Response:
    db = request.app[HUB].db
    live = await store.list_needs(db, statuses=LIVE)
    ended = await store.list_needs(db, statuses=("closed", "cancelled"), limit=50)
    return render_console(request, "console/need_list.html", live=live, ended=ended,
                          kinds=[(k, KIND_LABELS[k]) for k in KINDS], words=STATUS_WORDS,
                          kind_labels=KIND_LABELS, summary=summary_line, posted=_posted,
                          notice=NOTICES.get(request.query.get("done", "")))


# Post and edit ---------------------------------------------------------------------------------
async def _form_page(request: web.Request, kind: str, values: dict[str, Any], *,
                     need: LocalNeed | None = None, errors: Iterable[FieldError] = (),
                     warnings: list[DetailWarning] | None = None,
                     status: int = 200) -> web.Response:
    hub = request.app[HUB]
    items = _error_items(errors)
    events = await event_store.list_upcoming(hub.db, now=time.time(), limit=200) if (
        kind == "group_role") else []
    return render_console(
        request, "console/need_form.html", status=status, kind=kind, values=values,
        need=need, errors=items, error_for={e["id"]: e["message"] for e in items},
        warnings=warnings or [], field_id=field_id, events=events,
        choices=need_form.choices(kind, service.policy_checks(hub, kind)),
        heading=f"Edit “{need.draft.title}”" if need else f"New need: "
                f"{KIND_LABELS[kind].lower()}",
        action=f"/console/needs/{need.uuid}/edit" if need else f"/console/needs/new?kind={kind}")


def _kind(request: web.Request) -> str | None:
    kind = request.query.get("kind", "")
    return kind if kind in KINDS else None


async def new_need_form(request: web.Request) -> web.Response:
    kind = _kind(request)
    if kind is None:
        return console_error(request, 400, title="Which kind of need?",
                             message="Choose a kind of need from the list of needs.")
    values = need_form.blank_values(request.app[HUB].settings.default_timezone)
    return await _form_page(request, kind, values)


def _confirmed(form: Any) -> bool:
    return form.get("confirm") == "yes"


async def create_need(request: web.Request) -> web.Response:
    hub, form = request.app[HUB], await request.post()
    kind = _kind(request)
    if kind is None:
        return console_error(request, 400, title="Which kind of need?",
                             message="Choose a kind of need from the list of needs.")
    staff = request[STAFF]
    data, values = need_form.read_need_form(form, kind, with_notes=staff.is_coordinator)
    try:
        need, warnings = await service.create_need(hub, data, confirmed=_confirmed(form))
    except FieldError as exc:
        return await _form_page(request, kind, values, errors=[exc], status=400)
    except NeedsConfirmation as exc:
        return await _form_page(request, kind, values, warnings=exc.warnings, status=422)
    await audit.record(hub.db, staff.id, "need.create", hub.urls.need(need.uuid),
                       {"kind": kind, "warnings": len(warnings)})
    return see_other(need_path(need, "created"))


async def edit_form(request: web.Request) -> web.Response:
    try:
        need = await find_need(request)
    except NotFound:
        return not_found(request)
    return await _form_page(request, need.draft.kind, need_form.draft_values(need.draft),
                            need=need)


async def update_need(request: web.Request) -> web.Response:
    hub, form = request.app[HUB], await request.post()
    try:
        need = await find_need(request)
    except NotFound:
        return not_found(request)
    staff, kind = request[STAFF], need.draft.kind
    data, values = need_form.read_need_form(form, kind, with_notes=staff.is_coordinator)
    patch = {k: v for k, v in data.items() if k != "kind"}
    try:
        updated, warnings = await service.update_need(hub, need.uuid, patch,
                                                      confirmed=_confirmed(form))
    except FieldError as exc:
        return await _form_page(request, kind, values, need=need, errors=[exc], status=400)
    except NeedsConfirmation as exc:
        return await _form_page(request, kind, values, need=need, warnings=exc.warnings,
                                status=422)
    except StatusConflict as exc:
        return console_error(request, 409, title="This need cannot change",
                             message=exc.message)
    await audit.record(hub.db, staff.id, "need.update", hub.urls.need(updated.uuid),
                       {"warnings": len(warnings)})
    return see_other(need_path(updated, "updated"))


# One need: its page, its lifecycle, its candidates ---------------------------------------------
async def need_page(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    try:
        need = await find_need(request)
    except NotFound:
        return not_found(request)
    staff = request[STAFF]
    show_excluded = request.query.get("excluded") == "1"
    ranked = []
    if staff.is_coordinator and need.status in ("open", "matching"):
        ranked = await candidates_for(hub.db, need, now=datetime.now(UTC), limit=20,
                                      explain_excluded=show_excluded, excluded_limit=100)
        await audit.record(hub.db, staff.id, "need.candidates", hub.urls.need(need.uuid),
                           {"count": len(ranked)})
    event = (await event_store.get_event_by_id(hub.db, need.event_id)
             if need.event_id is not None else None)
    exchange = (await matching.need_view(hub, need, ranked) if staff.is_coordinator
                else {"rows": [], "matches": [], "ask_choices": ()})
    return render_console(
        request, "console/need_page.html", need=need, draft=need.draft,
        summary=summary_line(need.draft, need.status), status_word=STATUS_WORDS[need.status],
        kind_label=KIND_LABELS[need.draft.kind], public_url=hub.urls.need(need.uuid),
        moves=[(s, MOVES[s]) for s in service.allowed_moves(need.status)],
        candidates=[r for r in ranked if r.candidate.rank is not None],
        excluded=[r for r in ranked if r.candidate.rank is None], show_excluded=show_excluded,
        event=event, notice=NOTICES.get(request.query.get("done", "")), **exchange)


async def change_status(request: web.Request) -> web.Response:
    hub, form = request.app[HUB], await request.post()
    try:
        need = await find_need(request)
    except NotFound:
        return not_found(request)
    status = str(form.get("status", ""))
    try:
        changed = await service.change_status(hub, need.uuid, status)
    except (StatusConflict, FieldError) as exc:
        return console_error(request, 409 if isinstance(exc, StatusConflict) else 400,
                             title="This change is not possible", message=exc.message)
    await audit.record(hub.db, request[STAFF].id, "need.status", hub.urls.need(need.uuid),
                       {"status": status})
    return see_other(need_path(changed, status))


@require_role("coordinator")
async def delete_need(request: web.Request) -> web.Response:
    hub, form = request.app[HUB], await request.post()
    try:
        need = await find_need(request)
    except NotFound:
        return not_found(request)
    if form.get("confirm") != "yes":
        return console_error(request, 400, title="Not removed",
                             message="Tick the box to confirm that this need should be "
                                     "removed, then press the button again.")
    await service.delete_need(hub, need.uuid)
    await audit.record(hub.db, request[STAFF].id, "need.delete", hub.urls.need(need.uuid),
                       {"title": need.draft.title})
    return see_other("/console/needs?done=deleted")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/needs", need_list)
    r.add_get("/console/needs/new", new_need_form)
    r.add_post("/console/needs/new", create_need)
    r.add_get("/console/needs/{uuid}", need_page)
    r.add_get("/console/needs/{uuid}/edit", edit_form)
    r.add_post("/console/needs/{uuid}/edit", update_need)
    r.add_post("/console/needs/{uuid}/status", change_status)
    r.add_post("/console/needs/{uuid}/delete", delete_need)
