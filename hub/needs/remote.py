"""Needs other hubs publish, as this hub keeps them (`remote_needs`) for its own matcher.

A need is recognised by its type (`Proposal` among its types, as hub/activitypub/needs.py
sends `["Page", "Proposal"]`) together with `ch:needKind`; anything else is not a need and is
left to the other handlers. Only the `ch:` terms are read for matching (see
docs/federation.md), through the same parser staff input goes through, so a neighbour's need
is held to the same rules as a local one. Foreign shapes never crash the worker: a malformed
need raises `ValidationError` (the inbound row records why) and nothing is stored.

Lenient where it is safe, strict where it is not: skill and interest ids this hub does not
know are dropped (they could only add to a score), but every required check is kept, known
or not, so a need never matches volunteers who lack a check the other hub asked for.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from federation.errors import ForbiddenActivity, ValidationError
from federation.fetch import same_origin
from hub.events.model import FieldError
from hub.events.remote import plain_text
from hub.needs.model import (
    MAX_DESCRIPTION,
    MAX_TITLE,
    STATUSES,
    NeedDraft,
    check_whole,
    parse_need,
)
from hub.runtime import Hub
from hub.store import needs as store
from hub.volunteers.model import known_concepts

log = logging.getLogger(__name__)

_PROPOSAL_TYPES = {"Proposal", "vf:Proposal", "https://w3id.org/valueflows/ont/vf#Proposal"}
_CHECK_ID = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_SLOT = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)-(morning|afternoon|evening)$")
_LISTS = {"ch:tags": "tags",
          "ch:languagesRequired": "languages_required",
          "ch:languagesPreferred": "languages_preferred"}
_SCALARS = {"ch:district": "district", "ch:maxDistanceKm": "max_distance_km",
            "ch:volunteersWanted": "volunteers_wanted", "ch:effortMinutes": "effort_minutes",
            "ch:onDate": "on_date", "ch:startsOn": "starts_on", "ch:endsOn": "ends_on",
            "ch:startTime": "start_time", "ch:endTime": "end_time", "timezone": "timezone",
            "ch:accessibility": "accessibility"}
MAX_ITEMS = 30


def _types(obj: dict[str, Any]) -> list[str]:
    kind = obj.get("type")
    items = kind if isinstance(kind, list) else [kind]
    return [t for t in items if isinstance(t, str)]


def is_need(obj: Any) -> bool:
    """Whether an object is a volunteer need as hubs publish them."""
    return (isinstance(obj, dict) and "ch:needKind" in obj
            and any(t in _PROPOSAL_TYPES for t in _types(obj)))


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    return [item.strip() for item in items[:MAX_ITEMS] if isinstance(item, str) and item.strip()]


def _known(ids: list[str]) -> list[str]:
    known = known_concepts()
    return [i for i in ids if known is None or i in known]


def _slots(value: Any) -> dict[str, list[str]]:
    slots: dict[str, list[str]] = {}
    for item in _strings(value):
        match = _SLOT.match(item)
        if match:
            slots.setdefault(match[1], []).append(match[2])
    return slots


def _description(obj: dict[str, Any]) -> str:
    """The plain text: `source` when it is plain text, else the HTML's text."""
    source = obj.get("source")
    if isinstance(source, dict) and source.get("mediaType") == "text/plain":
        text = source.get("content")
        if isinstance(text, str):
            return text[:MAX_DESCRIPTION]
    content = obj.get("content")
    return plain_text(content)[:MAX_DESCRIPTION] if isinstance(content, str) else ""


def _point(obj: dict[str, Any]) -> dict[str, Any]:
    place = obj.get("location")
    place = place[0] if isinstance(place, list) and place else place
    if not isinstance(place, dict):
        return {}
    lat, lon = place.get("latitude"), place.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float) and not (
            isinstance(lat, bool) or isinstance(lon, bool)):
        return {"latitude": lat, "longitude": lon}
    return {}


def _input(obj: dict[str, Any]) -> dict[str, Any]:
    """The object's terms as the input `parse_need` checks (checks are handled apart)."""
    name = obj.get("name")
    data: dict[str, Any] = {
        "kind": obj.get("ch:needKind"),
        "title": plain_text(name)[:MAX_TITLE] if isinstance(name, str) else None,
        "description": _description(obj),
        "skills": _known(_strings(obj.get("ch:skills"))),
        "interests": _known(_strings(obj.get("ch:interests"))),
        "slots": _slots(obj.get("ch:weeklySlots")), **_point(obj),
    }
    for term, field in _LISTS.items():
        data[field] = _strings(obj.get(term))
    data["tags"] = [t for t in data["tags"] if len(t) <= 40]
    for term, field in _SCALARS.items():
        if obj.get(term) is not None:
            data[field] = obj[term]
    return data


def parse_remote_need(obj: dict[str, Any]) -> tuple[NeedDraft, str]:
    """(the need's draft, its status) from a peer hub's object; ValidationError if unusable."""
    checks = _strings(obj.get("ch:checksRequired"))
    bad = [c for c in checks if not _CHECK_ID.match(c)]
    if bad:
        raise ValidationError(f"need {obj.get('id')}: unreadable check type {bad[0][:60]!r}")
    data = _input(obj)
    try:
        draft = check_whole(parse_need(data, default_timezone="UTC"))
    except FieldError as exc:
        raise ValidationError(f"need {obj.get('id')}: {exc.message}") from exc
    status = obj.get("ch:needStatus")
    return replace(draft, checks_required=tuple(dict.fromkeys(checks))), (
        status if status in STATUSES else "open")


def _published(obj: dict[str, Any]) -> float | None:
    value = obj.get("published")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def _page_url(obj: dict[str, Any], object_id: str) -> str | None:
    url = obj.get("url")
    return url if isinstance(url, str) and same_origin(url, object_id) else object_id


async def receive_need(hub: Hub, obj: dict[str, Any], actor: str) -> None:
    """Store, or update, a need that `actor` (a hub this hub follows) published.

    The need's id must be on the actor's own server; only the actor it came from may change
    it, and a deleted need stays deleted. Parsed before anything is written.
    """
    object_id = obj.get("id")
    if not isinstance(object_id, str) or not same_origin(object_id, actor):
        raise ForbiddenActivity(f"{actor} may publish only needs on its own server")
    known = await store.get_remote_need(hub.db, object_id)
    if known is not None and known.actor != actor:
        raise ForbiddenActivity(f"{object_id} came from {known.actor}; {actor} may not "
                                "change it")
    if known is not None and known.deleted:
        log.info("ignoring a change to need %s: it was deleted", object_id)
        return
    draft, status = parse_remote_need(obj)
    await store.upsert_remote_need(hub.db, object_id, actor, draft, status=status,
                                   url=_page_url(obj, object_id),
                                   published_at=_published(obj), raw=obj)


async def receive_need_delete(hub: Hub, object_id: str, actor: str) -> bool:
    """Mark a need deleted if `actor` published it; False if it is not a need we hold."""
    known = await store.get_remote_need(hub.db, object_id)
    if known is None:
        return False
    if known.actor != actor:
        raise ForbiddenActivity(f"{actor} may not delete {object_id}")
    await store.delete_remote_need(hub.db, object_id, actor)
    return True
