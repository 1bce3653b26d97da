"""Who is coming to an event: going, the waitlist in order, requests to approve, maybes;
and the coordinators' CSV export.

People's contact details (email address, fediverse handle) are for coordinators only:
helpers see names. The export is a coordinator's too, and is written to the audit log.
Every cell of the CSV that a spreadsheet would read as a formula is defused.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from federation.errors import NotFound, ValidationError
from hub.rsvp import service as rsvp
from hub.store import audit
from hub.store import participants as participant_store
from hub.store.events import Event
from hub.store.participants import Participant
from hub.web.console.auth import require_role
from hub.web.console.events import event_row, find_event, not_found
from hub.web.console.keys import STAFF
from hub.web.console.page import console_error, render_console, see_other
from hub.web.keys import HUB

SHOWN = ("going", "waitlisted", "pending", "maybe")   # who is (or may be) coming
VIA_LABELS = {"join": "Fediverse (Join)", "friendica": "Fediverse (Friendica)",
              "mention": "Fediverse reply", "poll": "Fediverse poll", "web": "Web form",
              "staff": "Staff"}
STATE_LABELS = {"going": "Going", "waitlisted": "Waitlist", "pending": "Waiting for approval",
                "maybe": "Maybe"}
NOTICES = {"approved": "Approved: they have been told.",
           "declined": "Declined: they have been told."}
CSV_COLUMNS = ("name", "contact", "status", "position", "via", "requested at")
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Attendee:
    """One person as the page and the export show them."""

    id: int
    name: str
    contact: str
    state: str
    position: int | None
    via: str
    requested_at: str


def contact_of(person: Participant) -> str:
    return person.email or person.handle or person.actor_id or ""


def local_time(ts: float, zone: str) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone(ZoneInfo(zone)).strftime(
        "%Y-%m-%d %H:%M")


def attendees(event: Event, people: list[Participant]) -> list[Attendee]:
    """The people shown, with waitlist positions from 1 in queue order."""
    shown, waiting = [], 0
    for person in people:
        if person.state not in SHOWN:
            continue
        waiting += person.state == "waitlisted"
        shown.append(Attendee(
            person.id, person.name, contact_of(person), person.state,
            waiting if person.state == "waitlisted" else None,
            VIA_LABELS.get(person.via, person.via), local_time(person.requested_at,
                                                               event.timezone)))
    return shown


async def _people(request: web.Request, event: Event) -> list[Attendee]:
    return attendees(event, await participant_store.list_participants(
        request.app[HUB].db, event.id))


async def attendee_page(request: web.Request) -> web.Response:
    try:
        event = await find_event(request)
    except NotFound:
        return not_found(request)
    people = await _people(request, event)
    return render_console(
        request, "console/event_attendees.html", event=event,
        row=await event_row(request.app[HUB], event), states=STATE_LABELS,
        groups={state: [p for p in people if p.state == state] for state in SHOWN},
        show_contacts=request[STAFF].is_coordinator,
        notice=NOTICES.get(request.query.get("done", "")))


# Approving and declining -----------------------------------------------------------------
async def _pending(request: web.Request, event: Event) -> Participant | None:
    raw = request.match_info["participant"]
    person = await participant_store.get_participant(request.app[HUB].db, int(raw)) \
        if raw.isdigit() else None
    return person if person is not None and person.event_id == event.id else None


async def _answer(request: web.Request, verb: str) -> web.Response:
    hub = request.app[HUB]
    try:
        event = await find_event(request)
    except NotFound:
        return not_found(request)
    person = await _pending(request, event)
    if person is None or person.state != "pending":
        return console_error(request, 404, title="No such request",
                             message="This request was already answered or withdrawn.")
    try:
        await (rsvp.approve if verb == "approve" else rsvp.decline)(hub, person)
    except ValidationError as exc:
        return console_error(request, 409, title="Cannot approve", message=exc.message)
    await audit.record(hub.db, request[STAFF].id, f"participant.{verb}",
                       hub.urls.event(event.uuid), {"participant": person.id})
    return see_other(f"/console/events/{event.uuid}/attendees?done={verb}d")


async def approve(request: web.Request) -> web.Response:
    return await _answer(request, "approve")


async def decline(request: web.Request) -> web.Response:
    return await _answer(request, "decline")


# The export ------------------------------------------------------------------------------
def defuse(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (OWASP's advice)."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def attendee_csv(people: list[Attendee]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for p in people:
        writer.writerow([defuse(cell) for cell in (
            p.name, p.contact, STATE_LABELS[p.state].lower(),
            "" if p.position is None else str(p.position), p.via, p.requested_at)])
    return out.getvalue()


def file_name(event: Event) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", event.title.lower()).strip("-")[:50] or "event"
    return f"attendees-{slug}-{event.start_local[:10]}.csv"


@require_role("coordinator")
async def attendee_export(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    try:
        event = await find_event(request)
    except NotFound:
        return not_found(request)
    people = await _people(request, event)
    await audit.record(hub.db, request[STAFF].id, "attendees.export",
                       hub.urls.event(event.uuid), {"rows": len(people)})
    # The byte-order mark lets Excel read names in UTF-8.
    return web.Response(
        body=("\ufeff" + attendee_csv(people)).encode("utf-8"),
        content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name(event)}"'})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/console/events/{uuid}/attendees", attendee_page)
    r.add_get("/console/events/{uuid}/attendees.csv", attendee_export)
    r.add_post("/console/events/{uuid}/attendees/{participant}/approve", approve)
    r.add_post("/console/events/{uuid}/attendees/{participant}/decline", decline)
