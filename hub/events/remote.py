"""Foreign `Event` JSON (Mobilizon, Gancio, Friendica, FEP-8a8e, peer hubs) as a `RemoteEvent`.

We read the compact JSON servers actually send, without JSON-LD processing (see
ARCHITECTURE.md: expansion costs a millisecond an activity, and every sender uses the same
compact keys). What each sender puts where:

- Mobilizon (lib/federation/activity_stream/converter/event.ex): `startTime`/`endTime` with
  the offset of the event's IANA `timezone`; `location` a `Place` with a `PostalAddress` and
  coordinates; `status` and `ical:status` CONFIRMED, TENTATIVE or CANCELLED; capacities; the
  banner is the `Document` named "Banner"; the online address a `Link` named "Website";
  `actor` is the organiser, `attributedTo` the group.
- Gancio (server/api/models/event.js `toAP`): no timezone, times with the instance's offset
  and milliseconds (Luxon); `location` a `Place` whose `address` is a string, or a
  `VirtualLocation`; the image is a `Document` named after the event; `Delete` carries the
  whole Event.
- Friendica: UTC times, `endTime` optional, a `Place` with only a name and coordinates as
  strings.
- FEP-8a8e and commonhub peers: `eventStatus`, `isBannerImage`, `VirtualLocation`s, a
  `location` array for a hybrid event.

Anything missing is left out; anything malformed but optional is dropped; only a missing or
unreadable `startTime` makes the whole event invalid. Foreign HTML is sanitised here, so
nothing downstream ever sees it raw.
"""

from __future__ import annotations

import html
import logging
import math
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nh3

from federation.errors import ForbiddenActivity, ValidationError
from hub.runtime import Hub
from hub.store import remote_events
from hub.store.remote_events import RemoteEvent, StoredRemoteEvent
from hub.text import sanitise_html

log = logging.getLogger(__name__)

MAX_NAME = 300
MAX_HTML = 100_000
MAX_TAGS = 20
_CATEGORY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
# FEP-8a8e `eventStatus` (also schema.org's names) and iCalendar STATUS (Mobilizon).
_EVENT_STATUS = {"EventScheduled": "scheduled", "EventCancelled": "cancelled",
                 "EventPostponed": "postponed", "EventRescheduled": "rescheduled",
                 "EventMovedOnline": "moved_online", "EventTentative": "tentative",
                 "Scheduled": "scheduled", "Cancelled": "cancelled", "Postponed": "postponed",
                 "Rescheduled": "rescheduled", "MovedOnline": "moved_online",
                 "Tentative": "tentative"}
_ICAL_STATUS = {"CONFIRMED": "scheduled", "TENTATIVE": "tentative", "CANCELLED": "cancelled"}
_ONLINE_LINK_NAME = "Website"   # how Mobilizon marks an event's online address
_BANNER_NAME = "Banner"         # how Mobilizon marks its banner


def parse_remote_event(doc: dict[str, Any], origin_actor: str) -> RemoteEvent:
    """Normalise an `Event` object sent by (or on behalf of) `origin_actor`.

    Raises `ValidationError` when it is not an Event with an id or has no usable
    `startTime`; the inbox worker then records the activity as failed, with the reason.
    """
    event_id = _http_url(doc.get("id"))
    if doc.get("type") != "Event" or event_id is None:
        raise ValidationError("not an Event with an http(s) id")
    zone_name = _zone_name(doc.get("timezone"))
    start, offset = _instant(doc.get("startTime"), zone_name, "startTime")
    end = _end(doc.get("endTime"), zone_name, start)
    place, online = _locations(doc.get("location"))
    return RemoteEvent(
        id=event_id, origin_actor_id=origin_actor, origin_host=_host(origin_actor),
        url=_page_url(doc.get("url"), event_id), name=_name(doc), start=start, end=end,
        timezone=zone_name, utc_offset=offset,
        summary_html=_html(doc.get("summary")), content_html=_html(doc.get("content")),
        place_name=place.get("name"), address=place.get("address"),
        latitude=place.get("latitude"), longitude=place.get("longitude"),
        online_url=online or _online_link(doc.get("attachment")), status=_status(doc),
        capacity=_capacity(doc.get("maximumAttendeeCapacity")),
        remaining=_count(doc.get("remainingAttendeeCapacity")),
        participants=_count(doc.get("participantCount")),
        category=_category(doc.get("category")), tags=_tags(doc.get("tag")),
        banner_url=_banner(doc.get("attachment"), doc.get("image")),
        organiser_id=_organiser(doc.get("actor"), event_id))


# Text ---------------------------------------------------------------------------------------
def plain_text(fragment: str) -> str:
    """Foreign HTML as plain text: every tag dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(nh3.clean(fragment, tags=set())).split())


def _first_of_map(value: Any) -> str | None:
    """The first string of a `nameMap`/`contentMap` ({"fr": "..."})."""
    if isinstance(value, dict):
        return next((v for v in value.values() if isinstance(v, str)), None)
    return None


def _short_text(value: Any) -> str | None:
    """A name or address line: plain text, at most MAX_NAME characters, None when empty."""
    return (plain_text(value)[:MAX_NAME] or None) if isinstance(value, str) else None


def _name(doc: dict[str, Any]) -> str:
    name = doc.get("name")
    if not isinstance(name, str):
        name = _first_of_map(doc.get("nameMap"))
    return _short_text(name) or "Untitled event"


def _html(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    return sanitise_html(value[:MAX_HTML]).strip()


# Times --------------------------------------------------------------------------------------
def _zone_name(value: Any) -> str | None:
    """An IANA zone name we can load, or None (bad names are dropped, not trusted)."""
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value


def _instant(value: Any, zone_name: str | None, field: str) -> tuple[datetime, int | None]:
    """An xsd:dateTime as a UTC instant, and the offset it was written with.

    A time without an offset is read in the event's timezone; with neither, it means
    nothing definite and is refused.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"the Event has no {field}")
    if len(value) > 64:
        raise ValidationError(f"{field} is not a date and time")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationError(f"{field} {value!r} is not an ISO 8601 date and time") from exc
    offset = moment.utcoffset()
    if offset is None:
        if zone_name is None:
            raise ValidationError(f"{field} {value!r} has no UTC offset and no timezone")
        moment = moment.replace(tzinfo=ZoneInfo(zone_name))
        return moment.astimezone(UTC), None
    return moment.astimezone(UTC), int(offset.total_seconds())


def _end(value: Any, zone_name: str | None, start: datetime) -> datetime | None:
    if value is None:
        return None
    try:
        end, _ = _instant(value, zone_name, "endTime")
    except ValidationError:
        return None  # an optional field: a bad end is dropped, the event is kept
    return end if end >= start else None


# Places -------------------------------------------------------------------------------------
def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _locations(value: Any) -> tuple[dict[str, Any], str | None]:
    """The first physical place (as name/address/latitude/longitude) and the first online URL.

    `location` may be one object or an array (a hybrid event); Gancio's older events send a
    `Place` without a type, and some servers a bare string.
    """
    place: dict[str, Any] | None = None
    online: str | None = None
    for item in _as_list(value):
        if isinstance(item, str) and place is None:
            place = {"name": _short_text(item)}
        elif isinstance(item, dict) and item.get("type") == "VirtualLocation":
            online = online or _http_url(item.get("url"))
        elif isinstance(item, dict) and item.get("type") in ("Place", None) and place is None:
            place = _place(item)
    return place or {}, online


def _place(item: dict[str, Any]) -> dict[str, Any]:
    place: dict[str, Any] = {"name": _short_text(item.get("name")),
                             "address": _address(item.get("address"))}
    latitude = _coordinate(item.get("latitude"), 90)
    longitude = _coordinate(item.get("longitude"), 180)
    if latitude is not None and longitude is not None:
        place["latitude"], place["longitude"] = latitude, longitude
    return place


def _address(value: Any) -> str | None:
    """One line of address, from a schema.org `PostalAddress` or a plain string."""
    if isinstance(value, str):
        return _short_text(value)
    if not isinstance(value, dict):
        return None
    street, code, town = (value.get(k) for k in ("streetAddress", "postalCode",
                                                 "addressLocality"))
    town_line = " ".join(p for p in (code, town) if isinstance(p, str) and p.strip())
    parts = [street, town_line, value.get("addressRegion"), value.get("addressCountry")]
    text = ", ".join(plain_text(p) for p in parts if isinstance(p, str) and p.strip())
    return text[:MAX_NAME] or None


def _coordinate(value: Any, limit: float) -> float | None:
    """A latitude or longitude in range; numbers or numeric strings (Friendica's)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and -limit <= number <= limit else None


# Links and media ----------------------------------------------------------------------------
def _http_url(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 2048:
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return value


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _link_href(value: Any) -> str | None:
    """A URL given as a string, or as a `Link`/`Document` with `href` or `url` (which may
    itself be a Link or a list of them: the first is taken)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        inner = value.get("href") or value.get("url")
        return _link_href(inner) if isinstance(inner, list | dict) else _http_url(inner)
    return _http_url(value)


def _page_url(value: Any, event_id: str) -> str:
    """The event's HTML page: its `url` when that is on the event's own host (a server
    speaks only for its own pages), else its id."""
    for item in _as_list(value):
        if isinstance(item, dict) and item.get("mediaType") not in (None, "text/html"):
            continue
        url = _link_href(item)
        if url and _host(url) == _host(event_id):
            return url
    return event_id


def _online_link(attachments: Any) -> str | None:
    for item in _as_list(attachments):
        if (isinstance(item, dict) and item.get("type") == "Link"
                and item.get("name") == _ONLINE_LINK_NAME):
            return _http_url(item.get("href"))
    return None


def _is_image(item: Any) -> bool:
    if not isinstance(item, dict) or item.get("type") not in ("Image", "Document"):
        return False
    media_type = item.get("mediaType")
    return item["type"] == "Image" if media_type is None else str(media_type).startswith("image/")


def _banner(attachments: Any, image: Any) -> str | None:
    """FEP-8a8e's `isBannerImage`, else Mobilizon's "Banner", else the first image, else
    the object's `image`."""
    images = [item for item in _as_list(attachments) if _is_image(item)]
    chosen = (next((i for i in images if i.get("isBannerImage") is True), None)
              or next((i for i in images if i.get("name") == _BANNER_NAME), None)
              or (images[0] if images else None))
    return _link_href(chosen if chosen is not None else image)


# The rest -----------------------------------------------------------------------------------
def _status(doc: dict[str, Any]) -> str:
    """FEP-8a8e `eventStatus` first (the finer one), then iCalendar's (Mobilizon)."""
    fep = doc.get("eventStatus")
    if isinstance(fep, str):
        found = _EVENT_STATUS.get(re.split(r"[/#:]", fep)[-1])
        if found:
            return found
    for key in ("ical:status", "status"):
        value = doc.get(key)
        if isinstance(value, str) and value.upper() in _ICAL_STATUS:
            return _ICAL_STATUS[value.upper()]
    return "scheduled"


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if 0 <= value <= 10_000_000 else None


def _capacity(value: Any) -> int | None:
    """Mobilizon sends 0 for "no limit"."""
    count = _count(value)
    return count if count else None


def _category(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    if isinstance(value, str) and _CATEGORY.match(value):
        return value.upper()
    return None


def _tags(value: Any) -> tuple[str, ...]:
    found: list[str] = []
    for item in _as_list(value):
        if isinstance(item, dict) and item.get("type") == "Hashtag":
            name = item.get("name")
            tag = plain_text(name).lstrip("#").strip()[:64] if isinstance(name, str) else ""
            if tag and tag.lower() not in (t.lower() for t in found):
                found.append(tag)
    return tuple(found[:MAX_TAGS])


def _organiser(value: Any, event_id: str) -> str | None:
    """Mobilizon's `actor` on the object (the organiser), if on the event's own host."""
    actor = _link_href(value)
    return actor if actor and _host(actor) == _host(event_id) else None


# Receiving ----------------------------------------------------------------------------------
async def receive_event(hub: Hub, obj: dict[str, Any], origin: str) -> None:
    """Store, or update, an Event that `origin` (an actor the hub follows) sent or vouched for.

    Only the actor an event first came from may change it, and a deleted event stays
    deleted (a late Update must not bring it back). The object is parsed before anything
    is written, so an invalid one leaves no trace but the failed inbound row.
    """
    known = await remote_events.get_remote_event(hub.db, str(obj.get("id")))
    if known is not None and known.event.origin_actor_id != origin:
        raise ForbiddenActivity(f"{known.event.id} came from {known.event.origin_actor_id}; "
                                f"{origin} may not change it")
    if known is not None and known.deleted_at is not None:
        log.info("ignoring a change to %s: it was deleted", known.event.id)
        return
    event = parse_remote_event(obj, origin)
    await remote_events.save_remote_event(hub.db, event, obj)


async def receive_event_delete(hub: Hub, stored: StoredRemoteEvent, actor_id: str) -> None:
    """Tombstone an event, if `actor_id` is where it came from or its organiser (Mobilizon:
    the organiser deletes a group's event, not the group)."""
    if actor_id not in (stored.event.origin_actor_id, stored.event.organiser_id):
        raise ForbiddenActivity(f"{actor_id} may not delete {stored.event.id}")
    await remote_events.tombstone_remote_event(hub.db, stored.event.id)
