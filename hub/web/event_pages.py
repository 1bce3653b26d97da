"""Public pages of events, series, hashtags and uploaded images.

`/events/{uuid}` and `/series/{uuid}` are ActivityStreams objects too: servers asking for
`application/activity+json` (or ld+json) get the JSON, browsers a plain accessible page.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from federation.errors import NotFound
from hub.activitypub.events import EventExtras, location, series_collection, skillshare_rows
from hub.events.media import media_path
from hub.events.publish import event_document, extras_for
from hub.events.summary import local_times, places_text, summary_line, when_parts
from hub.runtime import Hub
from hub.store import events as event_store
from hub.store import media as media_store
from hub.store.events import Event
from hub.urls import Urls
from hub.web.calendar_pages import event_head
from hub.web.keys import HUB
from hub.web.render import activity_json, render_html, wants_activity_json

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TAG = re.compile(r"^[\w·]{1,50}$")
_STATUS_NOTES = {
    "postponed": "This event is postponed: a new date will follow.",
    "cancelled": "This event is cancelled.",
    "moved_online": "This event has moved online.",
    "rescheduled": "This event has been rescheduled.",
}
_JOIN_NOTES = {"free": "Open to all: no approval needed.",
               "restricted": "Places are confirmed by the hub's staff.",
               "none": "No sign-up needed: just come along.",
               "external": "Sign up on the organiser's site."}


def _uuid(request: web.Request) -> str:
    value = request.match_info["uuid"]
    if not _UUID.match(value):
        raise NotFound("no such page")
    return value


def _humanise(category: str | None) -> str | None:
    return category.replace("_", " ").capitalize() if category else None


def event_view(event: Event, extras: EventExtras, urls: Urls) -> dict[str, Any]:
    """What the event page shows, as plain strings (the template only lays them out)."""
    start, end = local_times(event)
    start_text, end_text = when_parts(event)
    banner = extras.banner
    place = location(event)
    places = [p for p in (place if isinstance(place, list) else [place]) if p]
    return {
        "title": event.title, "url": urls.event(event.uuid), "kind": event.kind,
        "status": event.status, "status_note": _STATUS_NOTES.get(event.status),
        "summary": summary_line(event, extras.going), "start_text": start_text,
        "end_text": end_text, "start_iso": start.isoformat(), "end_iso": end.isoformat(),
        "timezone": event.timezone,
        "place": next((p for p in places if p["type"] == "Place"), None),
        "online_url": event.online_url, "places_left": places_text(event, extras.going),
        "capacity": event.capacity, "join_note": _JOIN_NOTES[event.join_mode],
        "external_url": event.external_url, "category": _humanise(event.category),
        "tags": [(f"#{tag}", urls.tag(tag)) for tag in event.hashtags],
        "banner": {"url": urls.media(banner.uuid), "alt": banner.alt_text,
                   "width": banner.width, "height": banner.height} if banner else None,
        "description_html": event.description_html, "skillshare": skillshare_rows(event),
        "series_url": urls.series(extras.series_uuid) if extras.series_uuid else None,
    }


async def event_page(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    event = await event_store.get_event(hub.db, _uuid(request))
    if event is None:
        raise NotFound("no such event")
    status = 410 if event.deleted else 200
    if wants_activity_json(request):
        return activity_json(await event_document(hub, event), status=status)
    if event.deleted:
        return render_html(request, "error.html", status=410, title="Event deleted",
                           message="This event was deleted by the hub's staff.")
    extras = await extras_for(hub, event)
    return render_html(request, "event.html", event=event_view(event, extras, hub.urls),
                       page=event_head(hub, event, extras))


async def _list_item(hub: Hub, event: Event) -> dict[str, Any]:
    going, _ = await event_store.participation_counts(hub.db, event.id)
    return {"title": event.title, "url": hub.urls.event(event.uuid),
            "summary": summary_line(event, going),
            "start_iso": local_times(event)[0].isoformat()}


async def series_page(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    series = await event_store.get_series(hub.db, _uuid(request))
    if series is None:
        raise NotFound("no such series")
    events = await event_store.series_events(hub.db, series.id)
    title = str(series.template.get("title", "Series"))
    if wants_activity_json(request):
        return activity_json(series_collection(series.uuid, title, hub.urls, events))
    return render_html(request, "event_list.html", heading=title,
                       intro="Every date of this series, soonest first.",
                       items=[await _list_item(hub, e) for e in events],
                       alternate=hub.urls.series(series.uuid))


async def tag_page(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    tag = request.match_info["tag"]
    if not _TAG.match(tag):
        raise NotFound("no such tag")
    events = await event_store.list_upcoming(hub.db, tag=tag, limit=200)
    return render_html(request, "event_list.html", heading=f"#{tag}",
                       intro=f"Upcoming events tagged #{tag}.",
                       items=[await _list_item(hub, e) for e in events], alternate=None,
                       ics=f"{hub.urls.tag(tag)}.ics")


async def media_file(request: web.Request) -> web.StreamResponse:
    """An uploaded image, with its recorded type; never sniffed, never run as a page."""
    hub = request.app[HUB]
    media = await media_store.get_media(hub.db, _uuid(request))
    if media is None:
        raise NotFound("no such image")
    path = media_path(hub, media)
    if not path.is_file():
        raise NotFound("the image file is missing")
    return web.FileResponse(path, headers={
        "Content-Type": media.content_type, "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=31536000, immutable",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Access-Control-Allow-Origin": "*"})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/events/{uuid}", event_page)
    r.add_get("/series/{uuid}", series_page)
    r.add_get("/tags/{tag}", tag_page)
    r.add_get("/media/{uuid}", media_file)
