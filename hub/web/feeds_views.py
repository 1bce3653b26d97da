"""The calendar's feeds: iCalendar for the hub, one event, a category or a hashtag; Atom and
RSS of upcoming events (optionally `?tag=` / `?category=`). Thin: pick the events, call the
builder in `hub.feeds`, answer with the right media type.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from aiohttp import web

from federation.errors import NotFound
from hub.events.publish import extras_for
from hub.feeds import atom, ical, listing, rss
from hub.feeds.atom import FeedInfo
from hub.feeds.listing import Listed
from hub.feeds.selection import (
    Selection,
    parse_category,
    parse_tag,
    selection_from_query,
)
from hub.runtime import Hub
from hub.store import events as event_store
from hub.web.keys import HUB

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FEED_CACHE = "public, max-age=300"


def _hub_name(hub: Hub) -> str:
    return hub.settings.display_name or hub.settings.name


def _calendar_name(hub: Hub, selection: Selection) -> str:
    narrowed = selection.describe()
    return f"{_hub_name(hub)}: {narrowed}" if narrowed else _hub_name(hub)


def _ics_response(body: bytes, *, filename: str | None = None) -> web.Response:
    headers = {"Cache-Control": FEED_CACHE, "Access-Control-Allow-Origin": "*"}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return web.Response(body=body, content_type=ical.MEDIA_TYPE, charset="utf-8",
                        headers=headers)


async def _selection_ics(hub: Hub, selection: Selection) -> web.Response:
    found = await listing.for_calendar_feed(hub.db, selection)
    body = ical.calendar(found, hub.urls, name=_calendar_name(hub, selection),
                         description=hub.settings.summary or None)
    return _ics_response(body)


async def calendar_ics(request: web.Request) -> web.Response:
    """The whole hub (or `?tag=` / `?category=`): upcoming events and the last month's."""
    return await _selection_ics(request.app[HUB], selection_from_query(request.query))


async def category_ics(request: web.Request) -> web.Response:
    category = parse_category(request.match_info["category"])
    return await _selection_ics(request.app[HUB], Selection(category=category))


async def tag_ics(request: web.Request) -> web.Response:
    tag = parse_tag(request.match_info["tag"])
    return await _selection_ics(request.app[HUB], Selection(tag=tag))


async def event_ics(request: web.Request) -> web.Response:
    """One event, for "Add to calendar"."""
    hub = request.app[HUB]
    event_uuid = request.match_info["uuid"]
    event = await event_store.get_event(hub.db, event_uuid) if _UUID.match(event_uuid) else None
    if event is None or event.deleted:
        raise NotFound("no such event")
    extras = await extras_for(hub, event)
    body = ical.calendar([Listed(event, extras.going)], hub.urls, name=event.title)
    return _ics_response(body, filename=f"event-{event.uuid}.ics")


def _feed_info(hub: Hub, selection: Selection, extension: str) -> FeedInfo:
    query = f"?{urlencode(selection.query())}" if not selection.everything else ""
    base = hub.urls.base
    return FeedInfo(title=f"{_calendar_name(hub, selection)}: upcoming events",
                    self_url=f"{base}/calendar.{extension}{query}",
                    page_url=f"{base}/calendar{query}", author=_hub_name(hub),
                    author_url=hub.urls.profile)


async def _upcoming(request: web.Request) -> tuple[Hub, Selection, list[Listed]]:
    hub = request.app[HUB]
    selection = selection_from_query(request.query)
    found = await listing.upcoming(hub.db, selection, limit=hub.settings.page_size * 5)
    return hub, selection, found


async def calendar_atom(request: web.Request) -> web.Response:
    hub, selection, found = await _upcoming(request)
    body = atom.atom_feed(found, hub.urls, _feed_info(hub, selection, "atom"))
    return web.Response(body=body, content_type=atom.MEDIA_TYPE, charset="utf-8",
                        headers={"Cache-Control": FEED_CACHE})


async def calendar_rss(request: web.Request) -> web.Response:
    hub, selection, found = await _upcoming(request)
    body = rss.rss_feed(found, hub.urls, _feed_info(hub, selection, "rss"))
    return web.Response(body=body, content_type=rss.MEDIA_TYPE, charset="utf-8",
                        headers={"Cache-Control": FEED_CACHE})


def add_routes(app: web.Application) -> None:
    """Register before the event and tag pages: `/events/{uuid}` would also match `x.ics`."""
    r = app.router
    r.add_get("/calendar.ics", calendar_ics)
    r.add_get("/calendar.atom", calendar_atom)
    r.add_get("/calendar.rss", calendar_rss)
    r.add_get("/calendar/category/{category}.ics", category_ics)
    r.add_get("/events/{uuid}.ics", event_ics)
    r.add_get("/tags/{tag}.ics", tag_ics)
