"""Volunteer needs as ActivityStreams objects that Mastodon renders and peer hubs read.

The object's `type` is `["Page", "Proposal"]`:
- Mastodon keeps objects whose type is, or includes, one it knows: `Page` is "converted",
  shown as `<h2>name</h2>`, then `summary`, then a link to `url` (`content` is dropped), so the
  summary line says what, when, where (district only) and which skills and checks.
  Misskey reads the first type of an array, hence `Page` first.
- `Proposal` (ValueFlows, as FEP-0837 "Federated Marketplace" uses it) with `purpose:
  request` and a primary `Intent` (`action: work`, how many volunteers as `resourceQuantity`,
  time per session as `effortQuantity`) says, in shared terms, that the hub asks for work.
- `ch:` terms carry what the matcher of a peer hub needs exactly (kind, status, skills and
  interests as concept ids, checks required, languages, dates, weekly slots, district).

Never here: a need's private notes. Only fields of the draft named below are read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.activitypub.context import AS_PUBLIC, CONTEXT
from hub.activitypub.notes import iso, tombstone, wrap
from hub.needs.model import NeedDraft
from hub.needs.summary import detail_rows, summary_line
from hub.store.needs import LocalNeed
from hub.text import plain_to_html
from hub.urls import Urls

NEED_TYPE = ["Page", "Proposal"]
FORMER_TYPE = "Page"
KIND_IRIS = {"one_off": "https://w3id.org/commonhub/ns#OneOffTask",
             "regular": "https://w3id.org/commonhub/ns#RegularCommitment",
             "group_role": "https://w3id.org/commonhub/ns#GroupActivityRole"}


def is_public(need: LocalNeed) -> bool:
    """Served and federated as a need (not a Tombstone): not removed, not cancelled."""
    return need.deleted_at is None and need.status != "cancelled"


def gone_at(need: LocalNeed) -> float:
    return need.deleted_at or need.closed_at or need.updated_at or need.published_at


def content_html(draft: NeedDraft, url: str) -> str:
    """The description, then the details, then a link: for readers that show `content`."""
    details = "".join(f"<li>{label}: {_escape(text)}</li>" for label, text in detail_rows(draft))
    link = f'<p><a href="{_escape(url)}">More about this need</a></p>'
    return plain_to_html(draft.description) + f"<ul>{details}</ul>" + link


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&quot;")


def _moment(day: Any, clock: Any, zone: str) -> str:
    return datetime.combine(day, clock, ZoneInfo(zone)).isoformat(timespec="seconds")


def _period(draft: NeedDraft) -> dict[str, str]:
    """vf:hasBeginning / vf:hasEnd: the window of a dated need, the span of a regular one."""
    if draft.is_dated and draft.on_date and draft.start_time and draft.end_time:
        return {"hasBeginning": _moment(draft.on_date, draft.start_time, draft.timezone),
                "hasEnd": _moment(draft.on_date, draft.end_time, draft.timezone)}
    out: dict[str, str] = {}
    if draft.starts_on:
        out["hasBeginning"] = _moment(draft.starts_on, datetime.min.time(), draft.timezone)
    if draft.ends_on:
        out["hasEnd"] = _moment(draft.ends_on, datetime.max.time().replace(microsecond=0),
                                draft.timezone)
    return out


def _intent(draft: NeedDraft, object_id: str) -> dict[str, Any]:
    intent: dict[str, Any] = {
        "id": f"{object_id}#primary", "type": "Intent", "action": "work",
        "resourceConformsTo": KIND_IRIS[draft.kind],
        "resourceQuantity": {"hasUnit": "one",
                             "hasNumericalValue": str(draft.volunteers_wanted)}}
    if draft.effort_minutes is not None:
        intent["effortQuantity"] = {"hasUnit": "minute-Time",
                                    "hasNumericalValue": str(draft.effort_minutes)}
    return intent


def _location(draft: NeedDraft) -> dict[str, Any] | None:
    if draft.district is None and draft.latitude is None:
        return None
    place: dict[str, Any] = {"type": "Place", "name": draft.district or "Approximate area"}
    if draft.latitude is not None and draft.longitude is not None:
        place["latitude"], place["longitude"] = draft.latitude, draft.longitude
    return place


def _terms(draft: NeedDraft, status: str) -> dict[str, Any]:
    """The structured `ch:` terms a peer hub's matcher reads (docs/federation.md)."""
    terms: dict[str, Any] = {
        "ch:needKind": draft.kind, "ch:needStatus": status,
        "ch:skills": list(draft.skills), "ch:interests": list(draft.interests),
        "ch:tags": list(draft.tags), "ch:checksRequired": list(draft.checks_required),
        "ch:languagesRequired": list(draft.languages_required),
        "ch:languagesPreferred": list(draft.languages_preferred),
        "ch:volunteersWanted": draft.volunteers_wanted, "timezone": draft.timezone,
        "ch:weeklySlots": [f"{day}-{part}" for day, parts in draft.slots.items()
                           for part in parts],
    }
    optional = {"ch:accessibility": draft.accessibility or None,
                "ch:district": draft.district, "ch:maxDistanceKm": draft.max_distance_km,
                "ch:effortMinutes": draft.effort_minutes,
                "ch:onDate": draft.on_date.isoformat() if draft.on_date else None,
                "ch:startsOn": draft.starts_on.isoformat() if draft.starts_on else None,
                "ch:endsOn": draft.ends_on.isoformat() if draft.ends_on else None,
                "ch:startTime": f"{draft.start_time:%H:%M}" if draft.start_time else None,
                "ch:endTime": f"{draft.end_time:%H:%M}" if draft.end_time else None}
    return {**terms, **{k: v for k, v in optional.items() if v is not None}}


def need_object(need: LocalNeed, urls: Urls, *, with_context: bool = True) -> dict[str, Any]:
    """The need as served at its URL, or its `Tombstone` once cancelled or removed."""
    object_id = urls.need(need.uuid)
    if not is_public(need):
        return tombstone(object_id, FORMER_TYPE, gone_at(need), with_context=with_context)
    draft = need.draft
    doc: dict[str, Any] = {
        "id": object_id, "type": NEED_TYPE, "purpose": "request",
        "attributedTo": urls.actor, "name": draft.title,
        "summary": summary_line(draft, need.status),
        "content": content_html(draft, object_id), "mediaType": "text/html",
        "source": {"content": draft.description, "mediaType": "text/plain"},
        "url": object_id, "to": [AS_PUBLIC], "cc": [urls.followers],
        "published": iso(need.published_at), "sensitive": False,
        "publishes": _intent(draft, object_id), "unitBased": False,
        **_period(draft), **_terms(draft, need.status),
    }
    place = _location(draft)
    if place is not None:
        doc["location"] = place
    if need.updated_at is not None:
        doc["updated"] = iso(need.updated_at)
    return {"@context": CONTEXT, **doc} if with_context else doc


def need_activity(kind: str, need: LocalNeed, urls: Urls, *, when: float) -> dict[str, Any]:
    """Create or Update of a need, to the public and the hub's followers."""
    return wrap(kind, need_object(need, urls, with_context=False), urls, when=when)


def deleted_need_activity(need: LocalNeed, urls: Urls, *, when: float) -> dict[str, Any]:
    """`Delete` with a Tombstone: the need was cancelled or removed."""
    obj = tombstone(urls.need(need.uuid), FORMER_TYPE, when, with_context=False)
    return wrap("Delete", obj, urls, when=when)
