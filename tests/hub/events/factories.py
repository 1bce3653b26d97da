"""Event rows for unit tests, made the way the service makes them (draft -> columns)."""

from __future__ import annotations

from typing import Any

from hub.events.model import is_fediverse_teacher, parse_draft
from hub.events.rows import Resolved, columns
from hub.store.events import Event
from hub.urls import Urls

URLS = Urls("https://hub.example.org", "redbridge")
PUBLISHED = 1_790_000_000.0
UUID = "5b1f0c3e-8f7a-4c1e-9a57-0f3d2b6c9e11"


def draft_input(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "Knit and natter", "timezone": "Europe/London",
        "start": "2026-12-05T14:00", "end": "2026-12-05T16:00",
        "place": {"name": "Redbridge Library", "street_address": "Clements Road",
                  "locality": "Ilford", "postal_code": "IG1 1EA", "country": "GB",
                  "latitude": 51.5586, "longitude": 0.0725},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None or k in fields}


def make_event(*, resolved: Resolved | None = None, status: str = "scheduled",
               row: dict[str, Any] | None = None, **fields: Any) -> Event:
    draft = parse_draft(draft_input(**fields))
    if resolved is None:
        local = draft.teacher if draft.teacher and not is_fediverse_teacher(draft.teacher) else None
        resolved = Resolved(teacher_name=local)
    cols = columns(draft, resolved)
    cols["hashtags"] = tuple(cols["hashtags"])
    values = {"id": 1, "uuid": UUID, "series_id": None, "occurrence_date": None, **cols,
              "status": status, "previous_start_at": None, "published_at": PUBLISHED,
              "updated_at": None, "deleted_at": None, **(row or {})}
    return Event(**values)
