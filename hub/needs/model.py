"""What staff send to post or edit a volunteer need, checked field by field, as pure functions.

`parse_need` turns the API's (or the console form's) JSON into a `NeedDraft`, or raises
`FieldError` naming the first bad field; `merge_patch` applies an edit to a stored draft and
checks the result whole. Nothing here touches the database: the service resolves the group
activity (`event`) and applies the hub's check policy.

Times are local: a dated need (one-off task, group role) has `on_date` and a time window
(`start_time`..`end_time`, 'HH:MM' in `timezone`); a regular commitment has weekly `slots`
(the volunteers' availability shape, `{"tue": ["afternoon"]}`) from `starts_on`, until
`ends_on` if it ends. A dated need's slots are derived from its window (`window_slots`), so
the matcher reads one shape for every kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.events.model import FieldError
from hub.volunteers.model import (
    CHECK_TYPES,
    DAYS,
    concept_list,
    language_list,
    parse_district,
    round_coordinate,
    tag_list,
    term_list,
    week_slots,
)

KINDS = ("one_off", "regular", "group_role")
STATUSES = ("open", "matching", "filled", "closed", "cancelled")
KIND_LABELS = {"one_off": "One-off task", "regular": "Regular commitment",
               "group_role": "Role at a group activity"}
MAX_TITLE, MAX_DESCRIPTION, MAX_NOTES, MAX_ACCESSIBILITY = 200, 5000, 5000, 1000
MAX_WANTED, MAX_DISTANCE_KM, MAX_EFFORT = 100, 200.0, 24 * 60
# A part of the day a time window touches: morning until noon, afternoon until 17:00.
PART_BOUNDS = {"morning": (time(0), time(12)), "afternoon": (time(12), time(17)),
               "evening": (time(17), time.max)}

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # newlines and tabs are fine


@dataclass(frozen=True)
class NeedDraft:
    """A checked need: what is wanted, where (coarsely), when, and by whom it may be done.

    `private_notes` is for the hub's coordinators only and never leaves the hub. `event` is
    the uuid of the group activity a role is for (local needs only).
    """

    kind: str
    title: str
    timezone: str
    description: str = ""
    private_notes: str = ""
    skills: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    checks_required: tuple[str, ...] = ()
    languages_required: tuple[str, ...] = ()
    languages_preferred: tuple[str, ...] = ()
    accessibility: str = ""
    district: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    max_distance_km: float | None = None
    volunteers_wanted: int = 1
    on_date: date | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)
    start_time: time | None = None
    end_time: time | None = None
    effort_minutes: int | None = None
    event: str | None = None

    @property
    def is_dated(self) -> bool:
        return self.kind != "regular"


INPUT_FIELDS = tuple(NeedDraft.__dataclass_fields__)


# Field parsers --------------------------------------------------------------------------------
def _text(name: str, value: Any, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(name, "must be a string")
    text = value.strip()
    if required and not text:
        raise FieldError(name, "is required and must be a non-empty string")
    if len(text) > limit:
        raise FieldError(name, f"is at most {limit} characters ({len(text)} given)")
    if _CONTROL.search(text):
        raise FieldError(name, "must not contain control characters")
    return text


def parse_check_types(name: str, value: Any) -> tuple[str, ...]:
    def check(item: str) -> str:
        if item not in CHECK_TYPES:
            raise FieldError(name, f"{item!r} is not a check type: use {', '.join(CHECK_TYPES)}")
        return item
    return term_list(name, value, check)


def _date(name: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise FieldError(name, "is a date: YYYY-MM-DD")


def _clock(name: str, value: Any) -> time | None:
    if value is None or value == "":
        return None
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise FieldError(name, "is a local time of day: HH:MM (24-hour)")
    return time(int(match[1]), int(match[2]))


def _whole(name: str, value: Any, low: int, top: int, *, optional: bool) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= top:
        raise FieldError(name, f"is a whole number from {low} to {top}")
    return value


def _distance(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            0 < value <= MAX_DISTANCE_KM):
        raise FieldError("max_distance_km", f"is a number of km above 0, at most "
                                            f"{MAX_DISTANCE_KM:g}")
    return float(value)


def parse_slots(value: Any) -> dict[str, tuple[str, ...]]:
    """Weekly slots: {"tue": ["afternoon"]}, days mon..sun, parts morning/afternoon/evening."""
    return week_slots("slots", value)


def check_timezone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise FieldError("timezone", "is an IANA name such as Europe/London")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError("timezone", f"{value!r} is not an IANA timezone") from None
    return value


def _event(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _UUID.match(value):
        raise FieldError("event", "is the id (uuid) of one of this hub's events")
    return value


_PARSERS: dict[str, Any] = {
    "kind": lambda v: _kind(v),
    "title": lambda v: _text("title", v, MAX_TITLE, required=True),
    "description": lambda v: _text("description", v, MAX_DESCRIPTION),
    "private_notes": lambda v: _text("private_notes", v, MAX_NOTES),
    "skills": concept_list("skills"), "interests": concept_list("interests"), "tags": tag_list,
    "checks_required": lambda v: parse_check_types("checks_required", v),
    "languages_required": language_list("languages_required"),
    "languages_preferred": language_list("languages_preferred"),
    "accessibility": lambda v: _text("accessibility", v, MAX_ACCESSIBILITY),
    "district": parse_district,
    "latitude": lambda v: round_coordinate("latitude", v, 90),
    "longitude": lambda v: round_coordinate("longitude", v, 180),
    "max_distance_km": _distance,
    "volunteers_wanted": lambda v: _whole("volunteers_wanted", v, 1, MAX_WANTED,
                                          optional=False),
    "timezone": check_timezone,
    "on_date": lambda v: _date("on_date", v), "starts_on": lambda v: _date("starts_on", v),
    "ends_on": lambda v: _date("ends_on", v),
    "slots": parse_slots,
    "start_time": lambda v: _clock("start_time", v), "end_time": lambda v: _clock("end_time", v),
    "effort_minutes": lambda v: _whole("effort_minutes", v, 1, MAX_EFFORT, optional=True),
    "event": _event,
}


def _kind(value: Any) -> str:
    if value not in KINDS:
        raise FieldError("kind", f"is one of {', '.join(KINDS)}")
    return str(value)


def _changes(data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(k for k in data if k not in _PARSERS)
    if unknown:
        raise FieldError(unknown[0], "is not a field of a need")
    return {name: _PARSERS[name](value) for name, value in data.items()}


# Whole drafts --------------------------------------------------------------------------------
def parse_need(data: Mapping[str, Any], *, default_timezone: str) -> NeedDraft:
    """A new need from JSON; `kind` and `title` are required, the rest by kind (`check_whole`)."""
    if not isinstance(data, Mapping):
        raise FieldError("body", "send a JSON object")
    for name in ("kind", "title"):
        if data.get(name) is None:
            raise FieldError(name, "is required")
    changes = _changes(data)
    changes.setdefault("timezone", check_timezone(default_timezone))
    return replace(NeedDraft(kind=changes["kind"], title=changes["title"],
                             timezone=changes["timezone"]), **changes)


def merge_patch(draft: NeedDraft, patch: Mapping[str, Any]) -> NeedDraft:
    """`draft` with the fields sent changed (null clears an optional field)."""
    if not isinstance(patch, Mapping):
        raise FieldError("body", "send a JSON object")
    if "kind" in patch and patch["kind"] != draft.kind:
        raise FieldError("kind", "cannot change once posted: cancel the need and post "
                                 "another")
    return replace(draft, **_changes(patch))


def check_whole(draft: NeedDraft) -> NeedDraft:
    """Check what depends on several fields, and derive a dated need's slots from its window.

    Raises `FieldError` on the first problem; returns the draft ready to store.
    """
    if (draft.latitude is None) != (draft.longitude is None):
        raise FieldError("latitude", "latitude and longitude go together")
    if draft.is_dated:
        return _check_dated(draft)
    return _check_regular(draft)


def _check_dated(draft: NeedDraft) -> NeedDraft:
    label = KIND_LABELS[draft.kind].lower()
    for name in ("starts_on", "ends_on"):
        if getattr(draft, name) is not None:
            raise FieldError(name, f"is for regular commitments; a {label} has `on_date`")
    if draft.on_date is None:
        raise FieldError("on_date", f"is required for a {label}: YYYY-MM-DD")
    if draft.start_time is None or draft.end_time is None:
        missing = "start_time" if draft.start_time is None else "end_time"
        raise FieldError(missing, f"is required for a {label}: the time window, HH:MM")
    if draft.end_time <= draft.start_time:
        raise FieldError("end_time", "must be after start_time")
    derived = window_slots(draft.on_date, draft.start_time, draft.end_time)
    if draft.slots and draft.slots != derived:
        raise FieldError("slots", "a dated need's slots come from its time window; "
                                  "send start_time and end_time instead")
    return replace(draft, slots=derived)


def _check_regular(draft: NeedDraft) -> NeedDraft:
    if draft.event is not None:
        raise FieldError("event", "links a group role to its activity; not a regular need")
    for name in ("on_date", "start_time", "end_time"):
        if getattr(draft, name) is not None:
            raise FieldError(name, "is for dated needs; a regular commitment has weekly "
                                   "`slots` from `starts_on`")
    if draft.starts_on is None:
        raise FieldError("starts_on", "is required for a regular commitment: YYYY-MM-DD")
    if draft.ends_on is not None and draft.ends_on < draft.starts_on:
        raise FieldError("ends_on", "must be on or after starts_on")
    if not draft.slots:
        raise FieldError("slots", 'a regular commitment needs weekly slots: '
                                  '{"tue": ["afternoon"]}')
    return draft


def window_slots(day: date, start: time, end: time) -> dict[str, tuple[str, ...]]:
    """The parts of `day` a time window touches, in the weekly-slots shape."""
    parts = tuple(part for part, (low, high) in PART_BOUNDS.items()
                  if start < high and end > low)
    return {DAYS[day.weekday()]: parts}


def with_policy(draft: NeedDraft, required: tuple[str, ...]) -> NeedDraft:
    """The draft carrying every check the hub's policy requires for its kind (added first)."""
    merged = tuple(dict.fromkeys((*required, *draft.checks_required)))
    return draft if merged == draft.checks_required else replace(draft, checks_required=merged)


# JSON shapes --------------------------------------------------------------------------------
def draft_json(draft: NeedDraft, *, private: bool) -> dict[str, Any]:
    """The draft as API JSON; `private_notes` only when `private` (staff)."""
    out: dict[str, Any] = {}
    for name, value in asdict(draft).items():
        if name == "private_notes" and not private:
            continue
        if isinstance(value, date | time):
            value = value.isoformat()[:5] if isinstance(value, time) else value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, dict):
            value = {k: list(v) for k, v in value.items()}
        out[name] = value
    return out


def draft_input(draft: NeedDraft) -> dict[str, Any]:
    """The draft as input JSON again (what `parse_need` reads back to the same draft)."""
    return draft_json(draft, private=True)
