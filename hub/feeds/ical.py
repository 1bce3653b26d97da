"""Events as iCalendar (RFC 5545), built with the `icalendar` library.

Each event, and each occurrence of a series, is its own VEVENT (no RRULE): occurrences are
separate events here, each with its own page, status and places, and a series' exceptions
are simply dates with no VEVENT. Times carry their IANA `TZID`, and the calendar includes a
VTIMEZONE for every zone used, covering just the years its events span.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import icalendar

from hub.activitypub.events import ICAL_STATUS, skillshare_rows
from hub.events.summary import local_times, summary_line
from hub.feeds.listing import Listed
from hub.feeds.plaintext import html_to_text
from hub.feeds.selection import category_name
from hub.store.events import Event
from hub.urls import Urls

PRODID = "-//commonhub//calendar 1.0//EN"
MEDIA_TYPE = "text/calendar"
REFRESH = timedelta(hours=1)  # how often subscribed calendars should fetch the feed again
# Calendar apps often ignore STATUS; say it in the title as well, where everyone sees it.
_TITLE_PREFIX = {"cancelled": "Cancelled: ", "postponed": "Postponed: "}


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def location_text(event: Event) -> str | None:
    """The venue and its address on one line; the online address if there is no venue."""
    if event.place_name and event.status != "moved_online":
        parts = (event.place_name, event.street_address, event.locality, event.postal_code,
                 event.region, event.country)
        return ", ".join(p for p in parts if p)
    return event.online_url


def description_text(listed: Listed, urls: Urls) -> str:
    """What the event page says, as plain text: the summary line, the description, the
    skill-share details and the links."""
    event = listed.event
    sections = [summary_line(event, listed.going), html_to_text(event.description_html)]
    sections.append("\n".join(f"{label}: {html_to_text(value)}"
                              for label, value in skillshare_rows(event)))
    links = [("Online", event.online_url), ("Sign up", event.external_url),
             ("Details", urls.event(event.uuid))]
    sections.append("\n".join(f"{label}: {url}" for label, url in links if url))
    return "\n\n".join(s for s in sections if s)


def sequence(event: Event) -> int:
    """Grows with every edit, as RFC 5545 asks: seconds from publication to the last edit."""
    if event.updated_at is None:
        return 0
    return max(int(event.updated_at - event.published_at), 1)


def vevent(listed: Listed, urls: Urls) -> icalendar.Event:
    event = listed.event
    start, end = local_times(event)
    component = icalendar.Event()
    component.add("uid", urls.event(event.uuid))
    component.add("dtstamp", _utc(listed.changed_at))
    component.add("dtstart", start)
    component.add("dtend", end)
    component.add("summary", _TITLE_PREFIX.get(event.status, "") + event.title)
    component.add("description", description_text(listed, urls))
    component.add("status", ICAL_STATUS[event.status])
    component.add("sequence", sequence(event))
    component.add("created", _utc(event.published_at))
    component.add("last-modified", _utc(listed.changed_at))
    component.add("url", urls.event(event.uuid))
    component.add("class", "PUBLIC")
    _where(component, event)
    tags = ([category_name(event.category)] if event.category else []) + list(event.hashtags)
    if tags:
        component.add("categories", tags)
    return component


def _where(component: icalendar.Event, event: Event) -> None:
    where = location_text(event)
    if where:
        component.add("location", where)
    if (event.latitude is not None and event.longitude is not None
            and event.status != "moved_online"):
        component.add("geo", (event.latitude, event.longitude))


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> icalendar.Timezone:
    # Cached and never changed after it is built: every calendar may share the same object.
    return icalendar.Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1),
                                        last_date=date(last_year + 1, 1, 1))


def _timezones(listed: Sequence[Listed]) -> list[icalendar.Timezone]:
    """One VTIMEZONE per zone used (UTC needs none: its times end in Z)."""
    years: dict[str, list[int]] = {}
    for item in listed:
        start, end = local_times(item.event)
        if item.event.timezone not in ("UTC", "Etc/UTC"):
            years.setdefault(item.event.timezone, []).extend((start.year, end.year))
    return [_vtimezone(tzid, min(span), max(span)) for tzid, span in sorted(years.items())]


def calendar(listed: Sequence[Listed], urls: Urls, *, name: str,
             description: str | None = None) -> bytes:
    """A VCALENDAR of these events, named as calendar apps show it (X-WR-CALNAME)."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("name", name)
    if description:
        cal.add("x-wr-caldesc", description)
        cal.add("description", description)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vText("PT1H"))
    for timezone in _timezones(listed):
        cal.add_component(timezone)
    for item in listed:
        cal.add_component(vevent(item, urls))
    return cal.to_ical()
