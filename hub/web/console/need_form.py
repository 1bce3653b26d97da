"""The console's need form: HTML fields to the needs API's input, and back.

Every field is a string (or several, for check boxes). `read_need_form` turns them into the
JSON-shaped input `hub.needs.model` checks, and keeps what was typed so a refused form comes
back as it was sent. Field names follow the model's, so a `FieldError` names the input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from multidict import MultiDictProxy

from hub.matching.model import check_label, concepts
from hub.needs.model import KIND_LABELS, NeedDraft, draft_input
from hub.volunteers.model import CHECK_TYPES, DAYS, PARTS

TEXT_FIELDS = ("title", "description", "private_notes", "accessibility", "district",
               "timezone", "on_date", "start_time", "end_time", "starts_on", "ends_on",
               "event", "tags", "languages_required", "languages_preferred", "latitude",
               "longitude", "max_distance_km", "volunteers_wanted", "effort_minutes")
LIST_FIELDS = ("skills", "interests", "checks_required", "slots")
FLOATS = ("latitude", "longitude", "max_distance_km")
INTEGERS = ("volunteers_wanted", "effort_minutes")
WORD_LISTS = ("tags", "languages_required", "languages_preferred")
DATED_ONLY = ("on_date", "start_time", "end_time")
REGULAR_ONLY = ("starts_on", "ends_on", "slots")
LABELS = {
    "kind": "Kind", "title": "Title", "description": "Description (public)",
    "private_notes": "Private notes (coordinators only)", "accessibility": "Accessibility",
    "district": "Postcode district", "timezone": "Timezone", "on_date": "Date",
    "start_time": "From", "end_time": "Until", "starts_on": "Starts on",
    "ends_on": "Ends on", "slots": "When each week", "event": "Group activity",
    "tags": "Other words", "languages_required": "Must speak",
    "languages_preferred": "Ideally speaks", "latitude": "Latitude", "longitude": "Longitude",
    "max_distance_km": "Furthest distance (km)", "volunteers_wanted": "Volunteers wanted",
    "effort_minutes": "Minutes each time", "skills": "Skills", "interests": "Interests",
    "checks_required": "Checks required", "status": "Status", "body": "Form",
}


def label_of(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def choices(kind: str, policy: tuple[str, ...]) -> dict[str, Any]:
    """What the form's check boxes and selects offer."""
    known = sorted(concepts().values(), key=lambda c: c.label.lower())
    return {"concepts": [(c.id, c.label) for c in known],
            "checks": [(c, check_label(c)) for c in CHECK_TYPES], "policy": policy,
            "days": DAYS, "parts": PARTS, "kind_label": KIND_LABELS[kind]}


def _number(raw: str, convert: type[int] | type[float]) -> Any:
    """The typed number when the text reads as one (a whole number for an int field), else
    the text as typed, for the parser to refuse with the field's own message."""
    if not raw:
        return None
    try:
        return convert(raw)
    except ValueError:
        return raw


def _words(raw: str) -> list[str]:
    return [w for w in re.split(r"[,\s]+", raw) if w]


def read_need_form(form: MultiDictProxy[Any] | Mapping[str, Any], kind: str, *,
                   with_notes: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the input for the parser, the values to show again). Private notes are read only
    when `with_notes` (a coordinator), so a helper's form never clears them."""
    getall = form.getall if isinstance(form, MultiDictProxy) else (
        lambda name, default=(): [form[name]] if name in form else list(default))
    values: dict[str, Any] = {n: str(form.get(n, "")).strip() for n in TEXT_FIELDS}
    values.update({n: [str(v) for v in getall(n, [])] for n in LIST_FIELDS})
    data: dict[str, Any] = {"kind": kind}
    for name in ("title", "description", "accessibility"):
        data[name] = values[name]
    if with_notes:
        data["private_notes"] = values["private_notes"]
    data["district"] = values["district"] or None
    if values["timezone"]:
        data["timezone"] = values["timezone"]
    for name in FLOATS:
        data[name] = _number(values[name], float)
    for name in INTEGERS:
        data[name] = _number(values[name], int)
    if data["volunteers_wanted"] is None:
        data["volunteers_wanted"] = 1
    for name in WORD_LISTS:
        data[name] = _words(values[name])
    for name in ("skills", "interests", "checks_required"):
        data[name] = values[name]
    if kind == "regular":
        data.update(starts_on=values["starts_on"] or None, ends_on=values["ends_on"] or None,
                    slots=_slots(values["slots"]))
    else:
        data.update({n: values[n] or None for n in DATED_ONLY})
    if kind == "group_role":
        data["event"] = values["event"] or None
    return data, values


def _slots(items: list[str]) -> dict[str, list[str]]:
    slots: dict[str, list[str]] = {}
    for item in items:
        day, _, part = item.partition("-")
        slots.setdefault(day, []).append(part)
    return slots


def draft_values(draft: NeedDraft) -> dict[str, Any]:
    """A stored draft as the form shows it."""
    data = draft_input(draft)
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = data.get(name)
        if isinstance(value, list):
            values[name] = " ".join(value)
        else:
            values[name] = "" if value is None else str(value)
    for name in ("skills", "interests", "checks_required"):
        values[name] = list(data[name])
    values["slots"] = [f"{day}-{part}" for day, parts in data["slots"].items()
                       for part in parts] if draft.kind == "regular" else []
    return values


def blank_values(timezone: str) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, "")
    values.update({n: [] for n in LIST_FIELDS}, timezone=timezone, volunteers_wanted="1")
    return values
