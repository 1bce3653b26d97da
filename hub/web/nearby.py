"""The "near us" views: upcoming events from the servers the hub follows, and needs.

`/calendar/nearby` is a plain page grouped by day, each event in its own timezone with a
link to its page on its origin; `/calendar/nearby.json` gives the same events as JSON, for
widgets and other sites (public, like the page). With `near=SW9` (a postcode district) or
`lat`/`lon`, and optionally `km` and `days` (7 by default then: "this week"), both answer a
search: the events within `km` of that place, nearest first (`hub.neighbours.near`).
`/needs/nearby` and `/needs/nearby.json` do the same for the hub's and its neighbours' needs.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from itertools import groupby
from typing import Any

from aiohttp import web

from hub.events.remote import plain_text
from hub.neighbours import near
from hub.neighbours.near import Search, parse_search
from hub.store import follows as follow_store
from hub.store.remote_events import RemoteEvent, StoredRemoteEvent
from hub.web.keys import HUB
from hub.web.render import json_response, render_html

LIMIT = 500       # events on the page at most: the soonest
WEEK = 7          # a search's default window, in days
EXCERPT = 240     # characters of description shown under each event
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_STATUS_BADGES = {"cancelled": "Cancelled", "postponed": "Postponed",
                  "rescheduled": "Rescheduled", "moved_online": "Moved online",
                  "tentative": "To be confirmed"}
DASH = "\u2013"


def _searching(request: web.Request) -> bool:
    return any(request.query.get(k) for k in ("near", "lat", "lon", "km", "days"))


async def _upcoming(request: web.Request) -> tuple[Search, list[tuple[StoredRemoteEvent,
                                                                     float | None]]]:
    # Cancelled events stay listed, marked, so nobody turns up to one they saw earlier.
    search = parse_search(request.query, request.app[HUB], default_days=WEEK)
    found = await near.events_near(request.app[HUB], search, time.time())
    if not _searching(request):
        found.sort(key=lambda pair: (pair[0].event.start, pair[0].event.id))
    return search, found[:LIMIT]


def _search_view(request: web.Request, search: Search) -> dict[str, Any]:
    return {"near": request.query.get("near", ""), "km": request.query.get("km", ""),
            "days": request.query.get("days", ""), "active": _searching(request),
            "centre": search.centre.label if search.centre else None,
            "within": search.km, "within_days": search.days}


async def nearby_page(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    search, found = await _upcoming(request)
    distances = {s.event.id: d for s, d in found}
    stored = [s for s, _ in found]
    query = f"?{request.query_string}" if request.query_string else ""
    return render_html(request, "nearby.html", days=_by_day(stored, distances),
                       nearest=[_item(s, d) for s, d in found] if _searching(request) else [],
                       search=_search_view(request, search),
                       following=await follow_store.count_following(hub.db),
                       json_url=f"{hub.urls.base}/calendar/nearby.json{query}")


async def nearby_json(request: web.Request) -> web.Response:
    search, found = await _upcoming(request)
    response = json_response({"search": _search_json(search),
                              "events": [event_json(s) | {"distance_km": d} for s, d in found]})
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _search_json(search: Search) -> dict[str, Any]:
    centre = search.centre
    return {"centre": None if centre is None else {
                "label": centre.label, "district": centre.district,
                "latitude": centre.point.lat, "longitude": centre.point.lon},
            "km": search.km, "days": search.days}


async def needs_page(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    search = parse_search(request.query, hub, default_days=None)
    found = await near.needs_near(hub, search)
    query = f"?{request.query_string}" if request.query_string else ""
    view = {k: v for k, v in _search_view(request, search).items() if k != "days"}
    return render_html(request, "needs_nearby.html", needs=[n.as_json() for n in found],
                       search=view,
                       json_url=f"{hub.urls.base}/needs/nearby.json{query}")


async def needs_json(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    search = parse_search(request.query, hub, default_days=None)
    found = await near.needs_near(hub, search)
    response = json_response({"search": _search_json(search),
                              "needs": [n.as_json() for n in found]})
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/calendar/nearby", nearby_page)
    app.router.add_get("/calendar/nearby.json", nearby_json)
    # Before need_pages' /needs/{uuid}, which would take "nearby" for a uuid.
    app.router.add_get("/needs/nearby", needs_page)
    app.router.add_get("/needs/nearby.json", needs_json)


# The page -----------------------------------------------------------------------------------
def _local(event: RemoteEvent, moment: datetime) -> datetime:
    return moment.astimezone(event.zone)


def zone_label(event: RemoteEvent) -> str:
    """"Europe/Paris", or "UTC+01:00" for a sender that gave only an offset."""
    if event.timezone:
        return event.timezone
    offset = event.start.astimezone(event.zone).strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"


def day_heading(day: date) -> str:
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def when_text(event: RemoteEvent) -> str:
    """"14:00-17:30", or "22:00 - Sun 17 Jan, 02:00" when it ends on another day (en
    dashes), in the event's own zone."""
    start = _local(event, event.start)
    if event.end is None:
        return f"{start:%H:%M}"
    end = _local(event, event.end)
    if end.date() == start.date():
        return f"{start:%H:%M}{DASH}{end:%H:%M}"
    end_day = f"{_DAYS[end.weekday()][:3]} {end.day} {_MONTHS[end.month - 1][:3]}"
    return f"{start:%H:%M} {DASH} {end_day}, {end:%H:%M}"


def _where(event: RemoteEvent) -> str | None:
    parts = [p for p in (event.place_name, event.address) if p]
    if len(parts) == 2 and parts[1].startswith(parts[0]):
        parts = parts[1:]  # Gancio-style addresses often repeat the place's name
    place = ", ".join(parts)
    if event.online_url:
        return f"{place} & online" if place else "Online"
    return place or None


def _excerpt(event: RemoteEvent) -> str:
    text = plain_text(event.content_html or event.summary_html)
    return text if len(text) <= EXCERPT else text[:EXCERPT].rsplit(" ", 1)[0] + "…"


def _item(stored: StoredRemoteEvent, distance: float | None = None) -> dict[str, Any]:
    event = stored.event
    return {"name": event.name, "url": event.url, "when": when_text(event),
            "zone": zone_label(event), "start_iso": _local(event, event.start).isoformat(),
            "where": _where(event), "status": event.status,
            "badge": _STATUS_BADGES.get(event.status), "excerpt": _excerpt(event),
            "origin_host": event.origin_host, "origin_name": stored.origin_name,
            "distance_km": distance, "day": day_heading(_local(event, event.start).date())}


def _by_day(stored: list[StoredRemoteEvent],
            distances: dict[str, float | None]) -> list[dict[str, Any]]:
    """Events under the local day they start on (in their own zone), days in order."""
    keyed = sorted(((_local(s.event, s.event.start).date(), s) for s in stored),
                   key=lambda pair: (pair[0], pair[1].event.start))
    return [{"date": day.isoformat(), "heading": day_heading(day),
             "events": [_item(s, distances.get(s.event.id)) for _, s in group]}
            for day, group in groupby(keyed, key=lambda pair: pair[0])]


# The JSON -----------------------------------------------------------------------------------
def _iso(event: RemoteEvent, moment: datetime | None) -> str | None:
    return None if moment is None else _local(event, moment).isoformat()


def event_json(stored: StoredRemoteEvent) -> dict[str, Any]:
    """The normalised fields; times in the event's own zone, with their offset."""
    event = stored.event
    location = None
    if event.place_name or event.address or event.latitude is not None:
        location = {"name": event.place_name, "address": event.address,
                    "latitude": event.latitude, "longitude": event.longitude}
    return {
        "id": event.id, "url": event.url, "name": event.name,
        "summary_html": event.summary_html, "content_html": event.content_html,
        "start": _iso(event, event.start), "end": _iso(event, event.end),
        "timezone": event.timezone, "zone": zone_label(event), "location": location,
        "online_url": event.online_url, "status": event.status, "capacity": event.capacity,
        "remaining": event.remaining, "participants": event.participants,
        "category": event.category, "tags": list(event.tags), "banner_url": event.banner_url,
        "origin": {"actor": event.origin_actor_id, "host": event.origin_host,
                   "name": stored.origin_name},
    }
