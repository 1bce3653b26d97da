"""An event as schema.org `Event` JSON-LD, for search engines and link previews.

The JSON goes inside `<script type="application/ld+json">` on the event page. Titles and
descriptions are staff-typed text, so `script_json` escapes `<`, `>` and `&` (and the two
JavaScript line separators) as `\\uXXXX`: the JSON means the same, and no `</script>` or
`<!--` can end the element early.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.activitypub.events import EventExtras
from hub.events.summary import local_times
from hub.feeds.plaintext import html_to_text
from hub.store.events import Event
from hub.urls import Urls

SCHEMA = "https://schema.org/"
EVENT_STATUS = {"scheduled": "EventScheduled", "postponed": "EventPostponed",
                "cancelled": "EventCancelled", "moved_online": "EventMovedOnline",
                "rescheduled": "EventRescheduled"}
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                   "\u2028": "\\u2028", "\u2029": "\\u2029"}


def attendance_mode(event: Event) -> str:
    in_person = bool(event.place_name) and event.status != "moved_online"
    online = bool(event.online_url)
    if in_person and online:
        return f"{SCHEMA}MixedEventAttendanceMode"
    return f"{SCHEMA}{'Online' if online else 'Offline'}EventAttendanceMode"


def _postal_address(event: Event) -> dict[str, Any]:
    fields = {"streetAddress": event.street_address, "addressLocality": event.locality,
              "postalCode": event.postal_code, "addressRegion": event.region,
              "addressCountry": event.country}
    return {"@type": "PostalAddress", **{k: v for k, v in fields.items() if v}}


def _locations(event: Event) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if event.place_name and event.status != "moved_online":
        place: dict[str, Any] = {"@type": "Place", "name": event.place_name,
                                 "address": _postal_address(event)}
        if event.latitude is not None and event.longitude is not None:
            place["geo"] = {"@type": "GeoCoordinates", "latitude": event.latitude,
                            "longitude": event.longitude}
        found.append(place)
    if event.online_url:
        found.append({"@type": "VirtualLocation", "url": event.online_url})
    return found


def _capacity(event: Event, going: int) -> dict[str, Any]:
    if event.capacity is None:
        return {}
    return {"maximumAttendeeCapacity": event.capacity,
            "remainingAttendeeCapacity": max(event.capacity - going, 0)}


def event_jsonld(event: Event, extras: EventExtras, urls: Urls, *,
                 organizer: str) -> dict[str, Any]:
    """The schema.org description of one live event; `organizer` is the hub's name."""
    start, end = local_times(event)
    doc: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Event", "name": event.title,
        "url": urls.event(event.uuid), "startDate": start.isoformat(),
        "endDate": end.isoformat(), "eventStatus": SCHEMA + EVENT_STATUS[event.status],
        "eventAttendanceMode": attendance_mode(event), "inLanguage": event.language,
        "organizer": {"@type": "Organization", "name": organizer, "url": urls.profile},
        **_capacity(event, extras.going),
    }
    description = html_to_text(event.description_html)
    if description:
        doc["description"] = description
    locations = _locations(event)
    if locations:
        doc["location"] = locations[0] if len(locations) == 1 else locations
    if extras.banner is not None:
        doc["image"] = [urls.media(extras.banner.uuid)]
    if event.status == "rescheduled" and event.previous_start_at is not None:
        previous = datetime.fromtimestamp(event.previous_start_at, UTC)
        doc["previousStartDate"] = previous.astimezone(ZoneInfo(event.timezone)).isoformat()
    return doc


def script_json(data: Any) -> str:
    """JSON safe to place between `<script>` tags (see the module's note)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in _SCRIPT_ESCAPES.items():
        text = text.replace(char, escape)
    return text
