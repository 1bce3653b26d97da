"""Validation of volunteer profiles, checks and training, as pure functions.

Each parser turns a JSON object into a typed value or raises `FieldError` naming the field,
so the API answers 400 with that name and nothing is stored. A point is rounded here, before
anything else sees it, so the exact location never reaches the store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from hub.events.model import FieldError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PARTS = ("morning", "afternoon", "evening")
CONSENTS = ("match_here", "match_neighbours", "contact_by_dm")
# Level and workforce of a DBS check (England and Wales); "_barred" adds a barred-list check.
CHECK_TYPES = ("dbs_basic", "dbs_standard",
               "dbs_enhanced_adult", "dbs_enhanced_child", "dbs_enhanced_adult_child",
               "dbs_enhanced_adult_barred", "dbs_enhanced_child_barred",
               "dbs_enhanced_adult_child_barred")
DECISIONS = ("clear", "not_clear")
# Training courses with a plain name: the console offers these (a fixed list, so nothing but
# the course and its date can be typed); the API takes any short course id.
COURSES = {"safeguarding_adults": "Safeguarding adults",
           "safeguarding_children": "Safeguarding children",
           "first_aid": "First aid", "mental_health_first_aid": "Mental health first aid",
           "dementia_friends": "Dementia Friends", "food_hygiene": "Food hygiene",
           "moving_and_handling": "Moving and handling",
           "data_protection": "Data protection", "lone_working": "Lone working"}
COORDINATE_PLACES = 2  # 0.01 degree: about 1 km of latitude
MAX_COMMITMENTS = 20
MAX_LIST = 30

_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
# A host name, or (as servers on a test or closed network have) an address with a port.
_HANDLE = re.compile(r"^@?[A-Za-z0-9_.-]{1,64}@(?:[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}|"
                     r"[A-Za-z0-9.-]{1,253}:[0-9]{1,5})$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{7,24}$")
_CONCEPT = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_COURSE = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

PROFILE_FIELDS = ("name", "email", "handle", "phone", "district", "latitude", "longitude",
                  "skills", "interests", "tags", "languages", "availability",
                  "max_commitments", "consents")
STAFF_FIELDS = ("references_received", "references_on")


@dataclass(frozen=True)
class Profile:
    """What a volunteer tells the hub about themselves (and may correct)."""

    name: str
    email: str | None = None
    handle: str | None = None
    phone: str | None = None
    district: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    skills: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    availability: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_commitments: int = 1
    consents: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(CONSENTS, False))


@dataclass(frozen=True)
class StaffRecord:
    """What staff record about a volunteer besides checks: references received."""

    references_received: int = 0
    references_on: date | None = None


@dataclass(frozen=True)
class CheckInput:
    type: str
    checked_on: date
    renewal_on: date
    decision: str


@dataclass(frozen=True)
class TrainingInput:
    course: str
    completed_on: date


# Profiles ----------------------------------------------------------------------------------
def parse_profile(data: dict[str, Any], base: Profile | None = None, *,
                  allowed: tuple[str, ...] = PROFILE_FIELDS) -> Profile:
    """A new profile (base None) or `base` with the given fields changed, checked whole."""
    _refuse_unknown(data, allowed)
    if base is None:
        base = Profile(name=_name(data.get("name")))
    changes: dict[str, Any] = {}
    for name, value in data.items():
        if name in _PROFILE_PARSERS:
            changes[name] = _PROFILE_PARSERS[name](value)
    if "consents" in changes:
        changes["consents"] = {**base.consents, **changes["consents"]}
    profile = replace(base, **changes)
    _check_whole(profile)
    return profile


def profile_problems(data: dict[str, Any], base: Profile | None = None) -> list[FieldError]:
    """Every problem with a profile's fields at once, one per field, for a form that lists
    them all; then, if the fields are each fine, any problem of the whole (no contact...)."""
    problems = []
    for name, value in data.items():
        parser = _PROFILE_PARSERS.get(name)
        try:
            if parser is None:
                raise FieldError(name, "is not a field that can be set here")
            parser(value)
        except FieldError as exc:
            problems.append(exc)
    if not problems:
        try:
            parse_profile(data, base)
        except FieldError as exc:
            problems.append(exc)
    return problems


def parse_staff_record(data: dict[str, Any], base: StaffRecord) -> StaffRecord:
    problems = staff_record_problems(data)
    if problems:
        raise problems[0]
    changes: dict[str, Any] = {}
    if "references_received" in data:
        changes["references_received"] = data["references_received"]
    if "references_on" in data:
        value = data["references_on"]
        changes["references_on"] = None if value is None else _date("references_on", value)
    return replace(base, **changes)


def staff_record_problems(data: dict[str, Any]) -> list[FieldError]:
    """Every problem with the staff-only fields given (`parse_staff_record` raises the first)."""
    steps = []
    if "references_received" in data:
        steps.append(lambda: _count("references_received", data["references_received"], 0, 20))
    if data.get("references_on") is not None:
        steps.append(lambda: _past_date("references_on", data["references_on"]))
    return _every_problem(*steps)


def _refuse_unknown(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for name in data:
        if name not in allowed:
            raise FieldError(name, "is not a field that can be set here")


def _check_whole(profile: Profile) -> None:
    if not profile.email and not profile.handle:
        raise FieldError("email", "give an email address or a fediverse handle (or both)")
    if (profile.latitude is None) != (profile.longitude is None):
        raise FieldError("latitude", "latitude and longitude go together")
    if profile.district is None and profile.latitude is None:
        raise FieldError("district", "give a postcode district (e.g. IG1) or a point")


def _text(name: str, value: Any, top: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FieldError(name, "is required and must be a non-empty string")
    text = value.strip()
    if len(text) > top or _CONTROL.search(text):
        raise FieldError(name, f"is at most {top} characters, without control characters")
    return text


def _name(value: Any) -> str:
    return _text("name", value, 100)


def _optional(name: str, pattern: re.Pattern[str], top: int, hint: str) -> Any:
    def parse(value: Any) -> str | None:
        if value is None:
            return None
        text = _text(name, value, top)
        if not pattern.match(text):
            raise FieldError(name, hint)
        return text
    return parse


def _email(value: Any) -> str | None:
    parsed = _optional("email", _EMAIL, 254, "is not an email address")(value)
    return parsed.lower() if parsed else None


def _handle(value: Any) -> str | None:
    parsed = _optional("handle", _HANDLE, 320, "is a fediverse handle: @user@host")(value)
    return None if parsed is None else "@" + parsed.lstrip("@").lower()


def parse_district(value: Any) -> str | None:
    if value is None:
        return None
    # Room for a whole postcode typed by mistake, so the hint below says what to give.
    text = _text("district", value, 10).upper().replace(" ", "")
    if not _DISTRICT.match(text):
        raise FieldError("district", "is a UK postcode district (the part before the space: "
                                     "IG1, E14, SW1A)")
    return text


def round_coordinate(name: str, value: Any, top: float) -> float | None:
    """A latitude or longitude rounded to ~1 km; the exact value goes no further."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not -top <= value <= top:
        raise FieldError(name, f"is a number from -{top:g} to {top:g}")
    return round(float(value), COORDINATE_PLACES)


def term_list(name: str, value: Any, check: Any) -> tuple[str, ...]:
    """A JSON list of up to MAX_LIST non-empty strings, each passed through `check` (which
    raises FieldError or returns the normal form), without repeats; null is the empty list."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise FieldError(name, f"is a list of at most {MAX_LIST} strings")
    found: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise FieldError(name, "holds non-empty strings only")
        found.append(check(item.strip()))
    return tuple(dict.fromkeys(found))


def concept_list(name: str) -> Any:
    """A parser of concept ids from the shared list (skills, interests)."""
    def parse(value: Any) -> tuple[str, ...]:
        known = known_concepts()

        def check(item: str) -> str:
            if not _CONCEPT.match(item) or (known is not None and item not in known):
                raise FieldError(name, f"{item!r} is not a known concept id (free words go "
                                       "in `tags`)")
            return item
        return term_list(name, value, check)
    return parse


def tag_list(value: Any) -> tuple[str, ...]:
    """Free tags, lower-cased."""
    def check(item: str) -> str:
        if len(item) > 40 or _CONTROL.search(item):
            raise FieldError("tags", "a tag is 1 to 40 characters")
        return item.lower()
    return term_list("tags", value, check)


def language_list(name: str) -> Any:
    """A parser of language codes (BCP 47 primary tag and subtags)."""
    def parse(value: Any) -> tuple[str, ...]:
        def check(item: str) -> str:
            if not _LANGUAGE.match(item):
                raise FieldError(name, f"{item!r} is not a language code (en, cy, pa-Guru)")
            return item
        return term_list(name, value, check)
    return parse


def week_slots(name: str, value: Any) -> dict[str, tuple[str, ...]]:
    """Weekly slots, {"tue": ["afternoon"]}: days mon..sun in order, parts of the day in
    order, empty days left out; null is no slot. A volunteer's availability, a need's times."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError(name, 'is an object: {"mon": ["morning", "evening"]}')
    slots: dict[str, tuple[str, ...]] = {}
    for day, parts in value.items():
        if day not in DAYS:
            raise FieldError(name, f"unknown day {day!r}: use {', '.join(DAYS)}")
        if not isinstance(parts, list) or any(p not in PARTS for p in parts):
            raise FieldError(name, f"{day}: parts of the day are {', '.join(PARTS)}")
        if parts:
            slots[day] = tuple(p for p in PARTS if p in parts)
    return {day: slots[day] for day in DAYS if day in slots}


def _count(name: str, value: Any, low: int, top: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= top:
        raise FieldError(name, f"is a whole number from {low} to {top}")
    return value


def _consents(value: Any) -> dict[str, bool]:
    if not isinstance(value, dict):
        raise FieldError("consents", f"is an object of true/false: {', '.join(CONSENTS)}")
    for name, given in value.items():
        if name not in CONSENTS or not isinstance(given, bool):
            raise FieldError(f"consents.{name}", f"consents are {', '.join(CONSENTS)}, "
                                                 "each true or false")
    return dict(value)


_PROFILE_PARSERS: dict[str, Any] = {
    "name": _name, "email": _email, "handle": _handle,
    "phone": _optional("phone", _PHONE, 24, "is a phone number: digits, spaces, +, ( ) and -"),
    "district": parse_district,
    "latitude": lambda v: round_coordinate("latitude", v, 90),
    "longitude": lambda v: round_coordinate("longitude", v, 180),
    "skills": concept_list("skills"), "interests": concept_list("interests"),
    "tags": tag_list, "languages": language_list("languages"),
    "availability": lambda v: week_slots("availability", v),
    "max_commitments": lambda v: _count("max_commitments", v, 1, MAX_COMMITMENTS),
    "consents": _consents,
}


@cache
def known_concepts() -> frozenset[str] | None:
    """Concept ids from schemas/concepts/skills.json, or None while it is not shipped."""
    path = resources.files("schemas") / "concepts" / "skills.json"
    if not path.is_file():
        return None
    return frozenset(_concept_ids(json.loads(path.read_text(encoding="utf-8"))))


def _concept_ids(data: Any) -> list[str]:
    if isinstance(data, dict):
        data = data.get("concepts", data.get("items", list(data)))
    return [item["id"] if isinstance(item, dict) else str(item) for item in data]


# Checks and training -----------------------------------------------------------------------
def _past_date(name: str, value: Any, today: date | None = None) -> date:
    day = _date(name, value)
    if day > (today or date.today()):
        raise FieldError(name, "cannot be in the future")
    return day


def _date(name: str, value: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise FieldError(name, "is a date: YYYY-MM-DD")


CHECK_FIELDS = ("type", "checked_on", "renewal_on", "decision")
TRAINING_FIELDS = ("course", "completed_on")


def _every_problem(*steps: Callable[[], object]) -> list[FieldError]:
    """The FieldError of each step that fails, so a form can list them all at once."""
    problems = []
    for step in steps:
        try:
            step()
        except FieldError as exc:
            problems.append(exc)
    return problems


def _check_type(value: Any) -> str:
    if value in (None, ""):
        raise FieldError("type", "is required: choose the check")
    if value not in CHECK_TYPES:
        raise FieldError("type", f"unknown check type: use one of {', '.join(CHECK_TYPES)}")
    return str(value)


def _decision(value: Any) -> str:
    if value not in DECISIONS:
        raise FieldError("decision", "is clear or not_clear")
    return str(value)


def check_problems(data: dict[str, Any], today: date | None = None) -> list[FieldError]:
    """Every problem with a check's fields, in field order (`parse_check` raises the first)."""
    problems = _every_problem(
        lambda: _refuse_unknown(data, CHECK_FIELDS), lambda: _check_type(data.get("type")),
        lambda: _past_date("checked_on", data.get("checked_on"), today),
        lambda: _date("renewal_on", data.get("renewal_on")),
        lambda: _decision(data.get("decision")))
    if not any(p.field in ("checked_on", "renewal_on") for p in problems) and (
            _date("renewal_on", data["renewal_on"]) <= _date("checked_on", data["checked_on"])):
        problems.append(FieldError("renewal_on", "must be after the date it was checked "
                                                 "(checked_on)"))
    return sorted(problems, key=lambda p: CHECK_FIELDS.index(p.field)
                  if p.field in CHECK_FIELDS else -1)


def parse_check(data: dict[str, Any], today: date | None = None) -> CheckInput:
    problems = check_problems(data, today)
    if problems:
        raise problems[0]
    return CheckInput(str(data["type"]), _date("checked_on", data["checked_on"]),
                      _date("renewal_on", data["renewal_on"]), str(data["decision"]))


def _course(value: Any) -> str:
    if value in (None, ""):
        raise FieldError("course", "is required: choose the course")
    if not isinstance(value, str) or not _COURSE.match(value) or len(value) > 60:
        raise FieldError("course", "is a short id such as safeguarding_adults")
    return value


def training_problems(data: dict[str, Any], today: date | None = None) -> list[FieldError]:
    """Every problem with a training record's fields (`parse_training` raises the first)."""
    return _every_problem(lambda: _refuse_unknown(data, TRAINING_FIELDS),
                          lambda: _course(data.get("course")),
                          lambda: _past_date("completed_on", data.get("completed_on"), today))


def parse_training(data: dict[str, Any], today: date | None = None) -> TrainingInput:
    problems = training_problems(data, today)
    if problems:
        raise problems[0]
    return TrainingInput(str(data["course"]), _date("completed_on", data["completed_on"]))


@dataclass(frozen=True)
class Check:
    """A check as recorded: its status only."""

    uuid: str
    volunteer_id: int
    type: str
    checked_on: date
    renewal_on: date
    decision: str
    recorded_at: float


def check_status(check: Check, day: date) -> str:
    """clear, not_clear, lapsed (the renewal date is reached) or not_yet (checked after day)."""
    if check.decision != "clear":
        return "not_clear"
    if day < check.checked_on:
        return "not_yet"
    return "clear" if day < check.renewal_on else "lapsed"


def check_valid_on(check: Check, day: date) -> bool:
    """True if the check can be relied on for work on `day`: clear, done, not lapsed."""
    return check_status(check, day) == "clear"
