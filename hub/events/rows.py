"""Between drafts and rows: the columns a draft stores, the draft a row was made from, and
the look-ups a draft needs first (its banner image, its fediverse teacher).

Look-ups run before anything is written, so a refused request stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.errors import FederationError
from hub.events.model import EventDraft, FieldError, Place, description_html, is_fediverse_teacher
from hub.events.recurrence import to_utc
from hub.runtime import Hub
from hub.services.follows import resolve_actor_id
from hub.store import media as media_store
from hub.store.events import Event

TIME_COLUMNS = ("timezone", "start_local", "end_local", "start_at", "end_at")
PLACE_COLUMNS = ("place_name", "street_address", "locality", "postal_code", "region",
                 "country", "latitude", "longitude")
SKILL_COLUMNS = ("learning_outcome", "level", "what_to_bring", "teacher_name",
                 "teacher_actor_id")
# Which columns each input field sets (for edits that touch only some fields).
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("title",), "description": ("description_source", "description_html"),
    "timezone": TIME_COLUMNS, "start": TIME_COLUMNS, "end": TIME_COLUMNS,
    "place": PLACE_COLUMNS, "online_url": ("online_url",), "capacity": ("capacity",),
    "join_mode": ("join_mode", "external_url"), "external_url": ("external_url",),
    "category": ("category",), "hashtags": ("hashtags",), "banner": ("banner_id",),
    "language": ("language",), "kind": ("kind", *SKILL_COLUMNS),
    "learning_outcome": ("learning_outcome",), "level": ("level",),
    "what_to_bring": ("what_to_bring",), "teacher": ("teacher_name", "teacher_actor_id"),
}


@dataclass(frozen=True)
class Resolved:
    """A draft's look-ups: the banner's row id and the teacher as shown and as an actor."""

    banner_id: int | None = None
    teacher_name: str | None = None
    teacher_actor_id: str | None = None

    @property
    def teacher(self) -> tuple[str | None, str | None]:
        return self.teacher_name, self.teacher_actor_id


async def resolve(hub: Hub, draft: EventDraft, previous: Resolved | None = None) -> Resolved:
    """Find the banner and the teacher, reusing `previous` when the teacher is unchanged."""
    banner_id = None
    if draft.banner is not None:
        media = await media_store.get_media(hub.db, draft.banner)
        if media is None:
            raise FieldError("banner", "no uploaded image has that id (POST /api/v1/media)")
        banner_id = media.id
    name, actor_id = await _teacher(hub, draft.teacher, previous)
    return Resolved(banner_id, name, actor_id)


async def _teacher(hub: Hub, teacher: str | None,
                   previous: Resolved | None) -> tuple[str | None, str | None]:
    if teacher is None:
        return None, None
    if not is_fediverse_teacher(teacher):
        return teacher, None
    if previous is not None and teacher in (previous.teacher_actor_id, previous.teacher_name):
        return previous.teacher_name, previous.teacher_actor_id
    try:
        actor = await hub.actors.get(await resolve_actor_id(hub, teacher))
    except FederationError as exc:
        raise FieldError("teacher", f"cannot find the fediverse account {teacher!r}: "
                                    f"{exc.message}") from exc
    handle = f"@{actor.preferred_username}@{actor.domain}" if actor.preferred_username else None
    return handle or actor.id, actor.id


def columns(draft: EventDraft, resolved: Resolved) -> dict[str, Any]:
    """Every stored column of an event made from `draft`."""
    zone = draft.zone
    place = draft.place or Place(name="")
    return {
        "kind": draft.kind, "title": draft.title, "description_source": draft.description,
        "description_html": description_html(draft.description), "timezone": draft.timezone,
        "start_local": draft.start.isoformat(), "end_local": draft.end.isoformat(),
        "start_at": to_utc(draft.start, zone).timestamp(),
        "end_at": to_utc(draft.end, zone).timestamp(),
        "place_name": place.name or None, "street_address": place.street_address,
        "locality": place.locality, "postal_code": place.postal_code, "region": place.region,
        "country": place.country, "latitude": place.latitude, "longitude": place.longitude,
        "online_url": draft.online_url, "capacity": draft.capacity,
        "join_mode": draft.join_mode, "external_url": draft.external_url,
        "category": draft.category, "hashtags": list(draft.hashtags),
        "banner_id": resolved.banner_id, "language": draft.language,
        "learning_outcome": draft.learning_outcome, "level": draft.level,
        "what_to_bring": draft.what_to_bring, "teacher_name": resolved.teacher_name,
        "teacher_actor_id": resolved.teacher_actor_id,
    }


def draft_of(event: Event, banner_uuid: str | None) -> EventDraft:
    """The draft an event's row stands for (to apply an edit to it)."""
    place = None
    if event.place_name:
        place = Place(event.place_name, event.street_address, event.locality,
                      event.postal_code, event.region, event.country, event.latitude,
                      event.longitude)
    return EventDraft(
        title=event.title, timezone=event.timezone,
        start=datetime.fromisoformat(event.start_local),
        end=datetime.fromisoformat(event.end_local), kind=event.kind,
        description=event.description_source, place=place, online_url=event.online_url,
        capacity=event.capacity, join_mode=event.join_mode, external_url=event.external_url,
        category=event.category, hashtags=event.hashtags, banner=banner_uuid,
        language=event.language, learning_outcome=event.learning_outcome, level=event.level,
        what_to_bring=event.what_to_bring,
        teacher=event.teacher_actor_id or event.teacher_name)


def resolved_of(event: Event) -> Resolved:
    return Resolved(event.banner_id, event.teacher_name, event.teacher_actor_id)


def changed(event: Event, cols: dict[str, Any]) -> dict[str, Any]:
    """The columns whose value differs from the event's."""
    def current(name: str) -> Any:
        value = getattr(event, name)
        return list(value) if name == "hashtags" else value

    return {name: value for name, value in cols.items() if current(name) != value}


def touched_columns(fields: set[str] | list[str]) -> set[str]:
    return {column for name in fields for column in FIELD_COLUMNS.get(name, ())}
