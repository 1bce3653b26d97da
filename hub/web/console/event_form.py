"""The console's event form: HTML fields to the events API's input, and back.

Every form field is a string (or an uploaded file). `read_form` turns them into the JSON-shaped
input `hub.events.model.parse_draft` checks, keeping what was typed so a refused form comes
back as it was sent. Field names follow the model's (`place.name`, `recurrence.until`), so a
`FieldError` names the input to point at; `field_id` makes an HTML id of such a name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from hub.events.model import (
    JOIN_MODES,
    LEVELS,
    MAX_CAPACITY,
    EventDraft,
    FieldError,
    categories,
    draft_to_input,
)
from hub.events.recurrence import FREQUENCIES, LAST
from hub.store.events import Event, Series

PLACE_FIELDS = ("name", "street_address", "locality", "postal_code", "region", "country",
                "latitude", "longitude")
TEXT_FIELDS = ("title", "description", "start", "end", "timezone", "language", "online_url",
               "join_mode", "external_url", "category", "learning_outcome", "level",
               "what_to_bring", "teacher")
RECURRENCE_FIELDS = ("frequency", "week", "until", "count", "exceptions")
SCOPES = ("occurrence", "series")

# What each field is called on the page, for the error summary.
LABELS: dict[str, str] = {
    "title": "Title", "description": "Description", "start": "Starts", "end": "Ends",
    "timezone": "Timezone", "language": "Language", "kind": "Kind",
    "place": "Place", "place.name": "Venue name", "place.street_address": "Street address",
    "place.locality": "Town or city", "place.postal_code": "Postcode",
    "place.region": "Region", "place.country": "Country", "place.latitude": "Latitude",
    "place.longitude": "Longitude", "online_url": "Online link", "capacity": "Places",
    "join_mode": "How people join", "external_url": "Sign-up link", "category": "Category",
    "hashtags": "Hashtags", "banner": "Banner image", "banner_file": "Banner image",
    "banner_alt": "Image description", "learning_outcome": "What people will learn",
    "level": "Level", "what_to_bring": "What to bring", "teacher": "Who teaches",
    "recurrence": "Repeat", "recurrence.frequency": "Repeats",
    "recurrence.week": "Which week of the month", "recurrence.until": "Until",
    "recurrence.count": "Number of times", "recurrence.exceptions": "Dates to skip",
    "scope": "Change", "status": "Status",
}
JOIN_LABELS = {"free": "Anyone can sign up (first come, first served)",
               "restricted": "Staff approve each request",
               "none": "No sign-up: just come along",
               "external": "Sign-up on another website"}
LEVEL_LABELS = {"beginner": "Beginner", "intermediate": "Intermediate",
                "advanced": "Advanced", "all_levels": "All levels"}
FREQUENCY_LABELS = {"weekly": "Every week", "fortnightly": "Every two weeks",
                    "monthly_by_date": "Every month on the same date",
                    "monthly_by_weekday": "Every month on the same weekday "
                                          "(e.g. the first Saturday)"}
WEEK_LABELS = {"": "The same week as the first date", "1": "First", "2": "Second",
               "3": "Third", "4": "Fourth", "5": "Fifth", str(LAST): "Last"}


def field_id(name: str) -> str:
    """The HTML id of the input for a model field name: `place.name` -> `place-name`."""
    return re.sub(r"[^a-z0-9_-]", "-", name.lower())


def label_of(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def describe(error: FieldError) -> str:
    """A FieldError's message without the field name it starts with."""
    return error.message.removeprefix(f"{error.field}: ")


@cache
def timezones() -> tuple[str, ...]:
    """IANA zone names people pick from: Area/City ones, and UTC."""
    areas = sorted(z for z in available_timezones()
                   if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))
    return (*areas, "UTC")


def choices() -> dict[str, Any]:
    """The options of the form's selects, for the template."""
    return {"timezones": [(z, z) for z in timezones()],
            "categories": [(c, c.replace("_", " ").capitalize()) for c in categories()],
            "join_modes": [(m, JOIN_LABELS[m]) for m in JOIN_MODES],
            "levels": [(lvl, LEVEL_LABELS[lvl]) for lvl in LEVELS],
            "frequencies": [(f, FREQUENCY_LABELS[f]) for f in FREQUENCIES],
            "weeks": list(WEEK_LABELS.items())}


# From the form ----------------------------------------------------------------------------
@dataclass
class EventForm:
    """A submitted event form: what was typed, the model input made of it, and any errors."""

    values: dict[str, str]
    data: dict[str, Any] = field(default_factory=dict)
    recurrence: dict[str, Any] | None = None
    errors: list[FieldError] = field(default_factory=list)

    def text(self, name: str) -> str | None:
        return self.values.get(name, "").strip() or None

    def number(self, name: str, convert: Callable[[str], Any], problem: str) -> Any:
        """A typed number, or None if blank; a bad one is recorded as an error."""
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return convert(raw)
        except ValueError:
            self.errors.append(FieldError(name, problem))
            return None


def typed_values(form: Mapping[str, Any]) -> dict[str, str]:
    """The form's text fields (not its files), as typed."""
    return {name: value for name, value in form.items() if isinstance(value, str)}


def _words(text: str | None) -> list[str]:
    return [w for w in re.split(r"[\s,]+", text or "") if w]


def _capacity(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= MAX_CAPACITY:
        raise ValueError(raw)
    return value


def _place(form: EventForm) -> dict[str, Any] | None:
    place: dict[str, Any] = {key: form.text(f"place.{key}") for key in PLACE_FIELDS[:6]}
    for key in ("latitude", "longitude"):
        place[key] = form.number(f"place.{key}", float,
                                 "is a number in decimal degrees, such as 51.5588")
    typed = any(form.text(f"place.{key}") for key in PLACE_FIELDS)
    return place if typed else None


def _recurrence(form: EventForm) -> dict[str, Any] | None:
    frequency = form.text("recurrence.frequency")
    if frequency is None:
        return None
    return {"frequency": frequency, "until": form.text("recurrence.until"),
            "count": form.number("recurrence.count", int, "is a whole number, such as 10"),
            "week": form.number("recurrence.week", int, "is a week of the month"),
            "exceptions": _words(form.text("recurrence.exceptions"))}


def read_form(form: Mapping[str, Any]) -> EventForm:
    """The model input of a submitted event form (its banner is added by the caller)."""
    parsed = EventForm(typed_values(form))
    data: dict[str, Any] = {name: parsed.text(name) for name in TEXT_FIELDS}
    data["kind"] = "skillshare" if parsed.text("kind") == "skillshare" else "event"
    data["language"] = data["language"] or "en"
    data["description"] = data["description"] or ""
    data["capacity"] = parsed.number(
        "capacity", _capacity, f"is a whole number from 1 to {MAX_CAPACITY}; leave it blank "
                               "when there is no limit")
    data["place"] = _place(parsed)
    data["hashtags"] = _words(parsed.text("hashtags"))
    if data["join_mode"] != "external" and data["external_url"] is not None:
        parsed.errors.append(FieldError(
            "external_url", "is only for events whose sign-up is on another website: "
                            "choose that under “How people join”, or clear this field"))
    if data["kind"] == "event":  # the skill-share fields are hidden from plain events
        for name in ("learning_outcome", "level", "what_to_bring", "teacher"):
            data[name] = None
    parsed.data = {k: v for k, v in data.items() if v is not None}
    parsed.recurrence = _recurrence(parsed)
    return parsed


# To the form ------------------------------------------------------------------------------
def blank_values(kind: str, timezone: str) -> dict[str, str]:
    return {"kind": kind, "timezone": timezone, "language": "en", "join_mode": "free"}


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e-4 or value == 0 else repr(value)
    return str(value)


def draft_values(draft: EventDraft, *, teacher: str | None = None) -> dict[str, str]:
    """The form's fields filled from a draft (the teacher as people read it, if given)."""
    data = draft_to_input(draft)
    values = {name: _text_of(data.get(name)) for name in TEXT_FIELDS}
    values["start"], values["end"] = (draft.start.isoformat(timespec="minutes"),
                                      draft.end.isoformat(timespec="minutes"))
    values.update(kind=draft.kind, capacity=_text_of(draft.capacity),
                  hashtags=" ".join(draft.hashtags), banner=draft.banner or "")
    for key in PLACE_FIELDS:
        values[f"place.{key}"] = _text_of(getattr(draft.place, key, None))
    if teacher:
        values["teacher"] = teacher
    return values


def event_teacher(event: Event) -> str | None:
    """The teacher as the form shows it: a name, or a fediverse handle."""
    return event.teacher_name or event.teacher_actor_id


def recurrence_values(series: Series) -> dict[str, str]:
    rule = series.rule
    return {"recurrence.frequency": rule.get("frequency") or "",
            "recurrence.week": _text_of(rule.get("week")),
            "recurrence.until": rule.get("until") or "",
            "recurrence.count": _text_of(rule.get("count")),
            "recurrence.exceptions": " ".join(rule.get("exceptions") or [])}
