"""Console pages for events and skill-share sessions: list, create, edit, change status, delete.

Each form is a plain POST (CSRF-checked by the console middleware) that calls one events
service and writes one audit row; a refused form comes back with an error summary at the top,
the message beside its field and everything as it was typed. Forms with a banner are
multipart (see `event_banner`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from federation.errors import NotFound
from hub.events import service
from hub.events.model import (
    EventDraft,
    FieldError,
    draft_to_input,
    parse_draft,
    parse_recurrence,
)
from hub.events.rows import draft_of
from hub.events.summary import summary_line, when_text
from hub.runtime import Hub
from hub.store import audit
from hub.store import events as event_store
from hub.store import media as media_store
from hub.store.events import Event, Series, SeriesChange
from hub.web.console import event_form
from hub.web.console.auth import require_role
from hub.web.console.event_banner import attach_banner, banner_preview
from hub.web.console.event_form import EventForm, field_id, read_form
from hub.web.console.keys import STAFF
from hub.web.console.page import console_error, render_console, see_other
from hub.web.keys import HUB

RECENT_DAYS = 30          # ended events stay on the list this long
LIST_LIMIT = 300
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Where an error about a whole group points: its first input.
_TARGETS = {"banner": "banner_file", "place": "place.name", "recurrence": "recurrence.frequency",
            "dates": "recurrence.exceptions"}
NOTICES = {"created": "Published: followers' servers receive it within a minute.",
           "updated": "Saved: followers' servers receive the change within a minute.",
           "postponed": "Postponed: followers are told.", "cancelled": "Cancelled: followers "
           "are told.", "moved_online": "Moved online: followers are told.",
           "rescheduled": "Rescheduled: followers are told the new time.",
           "scheduled": "Back on as planned: followers are told.",
           "deleted": "Deleted: followers' servers remove it."}
KIND_LABELS = {"event": "Event", "skillshare": "Skill-share session"}
STATUS_LABELS = {"scheduled": "Scheduled", "postponed": "Postponed", "cancelled": "Cancelled",
                 "moved_online": "Moved online", "rescheduled": "Rescheduled"}
# The status buttons: form action -> (status, audit action).
STATUS_ACTIONS = {"postpone": ("postponed", "event.postpone"),
                  "cancel": ("cancelled", "event.cancel"),
                  "move_online": ("moved_online", "event.move_online"),
                  "reschedule": ("rescheduled", "event.reschedule"),
                  "restore": ("scheduled", "event.restore")}


# Shared pieces -----------------------------------------------------------------------------
def error_items(errors: Iterable[FieldError], prefix: str = "") -> list[dict[str, str]]:
    """Errors as the summary and the fields show them: which input, its label, the message."""
    items, seen = [], set()
    for error in errors:
        target = field_id(prefix + _TARGETS.get(error.field, error.field))
        if target not in seen:
            seen.add(target)
            items.append({"id": target, "label": event_form.label_of(error.field),
                          "message": event_form.describe(error)})
    return items


async def find_event(request: web.Request) -> Event:
    """The live event the URL names, or NotFound."""
    event_uuid = request.match_info["uuid"]
    if not _UUID.match(event_uuid):
        raise NotFound("no such event")
    return await service.live_event(request.app[HUB], event_uuid)


def not_found(request: web.Request) -> web.Response:
    return console_error(request, 404, title="No such event",
                         message="This event does not exist or was deleted.")


def event_path(event: Event, done: str | None = None) -> str:
    return f"/console/events/{event.uuid}" + (f"?done={done}" if done else "")


async def _series_of(hub: Hub, event: Event) -> Series | None:
    if event.series_id is None:
        return None
    return await event_store.get_series_by_id(hub.db, event.series_id)


@dataclass(frozen=True)
class Row:
    """One event as the console's lists show it."""

    event: Event
    when: str
    going: int
    waitlisted: int

    @property
    def kind(self) -> str:
        return KIND_LABELS[self.event.kind]

    @property
    def status(self) -> str:
        return STATUS_LABELS.get(self.event.status, self.event.status)


async def event_row(hub: Hub, event: Event) -> Row:
    going, waitlisted = await event_store.participation_counts(hub.db, event.id)
    return Row(event, when_text(event), going, waitlisted)


# The list ----------------------------------------------------------------------------------
async def event_list(request: web.Request) -> web.Response:
    hub, now = request.app[HUB], time.time()
    events = await event_store.list_upcoming(hub.db, now=now - RECENT_DAYS * 86400,
                                             limit=LIST_LIMIT)
    rows = [await event_row(hub, e) for e in events]
    return render_console(
        request, "console/event_list.html", upcoming=[r for r in rows if r.event.end_at > now],
        recent=[r for r in reversed(rows) if r.event.end_at <= now],
        recent_days=RECENT_DAYS, notice=NOTICES.get(request.query.get("done", "")))


# New and edit forms ------------------------------------------------------------------------
async def _form_page(request: web.Request, values: dict[str, str], *, event: Event | None = None,
                     series: Series | None = None, errors: Iterable[FieldError] = (),
                     status: int = 200) -> web.Response:
    hub, kind = request.app[HUB], values.get("kind") or "event"
    noun = KIND_LABELS[kind].lower()
    items = error_items(errors)
    return render_console(
        request, "console/event_form.html", status=status, values=values, kind=kind,
        event=event, series=series, errors=items, error_for={e["id"]: e["message"] for e in items},
        field_id=field_id, choices=event_form.choices(),
        heading=f"Edit “{event.title}”" if event else f"New {noun}",
        action=f"/console/events/{event.uuid}/edit" if event else "/console/events/new",
        banner=await banner_preview(hub, values.get("banner")))


def _kind(request: web.Request) -> str:
    return "skillshare" if request.query.get("kind") == "skillshare" else "event"


async def new_event_form(request: web.Request) -> web.Response:
    zone = request.app[HUB].settings.default_timezone
    values = event_form.blank_values(_kind(request), zone)
    return await _form_page(request, values)


async def _create(hub: Hub, parsed: EventForm) -> tuple[str, str, dict[str, Any], Event]:
    """Create the event or series; (audit action, target URL, detail, first event)."""
    draft = parse_draft(parsed.data)
    detail: dict[str, Any] = {"title": draft.title, "kind": draft.kind}
    if parsed.recurrence is None:
        event = await service.create_event(hub, draft)
        return "event.create", hub.urls.event(event.uuid), detail, event
    rule = parse_recurrence(parsed.recurrence, draft.start.date())
    series, events = await service.create_series(hub, draft, rule)
    detail["occurrences"] = len(events)
    return "series.create", hub.urls.series(series.uuid), detail, events[0]


async def create_event(request: web.Request) -> web.Response:
    hub, form = request.app[HUB], await request.post()
    parsed = read_form(form)
    await attach_banner(hub, form, parsed)
    if parsed.errors:
        return await _form_page(request, parsed.values, errors=parsed.errors, status=400)
    try:
        action, target, detail, event = await _create(hub, parsed)
    except FieldError as exc:
        return await _form_page(request, parsed.values, errors=[exc], status=400)
    await audit.record(hub.db, request[STAFF].id, action, target, detail)
    return see_other(event_path(event, "created"))


async def current_draft(hub: Hub, event: Event) -> EventDraft:
    banner = await media_store.get_media_by_id(hub.db, event.banner_id or 0)
    return draft_of(event, banner.uuid if banner else None)


async def _edit_values(hub: Hub, event: Event, series: Series | None) -> dict[str, str]:
    draft = await current_draft(hub, event)
    values = event_form.draft_values(draft, teacher=event_form.event_teacher(event))
    banner = await media_store.get_media(hub.db, draft.banner) if draft.banner else None
    values["banner_alt"] = banner.alt_text if banner else ""
    if series is not None:
        values.update(event_form.recurrence_values(series), scope="occurrence")
    return values


async def edit_form(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    try:
        event = await find_event(request)
    except NotFound:
        return not_found(request)
    series = await _series_of(hub, event)
    return await _form_page(request, await _edit_values(hub, event, series), event=event,
                            series=series)


def _patch(old: EventDraft, new: EventDraft, event: Event) -> dict[str, Any]:
    """The fields the form changed (a fediverse teacher shown by handle is not a change)."""
    before, after = draft_to_input(old), draft_to_input(new)
    if new.teacher is not None and new.teacher == event.teacher_name:
        after["teacher"] = before["teacher"]
    return {name: value for name, value in after.items() if before.get(name) != value}


def _series_patch(series: Series, old: EventDraft, new: EventDraft, patch: dict[str, Any],
                  recurrence: dict[str, Any] | None) -> dict[str, Any]:
    """The occurrence's changes as a change of its series: new times move the series' first
    date by as much, and the repeat rule goes along if it was changed."""
    template = parse_draft(series.template)
    changes, start = dict(patch), template.start
    if {"start", "end"} & patch.keys():
        start = template.start + (new.start - old.start)
        changes["start"] = start.isoformat()
        changes["end"] = (template.end + (new.end - old.end)).isoformat()
    if recurrence is None:
        raise FieldError("recurrence.frequency", "a series repeats: to end it, delete this "
                                                 "and the future occurrences")
    if parse_recurrence(recurrence, start.date()).to_json() != series.rule:
        changes["recurrence"] = recurrence
    return changes


async def _apply_edit(hub: Hub, event: Event, parsed: EventForm,
                      series: Series | None) -> tuple[str, str, dict[str, Any]]:
    """Save the edit on the occurrence or on its series; (audit action, target, detail)."""
    new, old = parse_draft(parsed.data), await current_draft(hub, event)
    patch = _patch(old, new, event)
    if series is None or parsed.text("scope") != "series":
        await service.update_event(hub, event.uuid, patch)
        return "event.update", hub.urls.event(event.uuid), {"fields": sorted(patch)}
    changes = _series_patch(series, old, new, patch, parsed.recurrence)
    change: SeriesChange = await service.update_series(hub, series.uuid, changes)
    return "series.update", hub.urls.series(series.uuid), {
        "fields": sorted(changes), "updated": len(change.updated),
        "created": len(change.created), "deleted": len(change.deleted)}


async def update_event(request: web.Request) -> web.Response:
    hub, form = request.app[HUB], await request.post()
    try:
        event = await find_event(request)
    except NotFound:
        return not_found(request)
    series = await _series_of(hub, event)
    parsed = read_form({**form, "kind": event.kind})
    await attach_banner(hub, form, parsed)
    errors: list[FieldError] = parsed.errors
    if not errors:
        try:
            action, target, detail = await _apply_edit(hub, event, parsed, series)
        except FieldError as exc:
            errors = [exc]
    if errors:
        return await _form_page(request, parsed.values, event=event, series=series,
                                errors=errors, status=400)
    await audit.record(hub.db, request[STAFF].id, action, target, detail)
    return see_other(event_path(event, "updated"))


# One event: its page, its status -----------------------------------------------------------
async def _event_page(request: web.Request, event: Event, *, status: int = 200,
                      errors: Iterable[FieldError] = (),
                      values: dict[str, str] | None = None) -> web.Response:
    hub = request.app[HUB]
    items = error_items(errors, prefix="status-")
    series = await _series_of(hub, event)
    row = await event_row(hub, event)
    start = datetime.fromisoformat(event.start_local).isoformat(timespec="minutes")
    end = datetime.fromisoformat(event.end_local).isoformat(timespec="minutes")
    return render_console(
        request, "console/event_page.html", status=status, row=row, event=event,
        series=series, summary=summary_line(event, row.going), public_url=hub.urls.event(
            event.uuid), errors=items, error_for={e["id"]: e["message"] for e in items},
        values=values or {"start": start, "end": end, "timezone": event.timezone,
                          "online_url": event.online_url or ""},
        timezones=event_form.choices()["timezones"],
        notice=NOTICES.get(request.query.get("done", "")),
        banner=await banner_preview(hub, (await current_draft(hub, event)).banner))


async def event_page(request: web.Request) -> web.Response:
    try:
        event = await find_event(request)
    except NotFound:
        return not_found(request)
    return await _event_page(request, event)


def _status_options(action: str, values: dict[str, str]) -> dict[str, str | None]:
    if action == "move_online":
        return {"online_url": values.get("online_url", "").strip() or None}
    if action == "reschedule":
        return {name: values.get(name, "").strip() or None
                for name in ("start", "end", "timezone")}
    return {}


async def change_status(request: web.Request) -> web.Response:
    hub, form = request.app[HUB], await request.post()
    try:
        event = await find_event(request)
    except NotFound:
        return not_found(request)
    values = event_form.typed_values(form)
    action = values.get("action", "")
    if action not in STATUS_ACTIONS:
        return console_error(request, 400, title="Unknown action",
                             message="That status change is not one the console knows.")
    status, audit_action = STATUS_ACTIONS[action]
    options = _status_options(action, values)
    try:
        changed = await service.change_status(hub, event.uuid, status, **options)
    except FieldError as exc:
        return await _event_page(request, event, status=400, errors=[exc], values=values)
    await audit.record(hub.db, request[STAFF].id, audit_action, hub.urls.event(event.uuid),
                       {"status": status, **{k: v for k, v in options.items() if v}})
    return see_other(event_path(changed, status))


# Deleting ----------------------------------------------------------------------------------
async def delete_confirm(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    try:
        event = await find_event(request)
    except NotFound:
        return not_found(request)
    return render_console(request, "console/event_delete.html", row=await event_row(hub, event),
                          event=event, series=await _series_of(hub, event))


@require_role("coordinator")
async def delete_event(request: web.Request) -> web.Response:
    hub, form = request.app[HUB], await request.post()
    try:
        event = await find_event(request)
    except NotFound:
        return not_found(request)
    series = await _series_of(hub, event)
    if series is not None and form.get("scope") == "series":
        gone = await service.delete_series(hub, series.uuid)
        await audit.record(hub.db, request[STAFF].id, "series.delete",
                           hub.urls.series(series.uuid), {"title": event.title,
                                                          "deleted": len(gone)})
    else:
        await service.delete_event(hub, event.uuid)
        await audit.record(hub.db, request[STAFF].id, "event.delete",
                           hub.urls.event(event.uuid), {"title": event.title})
    return see_other("/console/events?done=deleted")


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/events", event_list)
    r.add_get("/console/events/new", new_event_form)
    r.add_post("/console/events/new", create_event)
    r.add_get("/console/events/{uuid}", event_page)
    r.add_get("/console/events/{uuid}/edit", edit_form)
    r.add_post("/console/events/{uuid}/edit", update_event)
    r.add_post("/console/events/{uuid}/status", change_status)
    r.add_get("/console/events/{uuid}/delete", delete_confirm)
    r.add_post("/console/events/{uuid}/delete", delete_event)
