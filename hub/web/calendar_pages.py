"""The public calendar: `/calendar` (by day, with filters and pages), the embeddable
`/widget`, the next few events on the home page, and the head of each event page (OpenGraph
tags, schema.org JSON-LD, feed links).

Everything works without JavaScript: filters are links, pages are links.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from markupsafe import Markup

from hub.activitypub.events import EventExtras
from hub.events.summary import local_times, places_text, summary_line, where_text
from hub.feeds import listing
from hub.feeds.listing import Listed
from hub.feeds.schema_org import event_jsonld, script_json
from hub.feeds.selection import (
    Selection,
    category_name,
    parse_count,
    selection_from_query,
)
from hub.runtime import Hub
from hub.store import calendar as calendar_store
from hub.store import events as event_store
from hub.store.events import Event
from hub.urls import Urls
from hub.web.keys import HUB
from hub.web.render import render_html

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
WIDGET_DEFAULT, WIDGET_MAX = 5, 50
HOME_EVENTS = 5
MAX_PAGE = 10_000
DASH = "\u2013"
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
STATUS_BADGES = {"postponed": "Postponed", "cancelled": "Cancelled",
                 "moved_online": "Moved online", "rescheduled": "Rescheduled"}


def day_text(day: date, today: date, *, short: bool = False) -> str:
    """"Saturday 7 December" ("Sat 7 Dec" if short), with the year when not this year."""
    year = f" {day.year}" if day.year != today.year else ""
    weekday, month = _DAYS[day.weekday()], _MONTHS[day.month - 1]
    if short:
        weekday, month = weekday[:3], month[:3]
    return f"{weekday} {day.day} {month}{year}"


def time_text(event: Event) -> str:
    """"14:00-16:00 GMT", or "22:00 BST - Sun 26 Oct, 02:00 GMT" across days or zones
    (with en dashes)."""
    start, end = local_times(event)
    if start.date() == end.date() and start.tzname() == end.tzname():
        return f"{start:%H:%M}{DASH}{end:%H:%M} {start.tzname()}"
    end_day = ""
    if start.date() != end.date():
        end_day = f"{day_text(end.date(), start.date(), short=True)}, "
    return f"{start:%H:%M} {start.tzname()} {DASH} {end_day}{end:%H:%M} {end.tzname()}"


def list_item(listed: Listed, urls: Urls) -> dict[str, Any]:
    """One event as the calendar, the home page and the widget list it."""
    event = listed.event
    start, end = local_times(event)
    return {
        "title": event.title, "url": urls.event(event.uuid), "ics": ics_url(urls, event),
        "day": start.date(), "date": day_text(start.date(), date.today(), short=True),
        "start_iso": start.isoformat(), "end_iso": end.isoformat(),
        "time": time_text(event), "timezone": event.timezone,
        "where": where_text(event), "status": event.status,
        "badge": STATUS_BADGES.get(event.status), "places": places_text(event, listed.going),
        "skillshare": event.kind == "skillshare", "learn": event.learning_outcome,
        "summary": summary_line(event, listed.going),
    }


def by_day(items: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """Items grouped under the local date each starts on, days in order."""
    days: dict[date, list[dict[str, Any]]] = {}
    for item in items:
        days.setdefault(item["day"], []).append(item)
    return [{"iso": day.isoformat(), "text": day_text(day, today), "events": days[day]}
            for day in sorted(days)]


def ics_url(urls: Urls, event: Event) -> str:
    return f"{urls.event(event.uuid)}.ics"


@dataclass(frozen=True)
class FeedLinks:
    """The feeds of one selection (what `<link rel="alternate">` and the page links show)."""

    ics: str
    atom: str
    rss: str


def feed_links(urls: Urls, selection: Selection) -> FeedLinks:
    query = f"?{urlencode(selection.query())}" if not selection.everything else ""
    if selection.category and not selection.tag:
        ics = f"{urls.base}/calendar/category/{quote(selection.category)}.ics"
    elif selection.tag and not selection.category:
        ics = f"{urls.tag(selection.tag)}.ics"
    else:
        ics = f"{urls.base}/calendar.ics{query}"
    return FeedLinks(ics=ics, atom=f"{urls.base}/calendar.atom{query}",
                     rss=f"{urls.base}/calendar.rss{query}")


def _page_link(selection: Selection, page: int) -> str:
    return "?" + urlencode({**selection.query(), "page": page})


async def _filters(hub: Hub, selection: Selection) -> dict[str, Any]:
    """Links that narrow the calendar: by category, by hashtag, or back to everything."""
    categories = await calendar_store.upcoming_categories(hub.db)
    tags = await calendar_store.upcoming_tags(hub.db)
    return {
        "categories": [{"name": category_name(c), "href": "?" + urlencode({"category": c}),
                        "current": c == selection.category} for c in categories],
        "tags": [{"name": f"#{t}", "href": "?" + urlencode({"tag": t}),
                  "current": t == selection.tag} for t in tags],
    }


async def calendar_page(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    selection = selection_from_query(request.query)
    page = parse_count("page", request.query.get("page"), default=1, maximum=MAX_PAGE)
    size = hub.settings.page_size
    found = await listing.upcoming(hub.db, selection, limit=size, offset=(page - 1) * size)
    total = await event_store.count_upcoming(hub.db, tag=selection.tag,
                                             category=selection.category)
    today = datetime.now().date()
    return render_html(
        request, "calendar.html", selection=selection.describe(),
        days=by_day([list_item(item, hub.urls) for item in found], today),
        filters=await _filters(hub, selection), feeds=feed_links(hub.urls, selection),
        everything=selection.everything, page=page,
        prev_page=_page_link(selection, page - 1) if page > 1 else None,
        next_page=_page_link(selection, page + 1) if page * size < total else None)


async def widget(request: web.Request) -> web.Response:
    """A compact list for other sites to embed in an `<iframe>` (see docs/calendar.md)."""
    hub = request.app[HUB]
    selection = selection_from_query(request.query)
    limit = parse_count("limit", request.query.get("limit"), default=WIDGET_DEFAULT,
                        maximum=WIDGET_MAX)
    found = await listing.upcoming(hub.db, selection, limit=limit)
    query = f"?{urlencode(selection.query())}" if not selection.everything else ""
    response = render_html(request, "widget.html", selection=selection.describe(),
                           items=[list_item(item, hub.urls) for item in found],
                           more=f"{hub.urls.base}/calendar{query}")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


async def upcoming_for_home(hub: Hub, limit: int = HOME_EVENTS) -> list[dict[str, Any]]:
    """The next few events, for the home page."""
    found = await listing.upcoming(hub.db, Selection(), limit=limit)
    return [list_item(item, hub.urls) for item in found]


def osm_url(latitude: float, longitude: float) -> str:
    return (f"https://www.openstreetmap.org/?mlat={latitude:.5f}&mlon={longitude:.5f}"
            f"#map=17/{latitude:.5f}/{longitude:.5f}")


def event_head(hub: Hub, event: Event, extras: EventExtras) -> dict[str, Any]:
    """What the event page adds to the view of the event: previews, JSON-LD, links."""
    urls, settings = hub.urls, hub.settings
    start = local_times(event)[0]
    banner = extras.banner
    jsonld = event_jsonld(event, extras, urls, organizer=settings.display_name or settings.name)
    osm = None
    if (event.latitude is not None and event.longitude is not None
            and event.status != "moved_online"):
        osm = osm_url(event.latitude, event.longitude)
    return {
        "og": {"title": event.title, "description": summary_line(event, extras.going),
               "url": urls.event(event.uuid), "image": urls.media(banner.uuid) if banner else None,
               "image_alt": banner.alt_text if banner else None,
               "site_name": settings.display_name or settings.name},
        # Safe to mark: script_json escapes every character that could end the element.
        "jsonld": Markup(script_json(jsonld)),
        "ics": ics_url(urls, event), "zone": start.tzname(), "osm": osm,
        "badge": STATUS_BADGES.get(event.status),
        "feeds": feed_links(urls, Selection()),
    }


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/calendar", calendar_page)
    r.add_get("/widget", widget)
    r.add_static("/static", STATIC_DIR, append_version=False)
