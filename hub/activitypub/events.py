"""Events and skill-share sessions as ActivityStreams `Event`s (FEP-8a8e and Mobilizon's
shape), their Create/Update/Delete, and a series as an `OrderedCollection`.

What each consumer reads: Mastodon shows `name`, `summary` and `url` (and the first image
attachment, hashtags and mentions); Mobilizon reads `startTime`, `timezone`, `location` as a
`Place` with a `PostalAddress`, `joinMode`, capacities, `status`/`ical:status`, `category`,
`uuid`, and takes the first `Document` attachment (or one named "Banner") as the banner;
FEP-8a8e readers use `eventStatus`, `isBannerImage`, `VirtualLocation` and `organizers`.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.activitypub.context import AS_PUBLIC, CONTEXT
from hub.activitypub.notes import iso, tombstone
from hub.events.summary import summary_line
from hub.store.events import Event
from hub.store.media import Media
from hub.urls import Urls

EVENT_STATUS = {"scheduled": "EventScheduled", "postponed": "EventPostponed",
                "cancelled": "EventCancelled", "moved_online": "EventMovedOnline",
                "rescheduled": "EventRescheduled"}
ICAL_STATUS = {"scheduled": "CONFIRMED", "postponed": "TENTATIVE", "cancelled": "CANCELLED",
               "moved_online": "CONFIRMED", "rescheduled": "CONFIRMED"}
LEVEL_NAMES = {"beginner": "Beginner", "intermediate": "Intermediate",
               "advanced": "Advanced", "all_levels": "All levels"}
ONLINE_LINK_NAME = "Website"   # how Mobilizon marks an event's online address


@dataclass(frozen=True)
class EventExtras:
    """What the Event JSON needs besides the row: read by the service, passed in here."""

    banner: Media | None = None
    going: int = 0
    series_uuid: str | None = None


def _address(event: Event) -> dict[str, Any]:
    fields = {"streetAddress": event.street_address, "postalCode": event.postal_code,
              "addressLocality": event.locality, "addressRegion": event.region,
              "addressCountry": event.country}
    return {"type": "PostalAddress", **{k: v for k, v in fields.items() if v}}


def location(event: Event) -> dict[str, Any] | list[dict[str, Any]] | None:
    """A `Place`, a `VirtualLocation`, or both as an array (hybrid); never plain text."""
    places: list[dict[str, Any]] = []
    if event.place_name and event.status != "moved_online":
        place: dict[str, Any] = {"type": "Place", "name": event.place_name,
                                 "address": _address(event)}
        if event.latitude is not None and event.longitude is not None:
            place["latitude"], place["longitude"] = event.latitude, event.longitude
        places.append(place)
    if event.online_url:
        places.append({"type": "VirtualLocation", "name": "Online", "url": event.online_url})
    if not places:
        return None
    return places[0] if len(places) == 1 else places


def is_online(event: Event) -> bool:
    return bool(event.online_url) and (event.status == "moved_online" or not event.place_name)


def _offset_time(ts: float, zone: ZoneInfo) -> str:
    """xsd:dateTime with the UTC offset of the local time: 2026-12-06T14:00:00+00:00."""
    return datetime.fromtimestamp(ts, UTC).astimezone(zone).isoformat(timespec="seconds")


def teacher_mention(event: Event) -> dict[str, Any] | None:
    if not event.teacher_actor_id:
        return None
    return {"type": "Mention", "href": event.teacher_actor_id, "name": event.teacher_name}


def _tags(event: Event, urls: Urls) -> list[dict[str, Any]]:
    tags: list[dict[str, Any]] = [
        {"type": "Hashtag", "href": urls.tag(tag), "name": f"#{tag}"} for tag in event.hashtags]
    mention = teacher_mention(event)
    if mention:
        tags.append(mention)
    return tags


def _attachments(event: Event, urls: Urls, banner: Media | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if banner is not None:
        # `Document` (not `Image`): Mobilizon takes only Documents as banners. The name is
        # the alt text, which Mastodon shows as the image description.
        image: dict[str, Any] = {"type": "Document", "mediaType": banner.content_type,
                                 "url": urls.media(banner.uuid),
                                 "name": banner.alt_text or "Banner", "isBannerImage": True}
        if banner.width and banner.height:
            image["width"], image["height"] = banner.width, banner.height
        found.append(image)
    if event.online_url:
        found.append({"type": "Link", "name": ONLINE_LINK_NAME, "mediaType": "text/html",
                      "href": event.online_url})
    return found


def _teacher_html(event: Event) -> str:
    name = html.escape(event.teacher_name or "")
    if event.teacher_actor_id:
        href = html.escape(event.teacher_actor_id)
        return f'<span class="h-card"><a href="{href}" class="u-url mention">{name}</a></span>'
    return name


def skillshare_rows(event: Event) -> list[tuple[str, str]]:
    """A skill-share's details as (label, HTML) pairs, for `content` and for its page."""
    if event.kind != "skillshare":
        return []
    rows = [("What you will learn", html.escape(event.learning_outcome or "")),
            ("Level", LEVEL_NAMES.get(event.level or "", "")),
            ("What to bring", html.escape(event.what_to_bring or "")),
            ("Taught by", _teacher_html(event))]
    return [(label, value) for label, value in rows if value]


def content_html(event: Event) -> str:
    """The description, then a skill-share's details (for readers that show `content`)."""
    details = "".join(f"<p><strong>{label}:</strong> {value}</p>"
                      for label, value in skillshare_rows(event))
    return event.description_html + details


def _skillshare_terms(event: Event) -> dict[str, Any]:
    if event.kind != "skillshare":
        return {}
    terms: dict[str, Any] = {"ch:learningOutcome": event.learning_outcome,
                             "ch:level": event.level, "ch:whatToBring": event.what_to_bring}
    if event.teacher_name:
        teacher = {"type": "Person", "name": event.teacher_name}
        terms["ch:teacher"] = ({"id": event.teacher_actor_id, **teacher}
                               if event.teacher_actor_id else teacher)
    return {k: v for k, v in terms.items() if v is not None}


def audience(event: Event, urls: Urls) -> tuple[list[str], list[str]]:
    """Public, to followers, and to a fediverse teacher (so their server notifies them)."""
    cc = [urls.followers]
    if event.teacher_actor_id:
        cc.append(event.teacher_actor_id)
    return [AS_PUBLIC], cc


def _capacity_terms(event: Event, going: int) -> dict[str, Any]:
    if event.capacity is None:
        return {"participantCount": going}
    return {"maximumAttendeeCapacity": event.capacity,
            "remainingAttendeeCapacity": max(event.capacity - going, 0),
            "participantCount": going}


def event_object(event: Event, urls: Urls, extras: EventExtras, *,
                 with_context: bool = True) -> dict[str, Any]:
    """The `Event` (or, once deleted, its `Tombstone`)."""
    if event.deleted_at is not None:
        return tombstone(urls.event(event.uuid), "Event", event.deleted_at,
                         with_context=with_context)
    zone = ZoneInfo(event.timezone)
    to, cc = audience(event, urls)
    doc: dict[str, Any] = {
        "id": urls.event(event.uuid), "type": "Event", "uuid": event.uuid,
        "name": event.title, "summary": summary_line(event, extras.going),
        "content": content_html(event), "mediaType": "text/html",
        "source": {"content": event.description_source, "mediaType": "text/markdown"},
        "url": urls.event(event.uuid), "attributedTo": urls.actor,
        "organizers": {"type": "Collection", "totalItems": 1, "items": [urls.actor]},
        "to": to, "cc": cc, "published": iso(event.published_at),
        "startTime": _offset_time(event.start_at, zone),
        "endTime": _offset_time(event.end_at, zone), "timezone": event.timezone,
        "eventStatus": EVENT_STATUS[event.status],
        "status": ICAL_STATUS[event.status], "ical:status": ICAL_STATUS[event.status],
        "joinMode": event.join_mode, **_capacity_terms(event, extras.going),
        "commentsEnabled": False,
        "anonymousParticipationEnabled": event.join_mode in ("free", "restricted"),
        "isOnline": is_online(event), "inLanguage": event.language,
        "tag": _tags(event, urls), "attachment": _attachments(event, urls, extras.banner),
        "sensitive": False, **_skillshare_terms(event),
    }
    _optional(doc, event, urls, extras, zone)
    return {"@context": CONTEXT, **doc} if with_context else doc


def _optional(doc: dict[str, Any], event: Event, urls: Urls, extras: EventExtras,
              zone: ZoneInfo) -> None:
    place = location(event)
    if place is not None:
        doc["location"] = place
    if event.external_url:
        doc["externalParticipationUrl"] = event.external_url
    if event.category:
        doc["category"] = event.category
    if event.previous_start_at is not None and event.status == "rescheduled":
        doc["previousStartTime"] = _offset_time(event.previous_start_at, zone)
    if extras.series_uuid:
        doc["ch:series"] = urls.series(extras.series_uuid)
    if event.updated_at is not None:
        doc["updated"] = iso(event.updated_at)


def _activity(kind: str, obj: dict[str, Any], urls: Urls, when: float, to: list[str],
              cc: list[str]) -> dict[str, Any]:
    return {"@context": CONTEXT, "id": urls.activity(str(uuid.uuid4())), "type": kind,
            "actor": urls.actor, "published": iso(when), "to": to, "cc": cc, "object": obj}


def event_activity(kind: str, event: Event, urls: Urls, extras: EventExtras, *,
                   when: float) -> dict[str, Any]:
    """Create or Update of an event, addressed like the event itself."""
    obj = event_object(event, urls, extras, with_context=False)
    return _activity(kind, obj, urls, when, obj["to"], obj["cc"])


def deleted_event_activity(event: Event, urls: Urls, *, when: float) -> dict[str, Any]:
    """`Delete` with a Tombstone, addressed to everyone who could see the event."""
    to, cc = audience(event, urls)
    obj = tombstone(urls.event(event.uuid), "Event", when, with_context=False)
    return _activity("Delete", obj, urls, when, to, cc)


def series_collection(series_uuid: str, title: str, urls: Urls,
                      events: list[Event]) -> dict[str, Any]:
    """A series: its live occurrences' ids, soonest first."""
    return {"@context": CONTEXT, "id": urls.series(series_uuid), "type": "OrderedCollection",
            "name": title, "attributedTo": urls.actor, "totalItems": len(events),
            "orderedItems": [urls.event(e.uuid) for e in events]}

