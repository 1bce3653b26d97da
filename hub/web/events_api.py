"""The staff JSON API for events, series and banner uploads (under /api/v1/, staff token).

Handlers are thin: parse, call one service, shape the answer. A bad field is answered 400
with `{"error": ..., "field": ...}`; an image that is too big 413, not an image 415.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, web

from federation.errors import NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationError
from hub.events import service
from hub.events.media import MAX_ALT_CHARS, MAX_IMAGE_BYTES, save_image
from hub.events.model import FieldError, parse_draft, parse_recurrence
from hub.events.publish import extras_for
from hub.events.summary import summary_line
from hub.runtime import Hub
from hub.store import events as event_store
from hub.store.events import Event, Series, SeriesChange
from hub.store.media import Media
from hub.web.keys import HUB
from hub.web.render import json_response, read_json_object

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATUS_FIELDS = {"status", "online_url", "start", "end", "timezone"}


def field_errors(handler: Handler) -> Handler:
    """Answer a FieldError with 400 and the field's name, for forms and clients to point at."""
    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except FieldError as exc:
            return json_response({"error": exc.message, "field": exc.field}, status=400)

    return wrapped



def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _place(event: Event) -> dict[str, Any] | None:
    if not event.place_name:
        return None
    return {"name": event.place_name, "street_address": event.street_address,
            "locality": event.locality, "postal_code": event.postal_code,
            "region": event.region, "country": event.country,
            "latitude": event.latitude, "longitude": event.longitude}


async def event_json(hub: Hub, event: Event) -> dict[str, Any]:
    """An event as the API shows it: the input fields (so GET then PATCH round-trips), plus
    what the hub derived (UTC times, status, counts, the summary line, URLs)."""
    extras = await extras_for(hub, event)
    going, waitlisted = await event_store.participation_counts(hub.db, event.id)
    banner: Media | None = extras.banner
    return {
        "id": event.uuid, "url": hub.urls.event(event.uuid), "series": extras.series_uuid,
        "occurrence_date": event.occurrence_date, "kind": event.kind, "title": event.title,
        "description": event.description_source, "description_html": event.description_html,
        "timezone": event.timezone, "start": event.start_local, "end": event.end_local,
        "start_utc": _iso(event.start_at), "end_utc": _iso(event.end_at),
        "place": _place(event), "online_url": event.online_url, "capacity": event.capacity,
        "join_mode": event.join_mode, "external_url": event.external_url,
        "category": event.category, "hashtags": list(event.hashtags),
        "banner": banner.uuid if banner else None, "language": event.language,
        "learning_outcome": event.learning_outcome, "level": event.level,
        "what_to_bring": event.what_to_bring,
        "teacher": event.teacher_actor_id or event.teacher_name,
        "teacher_name": event.teacher_name, "status": event.status,
        "previous_start_utc": _iso(event.previous_start_at),
        "going": going, "waitlisted": waitlisted,
        "summary": summary_line(event, going) if not event.deleted else None,
        "published_at": _iso(event.published_at), "updated_at": _iso(event.updated_at),
        "deleted_at": _iso(event.deleted_at),
    }


async def series_json(hub: Hub, series: Series, events: list[Event]) -> dict[str, Any]:
    return {"id": series.uuid, "url": hub.urls.series(series.uuid),
            "template": series.template, "recurrence": series.rule,
            "ended_at": _iso(series.deleted_at),
            "occurrences": [await event_json(hub, e) for e in events]}


def _uuids(events: list[Event]) -> list[str]:
    return [e.uuid for e in events]


def _change_json(change: SeriesChange) -> dict[str, Any]:
    return {"updated": _uuids(change.updated), "created": _uuids(change.created),
            "deleted": _uuids(change.deleted)}


@field_errors
async def create_event(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    body = await read_json_object(request)
    recurrence = body.pop("recurrence", None)
    draft = parse_draft(body)
    if recurrence is None:
        event = await service.create_event(hub, draft)
        return json_response(await event_json(hub, event), status=201)
    rule = parse_recurrence(recurrence, draft.start.date())
    series, events = await service.create_series(hub, draft, rule)
    return json_response(await series_json(hub, series, events), status=201)


def _query_int(request: web.Request, name: str, default: int, top: int) -> int:
    raw = request.query.get(name, str(default))
    if not raw.isdigit() or not 0 <= int(raw) <= top:
        raise FieldError(name, f"is a whole number from 0 to {top}")
    return int(raw)


@field_errors
async def list_events(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    tag, category = request.query.get("tag"), request.query.get("category")
    events = await service.list_upcoming(
        hub.db, limit=_query_int(request, "limit", 50, 200),
        offset=_query_int(request, "offset", 0, 1_000_000), tag=tag, category=category)
    total = await event_store.count_upcoming(hub.db, tag=tag, category=category)
    return json_response({"total": total, "items": [await event_json(hub, e) for e in events]})


async def get_event(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    event = await service.get_event(hub.db, request.match_info["uuid"])
    if event is None:
        raise NotFound("no such event")
    return json_response(await event_json(hub, event))


@field_errors
async def update_event(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    event = await service.update_event(hub, request.match_info["uuid"],
                                       await read_json_object(request))
    return json_response(await event_json(hub, event))


async def delete_event(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    event = await service.delete_event(hub, request.match_info["uuid"])
    return json_response(await event_json(hub, event))


@field_errors
async def change_status(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    body = await read_json_object(request)
    unknown = sorted(set(body) - STATUS_FIELDS)
    if unknown:
        raise FieldError(unknown[0], "is not a status field")
    event = await service.change_status(
        hub, request.match_info["uuid"], body.get("status"), online_url=body.get("online_url"),
        start=body.get("start"), end=body.get("end"), timezone=body.get("timezone"))
    return json_response(await event_json(hub, event))


async def _series_answer(hub: Hub, series_uuid: str, extra: dict[str, Any]) -> web.Response:
    series = await event_store.get_series(hub.db, series_uuid)
    if series is None:
        raise NotFound("no such series")
    events = await event_store.series_events(hub.db, series.id)
    return json_response({**await series_json(hub, series, events), **extra})


async def get_series(request: web.Request) -> web.Response:
    return await _series_answer(request.app[HUB], request.match_info["uuid"], {})


@field_errors
async def update_series(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    series_uuid = request.match_info["uuid"]
    change = await service.update_series(hub, series_uuid, await read_json_object(request))
    return await _series_answer(hub, series_uuid, {"changes": _change_json(change)})


@field_errors
async def add_exceptions(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    series_uuid, body = request.match_info["uuid"], await read_json_object(request)
    if set(body) != {"dates"}:
        raise FieldError("dates", "send {\"dates\": [\"2026-12-24\", ...]}")
    deleted = await service.add_exceptions(hub, series_uuid, body["dates"])
    return await _series_answer(hub, series_uuid, {"deleted": _uuids(deleted)})


async def delete_series(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    series_uuid = request.match_info["uuid"]
    deleted = await service.delete_series(hub, series_uuid)
    return await _series_answer(hub, series_uuid, {"deleted": _uuids(deleted)})


async def _read_part(part: BodyPartReader, limit: int) -> bytes:
    """A part's bytes, refusing past `limit` without reading the rest into memory."""
    chunks, size = [], 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"file: an image is at most {limit // (1024 * 1024)} MB")
        chunks.append(chunk)
    return b"".join(chunks)


async def _upload_parts(request: web.Request) -> tuple[bytes, str]:
    if request.content_type != "multipart/form-data":
        raise UnsupportedMediaType("send multipart/form-data with a `file` part (and `alt`)")
    data, alt = None, ""
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader) or part.name not in ("file", "alt"):
            raise FieldError(getattr(part, "name", None) or "form", "is not an upload field")
        if part.name == "file":
            data = await _read_part(part, MAX_IMAGE_BYTES)
        else:
            try:
                alt = (await _read_part(part, MAX_ALT_CHARS * 4)).decode("utf-8")
            except (UnicodeDecodeError, PayloadTooLarge):
                raise FieldError("alt", f"is UTF-8 text of at most {MAX_ALT_CHARS} "
                                        "characters") from None
    if data is None:
        raise FieldError("file", "is required: the image")
    return data, alt


@field_errors
async def upload_media(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    try:
        data, alt = await _upload_parts(request)
        media = await save_image(hub, data, alt)
    except (PayloadTooLarge, UnsupportedMediaType) as exc:
        return json_response({"error": exc.message, "field": "file"}, status=exc.status)
    except FieldError:
        raise
    except ValidationError as exc:
        raise FieldError("alt" if exc.message.startswith("alt") else "file", exc.message) from exc
    return json_response({"id": media.uuid, "url": hub.urls.media(media.uuid),
                          "content_type": media.content_type, "size": media.size,
                          "width": media.width, "height": media.height,
                          "alt": media.alt_text}, status=201)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/events", list_events)
    r.add_post("/api/v1/events", create_event)
    r.add_get("/api/v1/events/{uuid}", get_event)
    r.add_patch("/api/v1/events/{uuid}", update_event)
    r.add_delete("/api/v1/events/{uuid}", delete_event)
    r.add_post("/api/v1/events/{uuid}/status", change_status)
    r.add_get("/api/v1/series/{uuid}", get_series)
    r.add_patch("/api/v1/series/{uuid}", update_series)
    r.add_delete("/api/v1/series/{uuid}", delete_series)
    r.add_post("/api/v1/series/{uuid}/exceptions", add_exceptions)
    r.add_post("/api/v1/media", upload_media)
